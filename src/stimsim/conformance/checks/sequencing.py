"""Sequencing: STALE, the SEQ window and its wrap, resends answered from the cache, STOP in any form, error precedence."""

from __future__ import annotations

from ...protocol import codec
from ...protocol import limits as L
from ..context import Check, Ctx, collector
from ..expect import err, expect, ok, same_seq
from ..link import QUIET_S

CHECKS: list[Check] = []
check = collector(CHECKS)


@check("seq.stale")
def _stale(ctx: Ctx) -> None:
    link = ctx.session()
    ok(link.req("STATUS"))
    last = link.seq - 1
    a = link.req("MRI ON", seq=last)
    err(a, "STALE")
    same_seq(a, last)
    expect(ctx.status().get("MRI") == "0", "a STALE request was executed")
    err(link.req("MRI ON", seq=last - 5 if last > 5 else 65530), "STALE")


@check("seq.window")
def _window(ctx: Ctx) -> None:
    link = ctx.session()
    ok(link.req("STATUS"))
    last = link.seq - 1
    far = (last - 1 + L.SEQ_WINDOW + 1) % L.SEQ_MAX + 1
    err(link.req("STATUS", seq=far), "STALE")
    edge = (last - 1 + L.SEQ_WINDOW) % L.SEQ_MAX + 1
    ok(link.req("STATUS", seq=edge))
    link.seq = codec.seq_next(edge)
    ok(link.req("STATUS"))


@check("seq.wraps_after_65535")
def _wrap(ctx: Ctx) -> None:
    link = ctx.session()
    seq = link.seq
    while codec.seq_ahead(65535, seq) > 1000:
        seq = (seq - 1 + 1000) % 65535 + 1
        ok(link.req("STATUS", seq=seq))
    ok(link.req("STATUS", seq=65535))
    a = link.req("STATUS", seq=1)
    ok(a)
    same_seq(a, 1)
    link.seq = 2
    ok(link.req("STATUS"))
    info = ctx.hello()
    expect(info.get("NEXT") == str(link.seq), f"HELLO NEXT={info.get('NEXT')} after the wrap")


@check("seq.resend_answered_from_cache")
def _resend(ctx: Ctx) -> None:
    link, a_slot = ctx.on_slot()
    amp0 = int(ctx.status().get("AMP") or "0")
    line = link.build("AMP STEP=+1")
    first = link.send(line)
    amp1 = ctx.fam.amp_after_steps(amp0, 1)
    ok(first, AMP=amp1)
    again = link.send(line)
    expect(again.raw == first.raw, f"resend answered {again.raw!r}, first answer was {first.raw!r}")
    expect(ctx.status().get("AMP") == str(amp1), "a byte-identical resend was executed again")
    # In any mode: also without strict.
    ok(link.req("HELLO STRICT=0"), STRICT=0)
    line = link.build("AMP STEP=+1")
    first = link.send(line)
    again = link.send(line)
    expect(again.raw == first.raw, "non-strict resend was not answered from the cache")
    a = link.send(link.build("STATUS", seq=None))
    expect(a.reply.get("AMP") == str(ctx.fam.amp_after_steps(amp1, 1)), "non-strict resend was executed again")


@check("seq.resend_with_crc_in_other_case")
def _resend_crc_case(ctx: Ctx) -> None:
    link = ctx.session()
    for _ in range(40):  # a SEQ whose CRC has a hex letter
        line = link.build("MRI OFF")
        body, crc = line.rstrip(b"\r\n").rsplit(b"*", 1)
        first = link.send(line)
        ok(first, MRI=0)
        if crc.lower() != crc:
            break
    again = link.send(body + b"*" + crc.lower() + b"\r\n")
    expect(again.raw == first.raw,
           f"a resend differing only in the CRC's letter case got {again.raw!r}, not the remembered reply")


@check("seq.refusals_are_remembered")
def _refusal_cached(ctx: Ctx) -> None:
    link = ctx.session()
    line = link.build("AMP SET=99999")
    first = link.send(line)
    expect(not first.reply.ok, "AMP SET=99999 was accepted")
    again = link.send(line)
    expect(again.raw == first.raw, "an ERR reply was not remembered for a resend")
    last = int(line.split()[0][1:])
    err(link.req("FROB", seq=last), "STALE")


@check("seq.remembers_last_8")
def _depth(ctx: Ctx) -> None:
    link = ctx.session()
    lines = [link.build("STATUS") for _ in range(9)]
    answers = [link.send(line) for line in lines]
    again = link.send(lines[1])
    expect(again.raw == answers[1].raw, "the 8th-last request was not answered from the cache")
    err(link.send(lines[0]), "STALE")
    err(link.req("BATT", seq=int(lines[8].split()[0][1:])), "STALE")


@check("seq.hello_never_stale")
def _hello_stale(ctx: Ctx) -> None:
    link = ctx.session()
    ok(link.req("STATUS"))
    nxt = link.seq
    old = (nxt - 1 - 3000) % 65535 + 1
    reply = ok(link.req("HELLO STRICT=1", seq=old), NEXT=nxt)
    expect(reply.get("NEXT") == str(nxt), "a HELLO with an old SEQ moved NEXT")
    ahead = (nxt - 1 + 10) % 65535 + 1
    ok(link.req("HELLO STRICT=1", seq=ahead), NEXT=codec.seq_next(ahead))
    link.seq = codec.seq_next(ahead)
    ok(link.req("STATUS"))


# --- STOP -------------------------------------------------------------------------------------


@check("stop.any_form")
def _stop_forms(ctx: Ctx) -> None:
    link = ctx.session()
    ok(link.send(b"STOP\r\n"), STIM="OFF")
    ok(link.req("STOP", seq=None), STIM="OFF")
    ok(link.req("STOP", crc=0x0000 if codec.crc16(b"STOP") else 1, seq=None), STIM="OFF")
    ok(link.req("STATUS"))
    nxt = link.seq
    stale = (nxt - 1 - 2) % 65535 + 1
    ok(link.req("STOP", seq=stale), STIM="OFF")
    ok(link.req("STOP", seq=nxt, crc=(codec.crc16(b"#%d STOP" % nxt) ^ 1)), STIM="OFF")
    link.seq = nxt
    ok(link.req("STATUS"))  # neither the stale nor the damaged STOP took SEQ nxt


@check("stop.while_stimulating")
def _stop_event(ctx: Ctx) -> None:
    link, a_slot = ctx.on_slot()
    ok(link.req("STIM ON"), STIM="ON")
    link.settle(0.02)
    mark = link.mark()
    a = link.send(link.build("STOP", seq=None))
    ok(a, STIM="OFF")
    ev = link.wait_event("STIM", mark, 1.0)
    expect(ev is None or ev[0] > a.index, "the !STIM event came before the reply to STOP")
    expect(ev is not None, "no !STIM event after STOP while stimulating")
    assert ev is not None
    expect(ev[1].get("STIM") == "OFF" and ev[1].get("REASON") == "STOP", f"event {ev[1]}, expected "
                                                                          "!STIM STIM=OFF REASON=STOP")
    mark = link.mark()
    ok(link.req("STOP", seq=None), STIM="OFF")
    link.settle(QUIET_S)
    expect(not link.events("STIM", mark), "STOP while off sent a !STIM event")


# --- error precedence -------------------------------------------------------------------------


@check("errors.precedence")
def _precedence(ctx: Ctx) -> None:
    link = ctx.session()
    ok(link.req("STATUS"))
    last = link.seq - 1
    err(link.req("FROB", seq=last), "STALE")
    err(link.req("FROB", seq=last, crc=codec.crc16(b"#%d FROB" % last) ^ 0x10), "BAD_CRC")
    err(link.req("FROB X=1"), "UNKNOWN_VERB")
    err(link.req("PROG SLOT=99 FOO=1"), "DENIED", NEED="CLINICIAN")
    ctx.login()
    f = ctx.fam
    elec = f.bipole(0, 0)
    err(link.req(f"PROG SLOT=99 FOO=1 {f.program(AMP=1, elec=elec)}"), "BAD_ARG", KEY="FOO")
    amp, pw = f.param("amplitude_ma"), f.param("pulse_width_us")
    err(link.req(f"PROG SLOT=99 {f.program(AMP=amp.maximum + 10_000, PW=pw.maximum * 5, elec=elec)}"),
        "OUT_OF_RANGE")
    # The range comes before safety: the top amplitude on one contact breaks the interlock (or,
    # where the range cannot reach it, needs the charge-density acknowledgement).
    err(link.req(f"PROG SLOT=1 {f.program(AMP=amp.maximum, PW=pw.maximum * 5, elec=elec)}"), "OUT_OF_RANGE",
        KEY="PW")
