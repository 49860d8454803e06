"""Therapy on the wire: STIM, AMP (and its safety), MRI mode, TEST sessions and their lease."""

from __future__ import annotations

import time
from collections.abc import Sequence

from ...engine import params as P
from ...protocol.codec import ArgPair
from ..context import Check, Ctx, collector, density, zone_program
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
    f = ctx.fam
    lo, hi = f.value("amplitude_ma", 1000), f.value("amplitude_ma", 4000)
    link, n = ctx.on_slot(f"{ctx.plain()} AMP_MIN={lo} AMP_MAX={hi}", patient=True)
    amp = f.value("amplitude_ma", 3500)
    ok(link.req(f"AMP SET={amp}"), AMP=amp)
    amp = f.amp_after_steps(amp, 2)
    ok(link.req("AMP STEP=+2"), AMP=amp)
    amp = f.amp_after_steps(amp, -1)
    ok(link.req("AMP STEP=-1"), AMP=amp)
    expect(ctx.status().get("AMP") == str(amp), "STATUS does not show the new amplitude")
    expect(ok(link.req(f"READ SLOT={n}")).get("AMP") == str(amp), "the patient's amplitude did not persist in the slot")
    err(link.req(f"AMP SET={f.amp_after_steps(hi, 1)}"), "LIMIT", KEY="AMP", MIN=lo, MAX=hi)
    err(link.req(f"AMP STEP=+{f.steps_beyond(amp, hi)}"), "LIMIT", KEY="AMP", MIN=lo, MAX=hi)
    err(link.req(f"AMP SET={f.amp_after_steps(lo, -1)}"), "LIMIT", KEY="AMP", MIN=lo, MAX=hi)
    spec = f.param("amplitude_ma")
    err(link.req(f"AMP SET={spec.maximum + 1}"), "OUT_OF_RANGE", KEY="AMP", MIN=spec.minimum, MAX=spec.maximum)
    expect(ctx.status().get("AMP") == str(amp), "a refused AMP changed the amplitude (no clamping allowed)")
    err(link.req("AMP"), "BAD_ARG")
    err(link.req(f"AMP SET={amp} STEP=+1"), "BAD_ARG")


@check("amp.unsafe_contact_current")
def _amp_contact_current(ctx: Ctx) -> None:
    f = ctx.fam
    cap = P.CONTACT_CURRENT_MAX_UA
    top = f.param("amplitude_ma").maximum
    if top <= cap:
        raise Skip(f"the {f.name}'s amplitude (at most {top} uA) cannot reach the {cap} uA per-contact interlock")
    cathode, elec = f.single_cathode()
    amp = cap - 100
    link, n = ctx.on_slot(f.program(AMP=amp, PW=f.value("pulse_width_us", 40), elec=elec), ack=True, patient=True)
    err(link.req(f"AMP STEP=+{f.steps_beyond(amp, cap)}"), "UNSAFE", RULE="CONTACT_CURRENT", CONTACT=cathode,
        MAX=cap)
    expect(ctx.status().get("AMP") == str(amp), "a refused AMP changed the amplitude")


@check("amp.unsafe_charge_density")
def _amp_density(ctx: Ctx) -> None:
    # A clinician-acknowledged program in the zone: the patient may go down and back up to
    # the clinician's amplitude, never above it.
    f = ctx.fam
    amp, pw, elec, _zone = zone_program(ctx)
    link, n = ctx.on_slot(f.program(AMP=amp, PW=pw, elec=elec), ack=True, patient=True)
    ok(link.req("AMP STEP=-1"), AMP=f.amp_after_steps(amp, -1))
    ok(link.req("AMP STEP=+1"), AMP=amp)
    above = density(ctx, f.amp_after_steps(amp, 1), pw, elec)
    assert above is not None
    err(link.req("AMP STEP=+1"), "UNSAFE", RULE="CHARGE_DENSITY", CONTACT=above[0], K=above[1], D=above[2])
    expect(ctx.status().get("AMP") == str(amp), "a refused AMP changed the amplitude")


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
    f = ctx.fam
    amp = f.value("amplitude_ma", 4200)
    trial = f.program(AMP=amp, PW=f.value("pulse_width_us", 250), RATE=f.value("rate_hz", 70), elec=f.bipole(0, 2))
    ok(link.req(f"TEST {trial}"), TEST="ON")
    st = ctx.status()
    expect(st.get("TEST") == "1" and st.get("AMP") == str(amp), f"STATUS while testing: {st}")
    expect(ok(link.req(f"READ SLOT={n}")).args == saved, "READ during TEST does not show the saved slot")
    ok(link.req("AMP STEP=+1"), AMP=f.amp_after_steps(amp, 1))
    expect(ok(link.req(f"READ SLOT={n}")).args == saved, "AMP during TEST changed the saved slot")
    err(link.req(f"SELECT SLOT={n}"), "STATE", REASON="TEST")
    err(link.req(f"ERASE SLOT={n}"), "STATE", REASON="TEST")
    a = link.req("TEST END")
    ok(a, TEST="OFF")
    ev = link.wait_event("TEST", a.index, 1.0)
    expect(ev is not None and ev[1].get("TEST") == "OFF" and ev[1].get("REASON") == "END",
           f"TEST END sent {ev[1] if ev else 'no event'}, expected !TEST TEST=OFF REASON=END")
    st = ctx.status()
    expect(st.get("TEST") == "0" and st.get("AMP") == saved_amp(saved), f"STATUS after TEST END: {st}")
    mark = link.mark()
    ok(link.req("TEST END"), TEST="OFF")
    link.settle(QUIET_S)
    expect(not link.events("TEST", mark), "TEST END with no test sent a !TEST event")


@check("test.validation")
def _test_validation(ctx: Ctx) -> None:
    link, n = ctx.on_slot()
    f = ctx.fam
    err(link.req(f"TEST SLOT=1 {ctx.plain()}"), "BAD_ARG", KEY="SLOT")
    pw = f.param("pulse_width_us")
    err(link.req(f"TEST {f.program(PW=pw.maximum + 1)}"), "OUT_OF_RANGE", KEY="PW", MIN=pw.minimum, MAX=pw.maximum)
    amp, width, elec, zone = zone_program(ctx)
    err(link.req(f"TEST {f.program(AMP=amp, PW=width, elec=elec)}"), "UNSAFE",
        RULE="CHARGE_DENSITY", CONTACT=zone[0], K=zone[1], D=zone[2])
    expect(ctx.status().get("TEST") == "0", "a refused TEST started a test")


@check("test.ends_on_logout_and_hello")
def _test_ends(ctx: Ctx) -> None:
    link, n = ctx.on_slot()
    saved = saved_amp(ok(link.req(f"READ SLOT={n}")).args)
    trial = ctx.fam.program(AMP=ctx.fam.value("amplitude_ma", 3300), PW=ctx.fam.value("pulse_width_us", 200))
    for ender, reason in (("LOGOUT", "LOGOUT"), ("HELLO STRICT=1", "HELLO")):
        ok(link.req(f"TEST {trial}"), TEST="ON")
        a = link.req(ender)
        ok(a)
        if ender.startswith("HELLO"):
            link.seq = int(a.reply.get("NEXT") or "1")
        ev = link.wait_event("TEST", a.index, 1.0)
        expect(ev is not None and ev[1].get("REASON") == reason,
               f"{ender} during TEST sent {ev[1] if ev else 'no event'}, expected !TEST TEST=OFF REASON={reason}")
        st = ctx.status()
        expect(st.get("TEST") == "0" and st.get("AMP") == saved, f"STATUS after {ender}: {st}")
        ctx.login()


@check("test.lease_timeout")
def _lease(ctx: Ctx) -> None:
    if ctx.quick:
        raise Skip("--quick: the 10 s lease is not waited for")
    link, n = ctx.on_slot()
    a = link.req(f"TEST {ctx.fam.program(AMP=ctx.fam.value('amplitude_ma', 3300))}")
    ok(a, TEST="ON")
    t0 = time.monotonic()
    early = link.wait_event("TEST", a.index, 9.0)
    expect(early is None, f"the TEST ended after {time.monotonic() - t0:.1f} s, before the 10 s lease")
    ev = link.wait_event("TEST", a.index, 3.0)
    took = time.monotonic() - t0
    expect(ev is not None and ev[1].get("REASON") == "TIMEOUT",
           f"no !TEST TEST=OFF REASON=TIMEOUT within {took:.1f} s of silence")
    expect(ctx.status().get("TEST") == "0", "STATUS still shows TEST=1 after the lease ran out")


def saved_amp(args: Sequence[ArgPair]) -> str:
    """The AMP= of a READ reply's arguments."""
    return next((value for key, value in args if key == "AMP"), "")
