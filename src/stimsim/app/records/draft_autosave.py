"""The clinician's unsaved program survives a crash: the editor's draft, while it differs
from its slot, is kept in the data folder (atomically, a second after each change) and
offered back into the editor at the next start; it is forgotten once saved, reverted or
left, and on a clean exit."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer

from ...engine import files
from ...engine.atomic_file import atomic_write_text
from ...engine.program import Program
from ...record.chain import now_text
from ..clinician.draft import Draft

DRAFT_NAME = "clinician-draft.json"
CHANGE_DELAY_MS = 1_000


class DraftAutosaver(QObject):
    """Keeps the clinician editor's unsaved draft in ``folder``."""

    def __init__(self, draft: Draft, folder: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.draft = draft
        self.path = folder / DRAFT_NAME
        self.error = ""
        self.offered = not self.path.exists()  #: nothing from the last session left to offer
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(CHANGE_DELAY_MS)
        self._soon.timeout.connect(self.save_now)
        draft.changed.connect(self._changed)

    def _changed(self) -> None:
        if self.draft.program is not None and self.draft.dirty:
            self._soon.start()
        else:
            self._soon.stop()
            if self.offered:
                self.clear()

    def save_now(self) -> bool:
        program = self.draft.program
        if program is None or not self.draft.dirty or not self.offered:
            return False
        data = {"saved_at": now_text(), "slot": self.draft.slot, "program": files.program_to_data(program)}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, json.dumps(data, indent=1) + "\n")
        except OSError as exc:
            self.error = f"autosave of the clinician's draft failed: {exc}"
            return False
        self.error = ""
        return True

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)

    def pending(self) -> tuple[int, Program, str] | None:
        """(slot, program, when) the last session left unsaved; an unreadable copy is dropped."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            problems: list[str] = []
            program = files.parse_program(data["program"], problems)
            slot = int(data["slot"])
        except (OSError, ValueError, KeyError, TypeError):
            self.clear()
            return None
        if program is None or problems:
            self.clear()
            return None
        return slot, program, str(data.get("saved_at", ""))

    def offer(self, ask: Callable[[str], bool], restore: Callable[[int, Program], None]) -> bool:
        """Offer the last session's unsaved draft back into the editor, or forget it."""
        found = self.pending()
        self.offered = True
        if found is None:
            return False
        slot, program, when = found
        text = (f"stimsim closed while the clinician's program for slot {slot} ({program.name or program.mode.value}) "
                f"was not saved (autosaved {when.replace('T', ' ')}). Restore it in the editor?")
        if ask(text):
            restore(slot, program)
            return True
        self.clear()
        return False


__all__ = ["DRAFT_NAME", "DraftAutosaver"]
