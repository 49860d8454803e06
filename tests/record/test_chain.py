"""The session record's hash chain finds an edited, an inserted and a removed entry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stimsim.cli import main
from stimsim.record.chain import Record, read, verify


@pytest.fixture
def record(tmp_path: Path) -> Path:
    rec = Record(tmp_path / "session.jsonl")
    rec.append("app", "connect", "Connected to the built-in generator", {"url": "virtual://"})
    rec.append("clinician", "login", "Clinician logged in")
    rec.append("clinician", "prog", "Slot 1 saved", {"slot": 1, "amp_ua": 3500})
    rec.append("device", "event", "!STIM STIM=OFF REASON=STOP", source="device")
    rec.close()
    return rec.path


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


def _verify(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["record", "verify", str(path)])
    return code, capsys.readouterr().err.strip()


def test_an_intact_record_verifies(record: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _verify(record, capsys) == (0, f"{record}: intact")
    entries = read(record)
    assert [e["i"] for e in entries] == [1, 2, 3, 4, 5]
    assert entries[-1]["what"] == "close" and entries[-1]["data"] == {"entries": 4}


def test_an_edited_entry_is_found_by_its_line(record: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = _lines(record)
    entry = json.loads(lines[2])
    entry["data"]["amp_ua"] = 9000
    lines[2] = json.dumps(entry, separators=(",", ":")) + "\n"
    record.write_text("".join(lines))
    code, err = _verify(record, capsys)
    assert code == 1 and err.startswith(f"{record}: line 3: ")


def test_an_edited_entry_with_its_hash_redone_breaks_the_next_one(record: Path) -> None:
    from stimsim.record.chain import entry_hash

    lines = _lines(record)
    entry = json.loads(lines[1])
    entry["text"] = "Nobody logged in"
    entry["hash"] = entry_hash(entry)
    lines[1] = json.dumps(entry, separators=(",", ":")) + "\n"
    record.write_text("".join(lines))
    assert [p.line for p in verify(record)] == [3]


def test_an_inserted_entry_is_found(record: Path) -> None:
    lines = _lines(record)
    record.write_text("".join([*lines[:2], lines[1], *lines[2:]]))
    assert [p.line for p in verify(record)] == [3]


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_a_removed_entry_is_found(record: Path, index: int) -> None:
    lines = _lines(record)
    del lines[index]
    record.write_text("".join(lines))
    assert [p.line for p in verify(record)] == [index + 1]


def test_cutting_the_end_of_a_closed_record_is_found(record: Path) -> None:
    lines = _lines(record)
    record.write_text("".join(lines[:3] + lines[4:]))  # the last event removed, the close kept
    assert [p.line for p in verify(record)] == [4]


def test_appending_continues_a_record_and_refuses_a_broken_one(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    Record(path).append("app", "start", "started")
    again = Record(path)
    again.append("app", "more", "more")
    assert verify(path) == [] and again.count == 2
    path.write_text(path.read_text().replace("more", "less", 1))
    with pytest.raises(ValueError, match="line 2"):
        Record(path)


def test_verify_refuses_a_missing_file_as_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _verify(tmp_path / "none.jsonl", capsys)
    assert code == 2 and "cannot read" in err
