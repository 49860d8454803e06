"""Refusals (``ERR CODE KEY=VALUE...``) and the argument checks every verb shares.

A verb handler checks everything first and raises ``Refusal`` before it changes anything,
so "a refused request never changes any state" holds by construction: the generator turns
the exception into the ERR reply.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from .codec import ArgPair, Request

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
