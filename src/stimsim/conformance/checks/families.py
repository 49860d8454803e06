"""The device family's own rules on the wire: its modes, contacts and case, every range and grid
at its edges, the order of OUT_OF_RANGE causes, the DRG's bipole on each lead, patient steps
from grid point to grid point.

Every figure comes from the parameter table for the family HELLO names (``ctx.fam``); a rule
the family does not have is skipped with the reason.
"""

from __future__ import annotations

from ...engine import params as P
from ...engine.params import Mode
from ...engine.program import Electrodes
from ..context import Check, Ctx, collector
from ..device_family import DeviceFamily
from ..expect import err, expect, keys_of, ok
from ..link import Answer, Link, Skip, fmt

CHECKS: list[Check] = []
check = collector(CHECKS)


@check("family.modes")
def _modes(ctx: Ctx) -> None:
    link, _n = ctx.on_slot()
    f = ctx.fam
    slot = ctx.slot(1)
    for mode in Mode:
        text = f.program(mode)
        if f.offers(mode):
            ok(link.req(f"PROG SLOT={slot} {text}"), SLOT=slot)
            amp = f.param("amplitude_ma", mode)  # no limits given: READ shows the family's range
            ok(link.req(f"READ SLOT={slot}"), MODE=mode.wire, AMP_MIN=amp.minimum, AMP_MAX=amp.maximum)
        else:
            err(link.req(f"PROG SLOT={slot} {text}"), "BAD_ARG", KEY="MODE")
            err(link.req(f"TEST {text}"), "BAD_ARG", KEY="MODE")
    expect(ctx.status().get("TEST") == "0", "a refused TEST started a test")


@check("family.contacts")
def _contacts(ctx: Ctx) -> None:
    link, _n = ctx.on_slot()
    f = ctx.fam
    slot = ctx.slot(1)
    for lead in range(len(f.spec.leads)):  # every contact of every lead takes part
        for at in (0, len(f.lead(lead)) - 2):
            ok(link.req(f"PROG SLOT={slot} {f.program(elec=f.bipole(lead, at))}"), SLOT=slot)
    before = ok(link.req(f"READ SLOT={slot}")).args
    cathode, _anode = f.bipole_contacts()
    for absent in f.absent_contacts():
        for elec in (f"{cathode}:-100,{absent}:+100", f"{absent}:-100,{cathode}:+100"):
            err(link.req(f"PROG SLOT={slot} {f.program(elec=elec)}"), "BAD_ARG", KEY="ELEC")
            err(link.req(f"TEST {f.program(elec=elec)}"), "BAD_ARG", KEY="ELEC")
    expect(ok(link.req(f"READ SLOT={slot}")).args == before, "a refused PROG changed the slot")


@check("family.case")
def _case(ctx: Ctx) -> None:
    link, _n = ctx.on_slot()
    f = ctx.fam
    slot = ctx.slot(1)
    cathode, anode = f.bipole_contacts()
    elec = f"{cathode}:-100,CASE:+100"
    if f.has_case:
        ok(link.req(f"PROG SLOT={slot} {f.program(elec=elec)}"), SLOT=slot)
        ok(link.req(f"READ SLOT={slot}"), ELEC=Electrodes.from_wire(elec).to_wire())
        return
    for verb in (f"PROG SLOT={slot}", "TEST"):
        err(link.req(f"{verb} {f.program(elec=elec)}"), "BAD_ARG", KEY="ELEC")
        err(link.req(f"{verb} {f.program(elec=f'{cathode}:-100,{anode}:+50,CASE:+50')}"), "BAD_ARG", KEY="ELEC")
    expect(ctx.status().get("TEST") == "0", "a refused TEST started a test")


# --- ranges and grids ---------------------------------------------------------------------------


def _base(f: DeviceFamily, mode: Mode) -> dict[str, int]:
    """The settings the edge checks start from: every required setting at its smallest value
    on the grid (the amplitude 1 mA), so any one setting may move to either end and still fit."""
    base: dict[str, int] = {}
    for key, spec in f.params(mode).items():
        if spec.param.required:
            base[spec.wire] = f.value(key, 1000 if key == "amplitude_ma" else 0, mode)
    return base


def _edge_program(f: DeviceFamily, mode: Mode, **values: int) -> str:
    """A program of ``mode`` with ``values`` over the base settings; the current spread over two
    cathodes and two anodes so the top amplitude stays under the contact interlock."""
    settings = {**_base(f, mode), **values}
    on, off = P.BY_KEY["cycle_on_s"], P.BY_KEY["cycle_off_s"]
    for given, other in ((on, off), (off, on)):
        if settings.get(given.wire) and other.wire not in settings:  # cycling takes both times
            settings[other.wire] = int(f.param(other.key, mode).minimum)
    return f.program_of(settings, mode, elec=f.spread()) + " ACK=CHARGE"


def _no_step(a: Answer) -> None:
    expect("STEP" not in keys_of(a.reply), f"{fmt(a)}: STEP= on a refusal that is not the grid's")


@check("family.ranges")
def _ranges(ctx: Ctx) -> None:
    """Each setting of each mode at both ends of its range passes; one past either end is
    refused naming the key and its range (a limit key: its own range), without STEP=."""
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    f = ctx.fam
    for mode in f.modes:
        for spec in f.params(mode).values():
            low, high = spec.minimum, spec.maximum
            for inside in (low, high):
                ok(link.req(f"PROG SLOT={n} {_edge_program(f, mode, **{spec.wire: inside})}"), SLOT=n)
            outside = [high + 1] + ([low - 1] if low > 0 else [])  # nothing below 0 is a setting
            for value in outside:
                a = link.req(f"PROG SLOT={n} {_edge_program(f, mode, **{spec.wire: value})}")
                err(a, "OUT_OF_RANGE", KEY=spec.wire, MIN=low, MAX=high)
                _no_step(a)
            if spec.param.limits is P.LimitKind.NONE:
                continue
            lo_key, hi_key = (P.Limit(spec.param, side).wire for side in ("min", "max"))
            ok(link.req(f"PROG SLOT={n} {_edge_program(f, mode, **{lo_key: low, hi_key: high})}"), SLOT=n)
            for limit, value in [(hi_key, high + 1)] + ([(lo_key, low - 1)] if low > 0 else []):
                a = link.req(f"PROG SLOT={n} {_edge_program(f, mode, **{limit: value})}")
                err(a, "OUT_OF_RANGE", KEY=limit, MIN=low, MAX=high)
                _no_step(a)


def _gridded(f: DeviceFamily) -> list[tuple[Mode, str]]:
    return [(mode, key) for mode in f.modes for key, spec in f.params(mode).items() if spec.grid is not None]


def _bands(spec: P.ParamSpec) -> list[tuple[int, int, int]]:
    """(first, last, spacing) of each band of the grid within the range."""
    assert spec.grid is not None
    bands = spec.grid.bands
    out = []
    for i, (start, spacing) in enumerate(bands):
        end = bands[i + 1][0] - 1 if i + 1 < len(bands) else spec.maximum
        first, last = max(start, spec.minimum), min(end, spec.maximum)
        if first <= last:
            out.append((first, last, spacing))
    return out


def _off_grid(f: DeviceFamily, mode: Mode, key: str) -> list[tuple[int, int]]:
    """(value, the spacing of the band it lies in) for values in range but off the grid: one
    past a band's first point, the last off-grid value of each band, and in a band after the
    first, a value on the band before's spacing but not on its own (2025 on the DRG's 50 uA band)."""
    spec = f.param(key, mode)
    points = set(f.grid_points(key, mode))
    out: list[tuple[int, int]] = []
    previous = 0
    for first, last, spacing in _bands(spec):
        on = [v for v in range(first, last + 1) if v in points]
        candidates = [on[0] + 1, max(v for v in range(first, last + 1) if v not in points)]
        if previous:
            candidates.append(first + previous)
        out += [(v, spacing) for v in candidates if first <= v <= last and v not in points]
        previous = spacing
    return sorted(set(out))


def _band_edges(f: DeviceFamily, mode: Mode, key: str) -> list[int]:
    """The grid points either side of each band's start (1975, 2000, 2050 on the DRG)."""
    points = f.grid_points(key, mode)
    out: list[int] = []
    for first, _last, _spacing in _bands(f.param(key, mode))[1:]:
        i = points.index(first)
        out += points[max(0, i - 1): i + 2]
    return out


@check("family.grids")
def _grids(ctx: Ctx) -> None:
    """Values off a family's grid are refused with STEP= the spacing where they lie (PROG, the
    limit keys, AMP SET); the grid points at each band's edge pass."""
    f = ctx.fam
    gridded = _gridded(f)
    if not gridded:
        raise Skip(f"the {f.name} has no grid: every value in range is a setting")
    link, n = ctx.on_slot()
    slot = ctx.slot(1)
    for mode, key in gridded:
        spec = f.param(key, mode)
        for value in _band_edges(f, mode, key):
            ok(link.req(f"PROG SLOT={slot} {_edge_program(f, mode, **{spec.wire: value})}"), SLOT=slot)
        limit_keys = ([] if spec.param.limits is P.LimitKind.NONE
                      else [P.Limit(spec.param, side).wire for side in ("min", "max")])
        for value, spacing in _off_grid(f, mode, key):
            for wire in (spec.wire, *limit_keys):
                a = link.req(f"PROG SLOT={slot} {_edge_program(f, mode, **{wire: value})}")
                err(a, "OUT_OF_RANGE", KEY=wire, MIN=spec.minimum, MAX=spec.maximum, STEP=spacing)
    amp = f.param("amplitude_ma")
    for value, spacing in _off_grid(f, Mode.TONIC, "amplitude_ma") if amp.grid is not None else []:
        err(link.req(f"AMP SET={value}"), "OUT_OF_RANGE", KEY="AMP", MIN=amp.minimum, MAX=amp.maximum, STEP=spacing)
    expect(ok(link.req(f"READ SLOT={n}")).get("AMP") == str(f.value("amplitude_ma", 3000)),
           "a refused AMP SET changed the amplitude")


# --- the order of OUT_OF_RANGE causes -----------------------------------------------------------


def _fit_breaker(f: DeviceFamily) -> tuple[int, int] | None:
    """(RATE, PW) of a tonic pulse that does not fit its period, or None where none does."""
    unfit = f.unfit_pulse()
    return None if unfit is None else (unfit[0], unfit[2])


def _bad_sums(f: DeviceFamily) -> str:
    cathode, anode = f.bipole_contacts()
    return f"{cathode}:-100,{anode}:+50"


def _prog(link: Link, n: int, f: DeviceFamily, values: dict[str, int], elec: str | None = None) -> Answer:
    return link.req(f"PROG SLOT={n} {f.program_of(values, elec=elec)}")


@check("family.order_range_first")
def _order_range(ctx: Ctx) -> None:
    """A value out of range is named before a grid, electrode or fit problem of the same program."""
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    f = ctx.fam
    rate = f.param("rate_hz")
    past = {"RATE": rate.maximum + 1}  # RATE comes after AMP and PW: the range wins all the same
    a = _prog(link, n, f, past, _bad_sums(f))
    err(a, "OUT_OF_RANGE", KEY="RATE", MIN=rate.minimum, MAX=rate.maximum)
    _no_step(a)
    expect(a.reply.get("RULE") is None, f"{fmt(a)}: a range refusal names a RULE")
    for mode, key in _gridded(f)[:1]:
        value, _spacing = _off_grid(f, mode, key)[0]
        wire = f.param(key, mode).wire
        other = next(s for k, s in f.params(mode).items() if s.param.required and k != key)
        a = link.req(f"PROG SLOT={n} {f.program_of({wire: value, other.wire: other.maximum + 1}, mode)}")
        err(a, "OUT_OF_RANGE", KEY=other.wire, MIN=other.minimum, MAX=other.maximum)
        _no_step(a)
    breaker = _fit_breaker(f)
    if breaker is not None:
        amp = f.param("amplitude_ma")
        a = _prog(link, n, f, {"AMP": amp.maximum + 1, "RATE": breaker[0], "PW": breaker[1]})
        err(a, "OUT_OF_RANGE", KEY="AMP", MIN=amp.minimum, MAX=amp.maximum)
        expect(a.reply.get("RULE") is None, f"{fmt(a)}: the fit was named before the range")


@check("family.order_grid_second")
def _order_grid(ctx: Ctx) -> None:
    """A value off the grid is named before an electrode or fit problem."""
    f = ctx.fam
    gridded = _gridded(f)
    if not gridded:
        raise Skip(f"the {f.name} has no grid")
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    mode, key = gridded[0]
    spec = f.param(key, mode)
    value, spacing = _off_grid(f, mode, key)[0]
    configs = [_bad_sums(f)]
    if f.spec.bipolar_per_lead:
        configs.append(f"{f.lead(0)[0]}:-100,{f.lead(1)[0]}:+100")
    for elec in configs:
        a = link.req(f"PROG SLOT={n} {f.program_of({spec.wire: value}, mode, elec)}")
        err(a, "OUT_OF_RANGE", KEY=spec.wire, MIN=spec.minimum, MAX=spec.maximum, STEP=spacing)
    breaker = _fit_breaker(f)
    if breaker is not None and key != "pulse_width_us":
        a = link.req(f"PROG SLOT={n} {f.program_of({spec.wire: value, 'RATE': breaker[0], 'PW': breaker[1]})}")
        err(a, "OUT_OF_RANGE", KEY=spec.wire, STEP=spacing)


@check("family.order_electrodes_before_fit")
def _order_elec(ctx: Ctx) -> None:
    """An electrode problem is named before a pulse that does not fit its period."""
    f = ctx.fam
    breaker = _fit_breaker(f)
    if breaker is None:
        raise Skip(f"every tonic pulse of the {f.name} fits its period (up to {f.param('pulse_width_us').maximum} us "
                   f"at {f.param('rate_hz').maximum} Hz)")
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    rate, pw = breaker
    err(_prog(link, n, f, {"RATE": rate, "PW": pw}), "OUT_OF_RANGE", RULE="FIT", KEY="PW")
    configs = [_bad_sums(f)]
    if f.spec.bipolar_per_lead:
        configs.append(f"{f.lead(0)[0]}:-100,{f.lead(1)[0]}:+100")
    for elec in configs:
        err(_prog(link, n, f, {"RATE": rate, "PW": pw}, elec), "OUT_OF_RANGE", RULE="ELECTRODES", KEY="ELEC")


# --- electrodes per lead and patient steps ------------------------------------------------------


@check("family.bipolar_per_lead")
def _bipolar(ctx: Ctx) -> None:
    """Where the family wants it (DRG), every lead carrying a contact of the configuration
    carries a cathode and an anode of its own; elsewhere a bipole may span two leads."""
    link, n = ctx.on_slot()
    f = ctx.fam
    slot = ctx.slot(1)
    a, b = f.lead(0), f.lead(1)
    across = f"{a[0]}:-100,{b[0]}:+100"
    if not f.spec.bipolar_per_lead:
        ok(link.req(f"PROG SLOT={slot} {f.program(elec=across)}"), SLOT=slot)
        return
    before = ok(link.req(f"READ SLOT={n}")).args
    refused = [across, f"{a[0]}:-100,{a[1]}:+50,{b[0]}:+50", f"{a[0]}:-50,{a[1]}:+100,{b[0]}:-50"]
    for elec in refused:
        err(link.req(f"PROG SLOT={n} {f.program(elec=elec)}"), "OUT_OF_RANGE", RULE="ELECTRODES", KEY="ELEC")
        err(link.req(f"TEST {f.program(elec=elec)}"), "OUT_OF_RANGE", RULE="ELECTRODES", KEY="ELEC")
    expect(ok(link.req(f"READ SLOT={n}")).args == before, "a refused PROG changed the slot")
    leads = len(f.spec.leads)
    share = P.PERCENT_TOTAL // leads
    if share * leads == P.PERCENT_TOTAL:  # every lead bipolar: accepted
        every = ",".join(f"{f.lead(i)[0]}:-{share},{f.lead(i)[1]}:+{share}" for i in range(leads))
        ok(link.req(f"PROG SLOT={slot} {f.program(elec=every)}"), SLOT=slot)
        ok(link.req(f"READ SLOT={slot}"), ELEC=Electrodes.from_wire(every).to_wire())


@check("family.patient_grid_steps")
def _patient_steps(ctx: Ctx) -> None:
    """Where the family steps the amplitude from grid point to grid point (DRG), a patient step
    across a band's edge lands on the next point of the grid (2000 -1 step: 1975; 1950 +3: 2050)."""
    f = ctx.fam
    spec = f.param("amplitude_ma")
    if "amplitude_ma" not in f.spec.patient_grid_steps or spec.grid is None:
        raise Skip(f"the {f.name}'s patient steps are {P.AMP_PATIENT_STEP_UA} uA each, not grid points "
                   "(amp.set_and_step)")
    edges = [first for first, _last, _spacing in _bands(spec)[1:]]
    if not edges:
        raise Skip(f"the {f.name}'s amplitude grid has one spacing: its steps are checked by amp.set_and_step")
    link, _n = ctx.on_slot(patient=True)
    points = f.grid_points("amplitude_ma")
    for edge in edges:
        i = points.index(edge)
        for start, steps in ((edge, -1), (points[i - 2], +3), (points[i + 1], -2)):
            ok(link.req(f"AMP SET={start}"), AMP=start)
            want = f.amp_after_steps(start, steps)
            ok(link.req(f"AMP STEP={steps:+d}"), AMP=want)
            expect(ctx.status().get("AMP") == str(want), f"STATUS does not show AMP={want} after the step")
