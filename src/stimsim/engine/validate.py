"""Every rule a program must keep, once, and the problems that break them.

Validation reads only the parameter table (``params``). It reports every problem with
the key it concerns, the rule broken and the allowed range, in a form both a program
file (``programs[0].pulse_width_us: 1500 is above 1000 for tonic``) and the serial
protocol (``ERR OUT_OF_RANGE KEY=PW MIN=20 MAX=1000``) can use. Program files and the
wire reuse the problems made here ("missing", "not used in this mode") rather than
writing those rules again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from . import params as P
from .load import contact_charges
from .params import Mode, Recharge
from .program import ClosedLoop, DeviceModel, Electrodes, Program

# Problem codes, in the order the protocol reports them (first applicable wins).
BAD_ARG = "BAD_ARG"
OUT_OF_RANGE = "OUT_OF_RANGE"
UNSAFE = "UNSAFE"
_ORDER = {BAD_ARG: 0, OUT_OF_RANGE: 1, UNSAFE: 2}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a program or device model.

    ``key`` is the program-file key (``pulse_width_us``, ``electrodes.4``); ``wire`` the
    protocol key (``PW``); ``code`` one of BAD_ARG / OUT_OF_RANGE / UNSAFE; ``rule`` names
    the rule for rules beyond plain ranges (``FIT``, ``CONTACT_CURRENT``,
    ``CHARGE_DENSITY``, ``LIMITS``, ``ELECTRODES``, ``CYCLE``); ``minimum``/``maximum``
    are canonical (wire) integers where a range applies; ``extra`` carries further wire
    arguments (``CONTACT=4``, ``K=2.01``).
    """

    key: str
    message: str
    code: str = OUT_OF_RANGE
    wire: str = ""
    rule: str = ""
    minimum: int | None = None
    maximum: int | None = None
    extra: tuple[tuple[str, str], ...] = ()


class ValidationError(ValueError):
    """Raised with every problem found; ``str()`` gives one line per problem."""

    def __init__(self, problems: Iterable[Problem], prefix: str = "") -> None:
        self.problems = tuple(problems)
        self.prefix = prefix
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [f"{_join(self.prefix, p.key)}: {p.message}" for p in self.problems]


def _join(prefix: str, key: str) -> str:
    if not prefix:
        return key
    return f"{prefix}.{key}" if key else prefix


#: The parameters that decide whether a pulse fits its period: checked only when these are in range.
_FIT_KEYS = frozenset(p.key for p in P.TABLE if p.timing and p.section is not P.Section.TIMING)


def missing(param: P.Param, mode: Mode) -> Problem:
    """A parameter the mode requires was not given."""
    everywhere = all(param.key in spec.ranges for spec in P.MODES.values())
    return Problem(param.key, "missing (required)" if everywhere else f"missing (required for {mode.value})",
                   BAD_ARG, param.wire)


def not_used(param: P.Param, mode: Mode) -> Problem:
    """A parameter was given that the mode does not take."""
    return Problem(param.key, f"is not used in {mode.value} mode (leave it out or null)", BAD_ARG, param.wire)


def check_program(
    program: Program, device: DeviceModel | None = None, *, acknowledged: bool = True
) -> list[Problem]:
    """Every problem with ``program`` on ``device``'s family, sorted in the protocol's order.

    BAD_ARG first (a mode or contact the family lacks, missing or unused keys); then the
    OUT_OF_RANGE causes in the order the protocol names the first of them: ranges (limits'
    own ranges included), grids, electrodes, feasibility (FIT), clinician limits, the
    closed loop's sense contacts (SENSE); then the
    safety rules: the per-contact interlock always, the charge-density warning only when
    ``acknowledged`` is False (a file or an ``ACK=CHARGE`` write acknowledges it).
    """
    device = device or DeviceModel()
    mode = program.mode
    if mode not in P.family_modes(device.family):
        offered = ", ".join(P.family_modes(device.family))
        return [Problem("mode", f"{mode.value} is not offered by the {device.family.value} (modes: {offered})",
                        BAD_ARG, "MODE")]
    problems: list[Problem] = []
    table = P.family_params(device.family, mode)

    grids: list[Problem] = []
    for param in P.TABLE:
        spec = table.get(param.key)
        value = program.canonical(param.key)
        if spec is None:
            if value is not None:
                problems.append(not_used(param, mode))
            continue
        if value is None:
            problems.append(missing(param, mode))
            continue
        problems.extend(_range_problems(spec, value, mode))
        if spec.allows(value):
            grids.extend(_grid_problems(spec, value, param.key, spec.wire))

    if program.recharge not in P.RECHARGE[mode]:
        allowed = "/".join(r.value for r in P.RECHARGE[mode])
        problems.append(
            Problem("recharge", f"{program.recharge.value} is not allowed for {mode.value} (allowed: {allowed})",
                    OUT_OF_RANGE, "RECHARGE")
        )

    problems.extend(_cycle_problems(program))
    problems.extend(_loop_bad_args(program, device.spec))
    limit_ranges, limit_grids = _limit_value_problems(program, table)
    problems.extend(limit_ranges)
    problems.extend(_loop_range_problems(program.closed_loop))
    problems.extend(grids)
    problems.extend(limit_grids)
    fit_checkable = not any(p.code == BAD_ARG or p.key in _FIT_KEYS for p in problems)
    elec = _electrode_problems(program.electrodes, device.spec)
    problems.extend(elec)
    if fit_checkable:
        problems.extend(_fit_problems(program, table))

    problems.extend(_limit_problems(program, table))
    if not elec:
        problems.extend(_sense_problems(program, device.spec))
    problems.extend(_name_problems(program.name))
    if not elec and program.amplitude_ua <= table["amplitude_ma"].maximum:
        problems.extend(_safety_problems(program, device, acknowledged))
    problems.sort(key=lambda p: _ORDER[p.code])
    return problems


def validate_program(program: Program, device: DeviceModel | None = None, prefix: str = "") -> Program:
    """Return ``program`` or raise ValidationError listing every problem."""
    problems = check_program(program, device)
    if problems:
        raise ValidationError(problems, prefix)
    return program


def _range_problems(spec: P.ParamSpec, value: int, mode: Mode) -> list[Problem]:
    if spec.allows(value):
        return []
    if value < spec.minimum:
        side = f"below {spec.fmt(spec.minimum)}"
        if spec.zero_off:
            side = f"between 0 and {spec.fmt(spec.minimum)}"
    else:
        side = f"above {spec.fmt(spec.maximum)}"
    text = f"{spec.fmt(value)} is {side} for {mode.value} (allowed {spec.range_text()})"
    return [Problem(spec.key, text, OUT_OF_RANGE, spec.wire, "", spec.minimum, spec.maximum)]


def _grid_problems(spec: P.ParamSpec, value: int, key: str, wire: str) -> list[Problem]:
    """A value in range but off the family's grid: ``STEP=`` is the spacing where it lies."""
    if spec.grid is None or spec.on_grid(value):
        return []
    spacing = spec.grid.spacing(value)
    text = (f"{spec.fmt(value)} is not on the {spec.fmt(spacing)} {spec.file_unit} grid of "
            f"{spec.label.lower()} (nearest {spec.fmt(spec.grid.snap(value))})").replace("  ", " ")
    return [Problem(key, text, OUT_OF_RANGE, wire, "", spec.minimum, spec.maximum, (("STEP", str(spacing)),))]


def _cycle_problems(program: Program) -> list[Problem]:
    if (program.cycle_on_ms == 0) == (program.cycle_off_ms == 0):
        return []
    on = P.PARAMS[program.mode]["cycle_on_s"]
    zero = P.BY_KEY["cycle_off_s" if program.cycle_off_ms == 0 else "cycle_on_s"]
    return [Problem(zero.key, "cycling needs both cycle_on_s and cycle_off_s (both 0 means continuous)",
                    OUT_OF_RANGE, zero.wire, "CYCLE", on.minimum, on.maximum)]


def _fit_problems(program: Program, table: Mapping[str, P.ParamSpec]) -> list[Problem]:
    out: list[Problem] = []
    pw_spec = table["pulse_width_us"]
    if program.burst_pulses is not None and program.intraburst_rate_hz is not None:
        period_rate = program.intraburst_rate_hz
        max_n = P.max_fitting_burst(program.rate_hz, program.intraburst_rate_hz)
        if program.burst_pulses > max_n:
            out.append(Problem(
                "burst_pulses",
                f"{program.burst_pulses} pulses at {program.intraburst_rate_hz} Hz do not fit one burst "
                f"period at {program.rate_hz} Hz (at most {max_n})",
                OUT_OF_RANGE, "BURST_N", "FIT", None, max_n,
            ))
        where = f"one intra-burst period ({program.intraburst_rate_hz} Hz)"
    else:
        period_rate = program.rate_hz
        where = f"one period at {program.rate_hz} Hz"
    max_pw = P.max_fitting_pw(period_rate, program.interphase_us, program.recharge)
    if program.pulse_width_us > max_pw:
        rule = "2*PW + IPG" if program.recharge is Recharge.ACTIVE else "PW + IPG"
        most = f"at most {max_pw} us" if max_pw >= pw_spec.minimum else "no pulse width fits"
        out.append(Problem(
            "pulse_width_us",
            f"{program.pulse_width_us} us does not fit {where} with {program.recharge.value} recharge "
            f"and a {program.interphase_us} us gap ({rule} must be <= period - {P.FIT_MARGIN_US} us: {most})",
            OUT_OF_RANGE, "PW", "FIT", None, max(max_pw, 0),
        ))
    return out


def _limit_value_problems(program: Program, table: Mapping[str, P.ParamSpec]) -> tuple[list[Problem], list[Problem]]:
    """Clinician limits outside their parameter's range, and limits in range but off its grid."""
    ranges: list[Problem] = []
    grids: list[Problem] = []
    for limit in P.LIMITS.values():
        value = program.limits.get(limit.key)
        spec = table.get(limit.param.key)
        if value is None or spec is None:
            continue
        if not spec.allows(value):
            ranges.append(Problem(
                f"limits.{limit.key}",
                f"{spec.fmt(value)} is outside {spec.range_text()} for {program.mode.value}",
                OUT_OF_RANGE, limit.wire, "", spec.minimum, spec.maximum,
            ))
        else:
            grids.extend(_grid_problems(spec, value, f"limits.{limit.key}", limit.wire))
    return ranges, grids


def _limit_problems(program: Program, table: Mapping[str, P.ParamSpec]) -> list[Problem]:
    """The limits' order (min not above max) and the program's values within them."""
    out: list[Problem] = []
    lim = program.limits
    for param in P.TABLE:
        spec = table.get(param.key)
        if param.limits is P.LimitKind.NONE or spec is None:
            continue
        lo_limit, hi_limit = P.Limit(param, "min"), P.Limit(param, "max")
        lo, hi = lim.get(lo_limit.key), lim.get(hi_limit.key)
        if lo is not None and hi is not None and lo > hi:
            out.append(Problem(
                f"limits.{lo_limit.key}", f"{spec.fmt(lo)} is above limits.{hi_limit.key} ({spec.fmt(hi)})",
                OUT_OF_RANGE, lo_limit.wire, "LIMITS", spec.minimum, hi,
            ))
            continue
        value = program.canonical(param.key)
        assert value is not None
        lo_eff = spec.minimum if lo is None else lo
        hi_eff = spec.maximum if hi is None else hi
        if (lo is not None or hi is not None) and not lo_eff <= value <= hi_eff:
            out.append(Problem(
                param.key,
                f"{spec.fmt(value)} is outside the clinician limits {spec.fmt(lo_eff)}..{spec.fmt(hi_eff)} "
                f"{spec.file_unit}".rstrip(),
                OUT_OF_RANGE, spec.wire, "LIMITS", lo_eff, hi_eff,
            ))
    return out


_LOOP = P.LOOP_BY_KEY["loop"]
_SENSE = P.LOOP_BY_KEY["sense"]


def _loop_bad_args(program: Program, family: P.FamilySpec) -> list[Problem]:
    """Closed-loop keys where the family has no loop, ECAP outside its modes, ECAP without SENSE."""
    loop = program.closed_loop
    if loop is None:
        return []
    if not family.closed_loop:
        keys = ", ".join(row.key for row in P.LOOP_TABLE)
        label = family.label[0].lower() + family.label[1:]
        return [Problem(_LOOP.key, f"the {label} has no closed loop ({keys} are not taken)",
                        BAD_ARG, _LOOP.wire)]
    out: list[Problem] = []
    if loop.closed and program.mode not in family.closed_loop_modes:
        modes = ", ".join(family.closed_loop_modes)
        out.append(Problem(_LOOP.key, f"{loop.loop.value} runs in {modes} mode only, not {program.mode.value}",
                           BAD_ARG, _LOOP.wire))
    if loop.closed and loop.sense is None:
        out.append(Problem(_SENSE.key, f"missing (required for {_LOOP.key} {loop.loop.value}: two contacts to "
                                       "sense the ECAP on)", BAD_ARG, _SENSE.wire))
    return out


def _loop_range_problems(loop: ClosedLoop | None) -> list[Problem]:
    out: list[Problem] = []
    for row in P.LOOP_TABLE:
        value = getattr(loop, row.attr, None)
        if row.range is None or not isinstance(value, int) or row.range.minimum <= value <= row.range.maximum:
            continue
        out.append(Problem(row.key, f"{value} is outside {row.fmt_range()}", OUT_OF_RANGE, row.wire, "",
                           row.range.minimum, row.range.maximum))
    return out


def cathode_lead(elec: Electrodes, family: P.FamilySpec) -> P.Lead | None:
    """The lead carrying the most cathodic current (the first lead on a tie); None without a
    cathode on any lead."""
    best: tuple[int, P.Lead] | None = None
    for lead in family.leads:
        current = -sum(v for c, v in elec.cathodes if c in lead.contacts)
        if current > 0 and (best is None or current > best[0]):
            best = (current, lead)
    return None if best is None else best[1]


def _sense_problems(program: Program, family: P.FamilySpec) -> list[Problem]:
    """SENSE: two different contacts of the cathode's lead, neither in the configuration."""
    loop = program.closed_loop
    if loop is None or loop.sense is None or not family.closed_loop:
        return []
    lead = cathode_lead(program.electrodes, family)
    used = {c for c, _ in program.electrodes.pairs}
    why = ""
    first, second = loop.sense
    if first == second:
        why = f"names contact {first} twice (two different contacts)"
    elif lead is None:
        why = "has no cathode's lead to sense on"
    else:
        span = f"{lead.contacts[0]}..{lead.contacts[-1]}"
        for contact in loop.sense:
            if contact not in lead.contacts:
                why = (f"contact {contact} is not on lead {lead.name} ({span}), the lead carrying the most "
                       "cathodic current")
                break
            if contact in used:
                why = f"contact {contact} is in the electrode configuration (sense contacts carry no current)"
                break
    if not why:
        return []
    return [Problem(_SENSE.key, why, OUT_OF_RANGE, _SENSE.wire, "SENSE")]


def _name_problems(name: str) -> list[Problem]:
    bad = sorted(set(name) - P.NAME_CHARS)
    out: list[Problem] = []
    if bad:
        shown = " ".join(repr(c) for c in bad)
        out.append(Problem("name", f"has characters a generator cannot store: {shown} "
                                   "(letters, digits, space and . - + : , only)", BAD_ARG, "NAME"))
    if len(name) > P.NAME_MAX:
        out.append(Problem("name", f"is {len(name)} characters long (at most {P.NAME_MAX})", BAD_ARG, "NAME"))
    return out


def _electrode_problems(elec: Electrodes, family: P.FamilySpec) -> list[Problem]:
    out: list[Problem] = []
    contacts = family.contacts
    for contact, value in elec.pairs:
        where = f"electrodes.{contact}"
        if contact == P.CASE and not family.case_anode:
            out.append(Problem(where, f"the {family.label.lower()} has no case to use as an anode", BAD_ARG,
                               "ELEC"))
        elif contact not in contacts:
            case = f" or {P.CASE}" if family.case_anode else ""
            last = family.leads[-1].contacts[-1]
            out.append(Problem(where, f"is not a contact ({contacts[0]}..{last}{case})", BAD_ARG, "ELEC"))
        elif value == 0 or not -P.PERCENT_TOTAL <= value <= P.PERCENT_TOTAL:
            out.append(Problem(where, f"{value} % is not a share (-100..-1 cathode, 1..100 anode)",
                               OUT_OF_RANGE, "ELEC", "ELECTRODES", -P.PERCENT_TOTAL, P.PERCENT_TOTAL))
        elif contact == P.CASE and value < 0:
            out.append(Problem(where, "the case can only be an anode (positive percent)",
                               OUT_OF_RANGE, "ELEC", "ELECTRODES", 1, P.PERCENT_TOTAL))
    if out:
        return out
    cath = -sum(v for _, v in elec.cathodes)
    anod = sum(v for _, v in elec.anodes)
    if cath != P.PERCENT_TOTAL:
        text = "no cathode (a negative share)" if cath == 0 else f"cathodes sum to -{cath} %"
        out.append(Problem("electrodes", f"{text}; they must sum to -100 %", OUT_OF_RANGE, "ELEC",
                           "ELECTRODES"))
    if anod != P.PERCENT_TOTAL:
        text = "no anode (a positive share)" if anod == 0 else f"anodes sum to +{anod} %"
        out.append(Problem("electrodes", f"{text}; they must sum to +100 %", OUT_OF_RANGE, "ELEC",
                           "ELECTRODES"))
    if family.bipolar_per_lead and not out:
        out.extend(_bipolar_problems(elec, family))
    return out


def _bipolar_problems(elec: Electrodes, family: P.FamilySpec) -> list[Problem]:
    """Every lead carrying a contact of the configuration needs a cathode and an anode of its own."""
    for lead in family.leads:
        shares = [v for c, v in elec.pairs if c in lead.contacts]
        if shares and not (min(shares) < 0 < max(shares)):
            lacks = "anode" if min(shares) < 0 else "cathode"
            return [Problem("electrodes", f"lead {lead.name} has no {lacks} of its own (each lead in use "
                                          "needs a cathode and an anode on it)", OUT_OF_RANGE, "ELEC",
                            "ELECTRODES")]
    return []


def _safety_problems(program: Program, device: DeviceModel, acknowledged: bool) -> list[Problem]:
    out: list[Problem] = []
    worst: tuple[int, str] | None = None
    for contact, share in program.electrodes.pairs:
        if contact == P.CASE:
            continue
        current = program.amplitude_ua * abs(share) // 100
        exact = program.amplitude_ua * abs(share) / 100
        if exact > P.CONTACT_CURRENT_MAX_UA and (worst is None or current > worst[0]):
            worst = (current, contact)
    if worst is not None:
        current, contact = worst
        out.append(Problem(
            f"electrodes.{contact}",
            f"{current / 1000:g} mA through contact {contact} is above the "
            f"{P.CONTACT_CURRENT_MAX_UA / 1000:g} mA per-contact limit",
            UNSAFE, "ELEC", "CONTACT_CURRENT", None, P.CONTACT_CURRENT_MAX_UA,
            (("CONTACT", contact.upper()),),
        ))
        return out
    if not acknowledged:
        over = [c for c in contact_charges(program, device) if c.warning]
        if over:
            c = max(over, key=lambda c: c.shannon_k)
            out.append(Problem(
                f"electrodes.{c.contact}",
                f"charge density {c.density_uc_cm2:.1f} uC/cm2 (k = {c.shannon_k:.2f}) at contact "
                f"{c.contact} is in the warning zone (k > {P.SHANNON_K_LIMIT} or > "
                f"{P.DENSITY_LIMIT_UC_CM2:g} uC/cm2) and needs the clinician's acknowledgement",
                UNSAFE, "ELEC", "CHARGE_DENSITY", None, None,
                (("CONTACT", c.contact.upper()), ("K", f"{c.shannon_k:.2f}"),
                 ("D", f"{c.density_uc_cm2:.1f}")),
            ))
    return out
