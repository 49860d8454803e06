"""The app's files and records, put together: the File menu, the session recorder and its
view, autosave with recovery, and the presentation-mode toggle in the View menu."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

from ..controller import Controller
from ..main_window import MainWindow
from ..model import AppModel
from .autosave import Autosaver
from .data_folder import autosave_folder, recent_file, records_folder
from .document import ProgramDocument, RecentFiles
from .draft_autosave import DraftAutosaver
from .file_menu import FileActions
from .keys import PRESENTATION_KEYS
from .record_view import RecordView
from .recorder import SessionRecorder

RECORD_FACE = "record"


class SessionFiles(QObject):
    """Everything the app writes for the user, under ``data`` (records, autosave, recent files)."""

    def __init__(self, window: MainWindow, model: AppModel, controller: Controller, data: Path) -> None:
        super().__init__(window)
        self.window = window
        self.model = model
        self.data = data
        self.recorder = SessionRecorder(model, controller, records_folder(data), self)
        self.document = ProgramDocument(self)
        self.files = FileActions(window, model, controller, self.document, RecentFiles(recent_file(data)))
        self.autosave = Autosaver(self.document, autosave_folder(data), self)
        self.draft_autosave = DraftAutosaver(window.clinician.draft, autosave_folder(data), self)
        self.view = RecordView(model, self.recorder, window.faces)
        window.add_face(RECORD_FACE, self.view, "Record",
                        "This session's record: every action and device event; notes; the PDF report")
        self.ask_restore: Callable[[str], bool] = self._ask_restore
        self.ask_close: Callable[[str], QMessageBox.StandardButton] = self._ask_close
        self._document_label = QLabel(window)
        self._document_label.setAccessibleName("Program set")
        self._document_label.setToolTip("The program set open in the File menu (* = unsaved changes)")
        window.statusBar().addPermanentWidget(self._document_label)
        self.document.changed.connect(self._show_document)
        self._add_presentation_toggle()
        window.installEventFilter(self)

    # --- presentation mode -------------------------------------------------------------
    def _add_presentation_toggle(self) -> None:
        action = QAction("&Presentation mode", self.window)
        action.setCheckable(True)
        action.setShortcuts([QKeySequence(k) for k in PRESENTATION_KEYS])
        action.setToolTip("Full screen, large type, clinician controls and the device panel hidden (for trainers)")
        action.toggled.connect(lambda on: self.window.set_presentation(bool(on)))
        self.window.views_menu.addAction(action)
        self.window.addAction(action)
        self.presentation_action = action

    # --- document -------------------------------------------------------------------------
    def _show_document(self) -> None:
        self._document_label.setText(f"Program set: {self.document.title}" if self.document.title else "")

    # --- start and end ----------------------------------------------------------------------
    def offer_recovery(self) -> bool:
        """At start: bring back what the last session left unsaved (the program set, the
        clinician's draft), if the user wants it."""
        restored = self.autosave.offer(self.ask_restore)
        return self.draft_autosave.offer(self.ask_restore, self.window.clinician.restore_draft) or restored

    def _ask_restore(self, text: str) -> bool:
        answer = QMessageBox.question(self.window, "Restore unsaved work?", text)
        return answer == QMessageBox.StandardButton.Yes

    def _ask_close(self, text: str) -> QMessageBox.StandardButton:
        buttons = (QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                   | QMessageBox.StandardButton.Cancel)
        return QMessageBox.question(self.window, "Unsaved changes", text, buttons)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        """Closing with unsaved changes asks first (Save, Discard, Cancel); no one to ask offscreen."""
        if (watched is self.window and event.type() == QEvent.Type.Close and self.document.modified
                and QApplication.platformName() != "offscreen"):
            answer = self.ask_close(f"Save the changes to {self.document.title.removesuffix(' *')} before closing?")
            if answer == QMessageBox.StandardButton.Cancel or (
                    answer == QMessageBox.StandardButton.Save and not self.files.save()):
                assert isinstance(event, QCloseEvent)
                event.ignore()
                return True
            self.document.modified = False  # discarded or saved: a clean exit leaves nothing to recover
        return super().eventFilter(watched, event)

    def close(self, *, clean: bool = True) -> None:
        """The app is closing: seal the record; a clean exit leaves no autosave behind."""
        self.autosave.stop()
        if clean and not self.document.modified and not self.autosave.unoffered:
            self.autosave.clear()
        elif self.document.modified:
            self.autosave.save_now()
        if self.draft_autosave.offered and not self.draft_autosave.save_now():
            self.draft_autosave.clear()  # nothing unsaved in the editor (an unsaved draft is kept, as after a crash)
        self.recorder.close()
