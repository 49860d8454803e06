"""Refusals (``ERR CODE KEY=VALUE...``), the argument checks every verb shares, and the
engine's Problems as ERR replies.

A verb handler checks everything first and raises ``Refusal`` before it changes anything,
so "a refused request never changes any state" holds by construction: the generator turns
the exception into the ERR reply. The engine's ``check_program`` is the one judge of a
program; :func:`refusal_for` only turns its first Problem into the protocol's arguments.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence

from ..engine import params as P
from ..engine.params import Mode
from ..engine.program import DeviceModel, Program
from ..engine.validate import BAD_ARG, UNSAFE, Problem, check_program
from ..protocol.codec import ArgPair, Request
from ..protocol.program_args import PROGRAM_KEYS, WireValueError
from ..protocol.program_args import program_from_values as decode_program

_INT_RE = re.compile(r"^[+-]?[0-9]+$")
_UINT_RE = re.compile(r"^[0-9]+$")


class Refusal(Exception):
    """An ERR reply: ``code`` and its ordered wire arguments."""

    def __init__(self, code: str, args: Sequence[ArgPair] = ()) -> None:
        self.code = code
        self.wire_args: tuple[ArgPair, ...] = tuple(args)
        super().__init__(code, self.wire_args)


def bad_arg(key: str) -> Refusal:
    return Refusal("BAD_ARG", [("KEY", key)])


def out_of_range(key: str, minimum: object, maximum: object) -> Refusal:
    return Refusal("OUT_OF_RANGE", [("KEY", key), ("MIN", str(minimum)), ("MAX", str(maximum))])


def state(reason: str, *extra: ArgPair) -> Refusal:
    return Refusal("STATE", [("REASON", reason), *extra])


def split_args(
    req: Request, keys: Collection[str] = (), tokens: Collection[str] = ()
) -> tuple[dict[str, str], list[str]]:
    """A request's KEY=VALUE arguments and its bare tokens (upper-cased), checked.

    Unknown keys, duplicate keys and tokens the verb does not take are ``BAD_ARG`` naming
    the first offender, in line order.
    """
    keyed: dict[str, str] = {}
    bare: list[str] = []
    for key, value in req.args:
        if key is None:
            token = value.upper()
            if token not in tokens or token in bare:
                raise bad_arg(token)
            bare.append(token)
        elif key not in keys or key in keyed:
            raise bad_arg(key)
        else:
            keyed[key] = value
    return keyed, bare


def one_token(req: Request, tokens: Collection[str]) -> str:
    """The single bare token a verb like ``STIM ON`` takes; BAD_ARG KEY=<verb> if absent."""
    _keyed, bare = split_args(req, (), tokens)
    if len(bare) != 1:
        raise bad_arg(req.verb if not bare else bare[1])
    return bare[0]


def no_args(req: Request) -> None:
    split_args(req)


def parse_int(key: str, text: str, *, signed: bool = True) -> int:
    """A decimal integer argument; BAD_ARG KEY=<key> if malformed (no ``1_000``, no hex)."""
    if not (_INT_RE if signed else _UINT_RE).match(text):
        raise bad_arg(key)
    return int(text)


# --- programs ---------------------------------------------------------------------------


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
    if not device.spec.closed_loop and any(row.wire in values for row in P.LOOP_TABLE):
        raise bad_arg(P.LOOP_BY_KEY["loop"].wire)  # however they are written: the family has no loop
    try:
        program, ack = decode_program(values, with_slot=with_slot, acknowledged=acknowledged)
    except WireValueError as exc:
        raise bad_arg(exc.key) from None
    problems = check_program(program, device, acknowledged=ack)
    if problems and problems[0].code == BAD_ARG:
        raise refusal_for(problems[0], program.mode)
    if not 1 <= program.slot <= P.N_SLOTS:
        raise out_of_range("SLOT", 1, P.N_SLOTS)
    if problems:
        raise refusal_for(problems[0], program.mode)
    return program, ack


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
