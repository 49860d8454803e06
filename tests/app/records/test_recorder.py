"""The session record: written from the connection on, with actions, device events and the
device's audit log; intact; closed with the app; shown in the Record view."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from stimsim.app.launch import StimsimApp
from stimsim.record import chain


def _whats(rstim: StimsimApp) -> list[str]:
    return [e["what"] for e in rstim.session.recorder.entries]


def test_the_record_starts_at_the_connection_under_the_data_folder(rstim: StimsimApp, data: Path,
                                                                   qtbot: QtBot) -> None:
    path = rstim.session.recorder.path
    assert path is not None and path.parent == data / "records" and path.suffix == ".jsonl"
    qtbot.waitUntil(lambda: "audit" in _whats(rstim), timeout=3_000)
    whats = _whats(rstim)
    assert {"link", "device", "programs", "audit"} <= set(whats)
    device = next(e for e in rstim.session.recorder.entries if e["what"] == "device")
    ident = rstim.model.identity
    assert device["data"]["serial"] == ident.serial and device["data"]["firmware"] == ident.firmware
    assert chain.verify(path) == []


def test_actions_and_device_events_are_recorded_and_the_audit_log_once(rstim: StimsimApp, qtbot: QtBot) -> None:
    rec = rstim.session.recorder
    qtbot.waitUntil(lambda: "audit" in _whats(rstim), timeout=3_000)
    rstim.model.record_action("clinician", "confirm_charge", "Confirmed the charge density on contact 3",
                              {"contact": "3", "density_uc_cm2": 31.5})
    rstim.worker.send_line("SIM CHARGE=1")  # the device announces !CHARGE STATE=ON
    qtbot.waitUntil(lambda: "charge" in _whats(rstim), timeout=3_000)
    action = next(e for e in rec.entries if e["what"] == "confirm_charge")
    assert action["who"] == "clinician" and action["source"] == "app" and action["data"]["contact"] == "3"
    event = next(e for e in rec.entries if e["what"] == "charge")
    assert event["who"] == "device" and event["source"] == "device"
    rec.read_log()
    qtbot.wait(600)
    audit = [e["data"]["i"] for e in rec.entries if e["what"] == "audit"]
    assert audit == sorted(set(audit)) and audit[0] == 1  # every audit entry once, in order
    assert rec.path is not None and chain.verify(rec.path) == []


def test_an_unknown_who_is_kept_in_the_data(rstim: StimsimApp) -> None:
    rstim.model.record_action("trainer", "note", "A trainer's remark")
    entry = rstim.session.recorder.entries[-1]
    assert entry["who"] == "app" and entry["data"]["who"] == "trainer"


def test_closing_the_app_seals_the_record(rstim: StimsimApp) -> None:
    path = rstim.session.recorder.path
    assert path is not None
    rstim.shutdown()
    entries = chain.read(path)
    assert entries[-1]["what"] == chain.CLOSE and chain.verify(path) == []


def test_the_record_view_shows_entries_filters_them_and_takes_notes(rstim: StimsimApp, qtbot: QtBot) -> None:
    view = rstim.session.view
    rstim.window.show_face("record")
    assert rstim.window.faces.currentWidget() is view
    rows = view.visible_rows()
    assert len(rows) == len(rstim.session.recorder.entries) and rows[0][0].startswith("20")
    view.note_edit.setPlainText("Patient prefers the evening program")
    view.add_note()
    assert view.note_edit.toPlainText() == ""
    note = rstim.session.recorder.entries[-1]
    assert (note["who"], note["what"], note["text"]) == ("clinician", "note", "Patient prefers the evening program")
    view.filter_edit.setText("evening")
    assert [r[2] for r in view.visible_rows()] == ["note"]
    view.filter_edit.setText("")
    assert view.verify() == []
    qtbot.waitUntil(lambda: "verified intact" in view.status_label.text(), timeout=2_000)


def test_the_record_view_shows_a_broken_chain(rstim: StimsimApp) -> None:
    path = rstim.session.recorder.path
    assert path is not None
    lines = path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b"Connected", b"Connectid")
    path.write_bytes(b"".join(lines))
    problems = rstim.session.view.verify()
    assert problems and problems[0].line == 2
    assert "BROKEN at line 2" in rstim.session.view.status_label.text()
