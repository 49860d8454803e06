"""The audit log: every accepted change, numbered from 1, in a ring of the last 64.

Numbers keep counting across reboots (the counter persists with the state), so a host
that read up to entry I asks for ``LOG FROM=I+1`` and never sees an entry twice.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..protocol.limits import LOG_RING as RING


@dataclass(frozen=True)
class LogEntry:
    i: int
    t_ms: int  #: milliseconds since the boot the entry was made in
    role: str
    what: str  #: PROG:3, AMP:2, STOP, LOGIN ...

    def wire_args(self) -> list[tuple[str, str]]:
        return [("I", str(self.i)), ("T_MS", str(self.t_ms)), ("ROLE", self.role), ("WHAT", self.what)]


class AuditLog:
    def __init__(self, entries: Iterable[LogEntry] = (), last_i: int = 0) -> None:
        self._ring: deque[LogEntry] = deque(entries, maxlen=RING)
        self.last_i = last_i

    def add(self, t_ms: int, role: str, what: str) -> LogEntry:
        self.last_i += 1
        entry = LogEntry(self.last_i, t_ms, role, what)
        self._ring.append(entry)
        return entry

    def since(self, first: int) -> list[LogEntry]:
        """Entries with I >= ``first``, oldest first."""
        return [e for e in self._ring if e.i >= first]

    def entries(self) -> tuple[LogEntry, ...]:
        return tuple(self._ring)

    def to_data(self) -> dict[str, Any]:
        return {"last_i": self.last_i, "entries": [[e.i, e.t_ms, e.role, e.what] for e in self._ring]}

    @classmethod
    def from_data(cls, data: Any) -> AuditLog:
        """Rebuild from ``to_data``; ValueError on anything malformed."""
        if not isinstance(data, dict) or not isinstance(data.get("last_i"), int):
            raise ValueError("log: last_i missing")
        entries = []
        for raw in data.get("entries", []):
            if not (isinstance(raw, list) and len(raw) == 4):
                raise ValueError("log: malformed entry")
            i, t_ms, role, what = raw
            if not (isinstance(i, int) and isinstance(t_ms, int) and isinstance(role, str) and isinstance(what, str)):
                raise ValueError("log: malformed entry")
            if i > data["last_i"]:
                raise ValueError("log: entry beyond the counter")
            entries.append(LogEntry(i, t_ms, role, what))
        return cls(entries[-RING:], data["last_i"])
