"""The console's view of the wire: every line sent and received, re-framed, with its time.

The client hands over raw bytes as they cross the port (on its reader thread for
received bytes); the tap cuts them into lines, marks the app's own polling so the console
can hide it, notes when a request went out unanswered (for the "not answering" watchdog),
and, while a slot sweep runs, holds its lines back so the empty slots can be said in one
line ("Slots 6-16 empty") instead of one ``ERR STATE REASON=EMPTY`` per slot.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

from ..host import lines as codec
from ..host.limits import MAX_REPLY
from .model import ConsoleLine

STREAM_EVENT = "!ECAP "  #: the closed-loop family's ECAP stream
POLL_SEQS_KEPT = 64  #: sequence numbers of recent polls remembered to mark their replies
_EMPTY_REPLY = "ERR STATE REASON=EMPTY"


class WireTap:
    """Turns the client's byte callbacks into :class:`ConsoleLine` values for ``emit``."""

    def __init__(self, emit: Callable[[ConsoleLine], None]) -> None:
        self._emit = emit
        self._rx = codec.LineReader(MAX_REPLY)
        self._lock = threading.Lock()
        self._poll_seqs: set[int] = set()
        self.polling = False  #: set by the link around its STATUS/BATT polls
        self.inflight_since: float | None = None  #: monotonic time of the oldest unanswered request
        self._held: list[ConsoleLine] | None = None

    def reset(self) -> None:
        with self._lock:
            self._rx = codec.LineReader(MAX_REPLY)
            self.inflight_since = None

    def note(self, text: str) -> None:
        """An app note (``!``) in the console."""
        self._out(ConsoleLine(time.time(), "!", text))

    def on_line(self, direction: str, data: bytes) -> None:
        """The client's ``on_line`` callback: ``>`` a line written, ``<`` bytes read."""
        now = time.time()
        if direction == ">":
            text = data.decode("ascii", "replace").rstrip("\r\n")
            seq = seq_of(text)
            if self.polling and seq is not None:
                self._poll_seqs.add(seq)
                if len(self._poll_seqs) > POLL_SEQS_KEPT:
                    self._poll_seqs = set(sorted(self._poll_seqs)[-POLL_SEQS_KEPT // 2:])
            if seq is not None and self.inflight_since is None:
                self.inflight_since = time.monotonic()
            self._out(ConsoleLine(now, ">", text, poll=seq in self._poll_seqs))
            return
        with self._lock:
            lines = self._rx.feed(data)
        for line in lines:
            if isinstance(line, codec.Overlong):
                self._out(ConsoleLine(now, "<", f"(a {line.length}-byte line, too long: skipped)"))
                continue
            text = line.decode("ascii", "replace")
            seq = seq_of(text)
            if seq is not None:
                self.inflight_since = None
            stream = text.startswith(STREAM_EVENT)  # ten a second, periodic as the polls: shown with them
            self._out(ConsoleLine(now, "<", text, poll=seq in self._poll_seqs or stream))

    @contextlib.contextmanager
    def slot_sweep(self) -> Iterator[None]:
        """Hold the lines of a sweep over the slots; at its end, say the empty ones in one line.

        The READ and ERR lines of empty slots come out as background lines (shown with the
        status polls); everything else comes out as it was.
        """
        with self._lock:
            self._held = []
        try:
            yield
        finally:
            with self._lock:
                held, self._held = self._held or [], None
            empty = _empty_seqs(held)
            slots = sorted(slot for line in held if line.direction == ">" and seq_of(line.text) in empty
                           and (slot := _read_slot(line.text)) is not None)
            for line in held:
                seq = seq_of(line.text)
                if seq in empty:
                    line = ConsoleLine(line.when, line.direction, line.text, poll=True)
                self._emit(line)
            if slots:
                self._emit(ConsoleLine(time.time(), "!", f"{slot_ranges(slots)} empty"))

    def _out(self, line: ConsoleLine) -> None:
        with self._lock:
            if self._held is not None:
                self._held.append(line)
                return
        self._emit(line)


def _empty_seqs(lines: list[ConsoleLine]) -> set[int]:
    out: set[int] = set()
    for line in lines:
        seq = seq_of(line.text)
        if line.direction == "<" and seq is not None and line.text.split(" ", 1)[1].startswith(_EMPTY_REPLY):
            out.add(seq)
    return out


def _read_slot(text: str) -> int | None:
    """The slot of a ``#12 READ SLOT=6 *CRC`` line."""
    words = text.split()
    if len(words) >= 3 and words[1] == "READ" and words[2].startswith("SLOT="):
        value = words[2].removeprefix("SLOT=")
        return int(value) if value.isdigit() else None
    return None


def slot_ranges(slots: list[int]) -> str:
    """``[6, 7, 8, 10]`` -> ``Slots 6-8, 10``; ``[3]`` -> ``Slot 3``."""
    runs: list[list[int]] = []
    for n in sorted(slots):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    parts = [f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs]
    return ("Slots " if len(slots) > 1 else "Slot ") + ", ".join(parts)


def seq_of(text: str) -> int | None:
    """The SEQ of a strict-mode line (``#12 ...``), or None."""
    if not text.startswith("#"):
        return None
    head = text[1:].split(" ", 1)[0]
    return int(head) if head.isdigit() else None
