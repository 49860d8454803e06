"""Autosave: the program set with unsaved changes, written to the data folder every few
seconds and on change (atomically), offered back at the next start, cleared on a clean exit."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer

from ...engine import files
from ...engine.atomic_file import atomic_write_text
from ...record.chain import now_text
from .document import ProgramDocument

AUTOSAVE_MS = 30_000  #: at least this often while there are unsaved changes
CHANGE_DELAY_MS = 1_000  #: and this long after a change
SET_NAME = "programs.stimsim.json"
AskRestore = Callable[[str], bool]  #: the question; True: restore
META_NAME = "autosave.json"


@dataclass(frozen=True)
class Recovered:
    program_file: files.ProgramFile
    path: Path | None  #: the file the set had been opened from, if any
    origin: str
    saved_at: str


class Autosaver(QObject):
    """Keeps a copy of an unsaved program set in ``folder``."""

    def __init__(self, document: ProgramDocument, folder: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.folder = folder
        self.error = ""
        self._timer = QTimer(self)
        self._timer.setInterval(AUTOSAVE_MS)
        self._timer.timeout.connect(self.save_now)
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(CHANGE_DELAY_MS)
        self._soon.timeout.connect(self.save_now)
        self.unoffered = self.pending() is not None  #: a copy the last session left, not yet offered back
        document.changed.connect(self._changed)

    @property
    def set_path(self) -> Path:
        return self.folder / SET_NAME

    @property
    def meta_path(self) -> Path:
        return self.folder / META_NAME

    def _changed(self) -> None:
        if self.document.modified:
            self._soon.start()
            if not self._timer.isActive():
                self._timer.start()
        else:
            self._timer.stop()
            self._soon.stop()
            if not self.unoffered:
                self.clear()  # saved: nothing left to recover (a copy not yet offered stays)

    def save_now(self) -> bool:
        """Write the unsaved set (set first, then the note that names it: a half-written pair is never offered)."""
        pf = self.document.program_file
        if pf is None or not self.document.modified:
            return False
        meta = {"path": str(self.document.path) if self.document.path else "", "origin": self.document.origin,
                "saved_at": now_text(), "programs": len(pf.programs)}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.set_path, files.dumps(pf))
            atomic_write_text(self.meta_path, json.dumps(meta, indent=1) + "\n")
        except OSError as exc:
            self.error = f"autosave failed: {exc}"
            return False
        self.error = ""
        return True

    def clear(self) -> None:
        """Forget the autosaved copy (clean exit, saved, or the user declined it)."""
        for path in (self.meta_path, self.set_path):
            path.unlink(missing_ok=True)

    def stop(self) -> None:
        self._timer.stop()
        self._soon.stop()

    def pending(self) -> Recovered | None:
        """What the last session left unsaved, or None (an unreadable copy is dropped)."""
        if not self.meta_path.exists():
            return None
        try:
            meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
            pf = files.load(self.set_path)
        except (OSError, ValueError):
            self.clear()
            return None
        path = Path(meta["path"]) if meta.get("path") else None
        return Recovered(pf, path, str(meta.get("origin", "")), str(meta.get("saved_at", "")))

    def offer(self, ask: AskRestore) -> bool:
        """Offer the last session's unsaved set back; restore it or forget it as the user says."""
        found = self.pending()
        self.unoffered = False
        if found is None:
            return False
        what = found.path.name if found.path else (found.origin or "an untitled program set")
        text = (f"stimsim closed without saving the program set {what} "
                f"({len(found.program_file.programs)} program(s), autosaved {found.saved_at.replace('T', ' ')}). "
                "Restore it?")
        if ask(text):
            self.document.replace(found.program_file, f"restored from the autosave of {found.saved_at}",
                                  path=found.path)
            return True
        self.clear()
        return False


