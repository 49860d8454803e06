"""Programs made to fit a device family: the examples a built-in generator of that family
starts with, and the clinician's first draft of a new program.

A family narrows the parameter table (modes, ranges, grids, contacts, bipolar leads); the
table says how, so nothing here names a family. An example is kept where its mode is
offered; its amplitudes keep their share of the mode's range (a DRG implant's 6 mA range
is a third of the SCS 20 mA), the other values are clamped into the family's ranges, and
every value is put on the family's grid; a configuration that breaks the family's
electrode rules moves, in contact order, onto the family's first lead. An example that
still breaks a rule of the family is left out, so every example the app writes is valid.
"""

from __future__ import annotations

from dataclasses import replace

from ..engine import params as P
from ..engine.program import DeviceModel, Electrodes, Program
from ..engine.validate import check_program

_AMPLITUDE = "amplitude_ma"


def fit_value(spec: P.ParamSpec, value: int, mode_range: P.Range) -> int:
    """``value`` of one parameter moved into the family's range and onto its grid."""
    if spec.zero_off and value == 0:
        return 0
    if spec.key == _AMPLITUDE and spec.range != mode_range and mode_range.maximum:
        value = round(value * spec.maximum / mode_range.maximum)
    value = min(max(value, spec.minimum), spec.maximum)
    if spec.grid is not None:
        value = min(max(spec.grid.snap(value), spec.minimum), spec.maximum)
    return value


def fit_electrodes(electrodes: Electrodes, family: P.Family) -> Electrodes:
    """The configuration as it stands where the family takes it, else moved onto its first lead
    (the case left out where the family has none)."""
    spec = P.FAMILIES[family]
    shares = {c: v for c, v in electrodes.pairs if c != P.CASE or spec.case_anode}
    if shares and not _electrode_problems(Electrodes.of(shares), family):
        return Electrodes.of(shares)
    ordered = sorted(shares, key=lambda c: P.CONTACTS.index(c) if c in P.CONTACTS else len(P.CONTACTS))
    lead = spec.leads[0].contacts
    if len(ordered) > len(lead):
        return Electrodes.of(shares)  # does not fit one lead: left as it is (and judged invalid)
    return Electrodes.of({lead[i]: shares[c] for i, c in enumerate(ordered)})


def _electrode_problems(electrodes: Electrodes, family: P.Family) -> bool:
    probe = Program(slot=1, mode=P.Mode.TONIC, amplitude_ua=0, pulse_width_us=100, rate_hz=50,
                    electrodes=electrodes)
    return any(p.key.startswith("electrodes") for p in check_program(probe, DeviceModel(family=family)))


def fit_program(program: Program, family: P.Family) -> Program:
    """``program`` made to fit ``family`` (its mode must be one the family offers)."""
    mode_ranges = P.MODES[program.mode].ranges
    specs = P.family_params(family, program.mode)
    values: dict[str, int | None] = {}
    for key, spec in specs.items():
        value = program.canonical(key)
        if value is not None:
            values[key] = fit_value(spec, value, mode_ranges[key])
    limits = program.limits
    for limit_key, limit in P.LIMITS.items():
        value = program.limits.get(limit_key)
        limit_spec = specs.get(limit.param.key)
        if value is not None and limit_spec is not None:
            limits = replace(limits, **{limit.attr: fit_value(limit_spec, value, mode_ranges[limit.param.key])})
    fitted = program.with_values(values)
    return replace(fitted, limits=limits, electrodes=fit_electrodes(program.electrodes, family))


def family_examples(programs: tuple[Program, ...], family: P.Family) -> tuple[Program, ...]:
    """The programs whose mode ``family`` offers, fitted to it, numbered from slot 1; any that
    still break a rule of the family (charge density included) are left out."""
    device = DeviceModel(family=family)
    offered = P.family_modes(family)
    out: list[Program] = []
    for program in programs:
        if program.mode not in offered:
            continue
        fitted = fit_program(program, family)
        if not check_program(fitted, device, acknowledged=False):
            out.append(replace(fitted, slot=len(out) + 1))
    return tuple(out)
