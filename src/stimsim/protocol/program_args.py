"""A program on the wire: the engine's Program <-> PROG / TEST / READ arguments.

Wire values are already the engine's canonical units (uA, us, ms, Hz), so conversion is
only formatting and parsing. Decoding checks the wire syntax of each value and nothing
else: ranges, feasibility and safety belong to the engine's ``check_program`` (the
generator turns its Problems into ERR replies; a host judges a READ reply with it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..engine import params as P
from ..engine.params import Mode, Recharge
from ..engine.program import Electrodes, Limits, Program
from .codec import ArgPair
from .limits import MAX_VALUE

#: Numeric wire keys of a program and the Program attribute each sets.
_NUMERIC = {
    "AMP": "amplitude_ua",
    "PW": "pulse_width_us",
    "RATE": "rate_hz",
    "IPG": "interphase_us",
    "BURST_N": "burst_pulses",
    "INTRA_HZ": "intraburst_rate_hz",
    "CYCLE_ON_MS": "cycle_on_ms",
    "CYCLE_OFF_MS": "cycle_off_ms",
    "RAMP_MS": "ramp_ms",
}
_LIMITS = {
    "AMP_MIN": "amplitude_min_ua",
    "AMP_MAX": "amplitude_max_ua",
    "PW_MIN": "pulse_width_min_us",
    "PW_MAX": "pulse_width_max_us",
    "RATE_MIN": "rate_min_hz",
    "RATE_MAX": "rate_max_hz",
}
_REQUIRED = ("MODE", "AMP", "PW", "RATE", "ELEC")
PROGRAM_KEYS = ("MODE", *_NUMERIC, "RECHARGE", "ELEC", *_LIMITS, "NAME", "ACK")
_MODES = {m.wire: m for m in Mode}
_RECHARGES = {r.wire: r for r in Recharge}
RECHARGE_DEFAULT = {mode: choices[0] for mode, choices in P.RECHARGE.items()}
_ELEC_ITEM = re.compile(r"^(?:[0-9]{1,2}|CASE):[+-]?[0-9]{1,3}$", re.IGNORECASE)
_INT_RE = re.compile(r"^[+-]?[0-9]+$")


class WireValueError(ValueError):
    """A program argument that is missing or malformed on the wire; ``key`` names it."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"{key}: missing or malformed")


def wire_int(key: str, text: str) -> int:
    """A decimal integer value (no ``1_000``, no hex); WireValueError naming ``key`` if not."""
    if not _INT_RE.match(text):
        raise WireValueError(key)
    return int(text)


def program_from_values(
    values: Mapping[str, str], *, with_slot: bool, acknowledged: bool = False
) -> tuple[Program, bool]:
    """A Program and its ACK=CHARGE from wire KEY -> VALUE text (PROG, TEST, READ, the state
    file's record), unchecked. Raises WireValueError for the first key in the protocol's
    order that is missing or malformed (SLOT is parsed, its range is not checked)."""
    required = ("SLOT", *_REQUIRED) if with_slot else _REQUIRED
    for key in required:
        if key not in values:
            raise WireValueError(key)
    mode = _MODES.get(values["MODE"].upper())
    if mode is None:
        raise WireValueError("MODE")
    nums = {attr: wire_int(key, values[key]) for key, attr in _NUMERIC.items() if key in values}
    limits = {attr: wire_int(key, values[key]) for key, attr in _LIMITS.items() if key in values}
    recharge = RECHARGE_DEFAULT[mode]
    if "RECHARGE" in values:
        chosen = _RECHARGES.get(values["RECHARGE"].upper())
        if chosen is None:
            raise WireValueError("RECHARGE")
        recharge = chosen
    electrodes = parse_electrodes(values["ELEC"])
    ack = acknowledged
    if "ACK" in values:
        if values["ACK"].upper() != "CHARGE":
            raise WireValueError("ACK")
        ack = True
    slot = wire_int("SLOT", values["SLOT"]) if with_slot else 1
    program = Program(
        mode=mode,
        amplitude_ua=nums["amplitude_ua"],
        pulse_width_us=nums["pulse_width_us"],
        rate_hz=nums["rate_hz"],
        electrodes=electrodes,
        interphase_us=nums.get("interphase_us", 0),
        recharge=recharge,
        burst_pulses=nums.get("burst_pulses"),
        intraburst_rate_hz=nums.get("intraburst_rate_hz"),
        cycle_on_ms=nums.get("cycle_on_ms", 0),
        cycle_off_ms=nums.get("cycle_off_ms", 0),
        ramp_ms=nums.get("ramp_ms", 0),
        limits=Limits(**limits),
        name=values.get("NAME", "").replace("_", " "),
        slot=slot,
    )
    return program, ack


def parse_electrodes(text: str) -> Electrodes:
    """``4:-100,5:+50,CASE:+50``; WireValueError KEY=ELEC for anything else, including a
    configuration whose canonical text would not fit one wire value (READ must echo it)."""
    items = text.split(",")
    if not all(_ELEC_ITEM.match(item) for item in items):
        raise WireValueError("ELEC")
    try:
        electrodes = Electrodes.from_wire(text)
    except ValueError:
        raise WireValueError("ELEC") from None
    if len(electrodes.to_wire()) > MAX_VALUE:
        raise WireValueError("ELEC")
    return electrodes


def read_args(slot_no: int, program: Program) -> list[ArgPair]:
    """The READ reply's arguments, in the documented order (also the state file's record)."""
    lo, hi = program.limits.amp_range(program.mode)
    out: list[ArgPair] = [
        ("SLOT", str(slot_no)),
        ("MODE", program.mode.wire),
        ("AMP", str(program.amplitude_ua)),
        ("PW", str(program.pulse_width_us)),
        ("RATE", str(program.rate_hz)),
        ("IPG", str(program.interphase_us)),
        ("RECHARGE", program.recharge.wire),
    ]
    if program.mode is Mode.BURST:
        out.append(("BURST_N", str(program.burst_pulses)))
        out.append(("INTRA_HZ", str(program.intraburst_rate_hz)))
    out += [
        ("CYCLE_ON_MS", str(program.cycle_on_ms)),
        ("CYCLE_OFF_MS", str(program.cycle_off_ms)),
        ("RAMP_MS", str(program.ramp_ms)),
        ("ELEC", program.electrodes.to_wire()),
        ("AMP_MIN", str(lo)),
        ("AMP_MAX", str(hi)),
    ]
    for key in ("PW_MIN", "PW_MAX", "RATE_MIN", "RATE_MAX"):
        value = getattr(program.limits, _LIMITS[key])
        if value is not None:
            out.append((key, str(value)))
    if program.name:
        out.append(("NAME", program.name.replace(" ", "_")))
    return out


def program_args(program: Program, *, slot: bool = True) -> list[tuple[str, str]]:
    """PROG arguments for ``program`` (``slot=False``: TEST's), in READ's order.

    Every value is sent, defaults included, so what the device stores never depends on
    its own defaults.
    """
    args = [(str(k), v) for k, v in read_args(program.slot, program)]
    return args if slot else args[1:]
