"""The PDF report: its sections, read back with pdftotext; ``stimsim report`` and its exit codes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from stimsim.app.launch import StimsimApp
from stimsim.app.records.report import ReportError, load_record

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                reason="pdftotext (poppler-utils) is needed to read the PDF back")

SECTIONS = ("stimsim session report", "Device", "Programs before", "Programs after", "Changes", "Confirmations",
            "Impedances", "Battery projection", "Notes")


def _text(pdf: Path) -> str:
    done = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    return unicodedata.normalize("NFKC", done.stdout)  # the PDF's ligatures (fi, ff) as letters


def _session(rstim: StimsimApp, qtbot: QtBot) -> Path:
    """A session with a confirmation, an impedance check and a note; the record, sealed."""
    qtbot.waitUntil(lambda: any(e["what"] == "audit" for e in rstim.session.recorder.entries), timeout=3_000)
    model = rstim.model
    model.record_action("clinician", "confirm_charge", "Confirmed the charge density on contact 3",
                        {"contact": "3", "density_uc_cm2": 31.5})
    model.record_action("clinician", "impedance", "Impedance check: all contacts in range",
                        {"contacts": {"1": 812, "2": 790, "case": 150}})
    rstim.session.view.note_edit.setPlainText("Patient prefers the evening program")
    rstim.session.view.add_note()
    path = rstim.session.recorder.path
    assert path is not None
    return path


def test_the_report_has_every_section_with_the_session_s_facts(rstim: StimsimApp, qtbot: QtBot,
                                                               tmp_path: Path) -> None:
    _session(rstim, qtbot)
    out = tmp_path / "report.pdf"
    assert rstim.session.view.save_report(out) == ""
    text = _text(out)
    for section in SECTIONS:
        assert section in text, section
    ident = rstim.model.identity
    for fact in (ident.model, ident.serial, ident.firmware, "Low back tonic", "Confirmed the charge density",
                 "contact: 3", "812", "Patient prefers the evening program", "Record intact"):
        assert fact in text, fact
    assert "WARNING" not in text
    assert rstim.session.recorder.entries[-1]["what"] == "report"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)  # the command needs no display and says so itself
    return subprocess.run([sys.executable, "-m", "stimsim", "report", *args], capture_output=True, text=True,
                          env=env, timeout=60)


def test_stimsim_report_writes_the_same_sections_and_exits_0(rstim: StimsimApp, qtbot: QtBot,
                                                             tmp_path: Path) -> None:
    record = _session(rstim, qtbot)
    rstim.shutdown()
    out = tmp_path / "cli.pdf"
    done = _cli(str(record), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert f"wrote {out}" in done.stderr
    text = _text(out)
    assert all(section in text for section in SECTIONS)


def test_a_broken_chain_is_refused_with_exit_1_naming_the_line_and_forced_says_so(
        rstim: StimsimApp, qtbot: QtBot, tmp_path: Path) -> None:
    record = _session(rstim, qtbot)
    rstim.shutdown()
    lines = record.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"who":"device"', b'"who":"patient"')
    record.write_bytes(b"".join(lines))
    out = tmp_path / "broken.pdf"
    done = _cli(str(record), "--out", str(out))
    assert done.returncode == 1
    assert "broken at line 3" in done.stderr and not out.exists()
    forced = _cli(str(record), "--out", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    first_page = unicodedata.normalize("NFKC", subprocess.run(["pdftotext", "-l", "1", str(out), "-"],
                                                              capture_output=True, text=True).stdout)
    assert "WARNING: this record's hash chain is broken at line 3" in " ".join(first_page.split())


def test_stimsim_report_refuses_what_is_not_a_record_with_exit_2(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.jsonl"
    bogus.write_text("hello\n")
    out = tmp_path / "r.pdf"
    assert load_record is not None
    with pytest.raises(ReportError) as caught:
        load_record(tmp_path / "missing.jsonl")
    assert caught.value.code == 2
    missing = _cli(str(tmp_path / "missing.jsonl"), "--out", str(out))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    wrong_out = _cli(str(bogus), "--out", str(tmp_path / "r.txt"))
    assert wrong_out.returncode == 2 and "must end in .pdf" in wrong_out.stderr
    assert not out.exists()


def test_the_reports_conversation_folds_the_same_words_said_again_as_the_view_does() -> None:
    from stimsim.app.records.report import folded_conversation

    said = [{"at_minutes": 0.0, "who": "patient", "text": "Hello."}]
    said += [{"at_minutes": 0.1 * k, "who": "patient", "text": "I don't feel anything."} for k in range(31)]
    said += [{"at_minutes": 4.0, "who": "clinician", "text": "Where do you feel it?"},
             {"at_minutes": 4.0, "who": "patient", "text": "I don't feel anything."}]
    rows = folded_conversation(said)
    assert rows == [["0.0", "patient", "Hello."],
                    ["0.0", "patient", "I don't feel anything. (\u00d731)"],
                    ["4.0", "clinician", "Where do you feel it?"],
                    ["4.0", "patient", "I don't feel anything."]]
