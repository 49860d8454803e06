"""The generator's persistent memory in a state folder: one JSON file, written atomically.

The file carries a SHA-256 of its content, so damage that still parses (a flipped digit)
is caught as surely as a truncated file. A damaged file is kept aside as ``*.corrupt`` for
a person to look at, and the generator starts from defaults with stimulation off.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ..engine.files import atomic_write_text

STATE_FILE = "generator-state.json"
FORMAT = "stimsim.generator-state"
VERSION = 1


def _digest(state: Any) -> str:
    return hashlib.sha256(json.dumps(state, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class StateStore:
    """Reads and writes the state file in ``folder`` (created if missing)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / STATE_FILE

    def load(self) -> tuple[dict[str, Any] | None, str | None]:
        """(state, None) when good; (None, None) when there is no file yet; (None, message)
        when the file is damaged (it is then copied to ``<file>.corrupt``)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None, None
        except OSError as exc:
            return None, f"cannot read {self.path}: {exc.strerror or exc}"
        problem = _check(raw)
        if problem is None:
            return json.loads(raw)["state"], None
        aside = self.path.with_name(self.path.name + ".corrupt")
        try:
            aside.write_bytes(raw)
            kept = f"; the damaged file is kept as {aside}"
        except OSError:
            kept = ""
        return None, f"{self.path}: {problem}{kept}"

    def save(self, state: dict[str, Any]) -> None:
        doc = {"format": FORMAT, "version": VERSION, "sha256": _digest(state), "state": state}
        atomic_write_text(self.path, json.dumps(doc, indent=1, sort_keys=True) + "\n")


def _check(raw: bytes) -> str | None:
    """What is wrong with a state file's bytes, or None."""
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        return f"not valid JSON ({exc})"
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        return f"not a {FORMAT} file"
    if doc.get("version") != VERSION:
        return f"version {doc.get('version')!r} is not {VERSION}"
    if not isinstance(doc.get("state"), dict):
        return "no state object"
    if doc.get("sha256") != _digest(doc["state"]):
        return "checksum mismatch (the content was damaged or edited)"
    return None
