"""The clinician's unsaved program survives a crash and is offered back into the editor."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from stimsim.app.launch import AppOptions, StimsimApp
from stimsim.app.records.draft_autosave import DRAFT_NAME
from stimsim.host.limits import DEFAULT_PIN


def _login_and_edit(qtbot: QtBot, stim: StimsimApp) -> None:
    view = stim.window.clinician
    view.log_in(DEFAULT_PIN)
    qtbot.waitUntil(lambda: view.logged_in, timeout=5_000)
    view.select_slot(1)
    qtbot.waitUntil(lambda: view.draft.saved is not None, timeout=5_000)
    view._controls["pulse_width_us"].setValue(420)
    assert view.draft.dirty


def test_an_unsaved_draft_is_autosaved_and_offered_back_into_the_editor(
        qtbot: QtBot, qapp: QApplication, rstim: StimsimApp, data: Path) -> None:
    _login_and_edit(qtbot, rstim)
    copy = data / "autosave" / DRAFT_NAME
    qtbot.waitUntil(copy.exists, timeout=3_000)  # a second after the change: a crash now loses nothing

    # The next start on the same data folder (as after a crash) offers it back.
    again = StimsimApp(AppOptions(data_dir=data, device=rstim.url))
    qtbot.addWidget(again.window)
    try:
        asked: list[str] = []
        again.session.ask_restore = lambda text: asked.append(text) or True
        again.start()
        qtbot.waitUntil(lambda: len(again.model.slots) == 5, timeout=5_000)
        assert again.session.offer_recovery()
        assert any("slot 1" in text and "Restore it in the editor" in text for text in asked)
        draft = again.window.clinician.draft
        assert draft.program is not None and draft.program.pulse_width_us == 420 and draft.dirty
    finally:
        again.shutdown()


def test_a_saved_or_declined_draft_leaves_nothing_behind(qtbot: QtBot, rstim: StimsimApp, data: Path) -> None:
    _login_and_edit(qtbot, rstim)
    copy = data / "autosave" / DRAFT_NAME
    qtbot.waitUntil(copy.exists, timeout=3_000)
    rstim.window.clinician._controls["pulse_width_us"].setValue(300)  # back as saved: nothing unsaved
    qtbot.waitUntil(lambda: not copy.exists(), timeout=3_000)
    _login_and_edit(qtbot, rstim)
    qtbot.waitUntil(copy.exists, timeout=3_000)
    saver = rstim.session.draft_autosave
    saver.offered = False  # as at the next start
    assert not saver.offer(lambda text: False, lambda slot, program: None)
    assert not copy.exists()
