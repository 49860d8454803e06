"""The host side of the generator protocol: what the desktop app talks to a device through.

``Client.connect(url)`` opens any transport (serial, pty, ``socket://``, ``virtual://``),
starts a reader thread and runs ``HELLO STRICT=1``. From then on every request carries a
SEQ and a CRC; a lost or damaged exchange is resent byte for byte (same SEQ) so the
device's reply cache makes the retry harmless; a device restart is reported, never papered
over; ``stop()`` is written at once from any thread, even while another request waits.

Threads: the reader thread owns all reading and hands replies to the one waiting request
(matched by SEQ) and events to a queue and the ``on_event`` callback. Callbacks run on the
reader thread and must not make requests (``stop()`` is allowed: it then only writes).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from serial.serialutil import SerialBase, SerialException

from ..engine import params as P
from ..engine.params import fmt_number
from ..engine.program import DeviceModel, Program
from ..engine.validate import check_program
from ..protocol import codec
from ..protocol.codec import CodecError, Event, Overlong, Reply
from ..protocol.login import proof as login_proof
from ..protocol.program_args import WireValueError, program_args, program_from_values
from ..protocol.transport import TransportError, cancel_read, close_port, open_port, read_available
from .errors import (
    BadArgError,
    BadCrcError,
    BadReply,
    BadSyntaxError,
    ClientError,
    DeniedError,
    DeviceError,
    DeviceRestarted,
    DeviceTimeout,
    LimitError,
    LinkLost,
    LockedError,
    OutOfRangeError,
    ProtocolMismatch,
    ReadBackMismatch,
    StaleError,
    StateError,
    TooLongError,
    UnknownVerbError,
    UnsafeError,
)
from .results import Battery, EcapPoint, EcapReading, HelloInfo, LogEntry, Status

__all__ = [  # the client's API, its results and its exceptions, from one import
    "Client", "ClientStats", "program_args", "program_from_reply", "differences", "login_proof",
    "Battery", "EcapPoint", "EcapReading", "HelloInfo", "LogEntry", "Status", "Event", "ecap_point", "Reply", "TransportError",
    "BadArgError", "BadCrcError", "BadReply", "BadSyntaxError", "ClientError", "DeniedError", "DeviceError",
    "DeviceRestarted", "DeviceTimeout", "LimitError", "LinkLost", "LockedError", "OutOfRangeError",
    "ProtocolMismatch", "ReadBackMismatch", "StaleError", "StateError", "TooLongError", "UnknownVerbError",
    "UnsafeError",
]

log = logging.getLogger(__name__)

PROTO = "1"
DEFAULT_TIMEOUT = 0.2  #: reply wait per attempt (protocol: 200 ms)
DEFAULT_RETRIES = 3  #: resends after the first attempt
IMPEDANCE_TIMEOUT = 0.7  #: IMPEDANCE may take 500 ms to start its reply
TEST_KEEPALIVE_S = 1.0  #: STATUS period while a TEST runs (device lease: 10 s; spec: <= 2 s)
KNOWN_EVENTS = frozenset({"BOOT", "STIM", "BATT", "FAULT", "CHARGE", "TEST", "LOG", "ECAP", "ECAPPT"})
#: ERR codes that mean "the line arrived damaged, nothing was executed": resend it.
NOISE_CODES = frozenset({"BAD_CRC", "BAD_SYNTAX", "TOO_LONG"})
CONTACT_KEYS = tuple(f"Z{i}" for i in range(1, 17)) + ("ZCASE",)


# --- small helpers -------------------------------------------------------------------------


def _need(reply: Reply, key: str) -> str:
    value = reply.get(key)
    if value is None:
        raise BadReply(f"reply {str(reply)!r} lacks {key}=")
    return value


def _need_int(reply: Reply, key: str) -> int:
    text = _need(reply, key)
    try:
        return int(text)
    except ValueError:
        raise BadReply(f"reply {str(reply)!r}: {key}={text} is not a whole number") from None


def _need_flag(reply: Reply, key: str, on: str = "1", off: str = "0") -> bool:
    text = _need(reply, key)
    if text not in (on, off):
        raise BadReply(f"reply {str(reply)!r}: {key}={text} is neither {on} nor {off}")
    return text == on


def _well_formed(line: bytes) -> bool:
    """Whether our own line passes the grammar (then a BAD_SYNTAX answer means line noise)."""
    try:
        codec.parse_request(line.rstrip(b"\r\n"))
    except CodecError:
        return False
    return True


@dataclass
class ClientStats:
    """Counters of what the link did; tests and the console read them."""

    requests: int = 0
    resends: int = 0
    timeouts: int = 0
    skipped_lines: int = 0
    unmatched_replies: int = 0
    events: int = 0


@dataclass
class _Waiter:
    """One request waiting for its reply (seq None: the unsequenced STOP)."""

    seq: int | None
    done: threading.Event = field(default_factory=threading.Event)
    reply: Reply | None = None
    noise: Reply | None = None  #: an ERR saying our line arrived damaged
    damaged: bool = False  #: a line failed its CRC while we waited: most likely our reply
    restarted: bool = False
    link_error: BaseException | None = None

    def reset(self) -> None:
        self.reply = None
        self.noise = None
        self.damaged = False
        self.done.clear()


@dataclass
class _LogCollector:
    entries: dict[int, LogEntry] = field(default_factory=dict)
    changed: threading.Condition = field(default_factory=threading.Condition)


# --- the client ----------------------------------------------------------------------------


class Client:
    """A connection to one generator. Build it with :meth:`connect` (URL) or :meth:`open` (port)."""

    def __init__(self, port: SerialBase, *, url: str = "", timeout: float = DEFAULT_TIMEOUT,
                 retries: int = DEFAULT_RETRIES, on_event: Callable[[Event], None] | None = None,
                 on_line: Callable[[str, bytes], None] | None = None, keepalive: bool = True) -> None:
        """Wrap an open port and start the reader; :meth:`open` also runs the HELLO."""
        self.port = port
        self.url = url or str(getattr(port, "port", "") or "")
        self.timeout = timeout
        self.retries = retries
        self.on_event = on_event
        self.on_line = on_line  #: trace hook: ("<" or ">", one whole line with its CR LF)
        self.keepalive = keepalive
        self.keepalive_s = TEST_KEEPALIVE_S  #: STATUS period while a TEST runs
        self.events: queue.Queue[Event] = queue.Queue(maxsize=4096)
        self.stats = ClientStats()
        self.info: HelloInfo | None = None
        self.boot: str | None = None
        self._seq: int | None = None
        self._recent: deque[int] = deque(maxlen=16)
        self._request_lock = threading.RLock()
        self._stop_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._waiter: _Waiter | None = None
        self._stop_waiter: _Waiter | None = None
        self._collector: _LogCollector | None = None
        self._restart: tuple[str | None, str] | None = None
        self._restart_seen = threading.Event()
        self._history: deque[tuple[int, Event]] = deque(maxlen=512)
        self._history_count = 0
        self._history_cond = threading.Condition()
        self._link_error: BaseException | None = None
        self._closing = False
        self._testing = False
        self._keepalive_stop = threading.Event()
        self._keepalive_thread: threading.Thread | None = None
        self._lines = codec.LineReader(codec.MAX_REPLY)
        self._reader = threading.Thread(target=self._read_loop, name=f"stimsim-reader {self.url}", daemon=True)
        self._reader.start()

    # construction ---------------------------------------------------------------------

    @classmethod
    def connect(cls, url: str, *, timeout: float = DEFAULT_TIMEOUT, retries: int = DEFAULT_RETRIES,
                on_event: Callable[[Event], None] | None = None,
                on_line: Callable[[str, bytes], None] | None = None, keepalive: bool = True) -> Client:
        """Open ``url``, say ``HELLO STRICT=1``, check PROTO=1, remember BOOT and NEXT.

        Raises TransportError (cannot open), DeviceTimeout, ProtocolMismatch, BadReply.
        """
        port = open_port(url)
        return cls.open(port, url=url, timeout=timeout, retries=retries, on_event=on_event, on_line=on_line,
                        keepalive=keepalive)

    @classmethod
    def open(cls, port: SerialBase, *, url: str = "", timeout: float = DEFAULT_TIMEOUT,
             retries: int = DEFAULT_RETRIES, on_event: Callable[[Event], None] | None = None,
             on_line: Callable[[str, bytes], None] | None = None, keepalive: bool = True) -> Client:
        """:meth:`connect` on a port already open (a test transport, a wrapped port).

        The client owns the port from here on: it closes it, also when the HELLO fails.
        """
        client = cls(port, url=url, timeout=timeout, retries=retries, on_event=on_event, on_line=on_line,
                     keepalive=keepalive)
        try:
            client.hello(strict=True)
        except BaseException:
            client.close()
            raise
        return client

    def close(self) -> None:
        """Stop the reader and keepalive threads and close the port. Idempotent."""
        self._closing = True
        self._testing = False
        self._keepalive_stop.set()
        cancel_read(self.port)
        if self._reader is not threading.current_thread():
            self._reader.join(timeout=2.0)
        if self._keepalive_thread is not None and self._keepalive_thread is not threading.current_thread():
            self._keepalive_thread.join(timeout=2.0)
        close_port(self.port)
        self._wake_all(link_error=LinkLost("client closed"))

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closing or self._link_error is not None

    # reading (reader thread) -------------------------------------------------------------

    def _read_loop(self) -> None:
        while not self._closing:
            try:
                data = read_available(self.port)
            except (OSError, SerialException, TypeError, AttributeError, ValueError) as exc:
                # pyserial raises several kinds when a port vanishes under a blocked read.
                if not self._closing:
                    log.warning("%s: link lost while reading: %s", self.url, exc)
                    self._link_error = exc
                    self._wake_all(link_error=exc)
                return
            if data:
                for line in self._lines.feed(data):
                    self._handle_line(line)

    def _handle_line(self, line: bytes | Overlong) -> None:
        if isinstance(line, Overlong):  # its bytes are gone: nothing to hand on
            self.stats.skipped_lines += 1
            log.info("%s: skipped a %d-byte line (over %d)", self.url, line.length, codec.MAX_REPLY)
            self._line_damaged()
            return
        if self.on_line is not None:
            self._safe(self.on_line, "<", line + b"\r\n")
        try:
            msg = codec.parse_incoming(line)
        except CodecError as exc:
            self.stats.skipped_lines += 1
            log.info("%s: skipped %r: %s", self.url, line[:80], exc)
            self._line_damaged()
            return
        if isinstance(msg, Event):
            self._handle_event(msg)
        else:
            self._handle_reply(msg)

    def _line_damaged(self) -> None:
        """A line failed while a request waits: treat it as that request's reply, damaged
        (as the device's BAD_CRC would be): resend now rather than wait out the timeout."""
        with self._state_lock:
            for waiter in (self._waiter, self._stop_waiter):
                if waiter is not None and waiter.reply is None:
                    waiter.damaged = True
                    waiter.done.set()

    def _handle_reply(self, reply: Reply) -> None:
        with self._state_lock:
            waiter, stopper = self._waiter, self._stop_waiter
            noise = not reply.ok and reply.code in NOISE_CODES
            if reply.seq is None:
                if stopper is not None and reply.ok and reply.get("STIM") == "OFF":
                    self._deliver(stopper, reply)
                    return
                target = waiter if waiter is not None else stopper
                if noise and target is not None:
                    target.noise = reply
                    target.done.set()
                    return
            elif waiter is not None and reply.seq == waiter.seq:
                self._deliver(waiter, reply)
                return
            elif noise and waiter is not None and reply.seq not in self._recent:
                # Our SEQ digits were damaged on the way; the device echoed what it read.
                waiter.noise = reply
                waiter.done.set()
                return
        self.stats.unmatched_replies += 1
        log.info("%s: skipped a reply nobody waits for: %s", self.url, reply)

    @staticmethod
    def _deliver(waiter: _Waiter, reply: Reply) -> None:
        waiter.reply = reply
        waiter.done.set()

    def _handle_event(self, event: Event) -> None:
        if event.name not in KNOWN_EVENTS:
            self.stats.skipped_lines += 1
            log.info("%s: skipped unknown event %s", self.url, event)
            return
        if event.name == "LOG":
            collector = self._collector
            if collector is not None:
                entry = _log_entry(event)
                if entry is not None:
                    with collector.changed:
                        collector.entries[entry.i] = entry
                        collector.changed.notify_all()
                return
        if event.name == "BOOT":
            self._note_boot(event.get("BOOT") or "")
        elif event.name == "TEST":
            self._testing = False
            self._keepalive_stop.set()
        self.stats.events += 1
        with self._history_cond:
            self._history.append((self._history_count, event))
            self._history_count += 1
            self._history_cond.notify_all()
        try:
            self.events.put_nowait(event)
        except queue.Full:  # nobody drains the queue: keep the newest
            with contextlib.suppress(queue.Empty):
                self.events.get_nowait()
            self.events.put_nowait(event)
        if self.on_event is not None:
            self._safe(self.on_event, event)

    def _note_boot(self, boot: str) -> None:
        if self.boot is None or boot == self.boot:
            return
        log.info("%s: device restarted (BOOT %s -> %s)", self.url, self.boot, boot)
        with self._state_lock:
            self._restart = (self.boot, boot)
            self._restart_seen.set()
            self._testing = False
            self._keepalive_stop.set()
            for waiter in (self._waiter, self._stop_waiter):
                if waiter is not None and waiter.seq is not None:
                    waiter.restarted = True
                    waiter.done.set()

    def _wake_all(self, link_error: BaseException) -> None:
        with self._state_lock:
            for waiter in (self._waiter, self._stop_waiter):
                if waiter is not None:
                    waiter.link_error = link_error
                    waiter.done.set()

    def _safe(self, fn: Callable[..., object], *args: object) -> None:
        try:
            fn(*args)
        except Exception:  # a faulty callback must not kill the reader
            log.exception("%s: callback %r failed", self.url, fn)

    # events for callers ---------------------------------------------------------------------

    def event_mark(self) -> int:
        """A position in the event history; pass it to :meth:`wait_event` as ``after``."""
        with self._history_cond:
            return self._history_count

    def wait_event(self, name: str, *, timeout: float = 1.0, after: int = 0,
                   where: Callable[[Event], bool] | None = None) -> Event | None:
        """The first event ``name`` (and ``where``) at or after mark ``after``, waiting up to ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._history_cond:
            while True:
                for index, event in self._history:
                    if index >= after and event.name == name and (where is None or where(event)):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._history_cond.wait(left)

    def pending_events(self) -> list[Event]:
        """Take every queued event without waiting."""
        out: list[Event] = []
        while True:
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                return out

    # writing ------------------------------------------------------------------------------

    def _write(self, line: bytes) -> None:
        if self._link_error is not None:
            raise LinkLost(f"{self.url}: link lost: {self._link_error}")
        if self._closing:
            raise LinkLost(f"{self.url}: client closed")
        try:
            with self._write_lock:
                if self.on_line is not None:
                    self._safe(self.on_line, ">", line)
                self.port.write(line)
        except (OSError, SerialException, TypeError, AttributeError, ValueError) as exc:
            self._link_error = exc
            raise LinkLost(f"{self.url}: link lost while writing: {exc}") from exc

    def _exchange(self, line: bytes, waiter: _Waiter, *, timeout: float, retries: int, stop: bool = False) -> Reply:
        """Send ``line`` and wait for its reply, resending the same bytes on silence or damage."""
        well_formed = _well_formed(line)
        attempts = 0
        for attempt in range(1 + retries):
            attempts += 1
            if attempt:
                self.stats.resends += 1
            waiter.reset()
            self._write(line)
            if not waiter.done.wait(timeout):
                continue
            if waiter.link_error is not None:
                raise LinkLost(f"{self.url}: {waiter.link_error}")
            reply = waiter.reply
            if reply is None:
                if waiter.restarted:
                    break
                if waiter.noise is not None and not well_formed:
                    return waiter.noise  # our own line is bad: the device's answer is genuine
                continue
            if not reply.ok and reply.code in NOISE_CODES and (well_formed or reply.code == "BAD_CRC"):
                continue
            if not reply.ok and reply.code == "STALE" and attempt > 0:
                # An earlier attempt was executed and this resend arrived damaged where the
                # CRC cannot see it (the case of its hex digits): not byte-identical, so not
                # answered from the cache. A clean resend gets the remembered reply.
                continue
            return reply
        if waiter.restarted and not stop:
            raise _RestartDuringRequest()
        self.stats.timeouts += 1
        raise DeviceTimeout(line, attempts, self.url)

    # requests -----------------------------------------------------------------------------

    def request(self, verb: str, args: codec.ArgsLike | None = None, *, timeout: float | None = None,
                retries: int | None = None) -> Reply:
        """Send one sequenced request and return its reply, OK or ERR (not raised).

        Raises DeviceTimeout, LinkLost, or DeviceRestarted (the device rebooted since the
        last request, or during this one: its state was re-read, this request not resent).
        """
        with self._exclusive():
            self._raise_if_restarted()
            return self._request_locked(verb, args, timeout, retries)

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """One request at a time; never from the reader thread (it would wait on itself)."""
        if self._reader is threading.current_thread():
            raise RuntimeError("requests cannot be made from an event callback (the reader thread); "
                               "only stop() can")
        with self._request_lock:
            yield

    def _request_locked(self, verb: str, args: codec.ArgsLike | None, timeout: float | None,
                        retries: int | None, seq: int | None = None) -> Reply:
        if seq is None:
            seq = self._seq if self._seq is not None else _random_seq()
            self._seq = codec.seq_next(seq)
        line = codec.encode_request(verb, args, seq=seq)
        waiter = _Waiter(seq)
        with self._state_lock:
            self._waiter = waiter
            self._recent.append(seq)
        self.stats.requests += 1
        try:
            return self._exchange(line, waiter, timeout=self.timeout if timeout is None else timeout,
                                  retries=self.retries if retries is None else retries)
        except _RestartDuringRequest:
            self._raise_if_restarted()  # re-reads the device, raises DeviceRestarted
            raise DeviceRestarted(self.boot, self.boot or "?") from None  # pragma: no cover
        finally:
            with self._state_lock:
                self._waiter = None

    def call(self, verb: str, args: codec.ArgsLike | None = None, *, timeout: float | None = None,
             retries: int | None = None) -> Reply:
        """:meth:`request` that raises the matching DeviceError for an ERR reply."""
        reply = self.request(verb, args, timeout=timeout, retries=retries)
        if not reply.ok:
            raise DeviceError.of(verb.upper(), reply)
        return reply

    def send_text(self, text: str) -> Reply:
        """A line as a person types it (``AMP STEP=+1``): SEQ and CRC are added; STOP goes unsequenced."""
        tokens = text.split()
        if not tokens:
            raise ValueError("empty line")
        if tokens[0].upper() == "STOP" and len(tokens) == 1:
            return self._stop_reply()
        return self.request(tokens[0], tokens[1:])

    # restart handling --------------------------------------------------------------------------

    def _raise_if_restarted(self) -> None:
        with self._state_lock:
            restart = self._restart
        if restart is None:
            return
        old, new = restart
        hello, status = self._resync_locked()
        raise DeviceRestarted(old, new, hello, status)

    def _resync_locked(self) -> tuple[HelloInfo, Status]:
        with self._state_lock:
            self._restart = None
            self._restart_seen.clear()
        self._seq = None
        hello = self._hello_locked(strict=True, expect_restart=True)
        status = self._status_locked()
        return hello, status

    def resync(self) -> tuple[HelloInfo, Status]:
        """Re-read the device after a restart (HELLO STRICT=1, STATUS) without raising."""
        with self._exclusive():
            self._seq = None if self._restart is not None else self._seq
            with self._state_lock:
                self._restart = None
                self._restart_seen.clear()
            hello = self._hello_locked(strict=True, expect_restart=True)
            return hello, self._status_locked()

    @property
    def restart_pending(self) -> bool:
        """A ``!BOOT`` with a new id arrived and the next request will raise DeviceRestarted."""
        return self._restart is not None

    # verbs --------------------------------------------------------------------------------

    def hello(self, strict: bool = True) -> HelloInfo:
        """``HELLO STRICT=1``: role back to PATIENT, an open TEST ends; learns BOOT and NEXT."""
        with self._exclusive():
            if self._restart is not None:
                self._raise_if_restarted()
            return self._hello_locked(strict=strict, expect_restart=False)

    def _hello_locked(self, *, strict: bool, expect_restart: bool) -> HelloInfo:
        # The first HELLO of a session picks a random SEQ: HELLO is never STALE, and a
        # fixed one could be a byte-identical resend of an earlier session's HELLO, which
        # the device would answer from its cache without executing it.
        reply = self._request_locked("HELLO", [("STRICT", "1" if strict else "0")], None, None)
        if not reply.ok:
            raise DeviceError.of("HELLO", reply)
        proto = _need(reply, "PROTO")
        if proto != PROTO:
            raise ProtocolMismatch(f"{self.url}: device speaks protocol {proto}, this host speaks {PROTO}")
        info = HelloInfo(
            proto=proto, model=_need(reply, "MODEL"), fw=_need(reply, "FW"), sn=_need(reply, "SN"),
            boot=_need(reply, "BOOT"), role=_need(reply, "ROLE"), slots=_need_int(reply, "SLOTS"),
            contacts=_need_int(reply, "CONTACTS"), strict=_need_flag(reply, "STRICT"),
            next_seq=_need_int(reply, "NEXT"), state_defaults=reply.get("STATE") == "DEFAULTS",
            family=reply.get("FAMILY") or "SCS-R",
        )
        if not 1 <= info.next_seq <= codec.SEQ_MAX:
            raise BadReply(f"HELLO reply NEXT={info.next_seq} is not a SEQ")
        if strict and not info.strict:
            raise BadReply("device did not enter strict mode (HELLO STRICT=1 answered STRICT=0)")
        old = self.boot
        self._seq = info.next_seq
        self.info = info
        self.boot = info.boot
        self._testing = False
        self._keepalive_stop.set()
        if old is not None and old != info.boot and not expect_restart:
            with self._state_lock:
                self._restart = None
                self._restart_seen.clear()
            raise DeviceRestarted(old, info.boot, info, self._status_locked())
        return info

    def status(self) -> Status:
        with self._exclusive():
            self._raise_if_restarted()
            return self._status_locked()

    def _status_locked(self) -> Status:
        reply = self._request_locked("STATUS", None, None, None)
        if not reply.ok:
            raise DeviceError.of("STATUS", reply)
        return Status(
            stim=_need_flag(reply, "STIM", "ON", "OFF"), slot=_need_int(reply, "SLOT"),
            amp_ua=_need_int(reply, "AMP"), batt_permille=_need_int(reply, "BATT"),
            charging=_need_flag(reply, "CHG"), role=_need(reply, "ROLE"),
            compliance_limited=_need_flag(reply, "COMPLIANCE", "LIMITED", "OK"),
            mri=_need_flag(reply, "MRI"), test=_need_flag(reply, "TEST"),
        )

    def prog(self, program: Program, ack: bool = False, *, slot: int | None = None) -> Program:
        """Write ``program`` to its slot (or ``slot``), read it back, compare field by field.

        ``ack=True`` acknowledges the charge-density warning (ACK=CHARGE). Returns the
        program as read back; raises ReadBackMismatch naming the first differing field.
        """
        target = program if slot is None else replace(program, slot=slot)
        args = program_args(target, family=self.family)
        if ack:
            args.append(("ACK", "CHARGE"))
        with self._exclusive():
            self.call("PROG", args)
            back = self.read(target.slot)
        diffs = differences(target, back, self.family)
        if diffs:
            raise ReadBackMismatch(target.slot, diffs)
        return back

    def read(self, slot: int) -> Program:
        """The program stored in ``slot`` (``StateError`` REASON=EMPTY if none), judged under the
        family the device's HELLO named."""
        reply = self.call("READ", [("SLOT", str(slot))])
        return program_from_reply(reply, slot, self.family)

    @property
    def family(self) -> P.Family:
        """The device family HELLO named (SCS-R when it named none this host knows)."""
        named = self.info.family if self.info is not None else P.Family.SCS_R.value
        return next((f for f in P.Family if f.value == named), P.Family.SCS_R)

    def erase(self, slot: int) -> int:
        return _need_int(self.call("ERASE", [("SLOT", str(slot))]), "SLOT")

    def select(self, slot: int) -> int:
        return _need_int(self.call("SELECT", [("SLOT", str(slot))]), "SLOT")

    def stim(self, on: bool) -> bool:
        return _need_flag(self.call("STIM", ["ON" if on else "OFF"]), "STIM", "ON", "OFF")

    def amp_set(self, amplitude_ua: int) -> int:
        return _need_int(self.call("AMP", [("SET", str(amplitude_ua))]), "AMP")

    def amp_step(self, steps: int) -> int:
        """Change the amplitude by ``steps`` x 100 uA (negative: down)."""
        return _need_int(self.call("AMP", [("STEP", f"{steps:+d}")]), "AMP")

    def impedance(self) -> dict[str, int | str]:
        """Contact ("1".."16", "case") -> ohms, or "OPEN"/"SHORT" for a faulted contact."""
        reply = self.call("IMPEDANCE", timeout=max(self.timeout, IMPEDANCE_TIMEOUT))
        out: dict[str, int | str] = {}
        for key in CONTACT_KEYS:
            text = _need(reply, key)
            contact = key[1:].lower()
            out[contact] = text if text in ("OPEN", "SHORT") else _need_int(reply, key)
        return out

    def batt(self) -> Battery:
        reply = self.call("BATT")
        try:
            est_h = float(_need(reply, "EST_H"))
        except ValueError:
            raise BadReply(f"BATT reply EST_H={reply.get('EST_H')} is not a number") from None
        return Battery(permille=_need_int(reply, "BATT"), vbat_mv=_need_int(reply, "VBAT_MV"),
                       chemistry=_need(reply, "CHEM"), charging=_need_flag(reply, "CHG"),
                       state=_need(reply, "STATE"), est_h=est_h)

    def config(self, *, pin: str | None = None, impedance_default: int | None = None) -> int:
        """Set the PIN and/or the default lead-contact impedance; returns IMPEDANCE_DEFAULT."""
        args: list[tuple[str, str]] = []
        if pin is not None:
            args.append(("PIN", pin))
        if impedance_default is not None:
            args.append(("IMPEDANCE_DEFAULT", str(impedance_default)))
        return _need_int(self.call("CONFIG", args), "IMPEDANCE_DEFAULT")

    def login(self, pin: str) -> str:
        """Challenge-response login: the PIN never crosses the wire. Returns the role."""
        with self._exclusive():
            nonce = _need(self.call("LOGIN"), "NONCE")
            return _need(self.call("LOGIN", [("PROOF", login_proof(pin, nonce))]), "ROLE")

    def logout(self) -> str:
        return _need(self.call("LOGOUT"), "ROLE")

    def mri(self, on: bool) -> bool:
        return _need_flag(self.call("MRI", ["ON" if on else "OFF"]), "MRI")

    def log(self, from_: int | None = None) -> list[LogEntry]:
        """The audit entries with I >= ``from_`` (all kept ones if None), oldest first.

        Entries arrive as ``!LOG`` events after the ``OK N=`` reply; if some are lost on
        the way the request is repeated (it changes nothing) and the results merged.
        """
        args = None if from_ is None else [("FROM", str(from_))]
        collector = _LogCollector()
        with self._exclusive():
            self._collector = collector
            try:
                for _ in range(1 + self.retries):
                    count = _need_int(self.call("LOG", args), "N")
                    if self._await_entries(collector, count, from_ or 0):
                        entries = sorted((e for e in collector.entries.values() if e.i >= (from_ or 0)),
                                         key=lambda e: e.i)
                        return entries[len(entries) - count:] if count else []
            finally:
                self._collector = None
        self.stats.timeouts += 1
        raise DeviceTimeout(codec.encode_request("LOG", args), 1 + self.retries, self.url)

    def _await_entries(self, collector: _LogCollector, count: int, from_: int) -> bool:
        """Wait while entries keep arriving (a full ring takes ~0.4 s at 115200 baud)."""
        with collector.changed:
            while True:
                have = sum(1 for i in collector.entries if i >= from_)
                if have >= count:
                    return True
                if not collector.changed.wait(self.timeout):
                    return False

    def test(self, program: Program, ack: bool = False) -> None:
        """Try ``program`` live on the active slot without saving it (clinician).

        While the test runs the client sends STATUS every second so the device's 10 s
        lease does not expire (``keepalive=False`` leaves that to the caller).
        """
        args = program_args(program, slot=False, family=self.family)
        if ack:
            args.append(("ACK", "CHARGE"))
        reply = self.call("TEST", args)
        if _need(reply, "TEST") != "ON":
            raise BadReply(f"TEST answered {reply}")
        self._testing = True
        if self.keepalive:
            self._start_keepalive()

    def test_end(self) -> None:
        self._testing = False
        self._keepalive_stop.set()
        self.call("TEST", ["END"])

    @property
    def testing(self) -> bool:
        return self._testing

    def _start_keepalive(self) -> None:
        if self._keepalive_thread is not None and self._keepalive_thread.is_alive():
            self._keepalive_stop.clear()
            return
        self._keepalive_stop.clear()
        self._keepalive_thread = threading.Thread(target=self._keepalive_loop, name="stimsim-test-lease",
                                                  daemon=True)
        self._keepalive_thread.start()

    def _keepalive_loop(self) -> None:
        while not self._keepalive_stop.wait(self.keepalive_s):
            if not self._testing or self.closed:
                return
            try:
                self.status()
            except ClientError as exc:
                log.warning("%s: TEST keepalive STATUS failed: %s", self.url, exc)

    # STOP: any thread, at once --------------------------------------------------------------

    def stop(self) -> None:
        """STOP now, ahead of anything queued, from any thread (resent until answered).

        Sent without SEQ (the device executes STOP in any mode) so it never disturbs the
        sequence of a request another thread is waiting on. From an event callback it is
        written and not waited for.
        """
        reply = self._stop_reply()
        if not reply.ok:  # pragma: no cover - a device must answer OK STIM=OFF
            raise DeviceError.of("STOP", reply)

    def _stop_reply(self) -> Reply:
        line = codec.encode_request("STOP")
        if self._reader is threading.current_thread():
            self._write(line)
            return Reply(args=(("STIM", "OFF"),), ok=True)
        with self._stop_lock:
            waiter = _Waiter(None)
            with self._state_lock:
                self._stop_waiter = waiter
            try:
                return self._exchange(line, waiter, timeout=self.timeout, retries=self.retries, stop=True)
            finally:
                with self._state_lock:
                    self._stop_waiter = None

    # emulator controls (a board may answer UNKNOWN_VERB) ------------------------------------

    def sim_speed(self, factor: float) -> None:
        self.call("SIM", [("SPEED", fmt_number(factor))])

    def sim_fault(self, fault: str) -> None:
        """``OPEN:n``, ``SHORT:n``, ``HOT`` or ``NONE``."""
        self.call("SIM", [("FAULT", fault)])

    def sim_batt(self, permille: int) -> None:
        self.call("SIM", [("BATT", str(permille))])

    def sim_charge(self, on: bool) -> None:
        self.call("SIM", [("CHARGE", "1" if on else "0")])

    def sim_reset(self, timeout: float = 2.0) -> HelloInfo:
        """Reboot the emulator, wait for its ``!BOOT``, and re-read it (HELLO STRICT=1)."""
        with self._exclusive():
            self.call("SIM", ["RESET"])
            if not self._restart_seen.wait(timeout):
                raise DeviceTimeout(codec.encode_request("SIM", ["RESET"]), 1, self.url)
            hello, _status = self.resync()
            return hello


    # the closed-loop family's ECAP (SCS-CL; another family answers UNKNOWN_VERB) -------------

    def ecap(self) -> EcapReading:
        """The ECAP of the moment, its amplitude, the nerve's threshold and slope, the loop's target."""
        reply = self.call("ECAP")
        try:
            ecap_uv, slope = float(_need(reply, "ECAP_UV")), float(_need(reply, "SLOPE"))
        except ValueError:
            raise BadReply(f"ECAP reply {reply} carries a figure that is not a number") from None
        return EcapReading(ecap_uv=ecap_uv, amp_ua=_need_int(reply, "AMP"), threshold_ua=_need_int(reply, "T_UA"),
                           slope_uv_per_ma=slope, target_uv=_need_int(reply, "TARGET_UV"),
                           closed_loop=_need_flag(reply, "LOOP"))

    def ecap_sweep(self, from_ua: int, to_ua: int, step_ua: int, *, timeout: float = 2.0) -> list[EcapPoint]:
        """The growth curve (clinician, stimulation on): one point per amplitude from ``from_ua``
        by ``step_ua`` up to ``to_ua``, as the ``!ECAPPT`` events after ``OK N=`` bring them.
        DeviceTimeout if fewer than N arrive within ``timeout``; the amplitude stays as it was."""
        args = [("FROM", str(from_ua)), ("TO", str(to_ua)), ("STEP", str(step_ua))]
        with self._exclusive():
            mark = self.event_mark()
            count = _need_int(self.call("ECAP", ["SWEEP", *args]), "N")
            points: list[EcapPoint] = []
            deadline = time.monotonic() + timeout
            with self._history_cond:
                while True:
                    points = [p for i, e in self._history if i >= mark and e.name == "ECAPPT"
                              for p in [ecap_point(e)] if p is not None]
                    left = deadline - time.monotonic()
                    if len(points) >= count or left <= 0:
                        break
                    self._history_cond.wait(left)
        if len(points) < count:
            self.stats.timeouts += 1
            raise DeviceTimeout(codec.encode_request("ECAP", ["SWEEP", *args]), 1, self.url)
        return points[:count]

    def ecap_stream(self, on: bool) -> bool:
        """Start or stop ``!ECAP`` events (ten a second while stimulating; any role). They reach
        ``on_event`` and ``events``; :func:`ecap_point` reads one."""
        return _need_flag(self.call("ECAP", [("STREAM", "1" if on else "0")]), "STREAM")

    def sim_posture(self, posture: str) -> str:
        """The virtual nerve's posture: ``SUPINE``, ``SITTING``, ``STANDING`` or ``PRONE``."""
        return _need(self.call("SIM", [("POSTURE", posture.upper())]), "POSTURE")

    def sim_cough(self) -> None:
        """A cough: 1.5 mm less CSF for 1 s (coughs do not stack)."""
        self.call("SIM", ["COUGH"])

    def sim_ecap_noise(self, noise_uv: float) -> None:
        """The sigma of the ECAP's noise in uV (0: exact readings)."""
        self.call("SIM", [("ECAP_NOISE", fmt_number(noise_uv))])

    def sim_eps(self, eps: float) -> None:
        """The virtual nerve's own factor on its thresholds, 0.5..2."""
        self.call("SIM", [("EPS", fmt_number(eps))])


def ecap_point(event: Event) -> EcapPoint | None:
    """An ``!ECAP`` or ``!ECAPPT`` event as a point; None for another event or a malformed one."""
    if event.name not in ("ECAP", "ECAPPT"):
        return None
    try:
        return EcapPoint(amp_ua=int(event.get("AMP") or ""), ecap_uv=float(event.get("UV") or ""))
    except ValueError:
        log.warning("skipped malformed ECAP event %s", event)
        return None


class _RestartDuringRequest(Exception):
    """Internal: a !BOOT arrived while a request waited; converted to DeviceRestarted."""


def program_from_reply(reply: Reply, slot: int, family: P.Family = P.Family.SCS_R) -> Program:
    """The Program of a READ reply; BadReply if the device reports something unusable
    (a malformed value, or a program the engine's checks refuse on ``family``)."""
    try:
        program, _ack = program_from_values(reply.as_dict(), with_slot=True, acknowledged=True)
    except WireValueError as exc:
        raise BadReply(f"READ SLOT={slot} answered a program this host cannot use "
                       f"(BAD_ARG KEY={exc.key}): {reply}") from None
    problems = check_program(program, DeviceModel(family=family), acknowledged=True)
    if problems or not 1 <= program.slot <= P.N_SLOTS:
        why = f"{problems[0].code} KEY={problems[0].wire}" if problems else "OUT_OF_RANGE KEY=SLOT"
        raise BadReply(f"READ SLOT={slot} answered a program this host cannot use ({why}): {reply}")
    return program


def differences(written: Program, read: Program,
                family: P.Family = P.Family.SCS_R) -> list[tuple[str, object, object]]:
    """Fields where a slot read back differs from what was written: (field, written, read).

    Amplitude limits compare by effect (unset = the mode's range on ``family``): READ always
    reports them.
    """
    out: list[tuple[str, object, object]] = []
    names = ("slot", "mode", *(p.attr for p in P.TABLE), "recharge", "name", "closed_loop")
    for name in names:
        a, b = getattr(written, name), getattr(read, name)
        if a != b:
            out.append((name, a, b))
    if written.electrodes.as_dict() != read.electrodes.as_dict():
        out.append(("electrodes", written.electrodes.to_wire(), read.electrodes.to_wire()))
    for param in P.TABLE:
        if param.limits is P.LimitKind.RANGE and param.key in P.MODES[written.mode].ranges:
            a_range = written.limits.range_of(param.key, written.mode, family)
            b_range = (read.limits.range_of(param.key, read.mode, family)
                       if param.key in P.MODES[read.mode].ranges else None)
            if a_range != b_range:
                out.append((f"limits.{param.key.rpartition('_')[0]}", a_range, b_range))
        elif param.limits is P.LimitKind.UNLOCK:
            for side in ("min", "max"):
                limit = P.Limit(param, side)
                a, b = getattr(written.limits, limit.attr), getattr(read.limits, limit.attr)
                if a != b:
                    out.append((f"limits.{limit.attr}", a, b))
    return out


def _random_seq() -> int:
    return secrets.randbelow(codec.SEQ_MAX) + 1


def _log_entry(event: Event) -> LogEntry | None:
    try:
        return LogEntry(i=int(event.get("I") or ""), t_ms=int(event.get("T_MS") or ""),
                        role=event.get("ROLE") or "", what=event.get("WHAT") or "")
    except ValueError:
        log.warning("skipped malformed log entry %s", event)
        return None
