"""Emulator controls (skipped on a device that answers SIM with UNKNOWN_VERB): RESET, FAULT, BATT, CHARGE, SPEED."""

from __future__ import annotations

from ...engine import battery
from ..context import Check, Ctx, collector, read_log, sim_reset
from ..expect import HEX8, err, expect, ok
from ..link import Fail, Skip
from .hardening import own_device

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
    link, n = ctx.on_slot()
    _cathode, anode = ctx.fam.bipole_contacts()
    other = ctx.fam.contact(-1, 0)  # a contact the program does not use
    ok(link.req("STIM ON"))
    a = link.req(f"SIM FAULT=OPEN:{anode}")
    ok(a)
    fault = link.wait_event("FAULT", a.index, 1.0)
    expect(fault is not None and fault[1].get("CONTACT") == anode and fault[1].get("KIND") == "OPEN",
           f"SIM FAULT=OPEN:{anode} while stimulating through {anode} sent {fault[1] if fault else 'no !FAULT'}")
    assert fault is not None
    stop = link.wait_event("STIM", fault[0], 1.0)
    expect(stop is not None and stop[1].get("REASON") == "FAULT", "no !STIM STIM=OFF REASON=FAULT after !FAULT")
    z = ok(link.req("IMPEDANCE", timeout=1.0))
    expect(z.get(f"Z{anode}") == "OPEN", f"IMPEDANCE Z{anode}={z.get(f'Z{anode}')} with contact {anode} open")
    err(link.req("STIM ON"), "STATE", REASON="FAULT", CONTACT=anode)
    ok(link.req(f"SIM FAULT=SHORT:{other}"))
    expect(ok(link.req("IMPEDANCE", timeout=1.0)).get(f"Z{other}") == "SHORT",
           f"IMPEDANCE does not show Z{other}=SHORT")
    ok(link.req("SIM FAULT=NONE"))
    z = ok(link.req("IMPEDANCE", timeout=1.0))
    expect((z.get(f"Z{anode}") or "").isdigit() and (z.get(f"Z{other}") or "").isdigit(), f"SIM FAULT=NONE left {z}")
    ok(link.req("STIM ON"), STIM="ON")
    ctx.stim_off()


@check("sim.battery")
def _sim_batt(ctx: Ctx) -> None:
    ctx.need_sim()
    link, n = ctx.on_slot()
    cell = _cell(ctx)
    if cell.stop_state == battery.EOS:  # for good: a device of its own reaches it (sim.battery_eos)
        level = _permille(cell.warn_percent) - 10
        a = link.req(f"SIM BATT={level}")
        ok(a)
        ev = link.wait_event("BATT", a.index, 1.0)
        expect(ev is not None and ev[1].get("STATE") == cell.warn_state,
               f"SIM BATT={level} ({cell.chemistry}) sent no !BATT STATE={cell.warn_state}")
        _no_charger(ctx, cell)
        return
    ok(link.req("SIM BATT=900"))
    low = _permille(cell.warn_percent) - 50
    a = link.req(f"SIM BATT={low}")
    ok(a)
    ev = link.wait_event("BATT", a.index, 1.0)
    expect(ev is not None and ev[1].get("STATE") == cell.warn_state and ev[1].get("BATT") == str(low),
           f"SIM BATT={low} sent {ev[1] if ev else 'no event'}, expected !BATT STATE={cell.warn_state} BATT={low}")
    expect(ok(link.req("BATT")).get("STATE") == cell.warn_state, f"BATT STATE is not {cell.warn_state} at {low / 10:g} %")
    ok(link.req("STIM ON"))
    empty = _permille(cell.stop_percent) - 10
    a = link.req(f"SIM BATT={empty}")
    ok(a)
    ev = link.wait_event("BATT", a.index, 1.0)
    expect(ev is not None and ev[1].get("STATE") == cell.stop_state,
           f"SIM BATT={empty} sent no !BATT STATE={cell.stop_state}")
    assert ev is not None
    stop = link.wait_event("STIM", a.index, 1.0)
    expect(stop is not None and stop[1].get("REASON") == "BATTERY",
           f"no !STIM STIM=OFF REASON=BATTERY at {cell.stop_state}")
    err(link.req("STIM ON"), "STATE", REASON="BATTERY")
    # A Li-ion cell is charged back up; a trial stimulator's pack is replaced by a fresh one.
    fresh = 1000 if cell.replaceable else max(ctx.battery0 or 900, 100)
    ok(link.req(f"SIM BATT={fresh}"))
    expect(ok(link.req("BATT")).get("STATE") == battery.OK, "BATT STATE did not return to OK")
    ok(link.req("STIM ON"), STIM="ON")
    ctx.stim_off()
    _no_charger(ctx, cell)


@check("sim.battery_eos")
def _sim_eos(ctx: Ctx) -> None:
    ctx.need_sim()
    cell = _cell(ctx)
    if cell.stop_state != battery.EOS:
        raise Skip(f"the {ctx.fam.name}'s {cell.chemistry} cell has no end of service ({cell.stop_state} "
                   "instead: sim.battery)")
    with own_device(ctx, why="it ends the device's service for good") as own:
        link = own.link
        own.login()
        own.prog(1, ctx.plain())
        ok(link.req("SELECT SLOT=1"))
        ok(link.req("STIM ON"))
        level = _permille(cell.stop_percent) - 5
        a = link.req(f"SIM BATT={level}")
        ok(a)
        ev = link.wait_event("BATT", a.index, 1.0, where=lambda e: e.get("STATE") == cell.stop_state)
        expect(ev is not None, f"SIM BATT={level} sent no !BATT STATE={cell.stop_state}")
        stop = link.wait_event("STIM", a.index, 1.0)
        expect(stop is not None and stop[1].get("REASON") == "BATTERY", "no !STIM STIM=OFF REASON=BATTERY at EOS")
        err(link.req("STIM ON"), "STATE", REASON="BATTERY")
        ok(link.req("SIM BATT=1000"))
        expect(ok(link.req("BATT")).get("STATE") == battery.EOS, "EOS did not last: a higher level undid it")
        err(link.req("STIM ON"), "STATE", REASON="BATTERY")


def _cell(ctx: Ctx) -> battery.Cell:
    chem = ctx.chemistry.lower()
    if chem not in battery.CELLS:
        raise Fail(f"BATT CHEM={ctx.chemistry} is no chemistry the suite knows")
    return battery.cell(chem)


def _permille(percent: float) -> int:
    return round(percent * 10)


def _no_charger(ctx: Ctx, cell: battery.Cell) -> None:
    """A cell without a charger refuses SIM CHARGE=1 with ERR STATE."""
    if cell.rechargeable:
        return
    a = ctx.link.req("SIM CHARGE=1")
    if cell.chemistry == battery.PRIMARY:
        err(a, "STATE", REASON="PRIMARY")
    else:
        err(a, "STATE")


@check("sim.charger")
def _sim_charger(ctx: Ctx) -> None:
    ctx.need_sim()
    cell = _cell(ctx)
    if not cell.rechargeable:
        raise Skip(f"the {ctx.fam.name}'s {cell.chemistry} cell has no charger (SIM CHARGE=1 is refused: "
                   "sim.battery)")
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
