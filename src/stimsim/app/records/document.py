"""The program set being worked on: where it came from, whether it has unsaved changes.

Opening refuses a bad file (``FileError.lines``) and changes nothing; saving writes whole or
not at all (``engine.files.save``), and a refused save leaves the file on disk as it was.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ...engine import files
from ...engine.atomic_file import atomic_write_text

RECENT_MAX = 8


class ProgramDocument(QObject):
    """One program set: ``program_file`` (None until one is opened or read), ``path``, ``modified``."""

    changed = Signal()  #: the set, its path or its modified flag changed

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.program_file: files.ProgramFile | None = None
        self.path: Path | None = None
        self.modified = False
        self.origin = ""  #: where an unsaved set came from ("read from ...", "restored ...")

    @property
    def title(self) -> str:
        if self.path is not None:
            name = self.path.name
        elif self.program_file is not None:
            name = "untitled program set"
        else:
            return ""
        return f"{name}{' *' if self.modified else ''}"

    def open(self, path: Path) -> None:
        """Load ``path``; FileError (one line per problem) leaves the document as it was."""
        pf = files.load(path)
        self.program_file, self.path, self.modified, self.origin = pf, path, False, ""
        self.changed.emit()

    def save(self, path: Path | None = None) -> Path:
        """Write the set to ``path`` (or where it came from); FileError leaves the file untouched."""
        target = path or self.path
        if self.program_file is None or target is None:
            raise ValueError("nothing to save" if self.program_file is None else "no file name")
        files.save(self.program_file, target)
        self.path, self.modified, self.origin = target, False, ""
        self.changed.emit()
        return target

    def replace(self, pf: files.ProgramFile, origin: str, *, path: Path | None = None, modified: bool = True) -> None:
        """A set from elsewhere (the stimulator, an autosave, an editor): unsaved until saved."""
        self.program_file, self.path, self.modified, self.origin = pf, path, modified, origin
        self.changed.emit()


class RecentFiles:
    """The last program files opened or saved, newest first, in a small JSON file."""

    def __init__(self, store: Path) -> None:
        self.store = store

    def paths(self) -> list[Path]:
        try:
            data = json.loads(self.store.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        if not isinstance(data, list):
            return []
        return [Path(p) for p in data if isinstance(p, str)][:RECENT_MAX]

    def add(self, path: Path) -> None:
        path = path.resolve()
        items = [path, *(p for p in self.paths() if p != path)][:RECENT_MAX]
        self._write(items)

    def remove(self, path: Path) -> None:
        self._write([p for p in self.paths() if p != path])

    def _write(self, items: list[Path]) -> None:
        try:
            self.store.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.store, json.dumps([str(p) for p in items], indent=1) + "\n")
        except OSError:
            pass  # a recent-files list that cannot be kept is no reason to refuse the open or save
