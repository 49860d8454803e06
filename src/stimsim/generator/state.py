"""The virtual generator's state: one object holding all of it, and the actions verbs share.

State falls in three kinds, kept apart because a reboot treats them differently:

- memory (persists in the state folder): slots, active slot, configuration (the PIN as a
  salted hash and a wrapped proof key), audit log, battery level, wrong LOGIN proofs and
  the lockout;
- environment (emulator controls, survive SIM RESET, never saved): SIM SPEED, contact
  faults, the charger;
- RAM (lost at a reboot): role, strict mode, SEQ state, the LOGIN nonce, stimulation,
  MRI, TEST.

The verb functions (verbs_session, verbs_therapy, verbs_sim) read and change it; the
shared actions (events, audit, persistence, output) are its methods so every verb does
them the same way. ``VirtualGenerator`` adds framing, sequencing and time on top.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..engine import params as P
from ..engine.load import program_compliance
from ..engine.metrics import battery_power_mw
from ..engine.program import DeviceModel, Program
from ..protocol.codec import MAX_REQUEST, ArgPair, LineReader, encode_event
from ..protocol.limits import DEVICE_KEY_BYTES
from .audit_log import AuditLog
from .battery_sim import IDLE_MW, BatterySim, BattEvent
from .ecap_loop import EcapLoop
from .login_guard import LoginGuard
from .memory import Slot, load_memory, memory_data
from .pin_record import PinRecord
from .sequencing import SeqGuard
from .state_store import StateStore

PATIENT = "PATIENT"
CLINICIAN = "CLINICIAN"
OPEN = "OPEN"
SHORT = "SHORT"
#: How a faulted contact is modelled in load and safety figures: far beyond the detection
#: thresholds of the parameter table (open above 4000 ohm, short below 50 ohm).
FAULT_OHM = {OPEN: P.IMPEDANCE_OPEN_OHM * 10.0, SHORT: P.IMPEDANCE_SHORT_OHM / 10.0}
SAVE_EVERY_PERMILLE = 10  #: battery drift that triggers a save on its own
_CACHE_MAX = 256


@dataclass
class TestSession:
    """Temporary settings on the active slot; the slot itself is untouched."""

    program: Program
    clinician_amp_ua: int  #: the amplitude the clinician tried (the charge-zone bound)
    last_ok: float  #: real time of the last OK reply (the lease)
    acknowledged: bool = False  #: sent with ACK=CHARGE (the closed loop may enter the zone)


class GeneratorState:
    """Everything a virtual generator holds; see the module docstring for its three kinds."""

    def __init__(self, clock: Callable[[], float], *, rng: random.Random, store: StateStore | None,
                 default_pin: bytes, speed: float, chemistry: str, model: str, fw: str, sn: str,
                 family: P.Family = P.Family.SCS_R) -> None:
        self.family = family  #: the device family, whose rules the generator keeps (a model setting)
        chemistry = chemistry or P.FAMILIES[family].chemistry
        # identity and time
        self.clock = clock
        self.rng = rng
        self.model, self.fw, self.sn = model, fw, sn
        self.t = float(clock())  #: the generator's time (seconds of the clock) it has advanced to
        # environment
        self.speed = float(speed)
        self.faults: dict[str, str] = {}
        #: the closed-loop family's nerve and loop (its SIM settings are environment too)
        self.ecap: EcapLoop | None = EcapLoop() if P.FAMILIES[family].closed_loop else None
        # outside the device model: where it keeps memory, what it has to say, its caches
        self.store = store
        self.default_pin = default_pin
        self.startup_warning: str | None = None
        self.storage_error: str | None = None
        self.internal_errors: list[str] = []
        self.events: list[bytes] = []  #: event lines queued for the next reply or poll
        self.figures: dict[Any, Any] = {}  #: battery power and compliance per (program, device)
        self.device_key: object = None
        self.device = DeviceModel()
        self.reader = LineReader(MAX_REQUEST)  #: the link's half-received line
        self.rebooted = False  #: set while the bytes of one ``receive`` are cut by a reboot
        #: wraps the stored proof key; kept apart from the state file (or in memory only)
        self.secret = store.device_key() if store is not None else secrets.token_bytes(DEVICE_KEY_BYTES)
        self.init_memory(chemistry)
        load_memory(self, chemistry)
        self.init_ram(self.new_boot_id(None))

    def init_memory(self, chemistry: str) -> None:
        """Memory as a new device has it (also after a damaged state file)."""
        self.slots: list[Slot | None] = [None] * P.N_SLOTS
        self.active = 1
        self.impedance_default = int(P.FAMILIES[self.family].contact_impedance_ohm)
        self.pin_configured: PinRecord | None = None
        self.proof_key: bytes | None = None  #: the configured PIN's proof key, unwrapped (RAM)
        self.login = LoginGuard(self.rng)  #: its count and lock are memory, its nonce RAM
        self.audit = AuditLog()
        self.battery = BatterySim(chemistry)
        self.defaults_flag = False
        self.saved_permille = self.battery.permille

    def init_ram(self, boot_id: str) -> None:
        """RAM as after a power-up with ``boot_id``."""
        self.role = PATIENT
        self.request_role = PATIENT
        self.strict = False
        self.seq = SeqGuard()
        self.login.boot(self.t)
        self.stim = False
        self.mri = False
        self.test: TestSession | None = None
        self.boot_id = boot_id
        self.boot_t = self.t
        self.reboot_pending = False
        if self.ecap is not None:
            self.ecap.reboot()

    def new_boot_id(self, previous: str | None) -> str:
        """A random BOOT id, never the one before."""
        while True:
            boot = f"{self.rng.getrandbits(32):08X}"
            if boot != previous:
                return boot

    # --- derived figures -----------------------------------------------------------------

    def device_model(self) -> DeviceModel:
        """The contacts as the generator sees them: configured default, case, faults."""
        key = (self.impedance_default, tuple(sorted(self.faults.items())))
        if self.device_key != key:
            values: dict[str, float] = {}
            family = P.FAMILIES[self.family]
            if self.impedance_default != family.contact_impedance_ohm:
                values = {c: float(self.impedance_default) for lead in family.leads for c in lead.contacts}
            for contact, kind in self.faults.items():
                values[contact] = FAULT_OHM[kind]
            self.device = DeviceModel(self.battery.chemistry, family=self.family).with_impedances(values)
            self.device_key = key
        return self.device

    def active_program(self) -> Program | None:
        """What the output runs (or would run): the TEST settings, else the active slot."""
        if self.test is not None:
            return self.test.program
        slot = self.slots[self.active - 1]
        return None if slot is None else slot.program

    def acknowledged(self) -> bool:
        """Whether what the output runs was written (or tried) with ACK=CHARGE."""
        if self.test is not None:
            return self.test.acknowledged
        slot = self.slots[self.active - 1]
        return slot is not None and slot.acknowledged

    def output_amp_ua(self) -> int:
        """The amplitude of the moment: the closed loop's while it runs, else the program's."""
        program = self.active_program()
        if self.ecap is not None:
            return self.ecap.amplitude_ua(program)
        return 0 if program is None else program.amplitude_ua

    def loop_sync(self) -> None:
        """Let the closed loop follow the output (after a verb, and as time advances)."""
        if self.ecap is not None:
            self.ecap.sync(self.t, self.active_program(), self.device_model(), self.stim, self.acknowledged())

    def loop_advance(self, start: float, end: float) -> None:
        """Run the closed loop and its stream over (``start``, ``end``] of the generator's time."""
        if self.ecap is not None:
            self.loop_sync()
            self.ecap.advance(start, end, self.emit)

    def cached(self, kind: str, program: Program) -> Any:
        key = (kind, program, self.device_model())
        cache = self.figures
        if key not in cache:
            if len(cache) > _CACHE_MAX:
                cache.clear()
            device = self.device_model()
            if kind == "power":
                cache[key] = battery_power_mw(program, device)
            else:
                cache[key] = program_compliance(program, device).limited
        return cache[key]

    def power_mw(self) -> float:
        program = self.active_program()
        if not self.stim or program is None:
            return IDLE_MW
        return float(self.cached("power", program))

    def limited(self, program: Program | None) -> bool:
        return program is not None and bool(self.cached("compliance", program))

    def faulted(self, program: Program) -> list[str]:
        """Contacts of ``program`` marked faulty, in contact order."""
        return [c for c, _ in program.electrodes.pairs if c in self.faults]

    def pin_key(self) -> bytes:
        return self.proof_key or self.default_pin

    def set_pin(self, pin: str) -> None:
        """A new configured PIN: fresh salt, PBKDF2 hash, proof key wrapped with the device key."""
        self.pin_configured = PinRecord.make(self.secret, pin)
        self.proof_key = self.pin_configured.proof_key(self.secret)

    # --- actions -------------------------------------------------------------------------

    def emit(self, name: str, args: Sequence[ArgPair]) -> None:
        self.events.append(encode_event(name, args))

    def audit_add(self, what: str) -> None:
        self.audit.add(max(0, int((self.t - self.boot_t) * 1000)), self.request_role, what)

    def stop_output(self, reason: str) -> None:
        if self.stim:
            self.stim = False
            self.emit("STIM", [("STIM", "OFF"), ("REASON", reason)])

    def enforce_output(self) -> None:
        """A stimulating program through a faulted contact stops, naming the contact."""
        program = self.active_program()
        if not self.stim or not self.faults or program is None:
            return
        bad = self.faulted(program)
        for contact in bad:
            self.emit("FAULT", [("CONTACT", contact.upper()), ("KIND", self.faults[contact])])
        if bad:
            self.stop_output("FAULT")

    def link_reset(self) -> None:
        """A new host connection starts as after HELLO: PATIENT, not strict, no nonce, no TEST
        (ended silently, the saved slot back); SEQ state and stimulation are the device's."""
        self.reader.reset()
        self.role = PATIENT
        self.strict = False
        self.login.forget_nonce()
        self.end_test(None)
        if self.ecap is not None:
            self.ecap.stream = False

    def end_test(self, reason: str | None) -> None:
        """Back to the saved slot; ``reason`` None ends silently (a reboot)."""
        if self.test is None:
            return
        self.test = None
        if reason is not None:
            self.emit("TEST", [("TEST", "OFF"), ("REASON", reason)])
        self.enforce_output()

    def battery_events(self, events: list[BattEvent]) -> None:
        for kind, state in events:
            if kind == "BATT":
                self.emit("BATT", [("STATE", state), ("BATT", str(self.battery.permille))])
                if state == self.battery.cell.stop_state:
                    self.stop_output("BATTERY")
            else:
                self.emit("CHARGE", [("STATE", state)])
        self.save()

    def settle_battery(self) -> None:
        """Report at once what a jump (SIM BATT, SIM CHARGE) made due."""
        for _ in range(8):
            _, events = self.battery.step(self.power_mw(), 0.0)
            if not events:
                return
            self.battery_events(events)

    # --- persistence ---------------------------------------------------------------------

    def save(self) -> None:
        self.saved_permille = self.battery.permille
        if self.store is None:
            return
        try:
            self.store.save(memory_data(self))
            self.storage_error = None
        except OSError as exc:  # the device keeps running; the emulator reports it
            self.storage_error = f"cannot write {self.store.path}: {exc.strerror or exc}"

    def save_if_drifted(self) -> None:
        if abs(self.battery.permille - self.saved_permille) >= SAVE_EVERY_PERMILLE:
            self.save()

