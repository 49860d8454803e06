"""Immutable program, electrode configuration and device models, and their validation.

Validation reads only the parameter table (``params``). It reports every problem with
the key it concerns, the rule broken and the allowed range, in a form both a program
file (``programs[0].pulse_width_us: 1500 is above 1000 for tonic``) and the serial
protocol (``ERR OUT_OF_RANGE KEY=PW MIN=20 MAX=1000``) can use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from . import params as P
from .params import Mode, Recharge

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


@dataclass(frozen=True)
class Electrodes:
    """Signed percentages of the stimulation current per contact (cathodes negative).

    ``pairs`` is sorted by contact order (1..16, then ``case``).
    """

    pairs: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, mapping: Mapping[str, int]) -> Electrodes:
        order = {c: i for i, c in enumerate(P.CONTACTS)}
        items = sorted(mapping.items(), key=lambda kv: order.get(kv[0], len(order)))
        return cls(tuple((c, int(v)) for c, v in items))

    def as_dict(self) -> dict[str, int]:
        return dict(self.pairs)

    @property
    def cathodes(self) -> tuple[tuple[str, int], ...]:
        return tuple(p for p in self.pairs if p[1] < 0)

    @property
    def anodes(self) -> tuple[tuple[str, int], ...]:
        return tuple(p for p in self.pairs if p[1] > 0)

    def to_wire(self) -> str:
        """``4:-100,5:+50,CASE:+100`` as the protocol writes it."""
        return ",".join(f"{c.upper()}:{v:+d}" for c, v in self.pairs)

    @classmethod
    def from_wire(cls, text: str) -> Electrodes:
        """Parse ``4:-100,CASE:+100``; raises ValueError naming the bad item."""
        out: dict[str, int] = {}
        for item in text.split(","):
            contact, sep, value = item.partition(":")
            contact = contact.strip().lower()
            if not sep or not contact:
                raise ValueError(f"'{item}' is not CONTACT:PERCENT")
            if contact in out:
                raise ValueError(f"contact {contact.upper()} is given twice")
            try:
                out[contact] = int(value)
            except ValueError:
                raise ValueError(f"'{value}' is not a whole percent") from None
        return cls.of(out)


@dataclass(frozen=True)
class Limits:
    """The clinician's limits on patient changes, canonical units; None = not set.

    Amplitude limits default to the mode's full range when left out. Pulse-width and
    rate limits unlock patient changes of those only when set.
    """

    amplitude_min_ua: int | None = None
    amplitude_max_ua: int | None = None
    pulse_width_min_us: int | None = None
    pulse_width_max_us: int | None = None
    rate_min_hz: int | None = None
    rate_max_hz: int | None = None

    def get(self, limit_key: str) -> int | None:
        """Value by program-file limit key (``amplitude_max_ma`` ...)."""
        value: int | None = getattr(self, _LIMIT_ATTR[limit_key])
        return value

    def amp_range(self, mode: Mode) -> tuple[int, int]:
        """The patient's allowed amplitude range in uA (defaults: the mode's range)."""
        spec = P.PARAMS[mode]["amplitude_ma"]
        lo = spec.minimum if self.amplitude_min_ua is None else self.amplitude_min_ua
        hi = spec.maximum if self.amplitude_max_ua is None else self.amplitude_max_ua
        return lo, hi


_LIMIT_ATTR = {
    "amplitude_min_ma": "amplitude_min_ua",
    "amplitude_max_ma": "amplitude_max_ua",
    "pulse_width_min_us": "pulse_width_min_us",
    "pulse_width_max_us": "pulse_width_max_us",
    "rate_min_hz": "rate_min_hz",
    "rate_max_hz": "rate_max_hz",
}


@dataclass(frozen=True)
class DeviceModel:
    """What the program runs on: battery chemistry and contact impedances (ohm)."""

    chemistry: str = "liion"
    impedance_overrides: tuple[tuple[str, float], ...] = ()

    def impedance(self, contact: str) -> float:
        for c, z in self.impedance_overrides:
            if c == contact:
                return z
        return P.CASE_IMPEDANCE_OHM if contact == P.CASE else P.CONTACT_IMPEDANCE_OHM

    def impedances(self) -> dict[str, float]:
        return {c: self.impedance(c) for c in P.CONTACTS}

    def with_impedances(self, values: Mapping[str, float]) -> DeviceModel:
        merged = dict(self.impedance_overrides)
        merged.update(values)
        return replace(self, impedance_overrides=tuple(sorted(merged.items(), key=_contact_order)))


def _contact_order(item: tuple[str, object]) -> int:
    try:
        return P.CONTACTS.index(item[0])
    except ValueError:
        return len(P.CONTACTS)


@dataclass(frozen=True)
class Program:
    """One stimulation program (a slot's content), canonical integer units.

    Amplitude in uA, times in us (pulse width, gap) or ms (cycling, ramp), rates in Hz.
    ``rate_hz`` is the burst rate in burst mode.
    """

    mode: Mode
    amplitude_ua: int
    pulse_width_us: int
    rate_hz: int
    electrodes: Electrodes
    interphase_us: int = 0
    recharge: Recharge = Recharge.ACTIVE
    burst_pulses: int | None = None
    intraburst_rate_hz: int | None = None
    cycle_on_ms: int = 0
    cycle_off_ms: int = 0
    ramp_ms: int = 0
    limits: Limits = field(default_factory=Limits)
    name: str = ""
    slot: int = 1

    # Friendly views in the units people use.
    @property
    def amplitude_ma(self) -> float:
        return self.amplitude_ua / 1000.0

    @property
    def cycling(self) -> bool:
        return self.cycle_on_ms > 0 and self.cycle_off_ms > 0

    def canonical(self, key: str) -> int | None:
        """A numeric parameter by program-file key, in canonical units."""
        return {
            "amplitude_ma": self.amplitude_ua,
            "pulse_width_us": self.pulse_width_us,
            "rate_hz": self.rate_hz,
            "interphase_us": self.interphase_us,
            "burst_pulses": self.burst_pulses,
            "intraburst_rate_hz": self.intraburst_rate_hz,
            "cycle_on_s": self.cycle_on_ms,
            "cycle_off_s": self.cycle_off_ms,
            "ramp_s": self.ramp_ms,
        }[key]

    def with_amplitude(self, amplitude_ua: int) -> Program:
        return replace(self, amplitude_ua=amplitude_ua)


_CANONICAL_FIELD = {
    "amplitude_ma": "amplitude_ua",
    "pulse_width_us": "pulse_width_us",
    "rate_hz": "rate_hz",
    "interphase_us": "interphase_us",
    "burst_pulses": "burst_pulses",
    "intraburst_rate_hz": "intraburst_rate_hz",
    "cycle_on_s": "cycle_on_ms",
    "cycle_off_s": "cycle_off_ms",
    "ramp_s": "ramp_ms",
}


def canonical_field(key: str) -> str:
    """Program attribute name of a program-file key (``amplitude_ma`` -> ``amplitude_ua``)."""
    return _CANONICAL_FIELD[key]


# --- validation ----------------------------------------------------------------------


def check_program(
    program: Program, device: DeviceModel | None = None, *, acknowledged: bool = True
) -> list[Problem]:
    """Every problem with ``program``, sorted in the protocol's reporting order.

    Ranges come first, then feasibility (FIT), clinician limits, electrodes, then the
    safety rules: the per-contact interlock always, the charge-density warning only
    when ``acknowledged`` is False (a file or an ``ACK=CHARGE`` write acknowledges it).
    """
    device = device or DeviceModel()
    problems: list[Problem] = []
    mode = program.mode
    table = P.PARAMS[mode]

    for key in P.all_keys():
        spec = table.get(key)
        value = program.canonical(key)
        if spec is None:
            if value is not None:
                problems.append(
                    Problem(key, f"is not used in {mode.value} mode (leave it out or null)", BAD_ARG,
                            _wire_of(key))
                )
            continue
        if value is None:
            problems.append(Problem(key, f"is required for {mode.value}", BAD_ARG, spec.wire))
            continue
        problems.extend(_range_problems(spec, value, mode))

    if program.recharge not in P.RECHARGE[mode]:
        allowed = "/".join(r.value for r in P.RECHARGE[mode])
        problems.append(
            Problem("recharge", f"{program.recharge.value} is not allowed for {mode.value} (allowed: {allowed})",
                    OUT_OF_RANGE, "RECHARGE")
        )

    if (program.cycle_on_ms == 0) != (program.cycle_off_ms == 0):
        problems.append(
            Problem("cycle_off_s" if program.cycle_off_ms == 0 else "cycle_on_s",
                    "cycling needs both cycle_on_s and cycle_off_s (both 0 means continuous)",
                    OUT_OF_RANGE, "CYCLE_OFF_MS" if program.cycle_off_ms == 0 else "CYCLE_ON_MS", "CYCLE",
                    P.PARAMS[mode]["cycle_on_s"].minimum, P.PARAMS[mode]["cycle_on_s"].maximum)
        )

    if not any(p.code == BAD_ARG or p.key in ("pulse_width_us", "rate_hz", "interphase_us",
                                               "intraburst_rate_hz", "burst_pulses")
               for p in problems):
        problems.extend(_fit_problems(program))

    problems.extend(_limit_problems(program))
    problems.extend(_name_problems(program.name))
    elec = _electrode_problems(program.electrodes)
    problems.extend(elec)
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


def _wire_of(key: str) -> str:
    for table in P.PARAMS.values():
        if key in table:
            return table[key].wire
    return key.upper()


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


def _fit_problems(program: Program) -> list[Problem]:
    out: list[Problem] = []
    pw_spec = P.PARAMS[program.mode]["pulse_width_us"]
    if program.mode is Mode.BURST:
        assert program.intraburst_rate_hz is not None and program.burst_pulses is not None
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


def _limit_problems(program: Program) -> list[Problem]:
    out: list[Problem] = []
    table = P.PARAMS[program.mode]
    lim = program.limits
    for limit_key, (param_key, _side, wire) in P.LIMIT_KEYS.items():
        value = lim.get(limit_key)
        spec = table.get(param_key)
        if value is None or spec is None:
            continue
        if not spec.allows(value):
            out.append(Problem(
                f"limits.{limit_key}",
                f"{spec.fmt(value)} is outside {spec.range_text()} for {program.mode.value}",
                OUT_OF_RANGE, wire, "", spec.minimum, spec.maximum,
            ))
    for param_key, lo_key, hi_key in (
        ("amplitude_ma", "amplitude_min_ma", "amplitude_max_ma"),
        ("pulse_width_us", "pulse_width_min_us", "pulse_width_max_us"),
        ("rate_hz", "rate_min_hz", "rate_max_hz"),
    ):
        spec = table[param_key]
        lo, hi = lim.get(lo_key), lim.get(hi_key)
        if lo is not None and hi is not None and lo > hi:
            out.append(Problem(
                f"limits.{lo_key}", f"{spec.fmt(lo)} is above limits.{hi_key} ({spec.fmt(hi)})",
                OUT_OF_RANGE, P.LIMIT_KEYS[lo_key][2], "LIMITS", spec.minimum, hi,
            ))
            continue
        value = program.canonical(param_key)
        assert value is not None
        lo_eff = spec.minimum if lo is None else lo
        hi_eff = spec.maximum if hi is None else hi
        if (lo is not None or hi is not None) and not lo_eff <= value <= hi_eff:
            out.append(Problem(
                param_key,
                f"{spec.fmt(value)} is outside the clinician limits {spec.fmt(lo_eff)}..{spec.fmt(hi_eff)} "
                f"{spec.file_unit}".rstrip(),
                OUT_OF_RANGE, spec.wire, "LIMITS", lo_eff, hi_eff,
            ))
    return out


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


def _electrode_problems(elec: Electrodes) -> list[Problem]:
    out: list[Problem] = []
    for contact, value in elec.pairs:
        where = f"electrodes.{contact}"
        if contact not in P.CONTACTS:
            out.append(Problem(where, "is not a contact (1..16 or case)", BAD_ARG, "ELEC"))
        elif value == 0 or not -100 <= value <= 100:
            out.append(Problem(where, f"{value} % is not a share (-100..-1 cathode, 1..100 anode)",
                               OUT_OF_RANGE, "ELEC", "ELECTRODES", -100, 100))
        elif contact == P.CASE and value < 0:
            out.append(Problem(where, "the case can only be an anode (positive percent)",
                               OUT_OF_RANGE, "ELEC", "ELECTRODES", 1, 100))
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
    return out


def _safety_problems(program: Program, device: DeviceModel, acknowledged: bool) -> list[Problem]:
    from .load import contact_charges  # local: load builds on this module

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
