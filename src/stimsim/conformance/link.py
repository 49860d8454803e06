"""The suite's link to a device: exact lines out, every line in with its raw bytes.

Single-threaded and deliberately low level: a check can send what a client never would
(a wrong CRC, a stale SEQ, a line too long) and judge the framing of every line back.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..protocol import codec
from ..protocol.codec import CodecError, Event, Overlong, Reply
from ..protocol.transport import open_port, read_available

REPLY_TIMEOUT = 0.5  #: generous: a conformance run judges behaviour, timing has its own check
QUIET_S = 0.25  #: how long "no event follows" is watched
REPLY_LIMIT_S = 0.050
IMPEDANCE_LIMIT_S = 0.500


class Fail(Exception):
    """The device broke a rule; the message says which and how."""


class Skip(Exception):
    """The check does not apply to this device."""


class NoReply(Fail):
    pass




@dataclass
class Incoming:
    t: float
    raw: bytes  #: the line as received, EOL included
    msg: Reply | Event | None
    error: str = ""


@dataclass
class Answer:
    line: bytes  #: what was sent
    reply: Reply
    raw: bytes
    index: int  #: position of the reply in Link.incoming
    latency: float


class Link:
    """Exact lines out, every line in, in arrival order. Single-threaded."""

    def __init__(self, url: str, *, baudrate: int | None = None,
                 watch: Callable[[str, str], None] | None = None) -> None:
        self.url = url
        self.port = (open_port(url, timeout=0.01) if baudrate is None
                     else open_port(url, timeout=0.01, baudrate=baudrate))
        self.traffic: list[str] = []  #: the lines sent (``>``) and received (``<``), as shown to a person
        self.watch = watch  #: sees each of those lines as it passes: (direction, text)
        self._lines = codec.LineReader(codec.MAX_REPLY)
        self._partial = bytearray()
        self.incoming: list[Incoming] = []
        self._cursor = 0
        self.seq = 1
        self.latencies: list[tuple[str, float]] = []
        self.bad_lines: list[Incoming] = []

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.port.close()

    def reopen(self, pause: float = 0.2) -> None:
        """Close the port and open the same URL again: over TCP, a new connection (a new
        client); ``pause`` lets the device see the old one go first."""
        self.close()
        time.sleep(pause)
        self.port = open_port(self.url, timeout=0.01)
        self._lines = codec.LineReader(codec.MAX_REPLY)
        self._partial = bytearray()
        self._cursor = len(self.incoming)

    # receiving ---------------------------------------------------------------------------

    def pump(self, deadline: float) -> None:
        """Read what arrives until the first chunk or ``deadline``."""
        while True:
            data = read_available(self.port)
            if data:
                self._take(data, time.monotonic())
                return
            if time.monotonic() >= deadline:
                return

    def _take(self, data: bytes, now: float) -> None:
        # Keep the raw bytes of each line (EOL included) to judge the framing itself.
        self._partial += data
        while True:
            nl = self._partial.find(b"\n")
            if nl < 0:
                if len(self._partial) > 4 * codec.MAX_REPLY:
                    self._record(Incoming(now, bytes(self._partial), None, "line over 512 bytes"))
                    self._partial.clear()
                return
            raw = bytes(self._partial[: nl + 1])
            del self._partial[: nl + 1]
            body = raw.rstrip(b"\n").rstrip(b"\r")
            if not body.strip():
                continue
            for item in self._lines.feed(raw):
                if isinstance(item, Overlong):
                    self._record(Incoming(now, raw, None, f"line of {item.length} bytes (over 512)"))
                    continue
                try:
                    msg = codec.parse_incoming(item)
                except CodecError as exc:
                    self._record(Incoming(now, raw, None, str(exc)))
                    continue
                self._record(Incoming(now, raw, msg))

    def _record(self, inc: Incoming) -> None:
        self._note("<", inc.raw)
        self.incoming.append(inc)
        if inc.msg is None:
            self.bad_lines.append(inc)

    def settle(self, quiet: float = 0.05) -> None:
        """Take everything the device still sends until ``quiet`` s pass without a byte."""
        while True:
            before = len(self.incoming) + len(self._partial)
            self.pump(time.monotonic() + quiet)
            if len(self.incoming) + len(self._partial) == before:
                return

    def mark(self) -> int:
        return len(self.incoming)

    def next_reply(self, timeout: float) -> tuple[int, Incoming] | None:
        deadline = time.monotonic() + timeout
        while True:
            while self._cursor < len(self.incoming):
                index = self._cursor
                self._cursor += 1
                if isinstance(self.incoming[index].msg, Reply):
                    return index, self.incoming[index]
            if time.monotonic() >= deadline:
                return None
            self.pump(deadline)

    def skip_pending_replies(self) -> None:
        """Forget replies already read (late answers to an earlier line); never waits."""
        self._cursor = len(self.incoming)

    def events(self, name: str, after: int) -> list[Event]:
        return [inc.msg for inc in self.incoming[after:] if isinstance(inc.msg, Event) and inc.msg.name == name]

    def wait_event(self, name: str, after: int, timeout: float = 1.0,
                   where: Callable[[Event], bool] | None = None) -> tuple[int, Event] | None:
        deadline = time.monotonic() + timeout
        scanned = after
        while True:
            while scanned < len(self.incoming):
                msg = self.incoming[scanned].msg
                if isinstance(msg, Event) and msg.name == name and (where is None or where(msg)):
                    return scanned, msg
                scanned += 1
            if time.monotonic() >= deadline:
                return None
            self.pump(deadline)

    # sending -----------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        for piece in data.splitlines(keepends=True) or [data]:
            self._note(">", piece)
        self.port.write(data)

    def _note(self, direction: str, raw: bytes) -> None:
        text = shown_line(raw)
        self.traffic.append(f"{direction} {text}")
        if self.watch is not None:
            self.watch(direction, text)

    def next_seq(self) -> int:
        seq = self.seq
        self.seq = codec.seq_next(seq)
        return seq

    def build(self, text: str, *, seq: int | None | str = "auto", crc: bool | int = True, eol: bytes = b"\r\n") -> bytes:
        """A request line from ``text``: ``seq="auto"`` takes the next SEQ, None leaves it out;
        ``crc=True`` appends the right CRC, an int appends that (wrong) one, False none."""
        if seq == "auto":
            seq = self.next_seq()
        body = (f"#{seq} {text}" if seq is not None else text).encode("ascii")
        if crc is True:
            body += b" *%04X" % codec.crc16(body)
        elif crc is not False:
            body += b" *%04X" % int(crc)
        return body + eol

    def send(self, line: bytes, timeout: float = REPLY_TIMEOUT) -> Answer:
        """Write one line and return its reply (events seen on the way stay in ``incoming``)."""
        self.skip_pending_replies()
        seq = seq_of(line)
        t0 = time.monotonic()
        self.write(line)
        deadline = t0 + timeout
        strays: list[Reply] = []
        while True:
            got = self.next_reply(max(0.0, deadline - time.monotonic()))
            if got is None:
                seen = f" (only {fmt(strays[0])}, which does not echo SEQ {seq})" if strays else ""
                raise NoReply(f"no reply within {timeout * 1000:.0f} ms to {show(line)}{seen}")
            index, inc = got
            assert isinstance(inc.msg, Reply)
            # Ours: the same SEQ, or no SEQ where ours could not be read (TOO_LONG, #0).
            if inc.msg.seq == seq or (inc.msg.seq is None and (not inc.msg.ok or verb_of(line) == "STOP")):
                break
            strays.append(inc.msg)
        latency = inc.t - t0
        self.latencies.append((verb_of(line), latency))
        return Answer(line, inc.msg, inc.raw, index, latency)

    def req(self, text: str, *, seq: int | None | str = "auto", crc: bool | int = True,
            timeout: float = REPLY_TIMEOUT) -> Answer:
        return self.send(self.build(text, seq=seq, crc=crc), timeout)


def shown_line(raw: bytes, limit: int = 200) -> str:
    """A line on the wire as a person reads it: its end of line left out (``[no EOL]`` when
    it has none), any other control or non-ASCII byte escaped, a long line cut."""
    body = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1] if raw.endswith(b"\n") else raw
    text = "".join(chr(b) if 32 <= b < 127 else f"\\x{b:02x}" for b in body[:limit])
    if len(body) > limit:
        text += f" ... ({len(body)} bytes)"
    return text if body is not raw else text + " [no EOL]"


def show(line: bytes) -> str:
    return repr(line.decode("ascii", "replace").rstrip("\r\n")[:90])


def seq_of(line: bytes) -> int | None:
    """The SEQ a line sent carries (the device's reply echoes it)."""
    return codec.prefix_seq(line)


def verb_of(line: bytes) -> str:
    tokens = codec.split_seq(line.decode("ascii", "replace"), strict=False)[1].split()
    return tokens[0].upper() if tokens else ""


def fmt(a: Answer | Reply) -> str:
    reply = a.reply if isinstance(a, Answer) else a
    seq = f"#{reply.seq} " if reply.seq is not None else ""
    return f"{seq}{reply}"
