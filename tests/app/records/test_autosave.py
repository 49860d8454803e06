"""Autosave: an unsaved set is written to the data folder, offered back at the next start,
and cleared after a save, a clean exit or when the user declines it."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from stimsim.app.launch import StimsimApp
from stimsim.app.records.autosave import Autosaver
from stimsim.app.records.document import ProgramDocument
from stimsim.engine import files
from stimsim.resources import example_programs


def _example() -> files.ProgramFile:
    return files.load(next(p for p in example_programs() if p.name.startswith("tonic")))


def test_an_unsaved_set_is_autosaved_on_change_and_offered_back(qtbot: QtBot, tmp_path: Path) -> None:
    owner = QObject()
    doc = ProgramDocument(owner)
    saver = Autosaver(doc, tmp_path / "autosave", owner)
    saver._soon.setInterval(50)
    doc.replace(_example(), "read from STIMSIM-VG VG000001")
    qtbot.waitUntil(lambda: saver.meta_path.exists(), timeout=2_000)
    assert files.load(saver.set_path) == _example()
    assert json.loads(saver.meta_path.read_text())["origin"] == "read from STIMSIM-VG VG000001"
    assert not list((tmp_path / "autosave").glob(".*.tmp"))  # written whole: no temporary left

    # the next start (a new document): offered, restored as unsaved work
    doc2 = ProgramDocument(owner)
    again = Autosaver(doc2, tmp_path / "autosave", owner)
    asked: list[str] = []
    assert again.offer(lambda text: asked.append(text) or True)  # type: ignore[func-returns-value]
    assert asked[0].startswith("stimsim closed without saving the program set")
    assert doc2.program_file == _example() and doc2.modified


def test_a_copy_not_yet_offered_survives_opening_a_file_and_a_clean_exit(qtbot: QtBot, tmp_path: Path) -> None:
    owner = QObject()
    doc = ProgramDocument(owner)
    saver = Autosaver(doc, tmp_path / "autosave", owner)
    doc.replace(_example(), "edited")
    assert saver.save_now()
    later = ProgramDocument(owner)
    again = Autosaver(later, tmp_path / "autosave", owner)  # a start that has not asked yet
    assert again.unoffered
    later.open(next(p for p in example_programs() if p.name.startswith("tonic")))
    assert again.pending() is not None


def test_declining_or_saving_clears_the_autosave(qtbot: QtBot, tmp_path: Path) -> None:
    owner = QObject()
    doc = ProgramDocument(owner)
    saver = Autosaver(doc, tmp_path / "autosave", owner)
    doc.replace(_example(), "edited")
    assert saver.save_now()
    fresh = Autosaver(ProgramDocument(owner), tmp_path / "autosave", owner)
    assert not fresh.offer(lambda text: False)
    assert fresh.pending() is None and not saver.set_path.exists()

    doc.replace(_example(), "edited again")
    assert saver.save_now() and saver.meta_path.exists()
    doc.save(tmp_path / "saved.stimsim.json")
    assert not saver.meta_path.exists() and not saver.set_path.exists()


def test_the_app_keeps_unsaved_work_for_the_next_start_and_a_clean_exit_leaves_none(
        rstim: StimsimApp, data: Path) -> None:
    session = rstim.session
    session.document.replace(_example(), "edited")
    session.close(clean=False)  # as if the app died: the copy stays
    assert session.autosave.pending() is not None
    owner = QObject()
    doc = ProgramDocument(owner)
    assert Autosaver(doc, data / "autosave", owner).offer(lambda text: True)
    session.document.modified = False
    session.autosave.unoffered = False
    session.close(clean=True)
    assert session.autosave.pending() is None
