"""An append-only JSON-lines record in which each entry carries the hash of the one before.

Each line is one JSON object: ``i`` (1, 2, ...), ``t`` (UTC time, ISO 8601), ``who``
(clinician, patient, device, app), ``source`` (app, device, log), ``what`` (a short
event name), ``text`` (what happened, in words), ``data`` (details), ``prev`` (SHA-256
of the previous line's bytes, 64 zeros for the first) and ``hash`` (SHA-256 of this
entry's canonical JSON without ``hash``). An edited entry breaks its own hash; an
inserted or removed one breaks the next entry's ``prev`` and the count ``i``; a closed
record ends with a ``close`` entry naming how many came before it, so cutting entries off
a closed record's end is found too. The chain shows tampering; it cannot prevent it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

GENESIS = "0" * 64
FIELDS = ("i", "t", "who", "source", "what", "text", "data", "prev", "hash")
WHO = ("clinician", "patient", "device", "app")
SOURCES = ("app", "device", "log")
CLOSE = "close"


def _canonical(entry: Mapping[str, Any]) -> bytes:
    body = {k: entry[k] for k in FIELDS if k != "hash"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def entry_hash(entry: Mapping[str, Any]) -> str:
    return hashlib.sha256(_canonical(entry)).hexdigest()


def _line(entry: Mapping[str, Any]) -> bytes:
    return json.dumps(dict(entry), ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n"


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Record:
    """Appends entries to one record file, each flushed to disk as it is written."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._count = 0
        self._prev = GENESIS
        self.closed = False
        if self.path.exists() and self.path.stat().st_size:
            problems = verify(self.path)
            if problems:
                raise ValueError(f"{self.path}: {problems[0]}: not appending to a broken record")
            for entry, raw in _entries(self.path):
                self._count = int(entry["i"])
                self._prev = hashlib.sha256(raw).hexdigest()
                self.closed = entry["what"] == CLOSE

    @property
    def count(self) -> int:
        return self._count

    def append(self, who: str, what: str, text: str, data: Mapping[str, Any] | None = None, *,
               source: str = "app", t: str | None = None) -> dict[str, Any]:
        """Add one entry and flush it; returns the entry as written."""
        if self.closed:
            raise ValueError(f"{self.path}: the record is closed")
        if who not in WHO:
            raise ValueError(f"who must be one of {', '.join(WHO)} (got {who!r})")
        if source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)} (got {source!r})")
        entry: dict[str, Any] = {"i": self._count + 1, "t": t or now_text(), "who": who, "source": source,
                                 "what": what, "text": text, "data": dict(data or {}), "prev": self._prev}
        entry["hash"] = entry_hash(entry)
        raw = _line(entry)
        with open(self.path, "ab") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        self._count += 1
        self._prev = hashlib.sha256(raw).hexdigest()
        return entry

    def close(self) -> None:
        """End the record with a closing entry that names how many entries came before."""
        if not self.closed:
            self.append("app", CLOSE, f"session ended after {self._count} entries", {"entries": self._count})
            self.closed = True


def _entries(path: Path) -> Iterator[tuple[dict[str, Any], bytes]]:
    with open(path, "rb") as fh:
        for raw in fh:
            yield json.loads(raw), raw


@dataclass(frozen=True)
class Problem:
    line: int
    text: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.text}"


def verify(path: str | os.PathLike[str]) -> list[Problem]:
    """Every break in the chain, first first; an empty list when the record is intact."""
    problems: list[Problem] = []
    prev = GENESIS
    expected_i = 1
    closed_at: int | None = None
    try:
        raw_lines = Path(path).read_bytes().splitlines(keepends=True)
    except OSError as exc:
        return [Problem(0, f"cannot read: {exc.strerror or exc}")]
    for number, raw in enumerate(raw_lines, start=1):
        if closed_at is not None:
            problems.append(Problem(number, f"an entry after the closing entry of line {closed_at}"))
            break
        try:
            entry = json.loads(raw)
        except ValueError:
            problems.append(Problem(number, "not a JSON entry"))
            break
        if not isinstance(entry, dict) or set(entry) != set(FIELDS):
            problems.append(Problem(number, f"an entry must have exactly {', '.join(FIELDS)}"))
            break
        if entry["prev"] != prev:
            problems.append(Problem(number, "does not follow the entry before it (an entry was inserted, "
                                            "removed or changed before this one)"))
            break
        if entry["i"] != expected_i:
            problems.append(Problem(number, f"is entry {entry['i']!r} where entry {expected_i} belongs"))
            break
        if entry["hash"] != entry_hash(entry):
            problems.append(Problem(number, "its content does not match its hash (the entry was edited)"))
            break
        if entry["what"] == CLOSE:
            if entry["data"].get("entries") != expected_i - 1:
                problems.append(Problem(number, "the closing entry counts a different number of entries"))
                break
            closed_at = number
        prev = hashlib.sha256(raw).hexdigest()
        expected_i += 1
    return problems


def read(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The entries of an intact record; ValueError names the first break."""
    problems = verify(path)
    if problems:
        raise ValueError(f"{path}: {problems[0]}")
    return [entry for entry, _ in _entries(Path(path))]


def default_folder() -> Path:
    """Where the app keeps its records: the user's data folder (platformdirs)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("stimsim")) / "records"


def new_path(folder: Path | None = None) -> Path:
    """A fresh record file name, by the session's start time."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    return (folder or default_folder()) / f"session-{stamp}.jsonl"
