"""SEQ bookkeeping: strict mode, the replay window and the ring of remembered replies.

A host that lost a reply resends the very same line; the device answers it from memory
instead of executing it twice. In strict mode anything else not ahead of the last accepted
SEQ (1..1024 steps, 65535 wraps to 1) is STALE, so a recorded line cannot be replayed later.
"""

from __future__ import annotations

from collections import deque

from ..protocol.codec import seq_ahead, seq_next
from ..protocol.limits import RESEND_RING as RING
from ..protocol.limits import SEQ_WINDOW as WINDOW


def resend_key(line: bytes) -> bytes:
    """A line as resends are compared: CRC hex digits are accepted in either case, so a
    resend whose CRC letters changed case (line noise that still checks) is the same line."""
    if len(line) >= 6 and line[-6:-4] == b" *":
        return line[:-4] + line[-4:].upper()
    return line


class SeqGuard:
    def __init__(self) -> None:
        self.last: int | None = None  #: last accepted SEQ; None until one is accepted
        self._ring: deque[tuple[int, bytes, bytes]] = deque(maxlen=RING)

    def remembered(self, seq: int, line: bytes) -> bytes | None:
        """The reply remembered for a byte-identical resend, newest first."""
        key = resend_key(line)
        for s, body, reply in reversed(self._ring):
            if s == seq and body == key:
                return reply
        return None

    def in_window(self, seq: int) -> bool:
        return self.last is None or 1 <= seq_ahead(seq, self.last) <= WINDOW

    def accept(self, seq: int, *, hello: bool = False) -> None:
        """Record an accepted sequenced request. HELLO moves ``last`` only forward."""
        if not hello or self.in_window(seq):
            self.last = seq

    def remember(self, seq: int, line: bytes, reply: bytes) -> None:
        self._ring.append((seq, resend_key(line), reply))

    def next_seq(self) -> int:
        """The smallest SEQ a host may use next (HELLO's NEXT=)."""
        return 1 if self.last is None else seq_next(self.last)

    def snapshot(self) -> dict[str, object]:
        return {"last": self.last, "ring": [(s, b, r) for s, b, r in self._ring]}
