"""The generator's state and the actions verbs share (events, audit, persistence, output).

``VirtualGenerator`` (generator.py) adds framing, sequencing and time on top; the verb
handlers (verbs_therapy.py, verbs_session.py) are mixins over this class. State falls in
three kinds, kept apart because a reboot treats them differently:

- memory (persists in the state folder): slots, active slot, configuration, audit log,
  battery level;
- environment (emulator controls, survive SIM RESET, never saved): SIM SPEED, contact
  faults, the charger;
- RAM (lost at a reboot): role, strict mode, SEQ state, login, stimulation, MRI, TEST.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..engine import params as P
from ..engine.load import program_compliance
from ..engine.metrics import battery_power_mw
from ..engine.program import DeviceModel, Program
from .audit_log import AuditLog
from .battery_sim import IDLE_MW, BatterySim, BattEvent
from .codec import ArgPair, encode_event
from .login import LoginGuard
from .sequencing import SeqGuard
from .state_store import StateStore
from .wire_program import Slot, program_from_values, read_args

PATIENT = "PATIENT"
CLINICIAN = "CLINICIAN"
OPEN = "OPEN"
SHORT = "SHORT"
#: How a faulted contact is modelled in load and safety figures: far beyond the detection
#: thresholds of the parameter table (open above 4000 ohm, short below 50 ohm).
FAULT_OHM = {OPEN: P.IMPEDANCE_OPEN_OHM * 10.0, SHORT: P.IMPEDANCE_SHORT_OHM / 10.0}
IMPEDANCE_DEFAULT_RANGE = (int(P.IMPEDANCE_SHORT_OHM), int(P.IMPEDANCE_OPEN_OHM))
SAVE_EVERY_PERMILLE = 10  #: battery drift that triggers a save on its own
_CACHE_MAX = 256


@dataclass
class TestSession:
    """Temporary settings on the active slot; the slot itself is untouched."""

    program: Program
    clinician_amp_ua: int  #: the amplitude the clinician tried (the charge-zone bound)
    last_ok: float  #: real time of the last OK reply (the lease)


class GeneratorCore:
    """State and shared actions; see the module docstring for the three kinds of state."""

    def _init_memory(self, chemistry: str) -> None:
        self._slots: list[Slot | None] = [None] * P.N_SLOTS
        self._active = 1
        self._impedance_default = int(P.CONTACT_IMPEDANCE_OHM)
        self._pin_configured: bytes | None = None
        self._audit = AuditLog()
        self._battery = BatterySim(chemistry)
        self._defaults_flag = False
        self._saved_permille = self._battery.permille

    def _init_ram(self, rng_boot: str) -> None:
        self._role = PATIENT
        self._request_role = PATIENT
        self._strict = False
        self._seq = SeqGuard()
        self._login = LoginGuard(self._rng)
        self._stim = False
        self._mri = False
        self._test: TestSession | None = None
        self._boot_id = rng_boot
        self._boot_t = self._t
        self._reboot_pending = False

    # Attributes set by VirtualGenerator.__init__ (declared for readers and type checkers).
    _rng: Any
    _t: float
    _store: StateStore | None
    _default_pin: bytes
    _faults: dict[str, str]
    _events: list[bytes]
    _figures: dict[Any, Any]  #: battery power and compliance per (program, device)
    _device_key: object
    _device: DeviceModel
    speed: float
    storage_error: str | None

    # --- derived figures -----------------------------------------------------------------

    def device_model(self) -> DeviceModel:
        """The contacts as the generator sees them: configured default, case, faults."""
        key = (self._impedance_default, tuple(sorted(self._faults.items())))
        if self._device_key != key:
            values: dict[str, float] = {}
            if self._impedance_default != P.CONTACT_IMPEDANCE_OHM:
                values = {c: float(self._impedance_default) for c in (*P.LEAD_A, *P.LEAD_B)}
            for contact, kind in self._faults.items():
                values[contact] = FAULT_OHM[kind]
            self._device = DeviceModel(chemistry=self._battery.chemistry).with_impedances(values)
            self._device_key = key
        return self._device

    def active_program(self) -> Program | None:
        """What the output runs (or would run): the TEST settings, else the active slot."""
        if self._test is not None:
            return self._test.program
        slot = self._slots[self._active - 1]
        return None if slot is None else slot.program

    def _cached(self, kind: str, program: Program) -> Any:
        key = (kind, program, self.device_model())
        cache = self._figures
        if key not in cache:
            if len(cache) > _CACHE_MAX:
                cache.clear()
            device = self.device_model()
            if kind == "power":
                cache[key] = battery_power_mw(program, device)
            else:
                cache[key] = program_compliance(program, device).limited
        return cache[key]

    def _power_mw(self) -> float:
        program = self.active_program()
        if not self._stim or program is None:
            return IDLE_MW
        return float(self._cached("power", program))

    def _limited(self, program: Program | None) -> bool:
        return program is not None and bool(self._cached("compliance", program))

    def _faulted(self, program: Program) -> list[str]:
        """Contacts of ``program`` marked faulty, in contact order."""
        return [c for c, _ in program.electrodes.pairs if c in self._faults]

    def _pin_key(self) -> bytes:
        return self._pin_configured or self._default_pin

    # --- actions -------------------------------------------------------------------------

    def _emit(self, name: str, args: Sequence[ArgPair]) -> None:
        self._events.append(encode_event(name, args))

    def _audit_add(self, what: str) -> None:
        self._audit.add(max(0, int((self._t - self._boot_t) * 1000)), self._request_role, what)

    def _stop_output(self, reason: str) -> None:
        if self._stim:
            self._stim = False
            self._emit("STIM", [("STIM", "OFF"), ("REASON", reason)])

    def _enforce_output(self) -> None:
        """A stimulating program through a faulted contact stops, naming the contact."""
        program = self.active_program()
        if not self._stim or not self._faults or program is None:
            return
        bad = self._faulted(program)
        for contact in bad:
            self._emit("FAULT", [("CONTACT", contact.upper()), ("KIND", self._faults[contact])])
        if bad:
            self._stop_output("FAULT")

    def _end_test(self, reason: str | None) -> None:
        """Back to the saved slot; ``reason`` None ends silently (a reboot)."""
        if self._test is None:
            return
        self._test = None
        if reason is not None:
            self._emit("TEST", [("TEST", "OFF"), ("REASON", reason)])
        self._enforce_output()

    def _battery_events(self, events: list[BattEvent]) -> None:
        for kind, state in events:
            if kind == "BATT":
                self._emit("BATT", [("STATE", state), ("BATT", str(self._battery.permille))])
                if state == self._battery.cell.stop_state:
                    self._stop_output("BATTERY")
            else:
                self._emit("CHARGE", [("STATE", state)])
        self._save()

    def _settle_battery(self) -> None:
        """Report at once what a jump (SIM BATT, SIM CHARGE) made due."""
        for _ in range(8):
            _, events = self._battery.step(self._power_mw(), 0.0)
            if not events:
                return
            self._battery_events(events)

    # --- persistence ---------------------------------------------------------------------

    def _memory_data(self) -> dict[str, Any]:
        slots = {}
        for n, slot in enumerate(self._slots, start=1):
            if slot is not None:
                record = dict(read_args(n, slot.program))
                record["CLIN_AMP"] = str(slot.clinician_amp_ua)
                slots[str(n)] = record
        return {
            "slots": slots,
            "active_slot": self._active,
            "impedance_default": self._impedance_default,
            "pin_sha256": None if self._pin_configured is None else self._pin_configured.hex(),
            "log": self._audit.to_data(),
            "battery": {"soc_percent": self._battery.soc, "eos": self._battery.eos_latched},
            "defaults": self._defaults_flag,
        }

    def _save(self) -> None:
        self._saved_permille = self._battery.permille
        if self._store is None:
            return
        try:
            self._store.save(self._memory_data())
            self.storage_error = None
        except OSError as exc:  # the device keeps running; the emulator reports it
            self.storage_error = f"cannot write {self._store.path}: {exc.strerror or exc}"

    def _save_if_drifted(self) -> None:
        if abs(self._battery.permille - self._saved_permille) >= SAVE_EVERY_PERMILLE:
            self._save()

    def _restore(self, data: Any) -> None:
        """Adopt a saved memory; ValueError (nothing adopted) when anything is off."""
        if not isinstance(data, dict):
            raise ValueError("state is not an object")
        imp = data.get("impedance_default")
        if not (isinstance(imp, int) and IMPEDANCE_DEFAULT_RANGE[0] <= imp <= IMPEDANCE_DEFAULT_RANGE[1]):
            raise ValueError("impedance_default")
        active = data.get("active_slot")
        if not (isinstance(active, int) and 1 <= active <= P.N_SLOTS):
            raise ValueError("active_slot")
        pin_hex = data.get("pin_sha256")
        pin = None if pin_hex is None else bytes.fromhex(pin_hex)
        if pin is not None and len(pin) != 32:
            raise ValueError("pin_sha256")
        batt = data.get("battery", {})
        soc, eos = batt.get("soc_percent"), batt.get("eos")
        if not (isinstance(soc, int | float) and math.isfinite(soc) and 0 <= soc <= 100 and isinstance(eos, bool)):
            raise ValueError("battery")
        if not isinstance(data.get("defaults"), bool):
            raise ValueError("defaults")
        audit = AuditLog.from_data(data.get("log"))
        device = DeviceModel(chemistry=self._battery.chemistry).with_impedances(
            {c: float(imp) for c in (*P.LEAD_A, *P.LEAD_B)}
        )
        slots: list[Slot | None] = [None] * P.N_SLOTS
        for key, record in dict(data.get("slots", {})).items():
            slots[_slot_index(key)] = _slot_from_record(key, record, device)
        self._slots, self._active, self._impedance_default = slots, active, imp
        self._pin_configured, self._audit, self._defaults_flag = pin, audit, data["defaults"]
        self._battery = BatterySim(self._battery.chemistry, float(soc), eos)
        self._saved_permille = self._battery.permille


def _slot_index(key: object) -> int:
    if not (isinstance(key, str) and key.isdigit() and 1 <= int(key) <= P.N_SLOTS):
        raise ValueError(f"slot {key!r}")
    return int(key) - 1


def _slot_from_record(key: str, record: Any, device: DeviceModel) -> Slot:
    from .refusal import Refusal

    if not (isinstance(record, dict) and all(isinstance(v, str) for v in record.values())):
        raise ValueError(f"slot {key}: not a record")
    values = dict(record)
    clin = values.pop("CLIN_AMP", "")
    if values.get("SLOT") != key or not clin.isdigit():
        raise ValueError(f"slot {key}: SLOT or CLIN_AMP")
    try:
        program, _ = program_from_values(values, device, with_slot=True, acknowledged=True)
    except Refusal as exc:
        raise ValueError(f"slot {key}: {exc.code} {exc.wire_args}") from None
    return Slot(program, int(clin))
