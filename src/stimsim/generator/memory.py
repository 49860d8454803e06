"""The generator's memory as the state file keeps it: written from, and restored into, the state.

Slots are stored as their READ arguments, so a stored program is judged by the same
checks as one arriving in a PROG line when it is read back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..engine import params as P
from ..engine.program import DeviceModel, Program
from ..protocol.limits import LOGIN_TRIES
from ..protocol.program_args import read_args
from .audit_log import AuditLog
from .battery_sim import BatterySim
from .pin_record import PinRecord
from .refusal import Refusal, program_from_values

if TYPE_CHECKING:
    from .state import GeneratorState

IMPEDANCE_DEFAULT_RANGE = (int(P.IMPEDANCE_SHORT_OHM), int(P.IMPEDANCE_OPEN_OHM))


@dataclass(frozen=True)
class Slot:
    """A written slot: the program (its amplitude moves with patient AMP changes) and the
    amplitude the clinician wrote, above which a patient may not enter the charge zone."""

    program: Program
    clinician_amp_ua: int
    acknowledged: bool = False  #: written with ACK=CHARGE (the closed loop may enter the zone)


def memory_data(gen: GeneratorState) -> dict[str, Any]:
    """The memory part of the state, as the state file keeps it."""
    slots = {}
    for n, slot in enumerate(gen.slots, start=1):
        if slot is not None:
            record = dict(read_args(n, slot.program))
            record["CLIN_AMP"] = str(slot.clinician_amp_ua)
            if slot.acknowledged:
                record["ACK"] = "CHARGE"
            slots[str(n)] = record
    return {
        "slots": slots,
        "active_slot": gen.active,
        "impedance_default": gen.impedance_default,
        "pin": None if gen.pin_configured is None else gen.pin_configured.to_data(),
        "login": {"wrong": gen.login.wrong, "locked": gen.login.locked},
        "log": gen.audit.to_data(),
        "battery": {"soc_percent": gen.battery.soc, "eos": gen.battery.eos_latched},
        "defaults": gen.defaults_flag,
    }


def restore(gen: GeneratorState, data: Any) -> None:
    """Adopt a saved memory; ValueError (nothing adopted) when anything is off."""
    if not isinstance(data, dict):
        raise ValueError("state is not an object")
    imp = data.get("impedance_default")
    if not (isinstance(imp, int) and IMPEDANCE_DEFAULT_RANGE[0] <= imp <= IMPEDANCE_DEFAULT_RANGE[1]):
        raise ValueError("impedance_default")
    active = data.get("active_slot")
    if not (isinstance(active, int) and 1 <= active <= P.N_SLOTS):
        raise ValueError("active_slot")
    pin = None if data.get("pin") is None else PinRecord.from_data(data["pin"])
    legacy = data.get("pin_sha256")  # earlier versions kept the proof key itself
    if pin is None and legacy is not None:
        key = bytes.fromhex(legacy) if isinstance(legacy, str) else b""
        if len(key) != 32:
            raise ValueError("pin_sha256")
        pin = PinRecord.from_proof_key(gen.secret, key)
    login = data.get("login", {"wrong": 0, "locked": False})
    wrong, locked = (login.get("wrong"), login.get("locked")) if isinstance(login, dict) else (None, None)
    if not (isinstance(wrong, int) and not isinstance(wrong, bool) and 0 <= wrong < LOGIN_TRIES
            and isinstance(locked, bool)):
        raise ValueError("login")
    batt = data.get("battery", {})
    soc, eos = batt.get("soc_percent"), batt.get("eos")
    if not (isinstance(soc, int | float) and math.isfinite(soc) and 0 <= soc <= 100 and isinstance(eos, bool)):
        raise ValueError("battery")
    if not isinstance(data.get("defaults"), bool):
        raise ValueError("defaults")
    audit = AuditLog.from_data(data.get("log"))
    device = DeviceModel(gen.battery.chemistry, family=gen.family).with_impedances(
        {c: float(imp) for c in (*P.LEAD_A, *P.LEAD_B)}
    )
    slots: list[Slot | None] = [None] * P.N_SLOTS
    for key, record in dict(data.get("slots", {})).items():
        slots[_slot_index(key)] = _slot_from_record(key, record, device)
    gen.slots, gen.active, gen.impedance_default = slots, active, imp
    gen.pin_configured, gen.audit, gen.defaults_flag = pin, audit, data["defaults"]
    gen.proof_key = None if pin is None else pin.proof_key(gen.secret)
    gen.login.wrong, gen.login.locked = wrong, locked
    gen.battery = BatterySim(gen.battery.chemistry, float(soc), eos)
    gen.saved_permille = gen.battery.permille


def _slot_index(key: object) -> int:
    if not (isinstance(key, str) and key.isdigit() and 1 <= int(key) <= P.N_SLOTS):
        raise ValueError(f"slot {key!r}")
    return int(key) - 1


def _slot_from_record(key: str, record: Any, device: DeviceModel) -> Slot:
    if not (isinstance(record, dict) and all(isinstance(v, str) for v in record.values())):
        raise ValueError(f"slot {key}: not a record")
    values = dict(record)
    clin = values.pop("CLIN_AMP", "")
    if values.get("SLOT") != key or not clin.isdigit():
        raise ValueError(f"slot {key}: SLOT or CLIN_AMP")
    acknowledged = "ACK" in values
    try:
        program, _ = program_from_values(values, device, with_slot=True, acknowledged=True)
    except Refusal as exc:
        raise ValueError(f"slot {key}: {exc.code} {exc.wire_args}") from None
    return Slot(program, int(clin), acknowledged)


def load_memory(gen: GeneratorState, chemistry: str) -> None:
    """Adopt the state folder's memory; a refused one (damaged, or unusable content) is kept
    aside as ``*.corrupt`` and replaced by defaults, flagged (STATE=DEFAULTS)."""
    if gen.store is None:
        return
    data, problem = gen.store.load()
    if data is not None:
        try:
            restore(gen, data)
            return
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            problem = gen.store.reject(f"unusable content ({exc})")
    if problem is None:
        return  # first start: defaults, nothing to flag
    gen.init_memory(chemistry)
    gen.defaults_flag = True
    gen.startup_warning = f"{problem}; starting with default settings and stimulation off"
    gen.save()
