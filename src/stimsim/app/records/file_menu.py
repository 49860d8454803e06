"""The File menu: open, save, save as, recent files, send a program set to the stimulator
and read one from it. Device work runs on the worker thread with a progress dialog."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QMainWindow, QMenu, QMessageBox, QProgressDialog, QWidget

from ...engine import files
from ..controller import Controller
from ..model import AppModel
from .document import ProgramDocument, RecentFiles
from .keys import OPEN_KEY, READ_KEY, SAVE_AS_KEY, SAVE_KEY, SEND_KEY
from .transfer import TransferResult

FILTER = "stimsim program files (*.stimsim.json *.json);;All files (*)"
SUFFIX = ".stimsim.json"
CLINICIAN = "CLINICIAN"

def ask_clinician_pin(parent: QWidget) -> str | None:
    """The clinician PIN, asked in a password field; None if the user cancels.
    (The clinician view's login dialog can take this function's place.)"""
    pin, ok = QInputDialog.getText(parent, "Clinician login", "Clinician PIN:", QLineEdit.EchoMode.Password)
    return pin.strip() if ok and pin.strip() else None


def _tell(parent: QWidget, title: str, text: str, detail: str = "", level: str = "info") -> None:
    box = QMessageBox(QMessageBox.Icon.Warning if level != "info" else QMessageBox.Icon.Information,
                      title, text, QMessageBox.StandardButton.Ok, parent)
    if detail:
        box.setInformativeText(detail)
    box.exec()


def _confirm(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text)
    return answer == QMessageBox.StandardButton.Yes


class FileActions(QObject):
    """The File menu's actions on one ``ProgramDocument``; the dialogs are attributes tests replace."""

    def __init__(self, window: QMainWindow, model: AppModel, controller: Controller, document: ProgramDocument,
                 recent: RecentFiles) -> None:
        super().__init__(window)
        self.window = window
        self.model = model
        self.controller = controller
        self.document = document
        self.recent = recent
        self.tell: Callable[[str, str, str, str], None] = lambda t, x, d, lv: _tell(window, t, x, d, lv)
        self.confirm: Callable[[str, str], bool] = lambda t, x: _confirm(window, t, x)
        self.ask_pin: Callable[[QWidget], str | None] = ask_clinician_pin
        self.ask_open: Callable[[], str] = lambda: QFileDialog.getOpenFileName(window, "Open program file", "",
                                                                               FILTER)[0]
        self.ask_save: Callable[[str], str] = lambda name: QFileDialog.getSaveFileName(
            window, "Save program set", name, FILTER)[0]
        self.progress: QProgressDialog | None = None
        self.last_result: TransferResult | None = None
        self._cancel: threading.Event | None = None
        self.menu = self._build_menu()
        model.linkChanged.connect(self._enable)
        document.changed.connect(self._enable)
        self._enable()

    # --- the menu ---------------------------------------------------------------------
    def _action(self, text: str, key: str, tip: str, slot: Callable[[], object]) -> QAction:
        action = QAction(text, self.window)
        if key:
            action.setShortcut(QKeySequence(key))
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(lambda: slot())
        return action

    def _build_menu(self) -> QMenu:
        bar = self.window.menuBar()
        menu = QMenu("&File", self.window)
        first = bar.actions()[0] if bar.actions() else None
        if first is not None:
            bar.insertMenu(first, menu)
        else:
            bar.addMenu(menu)
        self.open_action = self._action("&Open…", OPEN_KEY, "Open a program file", self.open_dialog)
        self.save_action = self._action("&Save", SAVE_KEY, "Save the program set to its file", self.save)
        self.save_as_action = self._action("Save &as…", SAVE_AS_KEY, "Save the program set under another name",
                                           self.save_as_dialog)
        self.recent_menu = QMenu("&Recent files", menu)
        self.recent_menu.setToolTipsVisible(True)
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.send_action = self._action("Se&nd to stimulator…", SEND_KEY,
                                        "Write the program set to the stimulator's slots; each slot is read back "
                                        "and compared (needs a clinician login)", self.send_to_stimulator)
        self.read_action = self._action("Rea&d from stimulator", READ_KEY,
                                        "Read the stimulator's programs into a program set you can save",
                                        self.read_from_stimulator)
        menu.addAction(self.open_action)
        menu.addMenu(self.recent_menu)
        menu.addSeparator()
        menu.addAction(self.save_action)
        menu.addAction(self.save_as_action)
        menu.addSeparator()
        menu.addAction(self.send_action)
        menu.addAction(self.read_action)
        menu.setToolTipsVisible(True)
        self._fill_recent()
        return menu

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        paths = self.recent.paths()
        for n, path in enumerate(paths, start=1):
            action = QAction(f"&{n} {path.name}", self.recent_menu)
            action.setToolTip(str(path))
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))
            self.recent_menu.addAction(action)
        if not paths:
            none = QAction("(none yet)", self.recent_menu)
            none.setEnabled(False)
            self.recent_menu.addAction(none)

    def _enable(self) -> None:
        has_set = self.document.program_file is not None
        self.save_action.setEnabled(has_set)
        self.save_as_action.setEnabled(has_set)
        self.send_action.setEnabled(has_set and self.model.connected)
        self.read_action.setEnabled(self.model.connected)

    # --- open and save -----------------------------------------------------------------
    def _may_replace(self) -> bool:
        if not self.document.modified:
            return True
        return self.confirm("Unsaved changes", f"{self.document.title.removesuffix(' *')} has unsaved changes. "
                            "Discard them?")

    def open_dialog(self) -> None:
        if not self._may_replace():
            return
        name = self.ask_open()
        if name:
            self.open_path(Path(name), asked=True)

    def open_path(self, path: Path, *, asked: bool = False) -> bool:
        """Open a program file; a bad one is refused with its problems listed, nothing changed."""
        if not asked and not self._may_replace():
            return False
        try:
            self.document.open(path)
        except files.FileError as exc:
            self.tell("Program file refused", f"{path.name} cannot be opened:",
                      "\n".join(exc.lines[:20]) + ("\n…" if len(exc.lines) > 20 else ""), "warning")
            return False
        except OSError as exc:
            self.tell("Program file refused", f"{path.name} cannot be read: {exc.strerror or exc}", "", "warning")
            if not path.exists():
                self.recent.remove(path)
            return False
        self.recent.add(path)
        pf = self.document.program_file
        assert pf is not None
        self.model.record_action("app", "open_file", f"Opened {path.name}: {len(pf.programs)} program(s)",
                                 {"path": str(path), "set": files.to_data(pf)})
        self.model.set_notice(f"Opened {path.name}: {_slots_text(pf)}")
        return True

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as_dialog()
        return self.save_to(self.document.path)

    def save_as_dialog(self) -> bool:
        if self.document.program_file is None:
            return False
        name = self.ask_save(str(self.document.path or f"programs{SUFFIX}"))
        if not name:
            return False
        path = Path(name)
        if not path.name.endswith(".json"):
            path = path.with_name(path.name + SUFFIX)
        return self.save_to(path)

    def save_to(self, path: Path) -> bool:
        """Save the set whole or not at all; a refused save lists the problems and leaves the file as it was."""
        try:
            self.document.save(path)
        except files.FileError as exc:
            self.tell("Not saved", f"The program set was not saved to {path.name}; the file is unchanged:",
                      "\n".join(exc.lines[:20]), "warning")
            return False
        except (OSError, ValueError) as exc:
            self.tell("Not saved", f"The program set was not saved to {path.name}: {exc}", "", "warning")
            return False
        self.recent.add(path)
        pf = self.document.program_file
        assert pf is not None
        self.model.record_action("app", "save_file", f"Saved {path.name}: {len(pf.programs)} program(s)",
                                 {"path": str(path), "set": files.to_data(pf)})
        self.model.set_notice(f"Saved {path.name}")
        return True

    # --- the stimulator -------------------------------------------------------------------
    def send_to_stimulator(self) -> bool:
        """Ask for the clinician login if needed, then send the set on the worker thread."""
        pf = self.document.program_file
        if pf is None or not pf.programs:
            self.tell("Send to stimulator", "Open a program file or read one from the stimulator first.", "", "info")
            return False
        if not self.model.connected:
            self.tell("Send to stimulator", "No stimulator is connected.", "", "warning")
            return False
        pin: str | None = None
        if self.model.status.role.upper() != CLINICIAN:
            if not self.confirm("Clinician login needed",
                                "Writing programs to the stimulator needs a clinician login. Log in now?"):
                return False
            pin = self.ask_pin(self.window)
            if pin is None:
                return False
        slots = ", ".join(str(p.slot) for p in pf.programs)
        self._start_progress(f"Sending slots {slots} to the stimulator…", len(pf.programs))
        self._cancel = threading.Event()
        self.controller.send_programs(pf.programs, pin, self._progressed, self._sent, self._cancel)
        return True

    def read_from_stimulator(self) -> bool:
        if not self.model.connected:
            self.tell("Read from stimulator", "No stimulator is connected.", "", "warning")
            return False
        if not self._may_replace():
            return False
        self._start_progress("Reading the stimulator's programs…", self.model.identity.slots, cancel=False)
        self.controller.read_programs(self.model.device_model, self._progressed, self._read)
        return True

    def _start_progress(self, text: str, total: int, *, cancel: bool = True) -> None:
        dialog = QProgressDialog(text, "Cancel" if cancel else "", 0, max(total, 1), self.window)
        dialog.setWindowTitle("Stimulator")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        if not cancel:
            dialog.setCancelButton(None)  # Qt takes None: no button
        dialog.canceled.connect(lambda: self._cancel.set() if self._cancel is not None else None)
        dialog.setValue(0)
        self.progress = dialog

    def _progressed(self, done: int, total: int, text: str) -> None:
        if self.progress is not None:
            self.progress.setMaximum(max(total, 1))
            self.progress.setValue(done)
            self.progress.setLabelText(text)
        self.window.statusBar().showMessage(text, 3000)

    def _end_progress(self) -> None:
        if self.progress is not None:
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None

    def _sent(self, result: TransferResult) -> None:
        self._end_progress()
        self.last_result = result
        ok = sum(1 for s in result.slots if s.ok)
        head = (f"All {ok} slot(s) written, read back and identical." if result.ok
                else f"{ok} of {len(result.slots)} slot(s) written and identical.")
        if result.failed and not result.slots:
            head = f"Nothing was sent: {result.failed}"
        self.model.record_action(
            "clinician" if result.role.upper() == CLINICIAN or result.slots else "app", "send_programs",
            f"Sent to the stimulator: {head}",
            {"slots": [{"slot": s.slot, "name": s.name, "ok": s.ok, "text": s.text, "diffs": list(s.diffs)}
                       for s in result.slots], "failed": result.failed, "cancelled": result.cancelled})
        self.tell("Send to stimulator", head, result.summary(), "info" if result.ok else "warning")

    def _read(self, result: TransferResult) -> None:
        self._end_progress()
        self.last_result = result
        pf = result.program_file
        if pf is None:
            self.tell("Read from stimulator", f"The programs were not read: {result.failed}", "", "warning")
            return
        ident = self.model.identity
        origin = f"read from {ident.model or 'the stimulator'} {ident.serial}".strip()
        self.document.replace(pf, origin)
        self.model.record_action("app", "read_programs", f"Read {len(pf.programs)} program(s) from the stimulator",
                                 {"set": files.to_data(pf)})
        self.model.set_notice(f"Read from the stimulator: {_slots_text(pf)} (File > Save as… keeps them)")


def _slots_text(pf: files.ProgramFile) -> str:
    if not pf.programs:
        return "no programs"
    return f"{len(pf.programs)} program(s), slots {', '.join(str(p.slot) for p in pf.programs)}"
