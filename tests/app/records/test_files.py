"""The File menu: open, save, save as, recent files; a bad file is refused and left as it was."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from pytestqt.qtbot import QtBot

from stimsim.app.launch import StimsimApp
from stimsim.app.records.document import RECENT_MAX, RecentFiles
from stimsim.engine import files
from stimsim.engine.params import PARAMS
from stimsim.resources import example_programs


def _example() -> Path:
    return next(p for p in example_programs() if p.name.startswith("tonic"))


def test_open_save_as_and_open_again_round_trip(rstim: StimsimApp, tmp_path: Path) -> None:
    actions = rstim.session.files
    assert actions.open_path(_example())
    doc = rstim.session.document
    assert doc.path == _example() and not doc.modified
    out = tmp_path / "copy.stimsim.json"
    assert actions.save_to(out)
    assert doc.path == out
    assert files.load(out) == files.load(_example())
    assert actions.open_path(out)
    assert doc.program_file == files.load(_example())
    assert [e["what"] for e in rstim.session.recorder.entries if e["what"].endswith("_file")] == [
        "open_file", "save_file", "open_file"]


def test_a_corrupted_file_is_refused_with_its_problems_and_left_untouched(rstim: StimsimApp, tmp_path: Path) -> None:
    actions = rstim.session.files
    assert actions.open_path(_example())
    bad = tmp_path / "bad.stimsim.json"
    bad.write_text('{"format": "stimsim.programs", "version": 1, "programs": [{"slot": 1, "mode": "tonic", '
                   '"rate_hz": 99999}]}\n')
    before = bad.read_bytes()
    assert not actions.open_path(bad)
    title, text, detail, level = rstim.told[-1]  # type: ignore[attr-defined]
    assert title == "Program file refused" and level == "warning"
    assert detail == "\n".join(files.FileError(bad, _problems(bad)).lines)
    assert bad.read_bytes() == before
    assert rstim.session.document.path == _example()  # the open set is unchanged
    assert bad not in RecentFiles(rstim.session.files.recent.store).paths()


def _problems(path: Path) -> list[str]:
    try:
        files.load(path)
    except files.FileError as exc:
        return exc.lines
    raise AssertionError("the file loads")


def test_a_refused_save_leaves_the_file_on_disk_as_it_was(rstim: StimsimApp, tmp_path: Path) -> None:
    target = tmp_path / "kept.stimsim.json"
    target.write_bytes(_example().read_bytes())
    before = target.read_bytes()
    actions = rstim.session.files
    assert actions.open_path(target)
    doc = rstim.session.document
    assert doc.program_file is not None
    prog = doc.program_file.programs[0]
    too_high = PARAMS[prog.mode]["amplitude_ma"].maximum + 1000
    doc.replace(files.ProgramFile(doc.program_file.device, (replace(prog, amplitude_ua=too_high),)), "edited",
                path=target)
    assert not actions.save()
    title, text, detail, level = rstim.told[-1]  # type: ignore[attr-defined]
    assert title == "Not saved" and "unchanged" in text and detail
    assert target.read_bytes() == before
    assert doc.modified


def test_recent_files_newest_first_without_duplicates(tmp_path: Path) -> None:
    recent = RecentFiles(tmp_path / "recent.json")
    assert recent.paths() == []
    paths = [tmp_path / f"p{n}.stimsim.json" for n in range(RECENT_MAX + 2)]
    for p in paths:
        recent.add(p)
    recent.add(paths[3])
    got = recent.paths()
    assert got[0] == paths[3].resolve() and len(got) == RECENT_MAX and len(set(got)) == RECENT_MAX
    (tmp_path / "recent.json").write_text("not json")
    assert recent.paths() == []


def test_the_recent_menu_lists_what_was_opened(rstim: StimsimApp, qtbot: QtBot) -> None:
    actions = rstim.session.files
    assert actions.open_path(_example())
    actions._fill_recent()
    texts = [a.text() for a in actions.recent_menu.actions()]
    assert texts == [f"&1 {_example().name}"]
    assert actions.recent_menu.actions()[0].toolTip() == str(_example().resolve())
