"""What a check expects of a reply: OK or a given ERR, with given keys and values."""

from __future__ import annotations

import re

from ..protocol.codec import Event, Reply
from .link import Answer, Fail, fmt, show

HEX8 = re.compile(r"^[0-9A-F]{8}$")
HEX16 = re.compile(r"^[0-9A-F]{16}$")
REPLY_LINE = re.compile(rb"^(#[0-9]{1,5} )?(OK|ERR [A-Z0-9_]+)( [^ ]+)* \*[0-9A-F]{4}\r\n$")
EVENT_LINE = re.compile(rb"^![A-Z0-9_]+( [^ ]+)* \*[0-9A-F]{4}\r\n$")


def ok(a: Answer, **expect: str | int | None) -> Reply:
    """The reply is OK and carries ``expect`` (value None: the key just has to be there)."""
    if not a.reply.ok:
        raise Fail(f"{show(a.line)} answered {fmt(a)}, expected OK")
    _has(a, expect)
    return a.reply


def err(a: Answer, code: str, **expect: str | int | None) -> Reply:
    if a.reply.ok or a.reply.code != code:
        want = " ".join([f"ERR {code}"] + [f"{k}={v}" for k, v in expect.items() if v is not None])
        raise Fail(f"{show(a.line)} answered {fmt(a)}, expected {want}")
    _has(a, expect)
    return a.reply


def _has(a: Answer, expect: dict[str, str | int | None]) -> None:
    for key, want in expect.items():
        got = a.reply.get(key)
        if got is None:
            raise Fail(f"{show(a.line)} answered {fmt(a)}: no {key}=")
        if want is not None and got != str(want):
            raise Fail(f"{show(a.line)} answered {fmt(a)}: {key}={got}, expected {key}={want}")


def same_seq(a: Answer, seq: int | None) -> None:
    if a.reply.seq != seq:
        raise Fail(f"{show(a.line)} answered {fmt(a)}: SEQ {a.reply.seq}, expected {seq}")


def expect(cond: bool, why: str) -> None:
    if not cond:
        raise Fail(why)


def keys_of(msg: Reply | Event) -> list[str]:
    return [k for k, _ in msg.args if k is not None]


def ok_answer(a: Answer, **kv: str | int | None) -> Answer:
    ok(a, **kv)
    return a
