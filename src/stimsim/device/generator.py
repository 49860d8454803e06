"""The virtual generator: protocol v1 as a byte-in / byte-out state machine.

No threads, no sleeps, no I/O but its optional state folder: time comes from an injected
``clock`` (seconds, float), and every call first advances the generator to ``clock()`` so
the events due in between (battery thresholds, charger, TEST lease) come out in order,
before the reply to the request that found them. Transports, the emulator and tests all
drive the same object:

    gen = VirtualGenerator(time.monotonic, state_dir=folder)
    port.write(gen.boot_bytes())
    port.write(gen.receive(incoming_bytes))   # replies and events, in order
    port.write(gen.poll())                     # events due while the host is silent

``receive`` never raises, whatever the bytes, and a refused line never changes state.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..engine.program import Program
from .audit_log import LogEntry
from .battery_sim import BatterySim
from .codec import (
    MAX_REQUEST,
    CodecError,
    LineReader,
    Overlong,
    Request,
    encode_event,
    encode_reply,
    is_stop_line,
    parse_request,
)
from .generator_core import CLINICIAN, PATIENT, TestSession
from .limits import TEST_LEASE_S
from .login import pin_key, valid_pin
from .refusal import Refusal
from .state_store import StateStore
from .verbs_session import SPEED_RANGE, SessionVerbs
from .verbs_therapy import TherapyVerbs
from .wire_program import Slot, read_args

MODEL = "STIMSIM-VG"
SN = "VG000001"

_MAX_EVENTS_PER_ADVANCE = 64

Handler = Callable[[Any, Request], list[tuple[str | None, str]]]


@dataclass(frozen=True)
class Verb:
    handler: Handler
    clinician: bool = False


VERBS: dict[str, Verb] = {
    "HELLO": Verb(SessionVerbs.do_hello),
    "STATUS": Verb(SessionVerbs.do_status),
    "PROG": Verb(TherapyVerbs.do_prog, clinician=True),
    "TEST": Verb(TherapyVerbs.do_test, clinician=True),
    "READ": Verb(TherapyVerbs.do_read),
    "ERASE": Verb(TherapyVerbs.do_erase, clinician=True),
    "SELECT": Verb(TherapyVerbs.do_select),
    "STIM": Verb(TherapyVerbs.do_stim),
    "AMP": Verb(TherapyVerbs.do_amp),
    "IMPEDANCE": Verb(SessionVerbs.do_impedance, clinician=True),
    "BATT": Verb(SessionVerbs.do_batt),
    "CONFIG": Verb(SessionVerbs.do_config, clinician=True),
    "STOP": Verb(TherapyVerbs.do_stop),
    "LOGIN": Verb(SessionVerbs.do_login),
    "LOGOUT": Verb(SessionVerbs.do_logout),
    "MRI": Verb(TherapyVerbs.do_mri),
    "LOG": Verb(SessionVerbs.do_log),
    "SIM": Verb(SessionVerbs.do_sim),
}


class VirtualGenerator(TherapyVerbs, SessionVerbs):
    """A generator speaking protocol v1 (see the module docstring for how to drive it).

    ``state_dir``: keep slots, configuration, active slot, audit log and battery level
    there (one JSON file, atomic writes); None keeps them in memory only. ``pin``: the
    PIN used until a clinician sets another with CONFIG (a configured PIN persists and
    wins). ``speed``: battery time per real second (SIM SPEED). ``rng_seed``: makes BOOT
    ids and nonces reproducible (tests); None draws them from the OS.
    """

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        state_dir: str | Path | None = None,
        pin: str = "0000",
        speed: float = 1.0,
        rng_seed: int | None = None,
        chemistry: str = "liion",
        model: str = MODEL,
        fw: str = __version__,
        sn: str = SN,
    ) -> None:
        if not valid_pin(pin):
            raise ValueError(f"PIN {pin!r} must be 4 to 8 digits")
        if not SPEED_RANGE[0] <= speed <= SPEED_RANGE[1]:
            raise ValueError(f"speed {speed} is outside {SPEED_RANGE[0]:g}..{SPEED_RANGE[1]:g}")
        self._clock = clock
        self._rng: random.Random = random.Random(rng_seed) if rng_seed is not None else random.SystemRandom()
        self.model, self.fw, self.sn = model, fw, sn
        self.speed = float(speed)
        self._default_pin = pin_key(pin)
        self._store = StateStore(state_dir) if state_dir is not None else None
        self.startup_warning: str | None = None
        self.storage_error: str | None = None
        self.internal_errors: list[str] = []
        self._faults: dict[str, str] = {}
        self._events: list[bytes] = []
        self._figures: dict[Any, Any] = {}
        self._device_key = None
        self._reader = LineReader(MAX_REQUEST)
        self._rebooted = False
        self._t = self._now()
        self._init_memory(chemistry)
        self._load_memory(chemistry)
        self._init_ram(self._new_boot_id(None))

    # --- public API ----------------------------------------------------------------------

    def boot_bytes(self) -> bytes:
        """The ``!BOOT`` event of the present power-up (the transport sends it first)."""
        args = [("BOOT", self._boot_id), ("FW", self.fw)]
        if self._defaults_flag:
            args.append(("STATE", "DEFAULTS"))
        return encode_event("BOOT", args)

    def receive(self, data: bytes) -> bytes:
        """Feed bytes from the host; every byte the generator sends in answer, in order."""
        out = bytearray(self._advance_and_flush())
        self._rebooted = False
        for item in self._reader.feed(data):
            out += self._advance_and_flush()
            out += self._guarded_answer(item)
            if self._rebooted:
                break  # bytes in flight during a reboot are lost
        self._rebooted = False
        return bytes(out)

    def poll(self) -> bytes:
        """Advance to ``clock()``; the events that fell due (none: b"")."""
        return self._advance_and_flush()

    def reset(self) -> bytes:
        """Reboot as SIM RESET does (RAM state lost); returns the new ``!BOOT`` event."""
        self._advance(self._now())
        self._events.clear()
        return self._reboot()

    def reset_link(self) -> None:
        """Forget a half-received line: a new host connection starts on a clean line."""
        self._reader.reset()

    def flush(self) -> None:
        """Save the battery level now (the emulator calls this when it stops)."""
        self._save()

    # --- read-only views -----------------------------------------------------------------

    @property
    def slots(self) -> tuple[Slot | None, ...]:
        """Slot 1 at index 0."""
        return tuple(self._slots)

    @property
    def log(self) -> tuple[LogEntry, ...]:
        return self._audit.entries()

    @property
    def battery(self) -> BatterySim:
        return self._battery

    @property
    def boot_id(self) -> str:
        return self._boot_id

    @property
    def role(self) -> str:
        return self._role

    @property
    def strict(self) -> bool:
        return self._strict

    @property
    def stimulating(self) -> bool:
        return self._stim

    @property
    def test_program(self) -> Program | None:
        return None if self._test is None else self._test.program

    def status(self) -> dict[str, Any]:
        """What a front panel would show (plain values, no wire formatting)."""
        program = self.active_program()
        b = self._battery
        return {
            "stim": self._stim,
            "slot": self._active,
            "amp_ua": 0 if program is None else program.amplitude_ua,
            "battery_permille": b.permille,
            "soc_percent": b.soc,
            "battery_state": b.state,
            "chemistry": b.chemistry,
            "charging": b.charging,
            "on_charger": b.on_charger,
            "charger_hot": b.hot,
            "role": self._role,
            "compliance": "LIMITED" if self._limited(program) else "OK",
            "mri": self._mri,
            "test": self._test is not None,
            "strict": self._strict,
            "boot": self._boot_id,
            "speed": self.speed,
            "faults": dict(self._faults),
            "impedance_default": self._impedance_default,
            "state_defaults": self._defaults_flag,
            "next_seq": self._seq.next_seq(),
        }

    def snapshot(self) -> dict[str, Any]:
        """Every piece of state, for tests that assert a refused line changed nothing.

        ``seq`` (SEQ bookkeeping, advanced by every accepted request, OK or ERR) and
        ``login`` (wrong proofs count) are separate keys so a test can set them aside.
        """
        test = self._test
        b = self._battery
        return {
            "memory": self._memory_data(),
            "ram": {
                "role": self._role, "strict": self._strict, "stim": self._stim, "mri": self._mri,
                "active_program": self.active_program(),
                "test": None if test is None else (read_args(self._active, test.program), test.clinician_amp_ua,
                                                   test.last_ok),
                "boot": self._boot_id,
            },
            "environment": {"speed": self.speed, "faults": dict(self._faults), "on_charger": b.on_charger,
                            "hot": b.hot, "full": b.full, "reported": b.reported},
            "seq": self._seq.snapshot(),
            "login": {"nonce": self._login.nonce, "wrong": self._login.wrong,
                      "locked_until": self._login.locked_until},
        }

    # --- time ----------------------------------------------------------------------------

    def _now(self) -> float:
        return float(self._clock())

    def _advance_and_flush(self) -> bytes:
        try:
            self._advance(self._now())
        except Exception as exc:  # never let a model error escape to the transport
            self.internal_errors.append(f"advance: {exc!r}")
            self._t = max(self._t, self._now())
        return self._flush()

    def _advance(self, now: float) -> None:
        """Run battery time and the TEST lease up to ``now``, event by event."""
        for _ in range(_MAX_EVENTS_PER_ADVANCE):
            if now <= self._t:
                break
            deadline = self._test.last_ok + TEST_LEASE_S if self._test is not None else now
            until = min(now, max(deadline, self._t))
            span = until - self._t
            used, events = self._battery.step(self._power_mw(), span * self.speed)
            if events:
                self._t += used / self.speed
                self._battery_events(events)
                continue
            self._t = until
            if self._test is not None and self._t >= deadline:
                self._end_test("TIMEOUT")
        self._t = max(self._t, now)
        self._save_if_drifted()

    def _flush(self) -> bytes:
        if not self._events:
            return b""
        out = b"".join(self._events)
        self._events.clear()
        return out

    # --- lines ---------------------------------------------------------------------------

    def _guarded_answer(self, item: bytes | Overlong) -> bytes:
        try:
            return self._answer(item)
        except Exception as exc:  # a bug must not kill the port; tests assert none happened
            self.internal_errors.append(repr(exc))
            self._events.clear()
            return encode_reply(None, False, "STATE", [("REASON", "INTERNAL")])

    def _answer(self, item: bytes | Overlong) -> bytes:
        if isinstance(item, Overlong):
            return encode_reply(None, False, "TOO_LONG")
        try:
            req = parse_request(item)
        except CodecError as err:
            if is_stop_line(item):  # stopping is always safe: a STOP line runs whatever else is wrong with it
                return self._stop_request(Request(verb="STOP", seq=err.seq, body=item), crc_ok=False)
            if err.code == "BAD_CRC" and self._strict and err.seq is None:
                return encode_reply(None, False, "BAD_SYNTAX", [("NEED", "SEQ,CRC")])  # BAD_SYNTAX comes first
            return encode_reply(err.seq, False, err.code)
        if req.verb == "STOP":
            return self._stop_request(req, crc_ok=True)
        if req.seq is not None:
            remembered = self._seq.remembered(req.seq, req.body)
            if remembered is not None:
                self._refresh_lease(remembered)
                return remembered
        if self._strict and (req.seq is None or not req.has_crc):
            return encode_reply(req.seq, False, "BAD_SYNTAX", [("NEED", "SEQ,CRC")])
        if req.seq is not None:
            hello = req.verb == "HELLO"
            if self._strict and not hello and not self._seq.in_window(req.seq):
                return encode_reply(req.seq, False, "STALE")
            self._seq.accept(req.seq, hello=hello)
        reply = self._execute(req)
        if req.seq is not None:
            self._seq.remember(req.seq, req.body, reply)
        return self._finish(reply)

    def _stop_request(self, req: Request, *, crc_ok: bool) -> bytes:
        """STOP runs whatever its CRC, SEQ or mode; only a clean, fresh one is bookkept."""
        if req.seq is not None and crc_ok:
            remembered = self._seq.remembered(req.seq, req.body)
            if remembered is not None:
                self._execute(req)  # stopping again is always safe, and never skipped
                return self._finish(remembered)
        bookkept = (req.seq is not None and crc_ok
                    and not (self._strict and (not req.has_crc or not self._seq.in_window(req.seq))))
        if bookkept:
            assert req.seq is not None
            self._seq.accept(req.seq)
        reply = self._execute(req)
        if bookkept:
            assert req.seq is not None
            self._seq.remember(req.seq, req.body, reply)
        return self._finish(reply)

    def _finish(self, reply: bytes) -> bytes:
        out = reply + self._flush()
        if self._reboot_pending:
            out += self._reboot()
        return out

    def _execute(self, req: Request) -> bytes:
        verb = VERBS.get(req.verb)
        if verb is None:
            return encode_reply(req.seq, False, "UNKNOWN_VERB")
        self._request_role = self._role
        if verb.clinician and self._role != CLINICIAN:
            return encode_reply(req.seq, False, "DENIED", [("NEED", CLINICIAN)])
        try:
            args = verb.handler(self, req)
        except Refusal as refusal:
            return encode_reply(req.seq, False, refusal.code, refusal.wire_args)
        self._enforce_output()
        self._settle_battery()
        if self._test is not None:
            self._test.last_ok = self._t
        return encode_reply(req.seq, True, None, args)

    def _refresh_lease(self, reply: bytes) -> None:
        """A remembered OK reply sent again counts as an OK reply for the TEST lease."""
        if self._test is None:
            return
        tokens = reply.split(b" ", 2)
        head = tokens[1] if reply.startswith(b"#") and len(tokens) > 1 else tokens[0]
        if head == b"OK":
            self._test.last_ok = self._t

    # --- power-up ------------------------------------------------------------------------

    def _new_boot_id(self, previous: str | None) -> str:
        while True:
            boot = f"{self._rng.getrandbits(32):08X}"
            if boot != previous:
                return boot

    def _reboot(self) -> bytes:
        self._save()
        self._reader.reset()
        self._init_ram(self._new_boot_id(self._boot_id))
        self._rebooted = True
        return self.boot_bytes()

    def _load_memory(self, chemistry: str) -> None:
        if self._store is None:
            return
        data, problem = self._store.load()
        if data is not None:
            try:
                self._restore(data)
                return
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                problem = f"{self._store.path}: unusable content ({exc})"
        if problem is None:
            return  # first start: defaults, nothing to flag
        self._init_memory(chemistry)
        self._defaults_flag = True
        self.startup_warning = f"{problem}; starting with default settings and stimulation off"
        self._save()


__all__ = ["CLINICIAN", "MODEL", "PATIENT", "TEST_LEASE_S", "VERBS", "TestSession", "VirtualGenerator"]
