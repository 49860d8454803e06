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
from pathlib import Path
from typing import Any

from .. import __version__
from ..engine import params as P
from ..engine.program import Program
from ..protocol.codec import (
    CodecError,
    Overlong,
    Request,
    encode_event,
    encode_reply,
    is_stop_line,
    parse_request,
    split_seq,
)
from ..protocol.limits import DEFAULT_PIN, TEST_LEASE_S
from ..protocol.login import pin_key, valid_pin
from ..protocol.program_args import read_args
from .audit_log import LogEntry
from .battery_sim import BatterySim
from .memory import Slot, memory_data
from .refusal import Refusal
from .state import CLINICIAN, GeneratorState
from .state_store import StateStore
from .verbs import VERBS
from .verbs_sim import SPEED_RANGE

MODEL = "STIMSIM-VG"
SN = "VG000001"

_MAX_EVENTS_PER_ADVANCE = 64


class VirtualGenerator:
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
        pin: str = DEFAULT_PIN,
        speed: float = 1.0,
        rng_seed: int | None = None,
        chemistry: str = "",
        family: P.Family = P.Family.SCS_R,
        model: str = MODEL,
        fw: str = __version__,
        sn: str = SN,
    ) -> None:
        if not valid_pin(pin):
            raise ValueError(f"PIN {pin!r} must be 4 to 8 digits")
        if not SPEED_RANGE[0] <= speed <= SPEED_RANGE[1]:
            raise ValueError(f"speed {speed} is outside {SPEED_RANGE[0]:g}..{SPEED_RANGE[1]:g}")
        rng = random.Random(rng_seed) if rng_seed is not None else random.SystemRandom()
        store = StateStore(state_dir) if state_dir is not None else None
        self.state = GeneratorState(clock, rng=rng, store=store, default_pin=pin_key(pin), speed=speed,
                                    chemistry=chemistry, model=model, fw=fw, sn=sn, family=family)

    # --- public API ----------------------------------------------------------------------

    def boot_bytes(self) -> bytes:
        """The ``!BOOT`` event of the present power-up (the transport sends it first)."""
        args = [("BOOT", self.state.boot_id), ("FW", self.state.fw)]
        if self.state.defaults_flag:
            args.append(("STATE", "DEFAULTS"))
        return encode_event("BOOT", args)

    def receive(self, data: bytes) -> bytes:
        """Feed bytes from the host; every byte the generator sends in answer, in order."""
        out = bytearray(self._advance_and_flush())
        self.state.rebooted = False
        for item in self.state.reader.feed(data):
            out += self._advance_and_flush()
            out += self._guarded_answer(item)
            if self.state.rebooted:
                break  # bytes in flight during a reboot are lost
        self.state.rebooted = False
        return bytes(out)

    def poll(self) -> bytes:
        """Advance to ``clock()``; the events that fell due (none: b"")."""
        return self._advance_and_flush()

    def reset(self) -> bytes:
        """Reboot as SIM RESET does (RAM state lost); returns the new ``!BOOT`` event."""
        self._advance(self._now())
        self.state.events.clear()
        return self._reboot()

    def reset_link(self) -> None:
        """A new host connection: a clean line, and a session as after HELLO (PATIENT, not
        strict, no TEST), so no client inherits what the last one was allowed."""
        self.state.link_reset()

    def flush(self) -> None:
        """Save the battery level now (the emulator calls this when it stops)."""
        self.state.save()

    # --- read-only views -----------------------------------------------------------------

    @property
    def model(self) -> str:
        return self.state.model

    @property
    def fw(self) -> str:
        return self.state.fw

    @property
    def sn(self) -> str:
        return self.state.sn

    @property
    def speed(self) -> float:
        """Battery time per real second (SIM SPEED)."""
        return self.state.speed

    @property
    def startup_warning(self) -> str | None:
        """Why the stored state was not used (damaged file), if so."""
        return self.state.startup_warning

    @property
    def storage_error(self) -> str | None:
        """Why the last save failed, until one succeeds."""
        return self.state.storage_error

    @property
    def internal_errors(self) -> list[str]:
        """Exceptions a request or the clock raised inside (tests assert there are none)."""
        return self.state.internal_errors

    @property
    def slots(self) -> tuple[Slot | None, ...]:
        """Slot 1 at index 0."""
        return tuple(self.state.slots)

    @property
    def log(self) -> tuple[LogEntry, ...]:
        return self.state.audit.entries()

    @property
    def battery(self) -> BatterySim:
        return self.state.battery

    @property
    def boot_id(self) -> str:
        return self.state.boot_id

    @property
    def role(self) -> str:
        return self.state.role

    @property
    def strict(self) -> bool:
        return self.state.strict

    @property
    def stimulating(self) -> bool:
        return self.state.stim

    @property
    def test_program(self) -> Program | None:
        return None if self.state.test is None else self.state.test.program

    def status(self) -> dict[str, Any]:
        """What a front panel would show (plain values, no wire formatting)."""
        program = self.state.active_program()
        b = self.state.battery
        return {
            "stim": self.state.stim,
            "slot": self.state.active,
            "amp_ua": self.state.output_amp_ua(),
            "battery_permille": b.permille,
            "soc_percent": b.soc,
            "battery_state": b.state,
            "chemistry": b.chemistry,
            "charging": b.charging,
            "on_charger": b.on_charger,
            "charger_hot": b.hot,
            "role": self.state.role,
            "compliance": "LIMITED" if self.state.limited(program) else "OK",
            "mri": self.state.mri,
            "test": self.state.test is not None,
            "strict": self.state.strict,
            "boot": self.state.boot_id,
            "speed": self.state.speed,
            "faults": dict(self.state.faults),
            "impedance_default": self.state.impedance_default,
            "state_defaults": self.state.defaults_flag,
            "next_seq": self.state.seq.next_seq(),
        }

    def snapshot(self) -> dict[str, Any]:
        """Every piece of state, for tests that assert a refused line changed nothing.

        ``seq`` (SEQ bookkeeping, advanced by every accepted request, OK or ERR) and
        ``login`` (wrong proofs count and lock, though kept in memory) are separate keys so
        a test can set them aside.
        """
        test = self.state.test
        b = self.state.battery
        memory = memory_data(self.state)
        memory.pop("login")
        return {
            "memory": memory,
            "ram": {
                "role": self.state.role, "strict": self.state.strict, "stim": self.state.stim, "mri": self.state.mri,
                "active_program": self.state.active_program(),
                "test": None if test is None else (read_args(self.state.active, test.program), test.clinician_amp_ua,
                                                   test.last_ok),
                "boot": self.state.boot_id,
            },
            "environment": {"speed": self.state.speed, "faults": dict(self.state.faults), "on_charger": b.on_charger,
                            "hot": b.hot, "full": b.full, "reported": b.reported},
            "seq": self.state.seq.snapshot(),
            "login": {"nonce": self.state.login.nonce, "wrong": self.state.login.wrong,
                      "locked": self.state.login.locked, "locked_until": self.state.login.locked_until},
        }

    # --- time ----------------------------------------------------------------------------

    def _now(self) -> float:
        return float(self.state.clock())

    def _advance_and_flush(self) -> bytes:
        try:
            self._advance(self._now())
        except Exception as exc:  # never let a model error escape to the transport
            self.state.internal_errors.append(f"advance: {exc!r}")
            self.state.t = max(self.state.t, self._now())
        return self._flush()

    def _advance(self, now: float) -> None:
        """Run battery time and the TEST lease up to ``now``, event by event."""
        for _ in range(_MAX_EVENTS_PER_ADVANCE):
            if now <= self.state.t:
                break
            deadline = self.state.test.last_ok + TEST_LEASE_S if self.state.test is not None else now
            until = min(now, max(deadline, self.state.t))
            span = until - self.state.t
            used, events = self.state.battery.step(self.state.power_mw(), span * self.state.speed)
            before = self.state.t
            if events:
                self.state.t += used / self.state.speed
                self.state.loop_advance(before, self.state.t)
                self.state.battery_events(events)
                continue
            self.state.t = until
            self.state.loop_advance(before, until)
            if self.state.test is not None and self.state.t >= deadline:
                self.state.end_test("TIMEOUT")
        self.state.t = max(self.state.t, now)
        if self.state.login.expire(self.state.t):
            self.state.save()  # the lock ran out: a restart from now on does not re-arm it
        self.state.save_if_drifted()

    def _flush(self) -> bytes:
        if not self.state.events:
            return b""
        out = b"".join(self.state.events)
        self.state.events.clear()
        return out

    # --- lines ---------------------------------------------------------------------------

    def _guarded_answer(self, item: bytes | Overlong) -> bytes:
        try:
            return self._answer(item)
        except Exception as exc:  # a bug must not kill the port; tests assert none happened
            self.state.internal_errors.append(repr(exc))
            self.state.events.clear()
            return encode_reply(None, False, "STATE", [("REASON", "INTERNAL")])

    def _answer(self, item: bytes | Overlong) -> bytes:
        if isinstance(item, Overlong):
            return encode_reply(None, False, "TOO_LONG")
        try:
            req = parse_request(item)
        except CodecError as err:
            if is_stop_line(item):  # stopping is always safe: a STOP line runs whatever else is wrong with it
                return self._stop_request(Request(verb="STOP", seq=err.seq, body=item), crc_ok=False)
            if err.code == "BAD_CRC" and self.state.strict and err.seq is None:
                return encode_reply(None, False, "BAD_SYNTAX", [("NEED", "SEQ,CRC")])  # BAD_SYNTAX comes first
            return encode_reply(err.seq, False, err.code)
        if req.verb == "STOP":
            return self._stop_request(req, crc_ok=True)
        if req.seq is not None:
            remembered = self.state.seq.remembered(req.seq, req.body)
            if remembered is not None:
                self._refresh_lease(remembered)
                return remembered
        if self.state.strict and (req.seq is None or not req.has_crc):
            return encode_reply(req.seq, False, "BAD_SYNTAX", [("NEED", "SEQ,CRC")])
        if req.seq is not None:
            hello = req.verb == "HELLO"
            if self.state.strict and not hello and not self.state.seq.in_window(req.seq):
                return encode_reply(req.seq, False, "STALE")
            self.state.seq.accept(req.seq, hello=hello)
        reply = self._execute(req)
        if req.seq is not None:
            self.state.seq.remember(req.seq, req.body, reply)
        return self._finish(reply)

    def _stop_request(self, req: Request, *, crc_ok: bool) -> bytes:
        """STOP runs whatever its CRC, SEQ or mode; only a clean, fresh one is bookkept."""
        if req.seq is not None and crc_ok:
            remembered = self.state.seq.remembered(req.seq, req.body)
            if remembered is not None:
                self._execute(req)  # stopping again is always safe, and never skipped
                return self._finish(remembered)
        bookkept = (req.seq is not None and crc_ok
                    and not (self.state.strict and (not req.has_crc or not self.state.seq.in_window(req.seq))))
        if bookkept:
            assert req.seq is not None
            self.state.seq.accept(req.seq)
        reply = self._execute(req)
        if bookkept:
            assert req.seq is not None
            self.state.seq.remember(req.seq, req.body, reply)
        return self._finish(reply)

    def _finish(self, reply: bytes) -> bytes:
        out = reply + self._flush()
        if self.state.reboot_pending:
            out += self._reboot()
        return out

    def _execute(self, req: Request) -> bytes:
        verb = VERBS.get(req.verb)
        if verb is None:
            return encode_reply(req.seq, False, "UNKNOWN_VERB")
        self.state.request_role = self.state.role
        if verb.clinician and self.state.role != CLINICIAN:
            return encode_reply(req.seq, False, "DENIED", [("NEED", CLINICIAN)])
        try:
            args = verb.handler(self.state, req)
        except Refusal as refusal:
            return encode_reply(req.seq, False, refusal.code, refusal.wire_args)
        self.state.enforce_output()
        self.state.settle_battery()
        self.state.loop_sync()
        if self.state.test is not None:
            self.state.test.last_ok = self.state.t
        return encode_reply(req.seq, True, None, args)

    def _refresh_lease(self, reply: bytes) -> None:
        """A remembered OK reply sent again counts as an OK reply for the TEST lease."""
        if self.state.test is None:
            return
        _seq, rest = split_seq(reply.decode("ascii", "replace"), strict=False)
        if rest.startswith("OK "):
            self.state.test.last_ok = self.state.t

    # --- power-up ------------------------------------------------------------------------

    def _reboot(self) -> bytes:
        self.state.save()
        self.state.reader.reset()
        self.state.init_ram(self.state.new_boot_id(self.state.boot_id))
        self.state.rebooted = True
        return self.boot_bytes()


__all__ = ["MODEL", "SN", "VirtualGenerator"]
