"""A program on the wire: the engine's Program <-> PROG / TEST / READ arguments.

Wire values are already the engine's canonical units (uA, us, ms, Hz), so conversion is
only formatting and parsing. Decoding checks the wire syntax of each value and nothing
else: ranges, feasibility and safety belong to the engine's ``check_program`` (the
generator turns its Problems into ERR replies; a host judges a READ reply with it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ..engine import params as P
from ..engine.params import Mode, Recharge
from ..engine.program import ClosedLoop, Electrodes, Limits, Program
from .codec import ArgPair
from .limits import MAX_VALUE


def _in_read_order() -> tuple[P.Param, ...]:
    return tuple(p for section in P.Section for p in P.TABLE if p.section is section)


#: Numeric wire keys of a program and the Program attribute each sets, in READ's order.
_NUMERIC = {p.wire: p.attr for p in _in_read_order()}
_LIMITS = {lim.wire: lim.attr for lim in P.LIMITS.values()}
_REQUIRED = ("MODE", *(p.wire for p in P.TABLE if p.required and all(p.key in m.ranges for m in P.MODES.values())),
             "ELEC")
_LOOP_KEYS = {row.wire: row for row in P.LOOP_TABLE}
PROGRAM_KEYS = ("MODE", *_NUMERIC, "RECHARGE", "ELEC", *_LOOP_KEYS, *_LIMITS, "NAME", "ACK")
_RECHARGES = {r.wire: r for r in Recharge}
_ELEC_ITEM = re.compile(r"^(?:[0-9]{1,2}|CASE):[+-]?[0-9]{1,3}$", re.IGNORECASE)
_INT_RE = re.compile(r"^[+-]?[0-9]+$")
_PAIR_RE = re.compile(r"^[0-9]{1,2},[0-9]{1,2}$")


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
    mode = next((m for m in Mode if m.wire == values["MODE"].upper()), None)
    if mode is None:
        raise WireValueError("MODE")
    nums = {attr: wire_int(key, values[key]) for key, attr in _NUMERIC.items() if key in values}
    limits = {attr: wire_int(key, values[key]) for key, attr in _LIMITS.items() if key in values}
    recharge = P.RECHARGE[mode][0]
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
    taken = P.MODES[mode].ranges
    numbers = {p.key: nums.get(p.attr, 0 if p.key in taken and not p.required else None) for p in P.TABLE}
    program = Program(mode, 0, 0, 0, electrodes, recharge=recharge, limits=Limits(**limits),
                      name=values.get("NAME", "").replace("_", " "), slot=slot,
                      closed_loop=closed_loop_from_values(values)).with_values(numbers)
    return program, ack


def closed_loop_from_values(values: Mapping[str, str]) -> ClosedLoop | None:
    """The closed-loop keys of a program on the wire (None when none is given; the table's
    defaults fill those left out); WireValueError naming a malformed one."""
    given = {wire: values[wire] for wire in _LOOP_KEYS if wire in values}
    if not given:
        return None
    fields: dict[str, Any] = {}
    for wire, text in given.items():
        row = _LOOP_KEYS[wire]
        if row.kind is P.ValueKind.CHOICE:
            if text.lower() not in row.choices:
                raise WireValueError(wire)
            fields[row.attr] = P.LoopMode(text.lower())
        elif row.kind is P.ValueKind.NUMBER:
            fields[row.attr] = wire_int(wire, text)
        else:
            if not _PAIR_RE.match(text):
                raise WireValueError(wire)
            first, second = (str(int(c)) for c in text.split(","))
            fields[row.attr] = (first, second)
    return replace(ClosedLoop(), **fields)


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
    """The READ reply's arguments, in the documented order (also the state file's record):
    every parameter the mode takes, RECHARGE after the pulse's own, the limits that always
    hold (amplitude: its effective range) and those that are set."""
    taken = P.MODES[program.mode].ranges
    out: list[ArgPair] = [("SLOT", str(slot_no)), ("MODE", program.mode.wire)]
    for section in P.Section:
        if section is P.Section.SHAPE:
            out.append(("RECHARGE", program.recharge.wire))
        out += [(p.wire, str(program.canonical(p.key))) for p in P.TABLE if p.section is section and p.key in taken]
    out.append(("ELEC", program.electrodes.to_wire()))
    out += loop_args(program.closed_loop)
    for param in P.TABLE:
        if param.limits is P.LimitKind.NONE or param.key not in taken:
            continue
        lo, hi = P.Limit(param, "min"), P.Limit(param, "max")
        if param.limits is P.LimitKind.RANGE:
            low, high = program.limits.range_of(param.key, program.mode)
            out += [(lo.wire, str(low)), (hi.wire, str(high))]
            continue
        for limit in (lo, hi):
            value = program.limits.get(limit.key)
            if value is not None:
                out.append((limit.wire, str(value)))
    if program.name:
        out.append(("NAME", program.name.replace(" ", "_")))
    return out


def loop_args(loop: ClosedLoop | None) -> list[ArgPair]:
    """The closed-loop keys as READ reports them (none when the program gives none; SENSE
    only when given)."""
    if loop is None:
        return []
    out: list[ArgPair] = []
    for row in P.LOOP_TABLE:
        value = getattr(loop, row.attr)
        if value is None:
            continue
        if row.kind is P.ValueKind.CHOICE:
            out.append((row.wire, str(value).upper()))
        elif row.kind is P.ValueKind.NUMBER:
            out.append((row.wire, str(value)))
        else:
            out.append((row.wire, loop.sense_wire()))
    return out


def program_args(program: Program, *, slot: bool = True) -> list[tuple[str, str]]:
    """PROG arguments for ``program`` (``slot=False``: TEST's), in READ's order.

    Every value is sent, defaults included, so what the device stores never depends on
    its own defaults.
    """
    args = [(str(k), v) for k, v in read_args(program.slot, program)]
    return args if slot else args[1:]
