"""Emulator controls (skipped on a device that answers SIM with UNKNOWN_VERB): RESET, FAULT, BATT, CHARGE, SPEED."""

from __future__ import annotations

from ..context import Check, Ctx, collector, read_log, sim_reset
from ..expect import HEX8, err, expect, ok
from ..link import Skip

CHECKS: list[Check] = []
check = collector(CHECKS)


@check("sim.reset")
def _sim_reset(ctx: Ctx) -> None:
    ctx.need_sim()
    link, n = ctx.on_slot()
    ok(link.req("STIM ON"))
    old_boot = ctx.hello().get("BOOT")
    ctx.login()
    _, top_entries = read_log(link)
    top = max((int(e.get("I") or "0") for e in top_entries), default=0)
    slot_before = ok(link.req(f"READ SLOT={n}")).args
    _a, boot = sim_reset(ctx)
    new_boot = boot.get("BOOT") or ""
    expect(bool(HEX8.match(new_boot)) and new_boot != old_boot, f"!BOOT BOOT={new_boot} (old {old_boot})")
    expect(boot.get("FW") is not None, f"{boot} lacks FW=")
    # RAM state is gone: strict mode off, any SEQ, role PATIENT, stimulation off.
    a = link.send(b"STATUS\r\n")
    st = ok(a)
    expect(st.get("ROLE") == "PATIENT" and st.get("STIM") == "OFF" and st.get("SLOT") == str(n),
           f"STATUS after reset: {st} (expected ROLE=PATIENT STIM=OFF SLOT={n})")
    ok(link.req("STATUS", seq=40000))
    reply = ctx.hello()
    expect(reply.get("BOOT") == new_boot, "HELLO BOOT differs from the !BOOT id")
    expect(ok(link.req(f"READ SLOT={n}")).args == slot_before, "the slot did not survive the reset")
    ctx.login()
    _, after = read_log(link, f"LOG FROM={top + 1}")
    expect(bool(after) and int(after[0].get("I") or "0") == top + 1, "the log numbering did not continue")


@check("sim.fault")
def _sim_fault(ctx: Ctx) -> None:
    ctx.need_sim()
    link, n = ctx.on_slot("MODE=TONIC AMP=3000 PW=200 RATE=50 ELEC=4:-100,5:+100")
    ok(link.req("STIM ON"))
    a = link.req("SIM FAULT=OPEN:5")
    ok(a)
    fault = link.wait_event("FAULT", a.index, 1.0)
    expect(fault is not None and fault[1].get("CONTACT") == "5" and fault[1].get("KIND") == "OPEN",
           f"SIM FAULT=OPEN:5 while stimulating through 5 sent {fault[1] if fault else 'no !FAULT'}")
    assert fault is not None
    stop = link.wait_event("STIM", fault[0], 1.0)
    expect(stop is not None and stop[1].get("REASON") == "FAULT", "no !STIM STIM=OFF REASON=FAULT after !FAULT")
    z = ok(link.req("IMPEDANCE", timeout=1.0))
    expect(z.get("Z5") == "OPEN", f"IMPEDANCE Z5={z.get('Z5')} with contact 5 open")
    err(link.req("STIM ON"), "STATE", REASON="FAULT", CONTACT=5)
    ok(link.req("SIM FAULT=SHORT:9"))
    expect(ok(link.req("IMPEDANCE", timeout=1.0)).get("Z9") == "SHORT", "IMPEDANCE does not show Z9=SHORT")
    ok(link.req("SIM FAULT=NONE"))
    z = ok(link.req("IMPEDANCE", timeout=1.0))
    expect((z.get("Z5") or "").isdigit() and (z.get("Z9") or "").isdigit(), f"SIM FAULT=NONE left {z}")
    ok(link.req("STIM ON"), STIM="ON")
    ctx.stim_off()


@check("sim.battery")
def _sim_batt(ctx: Ctx) -> None:
    ctx.need_sim()
    link, n = ctx.on_slot()
    if ctx.chemistry != "LIION":
        a = link.req("SIM BATT=90")
        ok(a)
        ev = link.wait_event("BATT", a.index, 1.0)
        expect(ev is not None and ev[1].get("STATE") == "ERI", "SIM BATT=90 (primary) sent no !BATT STATE=ERI")
        err(link.req("SIM CHARGE=1"), "STATE", REASON="PRIMARY")
        return
    ok(link.req("SIM BATT=900"))
    a = link.req("SIM BATT=150")
    ok(a)
    ev = link.wait_event("BATT", a.index, 1.0)
    expect(ev is not None and ev[1].get("STATE") == "LOW" and ev[1].get("BATT") == "150",
           f"SIM BATT=150 sent {ev[1] if ev else 'no event'}, expected !BATT STATE=LOW BATT=150")
    expect(ok(link.req("BATT")).get("STATE") == "LOW", "BATT STATE is not LOW at 15 %")
    ok(link.req("STIM ON"))
    a = link.req("SIM BATT=40")
    ok(a)
    ev = link.wait_event("BATT", a.index, 1.0)
    expect(ev is not None and ev[1].get("STATE") == "EMPTY", "SIM BATT=40 sent no !BATT STATE=EMPTY")
    assert ev is not None
    stop = link.wait_event("STIM", a.index, 1.0)
    expect(stop is not None and stop[1].get("REASON") == "BATTERY", "no !STIM STIM=OFF REASON=BATTERY at EMPTY")
    err(link.req("STIM ON"), "STATE", REASON="BATTERY")
    ok(link.req(f"SIM BATT={max(ctx.battery0 or 900, 100)}"))
    expect(ok(link.req("BATT")).get("STATE") == "OK", "BATT STATE did not return to OK")
    ok(link.req("STIM ON"), STIM="ON")
    ctx.stim_off()


@check("sim.charger")
def _sim_charger(ctx: Ctx) -> None:
    ctx.need_sim()
    if ctx.chemistry != "LIION":
        raise Skip("a primary cell has no charger")
    link = ctx.session()
    ok(link.req("SIM BATT=500"))
    steps = [("SIM CHARGE=1", "ON"), ("SIM FAULT=HOT", "HOT"), ("SIM FAULT=NONE", "ON"), ("SIM CHARGE=0", "OFF")]
    for text, state in steps:
        a = link.req(text)
        ok(a)
        ev = link.wait_event("CHARGE", a.index, 1.0)
        expect(ev is not None and ev[1].get("STATE") == state,
               f"{text} sent {ev[1] if ev else 'no event'}, expected !CHARGE STATE={state}")
        if text == "SIM CHARGE=1":
            expect(ctx.status().get("CHG") == "1", "STATUS CHG is not 1 while charging")
        if text == "SIM FAULT=HOT":
            expect(ctx.status().get("CHG") == "0", "STATUS CHG is still 1 with the charger hot")
    if ctx.battery0 is not None:
        ok(link.req(f"SIM BATT={ctx.battery0}"))


@check("sim.speed_range")
def _sim_speed(ctx: Ctx) -> None:
    ctx.need_sim()
    link = ctx.session()
    for value in ("0.01", "200000"):
        err(link.req(f"SIM SPEED={value}"), "OUT_OF_RANGE", KEY="SPEED", MIN="0.1", MAX="100000")
    err(link.req("SIM FAULT=BURNT"), "BAD_ARG", KEY="FAULT")
