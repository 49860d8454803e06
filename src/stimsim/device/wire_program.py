"""PROG / TEST / READ arguments <-> the engine's Program, and engine Problems -> ERR replies.

Wire values are already the engine's canonical units (uA, us, ms, Hz), so conversion is
only parsing. Ranges, feasibility and safety are never checked here: the engine's
``check_program`` is the one judge, and this module only turns its first Problem into the
protocol's ERR arguments.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..engine import params as P
from ..engine.params import Mode, Recharge
from ..engine.program import DeviceModel, Electrodes, Limits, Program
from ..engine.validate import BAD_ARG, UNSAFE, Problem, check_program
from .codec import MAX_VALUE, ArgPair, Request
from .refusal import Refusal, bad_arg, out_of_range, parse_int, split_args

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


@dataclass(frozen=True)
class Slot:
    """A written slot: the program (its amplitude moves with patient AMP changes) and the
    amplitude the clinician wrote, above which a patient may not enter the charge zone."""

    program: Program
    clinician_amp_ua: int


def parse_program(req: Request, device: DeviceModel, *, with_slot: bool) -> tuple[Program, bool]:
    """A PROG (``with_slot``) or TEST request as a checked Program and its ACK=CHARGE.

    Raises Refusal for the first problem in the protocol's order: BAD_ARG (wire syntax of
    a value, then the engine's), OUT_OF_RANGE (SLOT first, then the engine's), UNSAFE.
    """
    keys = ("SLOT", *PROGRAM_KEYS) if with_slot else PROGRAM_KEYS
    values, _ = split_args(req, keys)
    return program_from_values(values, device, with_slot=with_slot)


def program_from_values(
    values: Mapping[str, str], device: DeviceModel, *, with_slot: bool, acknowledged: bool = False
) -> tuple[Program, bool]:
    """Build and check a Program from wire KEY -> VALUE text (also the state file's form)."""
    required = ("SLOT", *_REQUIRED) if with_slot else _REQUIRED
    for key in required:
        if key not in values:
            raise bad_arg(key)
    mode = _MODES.get(values["MODE"].upper())
    if mode is None:
        raise bad_arg("MODE")
    nums = {attr: parse_int(key, values[key]) for key, attr in _NUMERIC.items() if key in values}
    limits = {attr: parse_int(key, values[key]) for key, attr in _LIMITS.items() if key in values}
    recharge = RECHARGE_DEFAULT[mode]
    if "RECHARGE" in values:
        chosen = _RECHARGES.get(values["RECHARGE"].upper())
        if chosen is None:
            raise bad_arg("RECHARGE")
        recharge = chosen
    electrodes = parse_electrodes(values["ELEC"])
    ack = acknowledged
    if "ACK" in values:
        if values["ACK"].upper() != "CHARGE":
            raise bad_arg("ACK")
        ack = True
    slot = parse_int("SLOT", values["SLOT"]) if with_slot else 1
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
    problems = check_program(program, device, acknowledged=ack)
    if problems and problems[0].code == BAD_ARG:
        raise refusal_for(problems[0], mode)
    if not 1 <= slot <= P.N_SLOTS:
        raise out_of_range("SLOT", 1, P.N_SLOTS)
    if problems:
        raise refusal_for(problems[0], mode)
    return program, ack


def parse_electrodes(text: str) -> Electrodes:
    """``4:-100,5:+50,CASE:+50``; BAD_ARG KEY=ELEC for anything else, including a
    configuration whose canonical text would not fit one wire value (READ must echo it)."""
    items = text.split(",")
    if not all(_ELEC_ITEM.match(item) for item in items):
        raise bad_arg("ELEC")
    try:
        electrodes = Electrodes.from_wire(text)
    except ValueError:
        raise bad_arg("ELEC") from None
    if len(electrodes.to_wire()) > MAX_VALUE:
        raise bad_arg("ELEC")
    return electrodes


def refusal_for(problem: Problem, mode: Mode) -> Refusal:
    """The ERR reply for an engine Problem (codes and keys as DEVICE-DECISIONS lists them)."""
    if problem.code == BAD_ARG:
        return bad_arg(problem.wire)
    args: list[ArgPair] = []
    if problem.rule:
        args.append(("RULE", problem.rule))
    if problem.code == UNSAFE:
        args.extend(problem.extra)
        if problem.maximum is not None:
            args.append(("MAX", str(problem.maximum)))
        return Refusal(UNSAFE, args)
    args.append(("KEY", problem.wire))
    if problem.wire == "RECHARGE":
        args.append(("ALLOWED", ",".join(r.wire for r in P.RECHARGE[mode])))
    elif problem.rule != "ELECTRODES":
        if problem.minimum is not None:
            args.append(("MIN", str(problem.minimum)))
        if problem.maximum is not None:
            args.append(("MAX", str(problem.maximum)))
        args.extend(problem.extra)
    return Refusal(problem.code, args)


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
