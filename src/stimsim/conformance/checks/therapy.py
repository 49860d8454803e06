"""Therapy on the wire: STIM, AMP (and its safety), MRI mode, TEST sessions and their lease."""

from __future__ import annotations

import time

from ...engine import params as P
from ...engine.params import Mode
from ..context import Check, Ctx, collector, density
from ..expect import err, expect, ok, ok_answer
from ..link import QUIET_S, Skip

CHECKS: list[Check] = []
check = collector(CHECKS)


@check("stim.on_off")
def _stim(ctx: Ctx) -> None:
    link, n = ctx.on_slot(patient=True)
    ok(link.req("STIM ON"), STIM="ON")
    ok(link.req("STIM ON"), STIM="ON")
    expect(ctx.status().get("STIM") == "ON", "STATUS does not show STIM=ON")
    ok(link.req("STIM OFF"), STIM="OFF")
    expect(ctx.status().get("STIM") == "OFF", "STATUS does not show STIM=OFF")
    err(link.req("STIM MAYBE"), "BAD_ARG")
    err(link.req("STIM"), "BAD_ARG")


@check("amp.set_and_step")
def _amp(ctx: Ctx) -> None:
    link, n = ctx.on_slot("MODE=TONIC AMP=3000 PW=200 RATE=50 ELEC=4:-100,5:+100 AMP_MIN=1000 AMP_MAX=4000", patient=True)
    ok(link.req("AMP SET=3500"), AMP=3500)
    ok(link.req("AMP STEP=+2"), AMP=3700)
    ok(link.req("AMP STEP=-1"), AMP=3600)
    expect(ctx.status().get("AMP") == "3600", "STATUS does not show the new amplitude")
    expect(ok(link.req(f"READ SLOT={n}")).get("AMP") == "3600", "the patient's amplitude did not persist in the slot")
    err(link.req("AMP SET=4100"), "LIMIT", KEY="AMP", MIN=1000, MAX=4000)
    err(link.req("AMP STEP=+5"), "LIMIT", KEY="AMP", MIN=1000, MAX=4000)
    err(link.req("AMP SET=900"), "LIMIT", KEY="AMP", MIN=1000, MAX=4000)
    amp = P.PARAMS[Mode.TONIC]["amplitude_ma"]
    err(link.req(f"AMP SET={amp.maximum + 1}"), "OUT_OF_RANGE", KEY="AMP", MIN=amp.minimum, MAX=amp.maximum)
    expect(ctx.status().get("AMP") == "3600", "a refused AMP changed the amplitude (no clamping allowed)")
    err(link.req("AMP"), "BAD_ARG")
    err(link.req("AMP SET=3000 STEP=+1"), "BAD_ARG")


@check("amp.safety")
def _amp_safety(ctx: Ctx) -> None:
    cap = P.CONTACT_CURRENT_MAX_UA
    link, n = ctx.on_slot(f"MODE=TONIC AMP={cap - 100} PW=40 RATE=50 ELEC=4:-100,CASE:+100", ack=True, patient=True)
    err(link.req("AMP STEP=+2"), "UNSAFE", RULE="CONTACT_CURRENT", CONTACT=4, MAX=cap)
    ctx.login()
    # A clinician-acknowledged program in the zone: the patient may go down and back up to
    # the clinician's amplitude, never above it.
    zone = density(ctx, 10000, 500, "4:-100,CASE:+100")
    expect(zone is not None and density(ctx, 10000, 500, "4:-100,CASE:+100") is not None, "internal: zone")
    ctx.prog(n, "MODE=TONIC AMP=10000 PW=500 RATE=50 ELEC=4:-100,CASE:+100", ack=True)
    ok(link.req("LOGOUT"))
    ok(link.req("AMP STEP=-1"), AMP=9900)
    ok(link.req("AMP STEP=+1"), AMP=10000)
    above = density(ctx, 10100, 500, "4:-100,CASE:+100")
    assert above is not None
    err(link.req("AMP STEP=+1"), "UNSAFE", RULE="CHARGE_DENSITY", CONTACT=above[0], K=above[1], D=above[2])
    expect(ctx.status().get("AMP") == "10000", "a refused AMP changed the amplitude")


@check("mri.mode")
def _mri(ctx: Ctx) -> None:
    link, n = ctx.on_slot(patient=True)
    ok(link.req("STIM ON"), STIM="ON")
    a = ok_answer(link.req("MRI ON"), MRI=1)
    ev = link.wait_event("STIM", a.index, 1.0)
    expect(ev is not None and ev[1].get("REASON") == "MRI" and ev[1].get("STIM") == "OFF",
           f"MRI ON while on sent {ev[1] if ev else 'no event'}, expected !STIM STIM=OFF REASON=MRI")
    st = ctx.status()
    expect(st.get("MRI") == "1" and st.get("STIM") == "OFF", f"STATUS in MRI mode: {st}")
    err(link.req("STIM ON"), "STATE", REASON="MRI")
    ctx.hello()  # a new session, any role, may end MRI mode
    ok(link.req("MRI OFF"), MRI=0)
    ok(link.req("STIM ON"), STIM="ON")
    ctx.stim_off()
    link.settle(QUIET_S)  # the STOP's own !STIM event
    mark = link.mark()
    ok(link.req("MRI ON"), MRI=1)
    link.settle(QUIET_S)
    expect(not link.events("STIM", mark), "MRI ON while off sent a !STIM event")
    ok(link.req("MRI OFF"), MRI=0)


# --- TEST -------------------------------------------------------------------------------------


@check("test.session")
def _test(ctx: Ctx) -> None:
    link, n = ctx.on_slot()
    saved = ok(link.req(f"READ SLOT={n}")).args
    ok(link.req("TEST MODE=TONIC AMP=4200 PW=250 RATE=70 ELEC=4:-100,6:+100"), TEST="ON")
    st = ctx.status()
    expect(st.get("TEST") == "1" and st.get("AMP") == "4200", f"STATUS while testing: {st}")
    expect(ok(link.req(f"READ SLOT={n}")).args == saved, "READ during TEST does not show the saved slot")
    ok(link.req("AMP STEP=+1"), AMP=4300)
    expect(ok(link.req(f"READ SLOT={n}")).args == saved, "AMP during TEST changed the saved slot")
    err(link.req(f"SELECT SLOT={n}"), "STATE", REASON="TEST")
    err(link.req(f"ERASE SLOT={n}"), "STATE", REASON="TEST")
    a = link.req("TEST END")
    ok(a, TEST="OFF")
    ev = link.wait_event("TEST", a.index, 1.0)
    expect(ev is not None and ev[1].get("TEST") == "OFF" and ev[1].get("REASON") == "END",
           f"TEST END sent {ev[1] if ev else 'no event'}, expected !TEST TEST=OFF REASON=END")
    st = ctx.status()
    expect(st.get("TEST") == "0" and st.get("AMP") == "3000", f"STATUS after TEST END: {st}")
    mark = link.mark()
    ok(link.req("TEST END"), TEST="OFF")
    link.settle(QUIET_S)
    expect(not link.events("TEST", mark), "TEST END with no test sent a !TEST event")


@check("test.validation")
def _test_validation(ctx: Ctx) -> None:
    link, n = ctx.on_slot()
    err(link.req("TEST SLOT=1 MODE=TONIC AMP=3000 PW=200 RATE=50 ELEC=4:-100,5:+100"), "BAD_ARG", KEY="SLOT")
    pw = P.PARAMS[Mode.TONIC]["pulse_width_us"]
    err(link.req(f"TEST MODE=TONIC AMP=3000 PW={pw.maximum + 1} RATE=50 ELEC=4:-100,5:+100"), "OUT_OF_RANGE",
        KEY="PW", MIN=pw.minimum, MAX=pw.maximum)
    zone = density(ctx, 10000, 500, "4:-100,CASE:+100")
    assert zone is not None
    err(link.req("TEST MODE=TONIC AMP=10000 PW=500 RATE=50 ELEC=4:-100,CASE:+100"), "UNSAFE",
        RULE="CHARGE_DENSITY", CONTACT=zone[0], K=zone[1], D=zone[2])
    expect(ctx.status().get("TEST") == "0", "a refused TEST started a test")


@check("test.ends_on_logout_and_hello")
def _test_ends(ctx: Ctx) -> None:
    link, n = ctx.on_slot()
    for ender, reason in (("LOGOUT", "LOGOUT"), ("HELLO STRICT=1", "HELLO")):
        ok(link.req("TEST MODE=TONIC AMP=3300 PW=200 RATE=50 ELEC=4:-100,5:+100"), TEST="ON")
        a = link.req(ender)
        ok(a)
        if ender.startswith("HELLO"):
            link.seq = int(a.reply.get("NEXT") or "1")
        ev = link.wait_event("TEST", a.index, 1.0)
        expect(ev is not None and ev[1].get("REASON") == reason,
               f"{ender} during TEST sent {ev[1] if ev else 'no event'}, expected !TEST TEST=OFF REASON={reason}")
        st = ctx.status()
        expect(st.get("TEST") == "0" and st.get("AMP") == "3000", f"STATUS after {ender}: {st}")
        ctx.login()


@check("test.lease_timeout")
def _lease(ctx: Ctx) -> None:
    if ctx.quick:
        raise Skip("--quick: the 10 s lease is not waited for")
    link, n = ctx.on_slot()
    a = link.req("TEST MODE=TONIC AMP=3300 PW=200 RATE=50 ELEC=4:-100,5:+100")
    ok(a, TEST="ON")
    t0 = time.monotonic()
    early = link.wait_event("TEST", a.index, 9.0)
    expect(early is None, f"the TEST ended after {time.monotonic() - t0:.1f} s, before the 10 s lease")
    ev = link.wait_event("TEST", a.index, 3.0)
    took = time.monotonic() - t0
    expect(ev is not None and ev[1].get("REASON") == "TIMEOUT",
           f"no !TEST TEST=OFF REASON=TIMEOUT within {took:.1f} s of silence")
    expect(ctx.status().get("TEST") == "0", "STATUS still shows TEST=1 after the lease ran out")
