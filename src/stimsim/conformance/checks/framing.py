"""Framing: HELLO's reply, line grammar, CRC, EOL, case and spaces, bad bytes, long lines, pipelining."""

from __future__ import annotations

import time

from ...engine.params import Family
from ...protocol import codec
from ...protocol.codec import Reply
from ..context import Check, Ctx, collector
from ..expect import HEX8, REPLY_LINE, err, expect, keys_of, ok, same_seq

CHECKS: list[Check] = []
check = collector(CHECKS)


@check("hello.reply")
def _hello_reply(ctx: Ctx) -> None:
    link = ctx.session()
    seq = link.seq
    a = link.req("HELLO STRICT=1")
    reply = ok(a, PROTO="1", MODEL=None, FW=None, SN=None, BOOT=None, ROLE="PATIENT", SLOTS=16, CONTACTS=16,
               STRICT=1, NEXT=None)
    same_seq(a, seq)
    want = ["PROTO", "MODEL", "FW", "SN", "BOOT", "ROLE", "SLOTS", "CONTACTS", "STRICT", "NEXT"]
    got = keys_of(reply)
    if "FAMILY" in got:  # an extra key a device may send: the device family (none: SCS-R)
        family = next(v for k, v in reply.args if k == "FAMILY")
        expect(family in list(Family), f"HELLO FAMILY={family} is not one of {', '.join(Family)}")
        got = [key for key in got if key != "FAMILY"]
    expect(got[:10] == want and got[10:] in ([], ["STATE"]), f"HELLO reply keys {got}, expected {want} [+ STATE]")
    expect(bool(HEX8.match(reply.get("BOOT") or "")), f"BOOT={reply.get('BOOT')} is not 8 upper-case hex digits")
    expect(1 <= int(reply.get("NEXT") or "0") <= 65535, "NEXT outside 1..65535")
    if "STATE" in got:
        expect(reply.get("STATE") == "DEFAULTS", f"STATE={reply.get('STATE')}, only DEFAULTS is defined")


@check("framing.reply_lines")
def _reply_lines(ctx: Ctx) -> None:
    link = ctx.session()
    for text in ("STATUS", "BATT", "FROB", "READ SLOT=99"):
        a = link.req(text)
        expect(a.raw.endswith(b"\r\n"), f"reply to {text} does not end in CR LF: {a.raw!r}")
        expect(bool(REPLY_LINE.match(a.raw)), f"reply to {text} is not reply grammar with an upper-case CRC: "
                                                 f"{a.raw!r}")
        expect(len(a.raw) - 2 <= codec.MAX_REPLY, f"reply to {text} is over 512 bytes")
        head = a.raw.split(b" *")[0]
        expect(head.upper() == head, f"reply to {text} is not upper case: {a.raw!r}")


@check("framing.seq_echoed")
def _seq_echoed(ctx: Ctx) -> None:
    link = ctx.session()
    for text in ("STATUS", "FROB", "READ SLOT=0"):
        seq = link.seq
        same_seq(link.req(text), seq)


@check("framing.crc_either_case")
def _crc_case(ctx: Ctx) -> None:
    link = ctx.session()
    line = link.build("STATUS")
    lower = line[:-6] + line[-6:-2].lower() + b"\r\n"
    ok(link.send(lower), STIM=None)


@check("framing.bad_crc_not_executed")
def _bad_crc(ctx: Ctx) -> None:
    link = ctx.session()
    before = ctx.status().get("MRI")
    seq = link.seq
    good = link.build("MRI ON", seq=seq)
    wrong = (codec.crc16(good.split(b" *")[0]) ^ 0x5A5A) & 0xFFFF
    a = link.send(link.build("MRI ON", seq=seq, crc=wrong))
    err(a, "BAD_CRC")
    same_seq(a, seq)
    expect(ctx.status().get("MRI") == before, "MRI changed by a line with a bad CRC")
    # A refused line is not accepted: its SEQ is still free to use.
    link.seq = seq
    ok(link.req("STATUS"), STIM=None)


@check("framing.strict_needs_seq_and_crc")
def _strict_needs(ctx: Ctx) -> None:
    link = ctx.session()
    for line in (link.build("MRI ON", seq=None, crc=False), link.build("MRI ON", seq=None),
                 link.build("MRI ON", crc=False)):
        a = link.send(line)
        err(a, "BAD_SYNTAX", NEED="SEQ,CRC")
    expect(ctx.status().get("MRI") == "0", "a strict-mode line without SEQ or CRC was executed (MRI=1)")


@check("framing.plain_lines_when_not_strict")
def _plain(ctx: Ctx) -> None:
    link = ctx.session()
    ok(link.req("HELLO STRICT=0"), STRICT=0)
    a = link.send(b"STATUS\r\n")
    ok(a, STIM=None)
    same_seq(a, None)
    expect(bool(REPLY_LINE.match(a.raw)), f"reply to a plain line lacks its CRC: {a.raw!r}")
    ok(link.send(b"status\n"), STIM=None)


@check("framing.eol_and_blank_lines")
def _eol(ctx: Ctx) -> None:
    link = ctx.session()
    mark = link.mark()
    link.write(b"\r\n\n   \r\n")
    link.settle(0.1)
    replies = [i for i in link.incoming[mark:] if isinstance(i.msg, Reply)]
    expect(not replies, f"blank lines were answered: {replies[0].raw!r}" if replies else "")
    ok(link.send(link.build("STATUS", eol=b"\n")), STIM=None)


@check("framing.case_and_spaces")
def _case(ctx: Ctx) -> None:
    link = ctx.session()
    ok(link.req("status"), STIM=None)
    ok(link.req("stim   off"), STIM="OFF")
    ok(link.req("Batt"), BATT=None)
    ok(link.req("mri off"), MRI=0)
    err(link.req("read slot=99"), "OUT_OF_RANGE", KEY="SLOT", MIN=1, MAX=16)


@check("framing.non_printable")
def _non_printable(ctx: Ctx) -> None:
    link = ctx.session()
    for bad in (b"\x01", b"\xc3\xa9", b"\x7f", b"\t"):
        seq = link.next_seq()
        body = b"#%d MRI ON%s" % (seq, bad)
        line = body + b" *%04X\r\n" % codec.crc16(body)
        a = link.send(line)
        err(a, "BAD_SYNTAX")
        same_seq(a, seq)
    expect(ctx.status().get("MRI") == "0", "a line with a non-printable byte was executed")


@check("framing.too_long")
def _too_long(ctx: Ctx) -> None:
    link = ctx.session()
    seq = link.next_seq()
    head = f"#{seq} STATUS".encode()
    padded = head + b" " * (codec.MAX_REQUEST - len(head) - 6)
    exact = padded + b" *%04X" % codec.crc16(padded)
    expect(len(exact) == codec.MAX_REQUEST, "internal: 320-byte line")
    ok(link.send(exact + b"\r\n"), STIM=None)
    seq = link.next_seq()
    over = b"#%d MRI ON " % seq + b" " * 320
    over += b" *%04X" % codec.crc16(over)
    a = link.send(over + b"\r\n")
    err(a, "TOO_LONG")
    same_seq(a, None)
    mark = link.mark()
    big = b"#%d MRI ON " % link.next_seq() + b"X" * 3000 + b"\r\n"
    a = link.send(big)
    err(a, "TOO_LONG")
    link.settle(0.1)
    extra = [i.raw for i in link.incoming[mark:] if isinstance(i.msg, Reply)]
    expect(len(extra) == 1, f"a 3000-byte line got {len(extra)} replies, expected one ERR TOO_LONG")
    expect(ctx.status().get("MRI") == "0", "an overlong line was executed")


@check("framing.bad_syntax")
def _bad_syntax(ctx: Ctx) -> None:
    link = ctx.session()
    seq = link.seq
    a = link.req("AMP SET=")
    err(a, "BAD_SYNTAX")
    same_seq(a, seq)
    a = link.req("STATUS", seq=0)
    err(a, "BAD_SYNTAX")
    same_seq(a, None)
    err(link.req("AMP SET=1=2"), "BAD_SYNTAX")


@check("framing.unknown_verb")
def _unknown_verb(ctx: Ctx) -> None:
    link = ctx.session()
    err(link.req("FROB"), "UNKNOWN_VERB")
    err(link.req("STATUSX KEY=1"), "UNKNOWN_VERB")


@check("framing.one_reply_each_in_order")
def _pipelined(ctx: Ctx) -> None:
    link = ctx.session()
    lines = [link.build(t) for t in ("STATUS", "BATT", "FROB", "MRI OFF", "STATUS")]
    seqs = [int(line.split()[0][1:]) for line in lines]
    link.skip_pending_replies()
    mark = link.mark()
    link.write(b"".join(lines))
    got: list[int | None] = []
    deadline = time.monotonic() + 2.0
    while len(got) < len(lines) and time.monotonic() < deadline:
        nxt = link.next_reply(deadline - time.monotonic())
        if nxt is None:
            break
        assert isinstance(nxt[1].msg, Reply)
        got.append(nxt[1].msg.seq)
    link.settle(0.05)
    total = sum(1 for i in link.incoming[mark:] if isinstance(i.msg, Reply))
    expect(got == seqs and total == len(lines), f"5 pipelined requests {seqs} got replies {got} ({total} in all)")
