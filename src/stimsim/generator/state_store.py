"""The generator's persistent memory in a state folder: one JSON file, written atomically,
and the device key in a file of its own.

The file carries a SHA-256 of its content, so damage that still parses (a flipped digit)
is caught as surely as a truncated file. A file refused for any reason (damaged, or whole
but with content the generator cannot use) is kept aside as
``generator-state.json.<UTC time>.corrupt`` (never overwritten) for a person to look at,
and the generator starts from defaults with stimulation off.

The device key (``device.key``, 32 random bytes, mode 0600, made at the first start) wraps
the PIN's proof key in the state file (``pin_record``); keeping it out of the state file
means a copied state file alone does not log anyone in. Start-up removes the temporary
files that writers killed mid-write left behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

from ..engine.atomic_file import remove_stale_temporaries, temporaries_of
from ..engine.files import atomic_write_text
from ..protocol.limits import DEVICE_KEY_BYTES

STATE_FILE = "generator-state.json"
DEVICE_KEY_FILE = "device.key"
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
        self.key_path = self.folder / DEVICE_KEY_FILE
        self._raw: bytes | None = None
        self.removed_temporaries = remove_leftovers(self.path) + remove_leftovers(self.key_path)

    def load(self) -> tuple[dict[str, Any] | None, str | None]:
        """(state, None) when good; (None, None) when there is no file yet; (None, message)
        when the file is damaged (it is then kept aside, see :meth:`reject`)."""
        self._raw = None
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None, None
        except OSError as exc:
            return None, f"cannot read {self.path}: {exc.strerror or exc}"
        self._raw = raw
        problem = _check(raw)
        if problem is None:
            return json.loads(raw)["state"], None
        return None, self.reject(problem)

    def reject(self, problem: str) -> str:
        """Keep the file last loaded aside as ``*.<time>.corrupt``; the message saying so."""
        raw, self._raw = self._raw, None
        if raw is None:
            return f"{self.path}: {problem}"
        try:
            aside = keep_aside(self.path, raw)
        except OSError as exc:
            return f"{self.path}: {problem}; the refused file could not be kept ({exc.strerror or exc})"
        return f"{self.path}: {problem}; the refused file is kept as {aside}"

    def save(self, state: dict[str, Any]) -> None:
        doc = {"format": FORMAT, "version": VERSION, "sha256": _digest(state), "state": state}
        atomic_write_text(self.path, json.dumps(doc, indent=1, sort_keys=True) + "\n")

    def device_key(self) -> bytes:
        """The device key, made (mode 0600) at the first start; OSError if unreadable."""
        try:
            key = self.key_path.read_bytes()
            if len(key) == DEVICE_KEY_BYTES:
                return key
        except FileNotFoundError:
            pass
        key = secrets.token_bytes(DEVICE_KEY_BYTES)
        _write_private(self.key_path, key)
        return key


def keep_aside(path: Path, raw: bytes) -> Path:
    """Write ``raw`` beside ``path`` as ``<name>.<UTC time>[-n].corrupt``, never over a file."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    for n in range(1, 1000):
        aside = path.with_name(f"{path.name}.{stamp}{'' if n == 1 else f'-{n}'}.corrupt")
        try:
            fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        return aside
    raise FileExistsError(f"too many refused copies of {path.name} this second")


def remove_leftovers(target: Path) -> list[Path]:
    """Temporaries of ``target`` left by dead writers: the engine's ``.NAME.PID.RANDOM.tmp``
    and the older ``.NAME.RANDOM.tmp`` (one random part, no process id) of earlier versions."""
    removed = remove_stale_temporaries(target)
    for tmp in temporaries_of(target):
        middle = tmp.name[len(target.name) + 2: -len(".tmp")]
        if "." not in middle and not middle.isdigit():
            with contextlib.suppress(OSError):
                tmp.unlink()
                removed.append(tmp)
    return removed


def _write_private(path: Path, data: bytes) -> None:
    """Whole or not at all, mode 0600 from the first byte."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


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
