"""Reports: STATUS, BATT, IMPEDANCE, CONFIG and the audit LOG."""

from __future__ import annotations

import re

from ...engine import battery
from ...engine import params as P
from ..context import Check, Ctx, collector, read_log
from ..expect import err, expect, keys_of, ok, ok_answer
from ..link import IMPEDANCE_LIMIT_S

CHECKS: list[Check] = []
check = collector(CHECKS)


@check("status.reply")
def _status(ctx: Ctx) -> None:
    ctx.session()
    reply = ctx.status()
    want = ["STIM", "SLOT", "AMP", "BATT", "CHG", "ROLE", "COMPLIANCE", "MRI", "TEST"]
    expect(keys_of(reply) == want, f"STATUS keys {keys_of(reply)}, expected {want}")
    v = reply.as_dict()
    expect(v["STIM"] in ("ON", "OFF") and v["CHG"] in ("0", "1") and v["MRI"] in ("0", "1")
           and v["TEST"] in ("0", "1") and v["COMPLIANCE"] in ("OK", "LIMITED")
           and v["ROLE"] in ("PATIENT", "CLINICIAN"), f"STATUS values out of their sets: {reply}")
    expect(1 <= int(v["SLOT"]) <= 16 and v["AMP"].isdigit() and 0 <= int(v["BATT"]) <= 1000,
           f"STATUS numbers out of range: {reply}")


@check("batt.reply")
def _batt(ctx: Ctx) -> None:
    link = ctx.session()
    reply = ok(link.req("BATT"))
    want = ["BATT", "VBAT_MV", "CHEM", "CHG", "STATE", "EST_H"]
    expect(keys_of(reply) == want, f"BATT keys {keys_of(reply)}, expected {want}")
    v = reply.as_dict()
    permille = int(v["BATT"])
    expect(0 <= permille <= 1000 and v["VBAT_MV"].isdigit(), f"BATT numbers: {reply}")
    chemistries = [c.upper() for c in ctx.fam.spec.chemistries]
    expect(v["CHEM"] in chemistries, f"CHEM={v['CHEM']}, expected {' or '.join(chemistries)} on the {ctx.fam.name}")
    expect(re.fullmatch(r"[0-9]+\.[0-9]", v["EST_H"]) is not None, f"EST_H={v['EST_H']} is not hours with 1 decimal")
    cell = battery.cell(v["CHEM"].lower())
    allowed = {battery.OK, cell.warn_state, cell.stop_state}
    expect(v["STATE"] in allowed, f"STATE={v['STATE']} for {v['CHEM']} (expected one of {', '.join(sorted(allowed))})")


@check("impedance.reply")
def _impedance(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    a = link.req("IMPEDANCE", timeout=1.0)
    reply = ok(a)
    want = [f"Z{c.upper()}" for c in ctx.fam.spec.contacts]
    expect(keys_of(reply) == want, f"IMPEDANCE keys {keys_of(reply)}, expected {' '.join(want)} on the "
                                   f"{ctx.fam.name}" + ("" if ctx.fam.has_case else " (no case, no ZCASE)"))
    for key, value in reply.as_dict().items():
        expect(value.isdigit() or value in ("OPEN", "SHORT"), f"{key}={value} is neither ohms nor OPEN/SHORT")
    expect(a.latency <= IMPEDANCE_LIMIT_S, f"IMPEDANCE took {a.latency * 1000:.0f} ms (at most 500)")


@check("config")
def _config(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    ok(link.req("CONFIG IMPEDANCE_DEFAULT=300"), IMPEDANCE_DEFAULT=300)
    z = ok(link.req("IMPEDANCE", timeout=1.0)).as_dict()
    lead = [v for k, v in z.items() if k != "ZCASE" and v.isdigit()]
    expect(all(v == "300" for v in lead), f"IMPEDANCE after IMPEDANCE_DEFAULT=300: {z}")
    if ctx.fam.has_case:
        expect(z.get("ZCASE") == str(int(P.CASE_IMPEDANCE_OHM)), f"ZCASE={z.get('ZCASE')} changed with the lead default")
    for value in (49, 4001):
        err(link.req(f"CONFIG IMPEDANCE_DEFAULT={value}"), "OUT_OF_RANGE", KEY="IMPEDANCE_DEFAULT", MIN=50, MAX=4000)
    for pin in ("123", "123456789", "12a4"):
        err(link.req(f"CONFIG PIN={pin}"), "BAD_ARG", KEY="PIN")
    if ctx.impedance_default0 is not None:
        ok(link.req(f"CONFIG IMPEDANCE_DEFAULT={ctx.impedance_default0}"))
    # A new PIN works at once and is never echoed; then the old one is put back.
    new_pin = "24680" if ctx.pin != "24680" else "13579"
    a = ok_answer(link.req(f"CONFIG PIN={new_pin}"), IMPEDANCE_DEFAULT=None)
    expect(new_pin.encode() not in a.raw, "CONFIG echoed the PIN")
    old = ctx.pin
    ctx.pin = new_pin
    try:
        ctx.hello()
        ctx.login()
    finally:
        ctx.pin = old
    ok(link.req(f"CONFIG PIN={old}"))
    ctx.hello()
    ctx.login()


@check("log.audit")
def _audit(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    _, entries = read_log(link)
    top = max((int(e.get("I") or "0") for e in entries), default=0)
    for e in entries:
        expect(keys_of(e)[:4] == ["I", "T_MS", "ROLE", "WHAT"], f"log entry {e} lacks I= T_MS= ROLE= WHAT=")
    ids = [int(e.get("I") or "0") for e in entries]
    expect(ids == sorted(ids) and len(set(ids)) == len(ids), f"log entries are not oldest first: {ids}")
    expect(len(entries) <= 64, f"{len(entries)} entries (the ring holds 64)")
    ctx.prog(n)
    ok(link.req(f"SELECT SLOT={n}"))
    ok(link.req("STIM ON"))
    ok(link.req("AMP STEP=+1"))
    ok(link.req("STOP", seq=None))
    ok(link.req("MRI ON"))
    ok(link.req("MRI OFF"))
    ok(link.req("CONFIG IMPEDANCE_DEFAULT=" + str(ctx.impedance_default0 or int(P.CONTACT_IMPEDANCE_OHM))))
    ok(link.req(f"TEST {ctx.fam.program(AMP=ctx.fam.value('amplitude_ma', 3100), PW=ctx.fam.value('pulse_width_us', 200))}"))
    ok(link.req("TEST END"))
    ok(link.req("LOGOUT"))
    ctx.login()
    ok(link.req("STATUS"))  # reads are not logged
    _, new = read_log(link, f"LOG FROM={top + 1}")
    whats = [(e.get("ROLE"), e.get("WHAT")) for e in new]
    want = [("CLINICIAN", f"PROG:{n}"), ("CLINICIAN", f"SELECT:{n}"), ("CLINICIAN", f"STIM:{n}"),
            ("CLINICIAN", f"AMP:{n}"), ("CLINICIAN", "STOP"), ("CLINICIAN", "MRI"), ("CLINICIAN", "MRI"),
            ("CLINICIAN", "CONFIG"), ("CLINICIAN", f"TEST:{n}"), ("CLINICIAN", f"TEST:{n}"),
            ("CLINICIAN", "LOGOUT"), ("PATIENT", "LOGIN")]
    expect(whats == want, f"log after the changes: {whats}, expected {want}")
    ids = [int(e.get("I") or "0") for e in new]
    expect(ids == list(range(top + 1, top + 1 + len(want))), f"log numbers {ids}, expected {top + 1}.. in steps of 1")
    t = [int(e.get("T_MS") or "0") for e in new]
    expect(t == sorted(t), f"T_MS not rising: {t}")
    a, none = read_log(link, f"LOG FROM={top + 1000}")
    expect(a.reply.get("N") == "0" and not none, "LOG FROM beyond the last entry did not answer N=0")
    ctx.log_top = ids[-1]
