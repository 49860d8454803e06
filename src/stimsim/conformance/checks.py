"""Protocol conformance suite: every rule of protocol v1, checked on the wire.

Runs against anything reachable by URL (the Python emulator, the C firmware stub, a dev
board) and looks only at bytes: it writes exact request lines and judges the exact reply
and event lines, so two implementations that pass it behave the same to a host.

Each check prints ``PASS name``, ``FAIL name: why`` or ``SKIP name: why`` (emulator
controls on a device that answers ``SIM`` with UNKNOWN_VERB); the run ends with
``N passed, N failed[, N skipped]``. Every check starts from a fresh ``HELLO STRICT=1``.
The suite writes only to slots that were empty (or restores what it overwrote), puts back
the configuration, battery level and active slot it found, and ends with STOP.
"""

from __future__ import annotations

import contextlib
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from ..engine import params as P
from ..engine.load import contact_charges
from ..engine.params import Mode, Recharge
from ..engine.program import DeviceModel, Electrodes, Program
from ..protocol import codec
from ..protocol import limits as L
from ..protocol.codec import CodecError, Event, Overlong, Reply
from ..protocol.login import proof as login_proof
from ..protocol.transport import open_port, read_available
from .port_command import CommandError, started_device

REPLY_TIMEOUT = 0.5  #: generous: a conformance run judges behaviour, timing has its own check
QUIET_S = 0.25  #: how long "no event follows" is watched
REPLY_LIMIT_S = 0.050
IMPEDANCE_LIMIT_S = 0.500

_HEX8 = re.compile(r"^[0-9A-F]{8}$")
_HEX16 = re.compile(r"^[0-9A-F]{16}$")
_REPLY_LINE = re.compile(rb"^(#[0-9]{1,5} )?(OK|ERR [A-Z0-9_]+)( [^ ]+)* \*[0-9A-F]{4}\r\n$")
_EVENT_LINE = re.compile(rb"^![A-Z0-9_]+( [^ ]+)* \*[0-9A-F]{4}\r\n$")


class Fail(Exception):
    """The device broke a rule; the message says which and how."""


class Skip(Exception):
    """The check does not apply to this device."""


class NoReply(Fail):
    pass


# --- raw line access --------------------------------------------------------------------


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

    def __init__(self, url: str) -> None:
        self.url = url
        self.port = open_port(url, timeout=0.01)
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
        self.port.write(data)

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
        seq = _seq_of(line)
        t0 = time.monotonic()
        self.write(line)
        deadline = t0 + timeout
        strays: list[Reply] = []
        while True:
            got = self.next_reply(max(0.0, deadline - time.monotonic()))
            if got is None:
                seen = f" (only {_fmt(strays[0])}, which does not echo SEQ {seq})" if strays else ""
                raise NoReply(f"no reply within {timeout * 1000:.0f} ms to {_show(line)}{seen}")
            index, inc = got
            assert isinstance(inc.msg, Reply)
            # Ours: the same SEQ, or no SEQ where ours could not be read (TOO_LONG, #0).
            if inc.msg.seq == seq or (inc.msg.seq is None and (not inc.msg.ok or _verb_of(line) == "STOP")):
                break
            strays.append(inc.msg)
        latency = inc.t - t0
        self.latencies.append((_verb_of(line), latency))
        return Answer(line, inc.msg, inc.raw, index, latency)

    def req(self, text: str, *, seq: int | None | str = "auto", crc: bool | int = True,
            timeout: float = REPLY_TIMEOUT) -> Answer:
        return self.send(self.build(text, seq=seq, crc=crc), timeout)


def _show(line: bytes) -> str:
    return repr(line.decode("ascii", "replace").rstrip("\r\n")[:90])


def _seq_of(line: bytes) -> int | None:
    m = re.match(rb"#([0-9]{1,5}) ", line)
    return int(m.group(1)) if m and 1 <= int(m.group(1)) <= codec.SEQ_MAX else None


def _verb_of(line: bytes) -> str:
    tokens = line.decode("ascii", "replace").split()
    if tokens and tokens[0].startswith("#"):
        tokens = tokens[1:]
    return tokens[0].upper() if tokens else ""


# --- expectations -------------------------------------------------------------------------


def _fmt(a: Answer | Reply) -> str:
    reply = a.reply if isinstance(a, Answer) else a
    seq = f"#{reply.seq} " if reply.seq is not None else ""
    return f"{seq}{reply}"


def ok(a: Answer, **expect: str | int | None) -> Reply:
    """The reply is OK and carries ``expect`` (value None: the key just has to be there)."""
    if not a.reply.ok:
        raise Fail(f"{_show(a.line)} answered {_fmt(a)}, expected OK")
    _has(a, expect)
    return a.reply


def err(a: Answer, code: str, **expect: str | int | None) -> Reply:
    if a.reply.ok or a.reply.code != code:
        want = " ".join([f"ERR {code}"] + [f"{k}={v}" for k, v in expect.items() if v is not None])
        raise Fail(f"{_show(a.line)} answered {_fmt(a)}, expected {want}")
    _has(a, expect)
    return a.reply


def _has(a: Answer, expect: dict[str, str | int | None]) -> None:
    for key, want in expect.items():
        got = a.reply.get(key)
        if got is None:
            raise Fail(f"{_show(a.line)} answered {_fmt(a)}: no {key}=")
        if want is not None and got != str(want):
            raise Fail(f"{_show(a.line)} answered {_fmt(a)}: {key}={got}, expected {key}={want}")


def same_seq(a: Answer, seq: int | None) -> None:
    if a.reply.seq != seq:
        raise Fail(f"{_show(a.line)} answered {_fmt(a)}: SEQ {a.reply.seq}, expected {seq}")


def expect(cond: bool, why: str) -> None:
    if not cond:
        raise Fail(why)


def keys_of(msg: Reply | Event) -> list[str]:
    return [k for k, _ in msg.args if k is not None]


# --- the context ----------------------------------------------------------------------------


@dataclass
class Ctx:
    link: Link
    pin: str = "0000"
    quick: bool = False
    sim: bool | None = None
    slots: list[int] = field(default_factory=list)  #: slots the suite may write
    saved: dict[int, str] = field(default_factory=dict)  #: slot -> READ args it held before
    active0: int = 1
    active0_empty: bool = True
    impedance_default0: int | None = None
    battery0: int | None = None
    chemistry: str = "LIION"
    charging0: bool = False
    mri0: bool = False
    device: DeviceModel = field(default_factory=DeviceModel)
    log_top: int = 0

    # sessions ------------------------------------------------------------------------------

    def hello(self, strict: bool = True) -> Reply:
        a = self.link.req(f"HELLO STRICT={1 if strict else 0}")
        reply = ok(a, NEXT=None)
        self.link.seq = int(reply.get("NEXT") or "1")
        return reply

    def login(self) -> None:
        nonce = ok(self.link.req("LOGIN"), NONCE=None).get("NONCE") or ""
        ok(self.link.req(f"LOGIN PROOF={login_proof(self.pin, nonce)}"), ROLE="CLINICIAN")

    def session(self, clinician: bool = False) -> Link:
        """A fresh start for a check: HELLO STRICT=1 (role PATIENT, no TEST), MRI off."""
        self.link.settle(0.01)
        self.hello()
        if self.status().get("MRI") == "1":
            self.link.req("MRI OFF")  # put back at cleanup if the device was found in MRI mode
        if clinician:
            self.login()
        return self.link

    def need_sim(self) -> None:
        if self.sim is None:
            self.session()
            a = self.link.req("SIM")
            self.sim = a.reply.ok or a.reply.code != "UNKNOWN_VERB"
        if not self.sim:
            raise Skip("the device answers SIM with UNKNOWN_VERB (no emulator controls)")

    def slot(self, n: int) -> int:
        if len(self.slots) <= n:
            raise Skip("not enough slots to write to")
        return self.slots[n]

    def prog(self, slot: int, rest: str = "MODE=TONIC AMP=3000 PW=200 RATE=50 ELEC=4:-100,5:+100", *,
             ack: bool = False) -> Reply:
        suffix = " ACK=CHARGE" if ack else ""
        return ok(self.link.req(f"PROG SLOT={slot} {rest}{suffix}"), SLOT=slot)

    def status(self) -> Reply:
        return ok(self.link.req("STATUS"))

    def stim_off(self) -> None:
        self.link.req("STOP", seq=None)


CheckFn = Callable[[Ctx], None]
CHECKS: list[tuple[str, CheckFn]] = []


def check(name: str) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        CHECKS.append((name, fn))
        return fn
    return register


# --- setup and cleanup ---------------------------------------------------------------------


def _setup(ctx: Ctx) -> None:
    ctx.hello()
    st = ctx.status()
    ctx.active0 = int(st.get("SLOT") or "1")
    ctx.charging0 = st.get("CHG") == "1"
    ctx.mri0 = st.get("MRI") == "1"
    link = ctx.session(clinician=True)
    batt = ok(link.req("BATT"))
    ctx.battery0 = int(batt.get("BATT") or "0")
    ctx.chemistry = batt.get("CHEM") or "LIION"
    cfg = link.req("CONFIG")
    if cfg.reply.ok and cfg.reply.get("IMPEDANCE_DEFAULT"):
        ctx.impedance_default0 = int(cfg.reply.get("IMPEDANCE_DEFAULT") or "0")
    empty: list[int] = []
    full: dict[int, str] = {}
    for n in range(1, P.N_SLOTS + 1):
        a = link.req(f"READ SLOT={n}")
        if a.reply.ok:
            full[n] = " ".join(f"{k}={v}" for k, v in a.reply.args if k not in (None, "SLOT"))
        else:
            empty.append(n)
    ctx.active0_empty = ctx.active0 in empty
    usable = [n for n in empty if n != ctx.active0]
    for n in range(P.N_SLOTS, 0, -1):  # borrow slots (restored at the end) if too few are free
        if len(usable) >= 3:
            break
        if n not in usable and n != ctx.active0:
            usable.append(n)
            ctx.saved[n] = full[n]
    ctx.slots = usable[:3]
    z = ok(link.req("IMPEDANCE", timeout=1.0))
    overrides = {}
    for contact in P.CONTACTS:
        value = z.get(f"Z{contact.upper()}")
        if value is not None and value.isdigit():
            overrides[contact] = float(value)
    ctx.device = DeviceModel().with_impedances(overrides)
    link.req("STOP", seq=None)


def _cleanup(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    problems: list[str] = []

    def do(text: str) -> Reply:
        reply = link.req(text).reply
        if not reply.ok:
            problems.append(f"{text}: {reply}")
        return reply

    link.req("STOP", seq=None)
    link.req("TEST END")
    do("MRI ON" if ctx.mri0 else "MRI OFF")
    if ctx.sim:
        do("SIM FAULT=NONE")
        if not ctx.charging0 and ctx.chemistry == "LIION":
            do("SIM CHARGE=0")
        if ctx.battery0 is not None:
            do(f"SIM BATT={ctx.battery0}")
    if ctx.impedance_default0 is not None:
        do(f"CONFIG IMPEDANCE_DEFAULT={ctx.impedance_default0}")
    for n in ctx.slots:
        if n in ctx.saved:
            do(f"PROG SLOT={n} {ctx.saved[n]} ACK=CHARGE")
        else:
            reply = link.req(f"ERASE SLOT={n}").reply
            if not reply.ok and reply.code != "STATE":
                problems.append(f"ERASE SLOT={n}: {reply}")
    # Put the active slot back, even when it was empty (write, select, erase it).
    if ctx.active0_empty:
        ctx.prog(ctx.active0)
        do(f"SELECT SLOT={ctx.active0}")
        do(f"ERASE SLOT={ctx.active0}")
    else:
        do(f"SELECT SLOT={ctx.active0}")
    do("LOGOUT")
    link.req("STOP", seq=None)
    if problems:
        raise Fail("; ".join(problems))


# --- framing --------------------------------------------------------------------------------


@check("hello.reply")
def _hello_reply(ctx: Ctx) -> None:
    link = ctx.session()
    seq = link.seq
    a = link.req("HELLO STRICT=1")
    reply = ok(a, PROTO="1", MODEL=None, FW=None, SN=None, BOOT=None, ROLE="PATIENT", SLOTS=16, CONTACTS=16,
               STRICT=1, NEXT=None)
    same_seq(a, seq)
    want = ["PROTO", "MODEL", "FW", "SN", "BOOT", "ROLE", "SLOTS", "CONTACTS", "STRICT", "NEXT"]
    got = keys_of(reply)
    expect(got[:10] == want and got[10:] in ([], ["STATE"]), f"HELLO reply keys {got}, expected {want} [+ STATE]")
    expect(bool(_HEX8.match(reply.get("BOOT") or "")), f"BOOT={reply.get('BOOT')} is not 8 upper-case hex digits")
    expect(1 <= int(reply.get("NEXT") or "0") <= 65535, "NEXT outside 1..65535")
    if "STATE" in got:
        expect(reply.get("STATE") == "DEFAULTS", f"STATE={reply.get('STATE')}, only DEFAULTS is defined")


@check("framing.reply_lines")
def _reply_lines(ctx: Ctx) -> None:
    link = ctx.session()
    for text in ("STATUS", "BATT", "FROB", "READ SLOT=99"):
        a = link.req(text)
        expect(a.raw.endswith(b"\r\n"), f"reply to {text} does not end in CR LF: {a.raw!r}")
        expect(bool(_REPLY_LINE.match(a.raw)), f"reply to {text} is not reply grammar with an upper-case CRC: "
                                                 f"{a.raw!r}")
        expect(len(a.raw) - 2 <= codec.MAX_REPLY, f"reply to {text} is over 512 bytes")
        head = a.raw.split(b" *")[0]
        expect(head.upper() == head, f"reply to {text} is not upper case: {a.raw!r}")


@check("framing.seq_echoed")
def _seq_echoed(ctx: Ctx) -> None:
    link = ctx.session()
    for text in ("STATUS", "FROB", "READ SLOT=0"):
        seq = link.seq
        same_seq(link.req(text), seq)


@check("framing.crc_either_case")
def _crc_case(ctx: Ctx) -> None:
    link = ctx.session()
    line = link.build("STATUS")
    lower = line[:-6] + line[-6:-2].lower() + b"\r\n"
    ok(link.send(lower), STIM=None)


@check("framing.bad_crc_not_executed")
def _bad_crc(ctx: Ctx) -> None:
    link = ctx.session()
    before = ctx.status().get("MRI")
    seq = link.seq
    good = link.build("MRI ON", seq=seq)
    wrong = (codec.crc16(good.split(b" *")[0]) ^ 0x5A5A) & 0xFFFF
    a = link.send(link.build("MRI ON", seq=seq, crc=wrong))
    err(a, "BAD_CRC")
    same_seq(a, seq)
    expect(ctx.status().get("MRI") == before, "MRI changed by a line with a bad CRC")
    # A refused line is not accepted: its SEQ is still free to use.
    link.seq = seq
    ok(link.req("STATUS"), STIM=None)


@check("framing.strict_needs_seq_and_crc")
def _strict_needs(ctx: Ctx) -> None:
    link = ctx.session()
    for line in (link.build("MRI ON", seq=None, crc=False), link.build("MRI ON", seq=None),
                 link.build("MRI ON", crc=False)):
        a = link.send(line)
        err(a, "BAD_SYNTAX", NEED="SEQ,CRC")
    expect(ctx.status().get("MRI") == "0", "a strict-mode line without SEQ or CRC was executed (MRI=1)")


@check("framing.plain_lines_when_not_strict")
def _plain(ctx: Ctx) -> None:
    link = ctx.session()
    ok(link.req("HELLO STRICT=0"), STRICT=0)
    a = link.send(b"STATUS\r\n")
    ok(a, STIM=None)
    same_seq(a, None)
    expect(bool(_REPLY_LINE.match(a.raw)), f"reply to a plain line lacks its CRC: {a.raw!r}")
    ok(link.send(b"status\n"), STIM=None)


@check("framing.eol_and_blank_lines")
def _eol(ctx: Ctx) -> None:
    link = ctx.session()
    mark = link.mark()
    link.write(b"\r\n\n   \r\n")
    link.settle(0.1)
    replies = [i for i in link.incoming[mark:] if isinstance(i.msg, Reply)]
    expect(not replies, f"blank lines were answered: {replies[0].raw!r}" if replies else "")
    ok(link.send(link.build("STATUS", eol=b"\n")), STIM=None)


@check("framing.case_and_spaces")
def _case(ctx: Ctx) -> None:
    link = ctx.session()
    ok(link.req("status"), STIM=None)
    ok(link.req("stim   off"), STIM="OFF")
    ok(link.req("Batt"), BATT=None)
    ok(link.req("mri off"), MRI=0)
    err(link.req("read slot=99"), "OUT_OF_RANGE", KEY="SLOT", MIN=1, MAX=16)


@check("framing.non_printable")
def _non_printable(ctx: Ctx) -> None:
    link = ctx.session()
    for bad in (b"\x01", b"\xc3\xa9", b"\x7f", b"\t"):
        seq = link.next_seq()
        body = b"#%d MRI ON%s" % (seq, bad)
        line = body + b" *%04X\r\n" % codec.crc16(body)
        a = link.send(line)
        err(a, "BAD_SYNTAX")
        same_seq(a, seq)
    expect(ctx.status().get("MRI") == "0", "a line with a non-printable byte was executed")


@check("framing.too_long")
def _too_long(ctx: Ctx) -> None:
    link = ctx.session()
    seq = link.next_seq()
    head = f"#{seq} STATUS".encode()
    padded = head + b" " * (codec.MAX_REQUEST - len(head) - 6)
    exact = padded + b" *%04X" % codec.crc16(padded)
    expect(len(exact) == codec.MAX_REQUEST, "internal: 320-byte line")
    ok(link.send(exact + b"\r\n"), STIM=None)
    seq = link.next_seq()
    over = b"#%d MRI ON " % seq + b" " * 320
    over += b" *%04X" % codec.crc16(over)
    a = link.send(over + b"\r\n")
    err(a, "TOO_LONG")
    same_seq(a, None)
    mark = link.mark()
    big = b"#%d MRI ON " % link.next_seq() + b"X" * 3000 + b"\r\n"
    a = link.send(big)
    err(a, "TOO_LONG")
    link.settle(0.1)
    extra = [i.raw for i in link.incoming[mark:] if isinstance(i.msg, Reply)]
    expect(len(extra) == 1, f"a 3000-byte line got {len(extra)} replies, expected one ERR TOO_LONG")
    expect(ctx.status().get("MRI") == "0", "an overlong line was executed")


@check("framing.bad_syntax")
def _bad_syntax(ctx: Ctx) -> None:
    link = ctx.session()
    seq = link.seq
    a = link.req("AMP SET=")
    err(a, "BAD_SYNTAX")
    same_seq(a, seq)
    a = link.req("STATUS", seq=0)
    err(a, "BAD_SYNTAX")
    same_seq(a, None)
    err(link.req("AMP SET=1=2"), "BAD_SYNTAX")


@check("framing.unknown_verb")
def _unknown_verb(ctx: Ctx) -> None:
    link = ctx.session()
    err(link.req("FROB"), "UNKNOWN_VERB")
    err(link.req("STATUSX KEY=1"), "UNKNOWN_VERB")


@check("framing.one_reply_each_in_order")
def _pipelined(ctx: Ctx) -> None:
    link = ctx.session()
    lines = [link.build(t) for t in ("STATUS", "BATT", "FROB", "MRI OFF", "STATUS")]
    seqs = [int(line.split()[0][1:]) for line in lines]
    link.skip_pending_replies()
    mark = link.mark()
    link.write(b"".join(lines))
    got: list[int | None] = []
    deadline = time.monotonic() + 2.0
    while len(got) < len(lines) and time.monotonic() < deadline:
        nxt = link.next_reply(deadline - time.monotonic())
        if nxt is None:
            break
        assert isinstance(nxt[1].msg, Reply)
        got.append(nxt[1].msg.seq)
    link.settle(0.05)
    total = sum(1 for i in link.incoming[mark:] if isinstance(i.msg, Reply))
    expect(got == seqs and total == len(lines), f"5 pipelined requests {seqs} got replies {got} ({total} in all)")


# --- sequencing ------------------------------------------------------------------------------


@check("seq.stale")
def _stale(ctx: Ctx) -> None:
    link = ctx.session()
    ok(link.req("STATUS"))
    last = link.seq - 1
    a = link.req("MRI ON", seq=last)
    err(a, "STALE")
    same_seq(a, last)
    expect(ctx.status().get("MRI") == "0", "a STALE request was executed")
    err(link.req("MRI ON", seq=last - 5 if last > 5 else 65530), "STALE")


@check("seq.window")
def _window(ctx: Ctx) -> None:
    link = ctx.session()
    ok(link.req("STATUS"))
    last = link.seq - 1
    far = (last - 1 + L.SEQ_WINDOW + 1) % L.SEQ_MAX + 1
    err(link.req("STATUS", seq=far), "STALE")
    edge = (last - 1 + L.SEQ_WINDOW) % L.SEQ_MAX + 1
    ok(link.req("STATUS", seq=edge))
    link.seq = codec.seq_next(edge)
    ok(link.req("STATUS"))


@check("seq.wraps_after_65535")
def _wrap(ctx: Ctx) -> None:
    link = ctx.session()
    seq = link.seq
    while codec.seq_ahead(65535, seq) > 1000:
        seq = (seq - 1 + 1000) % 65535 + 1
        ok(link.req("STATUS", seq=seq))
    ok(link.req("STATUS", seq=65535))
    a = link.req("STATUS", seq=1)
    ok(a)
    same_seq(a, 1)
    link.seq = 2
    ok(link.req("STATUS"))
    info = ctx.hello()
    expect(info.get("NEXT") == str(link.seq), f"HELLO NEXT={info.get('NEXT')} after the wrap")


@check("seq.resend_answered_from_cache")
def _resend(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    a_slot = ctx.slot(0)
    ctx.prog(a_slot)
    ok(link.req(f"SELECT SLOT={a_slot}"))
    amp0 = int(ctx.status().get("AMP") or "0")
    line = link.build("AMP STEP=+1")
    first = link.send(line)
    ok(first, AMP=amp0 + 100)
    again = link.send(line)
    expect(again.raw == first.raw, f"resend answered {again.raw!r}, first answer was {first.raw!r}")
    expect(ctx.status().get("AMP") == str(amp0 + 100), "a byte-identical resend was executed again")
    # In any mode: also without strict.
    ok(link.req("HELLO STRICT=0"), STRICT=0)
    line = link.build("AMP STEP=+1")
    first = link.send(line)
    again = link.send(line)
    expect(again.raw == first.raw, "non-strict resend was not answered from the cache")
    a = link.send(link.build("STATUS", seq=None))
    expect(a.reply.get("AMP") == str(amp0 + 200), "non-strict resend was executed again")


@check("seq.resend_with_crc_in_other_case")
def _resend_crc_case(ctx: Ctx) -> None:
    link = ctx.session()
    for _ in range(40):  # a SEQ whose CRC has a hex letter
        line = link.build("MRI OFF")
        body, crc = line.rstrip(b"\r\n").rsplit(b"*", 1)
        first = link.send(line)
        ok(first, MRI=0)
        if crc.lower() != crc:
            break
    again = link.send(body + b"*" + crc.lower() + b"\r\n")
    expect(again.raw == first.raw,
           f"a resend differing only in the CRC's letter case got {again.raw!r}, not the remembered reply")


@check("seq.refusals_are_remembered")
def _refusal_cached(ctx: Ctx) -> None:
    link = ctx.session()
    line = link.build("AMP SET=99999")
    first = link.send(line)
    expect(not first.reply.ok, "AMP SET=99999 was accepted")
    again = link.send(line)
    expect(again.raw == first.raw, "an ERR reply was not remembered for a resend")
    last = int(line.split()[0][1:])
    err(link.req("FROB", seq=last), "STALE")


@check("seq.remembers_last_8")
def _depth(ctx: Ctx) -> None:
    link = ctx.session()
    lines = [link.build("STATUS") for _ in range(9)]
    answers = [link.send(line) for line in lines]
    again = link.send(lines[1])
    expect(again.raw == answers[1].raw, "the 8th-last request was not answered from the cache")
    err(link.send(lines[0]), "STALE")
    err(link.req("BATT", seq=int(lines[8].split()[0][1:])), "STALE")


@check("seq.hello_never_stale")
def _hello_stale(ctx: Ctx) -> None:
    link = ctx.session()
    ok(link.req("STATUS"))
    nxt = link.seq
    old = (nxt - 1 - 3000) % 65535 + 1
    reply = ok(link.req("HELLO STRICT=1", seq=old), NEXT=nxt)
    expect(reply.get("NEXT") == str(nxt), "a HELLO with an old SEQ moved NEXT")
    ahead = (nxt - 1 + 10) % 65535 + 1
    ok(link.req("HELLO STRICT=1", seq=ahead), NEXT=codec.seq_next(ahead))
    link.seq = codec.seq_next(ahead)
    ok(link.req("STATUS"))


# --- STOP -------------------------------------------------------------------------------------


@check("stop.any_form")
def _stop_forms(ctx: Ctx) -> None:
    link = ctx.session()
    ok(link.send(b"STOP\r\n"), STIM="OFF")
    ok(link.req("STOP", seq=None), STIM="OFF")
    ok(link.req("STOP", crc=0x0000 if codec.crc16(b"STOP") else 1, seq=None), STIM="OFF")
    ok(link.req("STATUS"))
    nxt = link.seq
    stale = (nxt - 1 - 2) % 65535 + 1
    ok(link.req("STOP", seq=stale), STIM="OFF")
    ok(link.req("STOP", seq=nxt, crc=(codec.crc16(b"#%d STOP" % nxt) ^ 1)), STIM="OFF")
    link.seq = nxt
    ok(link.req("STATUS"))  # neither the stale nor the damaged STOP took SEQ nxt


@check("stop.while_stimulating")
def _stop_event(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    a_slot = ctx.slot(0)
    ctx.prog(a_slot)
    ok(link.req(f"SELECT SLOT={a_slot}"))
    ok(link.req("STIM ON"), STIM="ON")
    link.settle(0.02)
    mark = link.mark()
    a = link.send(link.build("STOP", seq=None))
    ok(a, STIM="OFF")
    ev = link.wait_event("STIM", mark, 1.0)
    expect(ev is None or ev[0] > a.index, "the !STIM event came before the reply to STOP")
    expect(ev is not None, "no !STIM event after STOP while stimulating")
    assert ev is not None
    expect(ev[1].get("STIM") == "OFF" and ev[1].get("REASON") == "STOP", f"event {ev[1]}, expected "
                                                                          "!STIM STIM=OFF REASON=STOP")
    mark = link.mark()
    ok(link.req("STOP", seq=None), STIM="OFF")
    link.settle(QUIET_S)
    expect(not link.events("STIM", mark), "STOP while off sent a !STIM event")


# --- error precedence -------------------------------------------------------------------------


@check("errors.precedence")
def _precedence(ctx: Ctx) -> None:
    link = ctx.session()
    ok(link.req("STATUS"))
    last = link.seq - 1
    err(link.req("FROB", seq=last), "STALE")
    err(link.req("FROB", seq=last, crc=codec.crc16(b"#%d FROB" % last) ^ 0x10), "BAD_CRC")
    err(link.req("FROB X=1"), "UNKNOWN_VERB")
    err(link.req("PROG SLOT=99 FOO=1"), "DENIED", NEED="CLINICIAN")
    ctx.login()
    err(link.req("PROG SLOT=99 FOO=1 MODE=TONIC AMP=1 PW=20 RATE=2 ELEC=1:-100,2:+100"), "BAD_ARG", KEY="FOO")
    err(link.req("PROG SLOT=99 MODE=TONIC AMP=30000 PW=5000 RATE=50 ELEC=1:-100,2:+100"), "OUT_OF_RANGE")
    err(link.req("PROG SLOT=1 MODE=TONIC AMP=20000 PW=5000 RATE=50 ELEC=1:-100,2:+100"), "OUT_OF_RANGE", KEY="PW")


# --- roles and login ----------------------------------------------------------------------------


@check("roles.patient_denied")
def _denied(ctx: Ctx) -> None:
    link = ctx.session()
    for text in ("PROG SLOT=1 MODE=TONIC AMP=1000 PW=100 RATE=50 ELEC=1:-100,2:+100", "ERASE SLOT=1",
                 "TEST MODE=TONIC AMP=1000 PW=100 RATE=50 ELEC=1:-100,2:+100", "TEST END", "IMPEDANCE",
                 "CONFIG IMPEDANCE_DEFAULT=300"):
        err(link.req(text), "DENIED", NEED="CLINICIAN")


@check("roles.patient_allowed")
def _allowed(ctx: Ctx) -> None:
    link = ctx.session()
    for text in ("STATUS", "READ SLOT=1", "BATT", "LOG FROM=999999", "SELECT SLOT=1", "STIM OFF", "AMP STEP=+0",
                 "MRI OFF", "LOGOUT", "LOGIN", "STOP"):
        a = link.req(text)
        expect(a.reply.ok or a.reply.code != "DENIED", f"{text} as PATIENT answered {_fmt(a)}")


@check("login.challenge_response")
def _login(ctx: Ctx) -> None:
    link = ctx.session()
    n1 = ok(link.req("LOGIN"), NONCE=None).get("NONCE") or ""
    n2 = ok(link.req("LOGIN"), NONCE=None).get("NONCE") or ""
    expect(bool(_HEX16.match(n1)) and bool(_HEX16.match(n2)), f"NONCE {n1} / {n2} is not 16 upper-case hex digits")
    expect(n1 != n2, "two LOGINs gave the same NONCE")
    ok(link.req(f"LOGIN PROOF={login_proof(ctx.pin, n2)}"), ROLE="CLINICIAN")
    expect(ctx.status().get("ROLE") == "CLINICIAN", "STATUS does not show ROLE=CLINICIAN after login")
    ctx.hello()
    nonce = ok(link.req("LOGIN"), NONCE=None).get("NONCE") or ""
    ok(link.req(f"LOGIN PROOF={login_proof(ctx.pin, nonce).upper()}"), ROLE="CLINICIAN")


@check("login.wrong_proof_and_nonce_use")
def _login_wrong(ctx: Ctx) -> None:
    link = ctx.session()
    nonce = ok(link.req("LOGIN")).get("NONCE") or ""
    err(link.req(f"LOGIN PROOF={login_proof(ctx.pin + '9', nonce)}"), "DENIED", REASON="PROOF")
    expect(ctx.status().get("ROLE") == "PATIENT", "a wrong proof changed the role")
    err(link.req(f"LOGIN PROOF={login_proof(ctx.pin, nonce)}"), "STATE", REASON="NONCE")
    first = ok(link.req("LOGIN")).get("NONCE") or ""
    second = ok(link.req("LOGIN")).get("NONCE") or ""
    err(link.req(f"LOGIN PROOF={login_proof(ctx.pin, first)}"), "DENIED", REASON="PROOF")
    del second
    ctx.login()  # a right proof resets the count of wrong ones


@check("login.lockout")
def _lockout(ctx: Ctx) -> None:
    ctx.need_sim()
    link = ctx.session()
    for attempt in range(1, L.LOGIN_TRIES + 1):
        ok(link.req("LOGIN"), NONCE=None)
        answer = link.req(f"LOGIN PROOF={'0' * 64}")
        if attempt < L.LOGIN_TRIES:
            err(answer, "DENIED", REASON="PROOF")
        else:
            err(answer, "LOCKED", RETRY_S=L.LOCKOUT_S)
    locked = err(link.req("LOGIN"), "LOCKED")
    retry = int(locked.get("RETRY_S") or "0")
    expect(1 <= retry <= L.LOCKOUT_S, f"RETRY_S={retry} while locked, expected 1..{L.LOCKOUT_S}")
    err(link.req(f"LOGIN PROOF={'0' * 64}"), "LOCKED")
    _reset(ctx)  # only a reboot clears the lockout: leave the device usable
    ctx.session(clinician=True)


@check("roles.logout_and_hello")
def _logout(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    ok(link.req("LOGOUT"), ROLE="PATIENT")
    err(link.req("IMPEDANCE"), "DENIED", NEED="CLINICIAN")
    ctx.login()
    reply = ctx.hello()
    expect(reply.get("ROLE") == "PATIENT", "HELLO did not return the role to PATIENT")


# --- slots -----------------------------------------------------------------------------------


_TONIC = "MODE=TONIC AMP=3250 PW=210 RATE=60 IPG=20 RECHARGE=PASSIVE CYCLE_ON_MS=2000 CYCLE_OFF_MS=3000 " \
         "RAMP_MS=500 ELEC=CASE:+100,4:-60,3:-40 AMP_MIN=1000 AMP_MAX=6000 PW_MIN=100 PW_MAX=400 RATE_MIN=40 " \
         "RATE_MAX=80 NAME=Low_back_2"


@check("prog.read_back")
def _read_back(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    ctx.prog(n, _TONIC)
    reply = ok(link.req(f"READ SLOT={n}"))
    want = [("SLOT", str(n)), ("MODE", "TONIC"), ("AMP", "3250"), ("PW", "210"), ("RATE", "60"), ("IPG", "20"),
            ("RECHARGE", "PASSIVE"), ("CYCLE_ON_MS", "2000"), ("CYCLE_OFF_MS", "3000"), ("RAMP_MS", "500"),
            ("ELEC", "3:-40,4:-60,CASE:+100"), ("AMP_MIN", "1000"), ("AMP_MAX", "6000"), ("PW_MIN", "100"),
            ("PW_MAX", "400"), ("RATE_MIN", "40"), ("RATE_MAX", "80"), ("NAME", "Low_back_2")]
    expect(list(reply.args) == want, f"READ answered {reply}, expected OK "
                                     + " ".join(f"{k}={v}" for k, v in want))


@check("prog.burst_read_back")
def _burst(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    n = ctx.slot(1)
    ctx.prog(n, "MODE=BURST AMP=1500 PW=500 RATE=40 BURST_N=5 INTRA_HZ=500 ELEC=9:-100,10:+100")
    reply = ok(link.req(f"READ SLOT={n}"))
    want = [("SLOT", str(n)), ("MODE", "BURST"), ("AMP", "1500"), ("PW", "500"), ("RATE", "40"), ("IPG", "0"),
            ("RECHARGE", "PASSIVE"), ("BURST_N", "5"), ("INTRA_HZ", "500"), ("CYCLE_ON_MS", "0"),
            ("CYCLE_OFF_MS", "0"), ("RAMP_MS", "0"), ("ELEC", "9:-100,10:+100"), ("AMP_MIN", "0"),
            ("AMP_MAX", str(P.PARAMS[Mode.BURST]["amplitude_ma"].maximum))]
    expect(list(reply.args) == want, f"READ answered {reply}, expected OK " + " ".join(f"{k}={v}" for k, v in want))


@check("prog.defaults")
def _defaults(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    n = ctx.slot(2)
    ctx.prog(n, "MODE=HF AMP=2000 PW=30 RATE=10000 ELEC=5:-100,6:+100")
    reply = ok(link.req(f"READ SLOT={n}"))
    hf_max = P.PARAMS[Mode.HF]["amplitude_ma"].maximum
    want = [("SLOT", str(n)), ("MODE", "HF"), ("AMP", "2000"), ("PW", "30"), ("RATE", "10000"), ("IPG", "0"),
            ("RECHARGE", P.RECHARGE[Mode.HF][0].wire), ("CYCLE_ON_MS", "0"), ("CYCLE_OFF_MS", "0"),
            ("RAMP_MS", "0"), ("ELEC", "5:-100,6:+100"), ("AMP_MIN", "0"), ("AMP_MAX", str(hf_max))]
    expect(list(reply.args) == want, f"READ answered {reply}, expected OK " + " ".join(f"{k}={v}" for k, v in want))


@check("prog.bad_arg")
def _prog_bad_arg(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    ctx.prog(n)
    before = link.req(f"READ SLOT={n}").reply.args
    base = "MODE=TONIC AMP=3000 PW=200 RATE=50"
    cases = [
        (f"PROG SLOT={n} {base}", "ELEC"),
        (f"PROG SLOT={n} {base} ELEC=4:-100,5:+100 FOO=1", "FOO"),
        (f"PROG SLOT={n} {base} AMP=2000 ELEC=4:-100,5:+100", "AMP"),
        (f"PROG SLOT={n} {base} BURST_N=3 ELEC=4:-100,5:+100", "BURST_N"),
        (f"PROG SLOT={n} MODE=TONIC AMP=abc PW=200 RATE=50 ELEC=4:-100,5:+100", "AMP"),
        (f"PROG SLOT={n} MODE=SINE AMP=3000 PW=200 RATE=50 ELEC=4:-100,5:+100", "MODE"),
        (f"PROG SLOT={n} {base} ELEC=4:-100,5:+100 ACK=YES", "ACK"),
        (f"PROG SLOT={n} {base} ELEC=4:-100,5:+100 ON", None),
    ]
    for text, key in cases:
        err(link.req(text), "BAD_ARG", **({"KEY": key} if key else {}))
    expect(link.req(f"READ SLOT={n}").reply.args == before, "a refused PROG changed the slot")


@check("prog.out_of_range")
def _prog_range(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    elec = "ELEC=4:-100,5:+100"
    tonic, burst, hf = (P.PARAMS[m] for m in (Mode.TONIC, Mode.BURST, Mode.HF))
    cases = [
        (f"MODE=TONIC AMP=3000 PW={tonic['pulse_width_us'].maximum + 1} RATE=50", tonic["pulse_width_us"]),
        (f"MODE=TONIC AMP=3000 PW=200 RATE={tonic['rate_hz'].minimum - 1}", tonic["rate_hz"]),
        (f"MODE=HF AMP={hf['amplitude_ma'].maximum + 1} PW=30 RATE=10000", hf["amplitude_ma"]),
        (f"MODE=BURST AMP=1000 PW=500 RATE=40 BURST_N={burst['burst_pulses'].maximum + 1} INTRA_HZ=500",
         burst["burst_pulses"]),
        ("MODE=TONIC AMP=3000 PW=200 RATE=50 RAMP_MS=10001", tonic["ramp_s"]),
        ("MODE=TONIC AMP=3000 PW=200 RATE=50 CYCLE_ON_MS=999 CYCLE_OFF_MS=2000", tonic["cycle_on_s"]),
    ]
    for text, spec in cases:
        err(link.req(f"PROG SLOT={n} {text} {elec}"), "OUT_OF_RANGE", KEY=spec.wire, MIN=spec.minimum,
            MAX=spec.maximum)
    for slot in (0, P.N_SLOTS + 1):
        err(link.req(f"PROG SLOT={slot} MODE=TONIC AMP=3000 PW=200 RATE=50 {elec}"), "OUT_OF_RANGE", KEY="SLOT",
            MIN=1, MAX=P.N_SLOTS)
    err(link.req(f"READ SLOT={P.N_SLOTS + 1}"), "OUT_OF_RANGE", KEY="SLOT", MIN=1, MAX=P.N_SLOTS)


@check("prog.fit")
def _fit(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    max_pw = P.max_fitting_pw(1200, 0, Recharge.ACTIVE)
    err(link.req(f"PROG SLOT={n} MODE=TONIC AMP=1000 PW={max_pw + 1} RATE=1200 ELEC=4:-100,5:+100"),
        "OUT_OF_RANGE", RULE="FIT", KEY="PW", MAX=max_pw)
    ok(link.req(f"PROG SLOT={n} MODE=TONIC AMP=1000 PW={max_pw} RATE=1200 ELEC=4:-100,5:+100"))
    max_n = P.max_fitting_burst(100, 500)
    err(link.req(f"PROG SLOT={n} MODE=BURST AMP=1000 PW=100 RATE=100 BURST_N={max_n + 1} INTRA_HZ=500 "
                 "ELEC=4:-100,5:+100"), "OUT_OF_RANGE", RULE="FIT", KEY="BURST_N", MAX=max_n)


@check("prog.rules")
def _rules(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    p = f"PROG SLOT={n} MODE=TONIC PW=200 RATE=50"
    tonic_amp = P.PARAMS[Mode.TONIC]["amplitude_ma"]
    cyc = P.PARAMS[Mode.TONIC]["cycle_on_s"]
    err(link.req(f"{p} AMP=5000 AMP_MAX=4000 ELEC=4:-100,5:+100"), "OUT_OF_RANGE", RULE="LIMITS", KEY="AMP",
        MIN=tonic_amp.minimum, MAX=4000)
    err(link.req(f"{p} AMP=3000 AMP_MIN=4000 AMP_MAX=3500 ELEC=4:-100,5:+100"), "OUT_OF_RANGE", RULE="LIMITS",
        KEY="AMP_MIN", MIN=tonic_amp.minimum, MAX=3500)
    err(link.req(f"{p} AMP=3000 CYCLE_ON_MS=2000 ELEC=4:-100,5:+100"), "OUT_OF_RANGE", RULE="CYCLE",
        KEY="CYCLE_OFF_MS", MIN=cyc.minimum, MAX=cyc.maximum)
    err(link.req(f"{p} AMP=3000 CYCLE_OFF_MS=2000 ELEC=4:-100,5:+100"), "OUT_OF_RANGE", RULE="CYCLE",
        KEY="CYCLE_ON_MS", MIN=cyc.minimum, MAX=cyc.maximum)
    err(link.req(f"{p} AMP=3000 ELEC=4:-100,5:+50"), "OUT_OF_RANGE", RULE="ELECTRODES", KEY="ELEC")
    err(link.req(f"{p} AMP=3000 ELEC=4:-100,CASE:-50,5:+100"), "OUT_OF_RANGE", RULE="ELECTRODES", KEY="ELEC")
    err(link.req(f"PROG SLOT={n} MODE=HF AMP=2000 PW=30 RATE=10000 RECHARGE=PASSIVE ELEC=4:-100,5:+100"),
        "OUT_OF_RANGE", KEY="RECHARGE", ALLOWED="ACTIVE")
    err(link.req(f"PROG SLOT={n} MODE=TONIC AMP=3000 PW=200 RATE=50 PW_MIN=300 ELEC=4:-100,5:+100"),
        "OUT_OF_RANGE", RULE="LIMITS", KEY="PW", MIN=300, MAX=P.PARAMS[Mode.TONIC]["pulse_width_us"].maximum)


def _density(ctx: Ctx, amp: int, pw: int, elec: str) -> tuple[str, str, str] | None:
    program = Program(Mode.TONIC, amp, pw, 50, Electrodes.from_wire(elec))
    over = [c for c in contact_charges(program, ctx.device) if c.warning]
    if not over:
        return None
    c = max(over, key=lambda c: c.shannon_k)
    return c.contact.upper(), f"{c.shannon_k:.2f}", f"{c.density_uc_cm2:.1f}"


@check("prog.unsafe")
def _unsafe(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    ctx.prog(n)
    before = link.req(f"READ SLOT={n}").reply.args
    cap = P.CONTACT_CURRENT_MAX_UA
    err(link.req(f"PROG SLOT={n} MODE=TONIC AMP={cap + 300} PW=60 RATE=50 ELEC=7:-100,CASE:+100"), "UNSAFE",
        RULE="CONTACT_CURRENT", CONTACT=7, MAX=cap)
    # Anodes count too, and where several contacts are over, the highest current is named.
    err(link.req(f"PROG SLOT={n} MODE=TONIC AMP=20000 PW=60 RATE=50 ELEC=2:-60,3:-40,5:+100 ACK=CHARGE"),
        "UNSAFE", RULE="CONTACT_CURRENT", CONTACT=5, MAX=cap)
    err(link.req(f"PROG SLOT={n} MODE=TONIC AMP=19000 PW=60 RATE=50 ELEC=2:-100,5:+70,CASE:+30 ACK=CHARGE"),
        "UNSAFE", RULE="CONTACT_CURRENT", CONTACT=2, MAX=cap)
    elec = "4:-100,CASE:+100"
    zone = _density(ctx, 10000, 500, elec)
    expect(zone is not None, "internal: 10 mA x 500 us should be in the charge-density zone")
    assert zone is not None
    contact, k, d = zone
    err(link.req(f"PROG SLOT={n} MODE=TONIC AMP=10000 PW=500 RATE=50 ELEC={elec}"), "UNSAFE",
        RULE="CHARGE_DENSITY", CONTACT=contact, K=k, D=d)
    expect(link.req(f"READ SLOT={n}").reply.args == before, "a refused PROG changed the slot")
    ctx.prog(n, f"MODE=TONIC AMP=10000 PW=500 RATE=50 ELEC={elec}", ack=True)
    # The case is exempt from the per-contact interlock.
    ok(link.req(f"PROG SLOT={n} MODE=TONIC AMP={cap + 1000} PW=60 RATE=50 ELEC=2:-50,3:-50,CASE:+100 ACK=CHARGE"))


@check("read.empty_slot")
def _read_empty(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    ctx.prog(n)
    ok(link.req(f"ERASE SLOT={n}"), SLOT=n)
    err(link.req(f"READ SLOT={n}"), "STATE", REASON="EMPTY")
    err(link.req(f"SELECT SLOT={n}"), "STATE", REASON="EMPTY")
    err(link.req(f"ERASE SLOT={P.N_SLOTS + 1}"), "OUT_OF_RANGE", KEY="SLOT", MIN=1, MAX=P.N_SLOTS)


@check("select_and_erase")
def _select_erase(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    a, b = ctx.slot(0), ctx.slot(1)
    ctx.prog(a)
    ctx.prog(b, "MODE=TONIC AMP=2000 PW=150 RATE=40 ELEC=12:-100,13:+100")
    ok(link.req(f"SELECT SLOT={a}"), SLOT=a)
    ok(link.req("STIM ON"), STIM="ON")
    ok(link.req(f"SELECT SLOT={b}"), SLOT=b)
    st = ctx.status()
    expect(st.get("SLOT") == str(b) and st.get("STIM") == "ON" and st.get("AMP") == "2000",
           f"after SELECT while on, STATUS is {st} (expected SLOT={b} STIM=ON AMP=2000)")
    err(link.req(f"ERASE SLOT={b}"), "STATE", REASON="ACTIVE")
    ok(link.req(f"ERASE SLOT={a}"), SLOT=a)
    ctx.stim_off()
    ok(link.req(f"ERASE SLOT={b}"), SLOT=b)
    err(link.req("STIM ON"), "STATE", REASON="EMPTY")
    err(link.req("AMP STEP=+1"), "STATE", REASON="EMPTY")


# --- stimulation and amplitude -----------------------------------------------------------------


@check("stim.on_off")
def _stim(ctx: Ctx) -> None:
    link = ctx.session()
    ctx.login()
    n = ctx.slot(0)
    ctx.prog(n)
    ok(link.req(f"SELECT SLOT={n}"))
    ok(link.req("LOGOUT"))
    ok(link.req("STIM ON"), STIM="ON")
    ok(link.req("STIM ON"), STIM="ON")
    expect(ctx.status().get("STIM") == "ON", "STATUS does not show STIM=ON")
    ok(link.req("STIM OFF"), STIM="OFF")
    expect(ctx.status().get("STIM") == "OFF", "STATUS does not show STIM=OFF")
    err(link.req("STIM MAYBE"), "BAD_ARG")
    err(link.req("STIM"), "BAD_ARG")


@check("amp.set_and_step")
def _amp(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    ctx.prog(n, "MODE=TONIC AMP=3000 PW=200 RATE=50 ELEC=4:-100,5:+100 AMP_MIN=1000 AMP_MAX=4000")
    ok(link.req(f"SELECT SLOT={n}"))
    ok(link.req("LOGOUT"))
    ok(link.req("AMP SET=3500"), AMP=3500)
    ok(link.req("AMP STEP=+2"), AMP=3700)
    ok(link.req("AMP STEP=-1"), AMP=3600)
    expect(ctx.status().get("AMP") == "3600", "STATUS does not show the new amplitude")
    expect(ok(link.req(f"READ SLOT={n}")).get("AMP") == "3600", "the patient's amplitude did not persist in the slot")
    err(link.req("AMP SET=4100"), "LIMIT", KEY="AMP", MIN=1000, MAX=4000)
    err(link.req("AMP STEP=+5"), "LIMIT", KEY="AMP", MIN=1000, MAX=4000)
    err(link.req("AMP SET=900"), "LIMIT", KEY="AMP", MIN=1000, MAX=4000)
    amp = P.PARAMS[Mode.TONIC]["amplitude_ma"]
    err(link.req(f"AMP SET={amp.maximum + 1}"), "OUT_OF_RANGE", KEY="AMP", MIN=amp.minimum, MAX=amp.maximum)
    expect(ctx.status().get("AMP") == "3600", "a refused AMP changed the amplitude (no clamping allowed)")
    err(link.req("AMP"), "BAD_ARG")
    err(link.req("AMP SET=3000 STEP=+1"), "BAD_ARG")


@check("amp.safety")
def _amp_safety(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    cap = P.CONTACT_CURRENT_MAX_UA
    ctx.prog(n, f"MODE=TONIC AMP={cap - 100} PW=40 RATE=50 ELEC=4:-100,CASE:+100", ack=True)
    ok(link.req(f"SELECT SLOT={n}"))
    ok(link.req("LOGOUT"))
    err(link.req("AMP STEP=+2"), "UNSAFE", RULE="CONTACT_CURRENT", CONTACT=4, MAX=cap)
    ctx.login()
    # A clinician-acknowledged program in the zone: the patient may go down and back up to
    # the clinician's amplitude, never above it.
    zone = _density(ctx, 10000, 500, "4:-100,CASE:+100")
    expect(zone is not None and _density(ctx, 10000, 500, "4:-100,CASE:+100") is not None, "internal: zone")
    ctx.prog(n, "MODE=TONIC AMP=10000 PW=500 RATE=50 ELEC=4:-100,CASE:+100", ack=True)
    ok(link.req("LOGOUT"))
    ok(link.req("AMP STEP=-1"), AMP=9900)
    ok(link.req("AMP STEP=+1"), AMP=10000)
    above = _density(ctx, 10100, 500, "4:-100,CASE:+100")
    assert above is not None
    err(link.req("AMP STEP=+1"), "UNSAFE", RULE="CHARGE_DENSITY", CONTACT=above[0], K=above[1], D=above[2])
    expect(ctx.status().get("AMP") == "10000", "a refused AMP changed the amplitude")


@check("mri.mode")
def _mri(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    ctx.prog(n)
    ok(link.req(f"SELECT SLOT={n}"))
    ok(link.req("LOGOUT"))
    ok(link.req("STIM ON"), STIM="ON")
    a = ok_answer(link.req("MRI ON"), MRI=1)
    ev = link.wait_event("STIM", a.index, 1.0)
    expect(ev is not None and ev[1].get("REASON") == "MRI" and ev[1].get("STIM") == "OFF",
           f"MRI ON while on sent {ev[1] if ev else 'no event'}, expected !STIM STIM=OFF REASON=MRI")
    st = ctx.status()
    expect(st.get("MRI") == "1" and st.get("STIM") == "OFF", f"STATUS in MRI mode: {st}")
    err(link.req("STIM ON"), "STATE", REASON="MRI")
    ctx.hello()  # a new session, any role, may end MRI mode
    ok(link.req("MRI OFF"), MRI=0)
    ok(link.req("STIM ON"), STIM="ON")
    ctx.stim_off()
    link.settle(QUIET_S)  # the STOP's own !STIM event
    mark = link.mark()
    ok(link.req("MRI ON"), MRI=1)
    link.settle(QUIET_S)
    expect(not link.events("STIM", mark), "MRI ON while off sent a !STIM event")
    ok(link.req("MRI OFF"), MRI=0)


def ok_answer(a: Answer, **kv: str | int | None) -> Answer:
    ok(a, **kv)
    return a


# --- TEST -------------------------------------------------------------------------------------


@check("test.session")
def _test(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    ctx.prog(n)
    ok(link.req(f"SELECT SLOT={n}"))
    saved = ok(link.req(f"READ SLOT={n}")).args
    ok(link.req("TEST MODE=TONIC AMP=4200 PW=250 RATE=70 ELEC=4:-100,6:+100"), TEST="ON")
    st = ctx.status()
    expect(st.get("TEST") == "1" and st.get("AMP") == "4200", f"STATUS while testing: {st}")
    expect(ok(link.req(f"READ SLOT={n}")).args == saved, "READ during TEST does not show the saved slot")
    ok(link.req("AMP STEP=+1"), AMP=4300)
    expect(ok(link.req(f"READ SLOT={n}")).args == saved, "AMP during TEST changed the saved slot")
    err(link.req(f"SELECT SLOT={n}"), "STATE", REASON="TEST")
    err(link.req(f"ERASE SLOT={n}"), "STATE", REASON="TEST")
    a = link.req("TEST END")
    ok(a, TEST="OFF")
    ev = link.wait_event("TEST", a.index, 1.0)
    expect(ev is not None and ev[1].get("TEST") == "OFF" and ev[1].get("REASON") == "END",
           f"TEST END sent {ev[1] if ev else 'no event'}, expected !TEST TEST=OFF REASON=END")
    st = ctx.status()
    expect(st.get("TEST") == "0" and st.get("AMP") == "3000", f"STATUS after TEST END: {st}")
    mark = link.mark()
    ok(link.req("TEST END"), TEST="OFF")
    link.settle(QUIET_S)
    expect(not link.events("TEST", mark), "TEST END with no test sent a !TEST event")


@check("test.validation")
def _test_validation(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    ctx.prog(n)
    ok(link.req(f"SELECT SLOT={n}"))
    err(link.req("TEST SLOT=1 MODE=TONIC AMP=3000 PW=200 RATE=50 ELEC=4:-100,5:+100"), "BAD_ARG", KEY="SLOT")
    pw = P.PARAMS[Mode.TONIC]["pulse_width_us"]
    err(link.req(f"TEST MODE=TONIC AMP=3000 PW={pw.maximum + 1} RATE=50 ELEC=4:-100,5:+100"), "OUT_OF_RANGE",
        KEY="PW", MIN=pw.minimum, MAX=pw.maximum)
    zone = _density(ctx, 10000, 500, "4:-100,CASE:+100")
    assert zone is not None
    err(link.req("TEST MODE=TONIC AMP=10000 PW=500 RATE=50 ELEC=4:-100,CASE:+100"), "UNSAFE",
        RULE="CHARGE_DENSITY", CONTACT=zone[0], K=zone[1], D=zone[2])
    expect(ctx.status().get("TEST") == "0", "a refused TEST started a test")


@check("test.ends_on_logout_and_hello")
def _test_ends(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    ctx.prog(n)
    ok(link.req(f"SELECT SLOT={n}"))
    for ender, reason in (("LOGOUT", "LOGOUT"), ("HELLO STRICT=1", "HELLO")):
        ok(link.req("TEST MODE=TONIC AMP=3300 PW=200 RATE=50 ELEC=4:-100,5:+100"), TEST="ON")
        a = link.req(ender)
        ok(a)
        if ender.startswith("HELLO"):
            link.seq = int(a.reply.get("NEXT") or "1")
        ev = link.wait_event("TEST", a.index, 1.0)
        expect(ev is not None and ev[1].get("REASON") == reason,
               f"{ender} during TEST sent {ev[1] if ev else 'no event'}, expected !TEST TEST=OFF REASON={reason}")
        st = ctx.status()
        expect(st.get("TEST") == "0" and st.get("AMP") == "3000", f"STATUS after {ender}: {st}")
        ctx.login()


@check("test.lease_timeout")
def _lease(ctx: Ctx) -> None:
    if ctx.quick:
        raise Skip("--quick: the 10 s lease is not waited for")
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    ctx.prog(n)
    ok(link.req(f"SELECT SLOT={n}"))
    a = link.req("TEST MODE=TONIC AMP=3300 PW=200 RATE=50 ELEC=4:-100,5:+100")
    ok(a, TEST="ON")
    t0 = time.monotonic()
    early = link.wait_event("TEST", a.index, 9.0)
    expect(early is None, f"the TEST ended after {time.monotonic() - t0:.1f} s, before the 10 s lease")
    ev = link.wait_event("TEST", a.index, 3.0)
    took = time.monotonic() - t0
    expect(ev is not None and ev[1].get("REASON") == "TIMEOUT",
           f"no !TEST TEST=OFF REASON=TIMEOUT within {took:.1f} s of silence")
    expect(ctx.status().get("TEST") == "0", "STATUS still shows TEST=1 after the lease ran out")


# --- reports -----------------------------------------------------------------------------------


@check("status.reply")
def _status(ctx: Ctx) -> None:
    ctx.session()
    reply = ctx.status()
    want = ["STIM", "SLOT", "AMP", "BATT", "CHG", "ROLE", "COMPLIANCE", "MRI", "TEST"]
    expect(keys_of(reply) == want, f"STATUS keys {keys_of(reply)}, expected {want}")
    v = reply.as_dict()
    expect(v["STIM"] in ("ON", "OFF") and v["CHG"] in ("0", "1") and v["MRI"] in ("0", "1")
           and v["TEST"] in ("0", "1") and v["COMPLIANCE"] in ("OK", "LIMITED")
           and v["ROLE"] in ("PATIENT", "CLINICIAN"), f"STATUS values out of their sets: {reply}")
    expect(1 <= int(v["SLOT"]) <= 16 and v["AMP"].isdigit() and 0 <= int(v["BATT"]) <= 1000,
           f"STATUS numbers out of range: {reply}")


@check("batt.reply")
def _batt(ctx: Ctx) -> None:
    link = ctx.session()
    reply = ok(link.req("BATT"))
    want = ["BATT", "VBAT_MV", "CHEM", "CHG", "STATE", "EST_H"]
    expect(keys_of(reply) == want, f"BATT keys {keys_of(reply)}, expected {want}")
    v = reply.as_dict()
    permille = int(v["BATT"])
    expect(0 <= permille <= 1000 and v["VBAT_MV"].isdigit(), f"BATT numbers: {reply}")
    expect(v["CHEM"] in ("LIION", "PRIMARY"), f"CHEM={v['CHEM']}")
    expect(re.fullmatch(r"[0-9]+\.[0-9]", v["EST_H"]) is not None, f"EST_H={v['EST_H']} is not hours with 1 decimal")
    allowed = {"OK", "LOW", "EMPTY"} if v["CHEM"] == "LIION" else {"OK", "ERI", "EOS"}
    expect(v["STATE"] in allowed, f"STATE={v['STATE']} for {v['CHEM']}")


@check("impedance.reply")
def _impedance(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    a = link.req("IMPEDANCE", timeout=1.0)
    reply = ok(a)
    want = [f"Z{i}" for i in range(1, 17)] + ["ZCASE"]
    expect(keys_of(reply) == want, f"IMPEDANCE keys {keys_of(reply)}, expected Z1..Z16 ZCASE")
    for key, value in reply.as_dict().items():
        expect(value.isdigit() or value in ("OPEN", "SHORT"), f"{key}={value} is neither ohms nor OPEN/SHORT")
    expect(a.latency <= IMPEDANCE_LIMIT_S, f"IMPEDANCE took {a.latency * 1000:.0f} ms (at most 500)")


@check("config")
def _config(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    ok(link.req("CONFIG IMPEDANCE_DEFAULT=300"), IMPEDANCE_DEFAULT=300)
    z = ok(link.req("IMPEDANCE", timeout=1.0)).as_dict()
    lead = [v for k, v in z.items() if k != "ZCASE" and v.isdigit()]
    expect(all(v == "300" for v in lead), f"IMPEDANCE after IMPEDANCE_DEFAULT=300: {z}")
    expect(z["ZCASE"] == str(int(P.CASE_IMPEDANCE_OHM)), f"ZCASE={z['ZCASE']} changed with the lead default")
    for value in (49, 4001):
        err(link.req(f"CONFIG IMPEDANCE_DEFAULT={value}"), "OUT_OF_RANGE", KEY="IMPEDANCE_DEFAULT", MIN=50, MAX=4000)
    for pin in ("123", "123456789", "12a4"):
        err(link.req(f"CONFIG PIN={pin}"), "BAD_ARG", KEY="PIN")
    if ctx.impedance_default0 is not None:
        ok(link.req(f"CONFIG IMPEDANCE_DEFAULT={ctx.impedance_default0}"))
    # A new PIN works at once and is never echoed; then the old one is put back.
    new_pin = "24680" if ctx.pin != "24680" else "13579"
    a = ok_answer(link.req(f"CONFIG PIN={new_pin}"), IMPEDANCE_DEFAULT=None)
    expect(new_pin.encode() not in a.raw, "CONFIG echoed the PIN")
    old = ctx.pin
    ctx.pin = new_pin
    try:
        ctx.hello()
        ctx.login()
    finally:
        ctx.pin = old
    ok(link.req(f"CONFIG PIN={old}"))
    ctx.hello()
    ctx.login()


def _log(link: Link, text: str = "LOG") -> tuple[Answer, list[Event]]:
    a = link.req(text)
    n = int(ok(a, N=None).get("N") or "0")
    got: list[Event] = []
    deadline = time.monotonic() + 1.0 + n * 0.01
    scanned = a.index + 1
    while len(got) < n and time.monotonic() < deadline:
        found = link.wait_event("LOG", scanned, deadline - time.monotonic())
        if found is None:
            break
        scanned = found[0] + 1
        got.append(found[1])
    if len(got) != n:
        raise Fail(f"{text} announced N={n} and sent {len(got)} !LOG events")
    return a, got


@check("log.audit")
def _audit(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    _, entries = _log(link)
    top = max((int(e.get("I") or "0") for e in entries), default=0)
    for e in entries:
        expect(keys_of(e)[:4] == ["I", "T_MS", "ROLE", "WHAT"], f"log entry {e} lacks I= T_MS= ROLE= WHAT=")
    ids = [int(e.get("I") or "0") for e in entries]
    expect(ids == sorted(ids) and len(set(ids)) == len(ids), f"log entries are not oldest first: {ids}")
    expect(len(entries) <= 64, f"{len(entries)} entries (the ring holds 64)")
    ctx.prog(n)
    ok(link.req(f"SELECT SLOT={n}"))
    ok(link.req("STIM ON"))
    ok(link.req("AMP STEP=+1"))
    ok(link.req("STOP", seq=None))
    ok(link.req("MRI ON"))
    ok(link.req("MRI OFF"))
    ok(link.req("CONFIG IMPEDANCE_DEFAULT=" + str(ctx.impedance_default0 or int(P.CONTACT_IMPEDANCE_OHM))))
    ok(link.req("TEST MODE=TONIC AMP=3100 PW=200 RATE=50 ELEC=4:-100,5:+100"))
    ok(link.req("TEST END"))
    ok(link.req("LOGOUT"))
    ctx.login()
    ok(link.req("STATUS"))  # reads are not logged
    _, new = _log(link, f"LOG FROM={top + 1}")
    whats = [(e.get("ROLE"), e.get("WHAT")) for e in new]
    want = [("CLINICIAN", f"PROG:{n}"), ("CLINICIAN", f"SELECT:{n}"), ("CLINICIAN", f"STIM:{n}"),
            ("CLINICIAN", f"AMP:{n}"), ("CLINICIAN", "STOP"), ("CLINICIAN", "MRI"), ("CLINICIAN", "MRI"),
            ("CLINICIAN", "CONFIG"), ("CLINICIAN", f"TEST:{n}"), ("CLINICIAN", f"TEST:{n}"),
            ("CLINICIAN", "LOGOUT"), ("PATIENT", "LOGIN")]
    expect(whats == want, f"log after the changes: {whats}, expected {want}")
    ids = [int(e.get("I") or "0") for e in new]
    expect(ids == list(range(top + 1, top + 1 + len(want))), f"log numbers {ids}, expected {top + 1}.. in steps of 1")
    t = [int(e.get("T_MS") or "0") for e in new]
    expect(t == sorted(t), f"T_MS not rising: {t}")
    a, none = _log(link, f"LOG FROM={top + 1000}")
    expect(a.reply.get("N") == "0" and not none, "LOG FROM beyond the last entry did not answer N=0")
    ctx.log_top = ids[-1]


# --- emulator controls ----------------------------------------------------------------------------


def _reset(ctx: Ctx) -> tuple[Answer, Event]:
    link = ctx.link
    a = link.req("SIM RESET")
    ok(a)
    ev = link.wait_event("BOOT", a.index, 2.0)
    if ev is None:
        raise Fail("SIM RESET: no !BOOT event followed the OK")
    link.settle(0.05)
    return a, ev[1]


@check("sim.reset")
def _sim_reset(ctx: Ctx) -> None:
    ctx.need_sim()
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    ctx.prog(n)
    ok(link.req(f"SELECT SLOT={n}"))
    ok(link.req("STIM ON"))
    old_boot = ctx.hello().get("BOOT")
    ctx.login()
    _, top_entries = _log(link)
    top = max((int(e.get("I") or "0") for e in top_entries), default=0)
    slot_before = ok(link.req(f"READ SLOT={n}")).args
    _a, boot = _reset(ctx)
    new_boot = boot.get("BOOT") or ""
    expect(bool(_HEX8.match(new_boot)) and new_boot != old_boot, f"!BOOT BOOT={new_boot} (old {old_boot})")
    expect(boot.get("FW") is not None, f"{boot} lacks FW=")
    # RAM state is gone: strict mode off, any SEQ, role PATIENT, stimulation off.
    a = link.send(b"STATUS\r\n")
    st = ok(a)
    expect(st.get("ROLE") == "PATIENT" and st.get("STIM") == "OFF" and st.get("SLOT") == str(n),
           f"STATUS after reset: {st} (expected ROLE=PATIENT STIM=OFF SLOT={n})")
    ok(link.req("STATUS", seq=40000))
    reply = ctx.hello()
    expect(reply.get("BOOT") == new_boot, "HELLO BOOT differs from the !BOOT id")
    expect(ok(link.req(f"READ SLOT={n}")).args == slot_before, "the slot did not survive the reset")
    ctx.login()
    _, after = _log(link, f"LOG FROM={top + 1}")
    expect(bool(after) and int(after[0].get("I") or "0") == top + 1, "the log numbering did not continue")


@check("sim.fault")
def _sim_fault(ctx: Ctx) -> None:
    ctx.need_sim()
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    ctx.prog(n, "MODE=TONIC AMP=3000 PW=200 RATE=50 ELEC=4:-100,5:+100")
    ok(link.req(f"SELECT SLOT={n}"))
    ok(link.req("STIM ON"))
    a = link.req("SIM FAULT=OPEN:5")
    ok(a)
    fault = link.wait_event("FAULT", a.index, 1.0)
    expect(fault is not None and fault[1].get("CONTACT") == "5" and fault[1].get("KIND") == "OPEN",
           f"SIM FAULT=OPEN:5 while stimulating through 5 sent {fault[1] if fault else 'no !FAULT'}")
    assert fault is not None
    stop = link.wait_event("STIM", fault[0], 1.0)
    expect(stop is not None and stop[1].get("REASON") == "FAULT", "no !STIM STIM=OFF REASON=FAULT after !FAULT")
    z = ok(link.req("IMPEDANCE", timeout=1.0))
    expect(z.get("Z5") == "OPEN", f"IMPEDANCE Z5={z.get('Z5')} with contact 5 open")
    err(link.req("STIM ON"), "STATE", REASON="FAULT", CONTACT=5)
    ok(link.req("SIM FAULT=SHORT:9"))
    expect(ok(link.req("IMPEDANCE", timeout=1.0)).get("Z9") == "SHORT", "IMPEDANCE does not show Z9=SHORT")
    ok(link.req("SIM FAULT=NONE"))
    z = ok(link.req("IMPEDANCE", timeout=1.0))
    expect((z.get("Z5") or "").isdigit() and (z.get("Z9") or "").isdigit(), f"SIM FAULT=NONE left {z}")
    ok(link.req("STIM ON"), STIM="ON")
    ctx.stim_off()


@check("sim.battery")
def _sim_batt(ctx: Ctx) -> None:
    ctx.need_sim()
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    ctx.prog(n)
    ok(link.req(f"SELECT SLOT={n}"))
    if ctx.chemistry != "LIION":
        a = link.req("SIM BATT=90")
        ok(a)
        ev = link.wait_event("BATT", a.index, 1.0)
        expect(ev is not None and ev[1].get("STATE") == "ERI", "SIM BATT=90 (primary) sent no !BATT STATE=ERI")
        err(link.req("SIM CHARGE=1"), "STATE", REASON="PRIMARY")
        return
    ok(link.req("SIM BATT=900"))
    a = link.req("SIM BATT=150")
    ok(a)
    ev = link.wait_event("BATT", a.index, 1.0)
    expect(ev is not None and ev[1].get("STATE") == "LOW" and ev[1].get("BATT") == "150",
           f"SIM BATT=150 sent {ev[1] if ev else 'no event'}, expected !BATT STATE=LOW BATT=150")
    expect(ok(link.req("BATT")).get("STATE") == "LOW", "BATT STATE is not LOW at 15 %")
    ok(link.req("STIM ON"))
    a = link.req("SIM BATT=40")
    ok(a)
    ev = link.wait_event("BATT", a.index, 1.0)
    expect(ev is not None and ev[1].get("STATE") == "EMPTY", "SIM BATT=40 sent no !BATT STATE=EMPTY")
    assert ev is not None
    stop = link.wait_event("STIM", a.index, 1.0)
    expect(stop is not None and stop[1].get("REASON") == "BATTERY", "no !STIM STIM=OFF REASON=BATTERY at EMPTY")
    err(link.req("STIM ON"), "STATE", REASON="BATTERY")
    ok(link.req(f"SIM BATT={max(ctx.battery0 or 900, 100)}"))
    expect(ok(link.req("BATT")).get("STATE") == "OK", "BATT STATE did not return to OK")
    ok(link.req("STIM ON"), STIM="ON")
    ctx.stim_off()


@check("sim.charger")
def _sim_charger(ctx: Ctx) -> None:
    ctx.need_sim()
    if ctx.chemistry != "LIION":
        raise Skip("a primary cell has no charger")
    link = ctx.session()
    ok(link.req("SIM BATT=500"))
    steps = [("SIM CHARGE=1", "ON"), ("SIM FAULT=HOT", "HOT"), ("SIM FAULT=NONE", "ON"), ("SIM CHARGE=0", "OFF")]
    for text, state in steps:
        a = link.req(text)
        ok(a)
        ev = link.wait_event("CHARGE", a.index, 1.0)
        expect(ev is not None and ev[1].get("STATE") == state,
               f"{text} sent {ev[1] if ev else 'no event'}, expected !CHARGE STATE={state}")
        if text == "SIM CHARGE=1":
            expect(ctx.status().get("CHG") == "1", "STATUS CHG is not 1 while charging")
        if text == "SIM FAULT=HOT":
            expect(ctx.status().get("CHG") == "0", "STATUS CHG is still 1 with the charger hot")
    if ctx.battery0 is not None:
        ok(link.req(f"SIM BATT={ctx.battery0}"))


@check("sim.speed_range")
def _sim_speed(ctx: Ctx) -> None:
    ctx.need_sim()
    link = ctx.session()
    for value in ("0.01", "200000"):
        err(link.req(f"SIM SPEED={value}"), "OUT_OF_RANGE", KEY="SPEED", MIN="0.1", MAX="100000")
    err(link.req("SIM FAULT=BURNT"), "BAD_ARG", KEY="FAULT")


# --- timing and the device's own lines ----------------------------------------------------------


@check("timing.reply_within_50ms")
def _timing(ctx: Ctx) -> None:
    link = ctx.session()
    worst = 0.0
    for _attempt in range(2):  # a host hiccup is not the device's fault: one more try
        times = [link.req("STATUS").latency for _ in range(20)]
        worst = max(times)
        if worst <= REPLY_LIMIT_S:
            return
    raise Fail(f"a STATUS reply took {worst * 1000:.1f} ms (limit 50 ms)")


@check("framing.device_lines_valid")
def _device_lines(ctx: Ctx) -> None:
    link = ctx.link
    link.settle(0.05)
    if link.bad_lines:
        first = link.bad_lines[0]
        raise Fail(f"{len(link.bad_lines)} line(s) from the device broke the grammar or CRC, first "
                   f"{first.raw[:80]!r}: {first.error}")
    for inc in link.incoming:
        grammar = _REPLY_LINE if isinstance(inc.msg, Reply) else _EVENT_LINE
        if not grammar.match(inc.raw):
            raise Fail(f"line {inc.raw[:80]!r} does not end in an upper-case CRC and CR LF")


# --- running ----------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    outcome: str  #: PASS, FAIL or SKIP
    why: str = ""

    def line(self) -> str:
        return self.outcome + " " + self.name + (f": {self.why}" if self.why else "")


def run_checks(url: str, *, pin: str = "0000", quick: bool = False,
               emit: Callable[[Result], None] | None = None,
               only: Callable[[str], bool] | None = None) -> list[Result]:
    """Run every check against ``url``; ``emit`` sees each result as it is decided."""
    results: list[Result] = []

    def record(result: Result) -> None:
        results.append(result)
        if emit is not None:
            emit(result)

    link = Link(url)
    ctx = Ctx(link, pin=pin, quick=quick)
    try:
        try:
            _setup(ctx)
        except (Fail, OSError) as exc:
            record(Result("setup", "FAIL", f"cannot prepare the device: {exc}"))
            return results
        for name, fn in CHECKS:
            if only is not None and not only(name):
                continue
            record(_run_one(name, fn, ctx))
        record(_run_one("cleanup", _cleanup, ctx))
    finally:
        link.close()
    return results


def _run_one(name: str, fn: CheckFn, ctx: Ctx) -> Result:
    try:
        fn(ctx)
    except Skip as exc:
        return Result(name, "SKIP", str(exc))
    except Fail as exc:
        return Result(name, "FAIL", str(exc))
    except Exception as exc:  # a check that crashes is a failed check, not a crashed suite
        return Result(name, "FAIL", f"{type(exc).__name__}: {exc}")
    finally:
        with contextlib.suppress(Exception):
            ctx.stim_off()
    return Result(name, "PASS")


def summary(results: list[Result]) -> str:
    passed = sum(r.outcome == "PASS" for r in results)
    failed = sum(r.outcome == "FAIL" for r in results)
    skipped = sum(r.outcome == "SKIP" for r in results)
    text = f"{passed} passed, {failed} failed"
    return text + (f", {skipped} skipped" if skipped else "")


def run(url: str, *, pin: str = "0000", quick: bool = False, out: TextIO | None = None) -> int:
    """``stimsim conformance URL``: one line per check, the count line; 0 if nothing failed."""
    out = out or sys.stdout
    results = run_checks(url, pin=pin, quick=quick, emit=lambda r: print(r.line(), file=out, flush=True))
    print(summary(results), file=out, flush=True)
    return 1 if any(r.outcome == "FAIL" for r in results) else 0


def run_command(command: list[str], *, pin: str = "0000", quick: bool = False, out: TextIO | None = None,
                err_out: TextIO | None = None) -> int:
    """``stimsim conformance -- COMMAND...``."""
    err_out = err_out or sys.stderr
    try:
        with started_device(command) as url:
            return run(url, pin=pin, quick=quick, out=out)
    except CommandError as exc:
        print(f"stimsim conformance: {' '.join(command)}: {exc}", file=err_out)
        return 1


__all__ = ["CHECKS", "Fail", "Link", "Result", "Skip", "run", "run_checks", "run_command", "started_device",
           "summary"]
