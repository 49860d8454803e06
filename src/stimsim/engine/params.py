"""The one table of parameter specs and device constants.

Every range, step, unit and safety figure of the simulated system lives here, once.
The engine's validation, the virtual generator, the protocol codec, the UI controls and
the generated C header of the firmware stub all read this module, so a limit cannot
drift between them.

Canonical values are integers in the units of the serial protocol (uA, us, ms, Hz,
percent); program files use friendlier units (mA, s) and convert through ``file_scale``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import ClassVar


class _ModeMeta(type):
    """Iterating ``Mode`` walks the modes of the table, in table order."""

    def __iter__(cls) -> Iterator[Mode]:
        return iter(MODES)

    def __len__(cls) -> int:
        return len(MODES)


class Mode(str, metaclass=_ModeMeta):
    """Stimulation mode of a program: a name the table (``MODES``) knows.

    Not an Enum, so that a mode is one more row of ``MODES`` and nothing else: ``Mode(name)``
    returns the table's own instance (so ``is`` comparisons hold) or raises ValueError.
    """

    TONIC: ClassVar[Mode]
    BURST: ClassVar[Mode]
    HF: ClassVar[Mode]

    def __new__(cls, name: str) -> Mode:
        for mode in MODES:
            if mode == name:
                return mode
        raise ValueError(f"{name!r} is not a mode (allowed: {', '.join(MODES)})")

    @classmethod
    def new(cls, name: str) -> Mode:
        """A fresh mode name, to be given a row in ``MODES``."""
        return str.__new__(cls, name)

    @property
    def value(self) -> str:
        return str(self)

    @property
    def wire(self) -> str:
        return self.upper()

    @property
    def spec(self) -> ModeSpec:
        return MODES[self]


Mode.TONIC = Mode.new("tonic")
Mode.BURST = Mode.new("burst")
Mode.HF = Mode.new("hf")


class WireChoice(StrEnum):
    """A choice named in lower case in files and upper case on the wire."""

    @property
    def wire(self) -> str:
        return self.value.upper()


class Recharge(WireChoice):
    """How the charge of the cathodic phase is recovered."""

    ACTIVE = "active"
    PASSIVE = "passive"


class Family(StrEnum):
    """A device family: what kind of generator a program runs on (its row in ``FAMILIES``)."""

    SCS_R = "SCS-R"  #: rechargeable SCS implant (today's generator, the default)
    SCS_P = "SCS-P"  #: primary-cell SCS implant
    ETS = "ETS"  #: external trial stimulator
    DRG = "DRG"  #: dorsal root ganglion implant
    SCS_CL = "SCS-CL"  #: closed-loop SCS implant (ECAP-controlled amplitude)


class Section(StrEnum):
    """Where a parameter stands in a program file and a READ reply (before or after RECHARGE)."""

    PULSE = "pulse"  #: amplitude, pulse width, rate, gap: before RECHARGE
    SHAPE = "shape"  #: mode-specific shape (burst): after RECHARGE
    TIMING = "timing"  #: cycling and ramp: last


class LimitKind(StrEnum):
    """How a parameter takes clinician limits on patient changes."""

    NONE = "none"
    RANGE = "range"  #: always in force; unset = the mode's whole range (amplitude)
    UNLOCK = "unlock"  #: set only to unlock patient changes (pulse width, rate)


@dataclass(frozen=True)
class Param:
    """One numeric program parameter, the same in every mode: its name on every face.

    ``attr`` is the Program attribute, ``key`` the program-file key, ``wire`` the protocol
    key, ``c_name`` the firmware stub's identifier. Values are canonical integers in
    ``unit`` (the wire's units); a file value times ``file_scale`` is canonical.
    ``required``: a program of a mode that takes it must give it; otherwise it defaults to
    0. ``editor_step``/``patient_step`` are canonical; ``patient_step`` 0 means the patient
    cannot step it. ``timing``: it shapes the pulse train's timing (amplitude does not).
    """

    attr: str
    key: str
    wire: str
    c_name: str
    label: str
    unit: str
    file_unit: str = ""
    file_scale: int = 1
    step: int = 1
    editor_step: int = 1
    patient_step: int = 0
    required: bool = False
    timing: bool = True
    section: Section = Section.PULSE
    limits: LimitKind = LimitKind.NONE

    def to_file(self, value: int) -> float | int:
        """Canonical integer to the program-file value (mA or s for scaled keys)."""
        if self.file_scale == 1:
            return value
        return value / self.file_scale

    def fmt(self, value: int) -> str:
        """A value as a person reads it, in file units (``1.5``, ``300``)."""
        return fmt_number(self.to_file(value))

    def show(self, value: int) -> str:
        """A value with its unit as the app shows it: ``1.5 mA``, ``300 µs``, ``10 kHz``."""
        unit = self.file_unit or self.unit
        if unit == "Hz" and value >= 1000:
            return f"{fmt_number(value / 1000)} kHz"
        text = self.fmt(value)
        return f"{text} {unit.replace('us', 'µs')}" if unit else text


@dataclass(frozen=True)
class Limit:
    """A clinician limit of one parameter's patient changes, derived from the parameter."""

    param: Param
    side: str  #: "min" or "max"

    @property
    def attr(self) -> str:
        base, _, unit = self.param.attr.rpartition("_")
        return f"{base}_{self.side}_{unit}"

    @property
    def key(self) -> str:
        base, _, unit = self.param.key.rpartition("_")
        return f"{base}_{self.side}_{unit}"

    @property
    def wire(self) -> str:
        return f"{self.param.wire}_{self.side.upper()}"


@dataclass(frozen=True)
class Range:
    """A parameter's range in one mode, canonical integers; ``zero_off``: 0 means off."""

    minimum: int
    maximum: int
    zero_off: bool = False


@dataclass(frozen=True)
class Grid:
    """The values a parameter may take within its range, as bands of even spacing.

    ``bands`` is ``((start, spacing), ...)`` with ascending starts, the first at 0; a value
    lies in the last band starting at or below it and is on the grid when it is a whole
    number of spacings above that band's start (``((0, 25), (2000, 50))``: 0, 25, ..., 1975,
    2000, 2050, ...).
    """

    bands: tuple[tuple[int, int], ...]

    def _band(self, value: int) -> tuple[int, int, int | None]:
        """(start, spacing, the next band's start or None) of the band holding ``value``."""
        index = max(i for i, (start, _) in enumerate(self.bands) if start <= value or i == 0)
        start, spacing = self.bands[index]
        upper = self.bands[index + 1][0] if index + 1 < len(self.bands) else None
        return start, spacing, upper

    def spacing(self, value: int) -> int:
        """The grid's spacing where ``value`` lies (the ``STEP=`` of a refusal)."""
        return self._band(value)[1]

    def holds(self, value: int) -> bool:
        start, spacing, _ = self._band(value)
        return (value - start) % spacing == 0

    def snap(self, value: int) -> int:
        """The grid point nearest ``value`` (halves upward)."""
        start, spacing, upper = self._band(value)
        point = start + (value - start + spacing // 2) // spacing * spacing
        return point if upper is None else min(point, upper)

    def moved(self, value: int, points: int) -> int:
        """The grid point ``points`` grid points from ``value`` (negative: downward)."""
        for _ in range(abs(points)):
            if points > 0:
                start, spacing, upper = self._band(value)
                value = start + ((value - start) // spacing + 1) * spacing
                value = value if upper is None else min(value, upper)
            else:
                start, spacing, _ = self._band(value - 1)
                value = start + (value - 1 - start) // spacing * spacing
        return value


@dataclass(frozen=True)
class ParamSpec:
    """One parameter as one mode (of one family) takes it: its range and grid there."""

    param: Param
    range: Range
    grid: Grid | None = None

    key = property(lambda self: self.param.key)
    wire = property(lambda self: self.param.wire)
    label = property(lambda self: self.param.label)
    unit = property(lambda self: self.param.unit)
    file_unit = property(lambda self: self.param.file_unit)
    file_scale = property(lambda self: self.param.file_scale)
    step = property(lambda self: self.param.step)
    minimum = property(lambda self: self.range.minimum)
    maximum = property(lambda self: self.range.maximum)
    zero_off = property(lambda self: self.range.zero_off)

    def allows(self, value: int) -> bool:
        """In range (the grid is a rule of its own: see ``on_grid``)."""
        if self.range.zero_off and value == 0:
            return True
        return self.range.minimum <= value <= self.range.maximum

    def on_grid(self, value: int) -> bool:
        return self.grid is None or self.grid.holds(value)

    def to_file(self, value: int) -> float | int:
        return self.param.to_file(value)

    def fmt(self, value: int) -> str:
        return self.param.fmt(value)

    def range_text(self) -> str:
        low = f"0 or {self.fmt(self.minimum)}" if self.zero_off else self.fmt(self.minimum)
        return f"{low}..{self.fmt(self.maximum)} {self.file_unit}".strip()


@dataclass(frozen=True)
class ModeSpec:
    """One mode: its label, ranges by parameter key, recharge choices (first = default),
    the remote's summary (``{key}`` placeholders) and the device families that offer it
    (a new mode is offered by the rechargeable SCS implant alone until listed elsewhere)."""

    label: str
    ranges: Mapping[str, Range]
    recharge: tuple[Recharge, ...]
    summary: str = "{rate_hz} · {pulse_width_us}"
    families: tuple[Family, ...] = (Family.SCS_R,)


def fmt_number(value: float | int) -> str:
    """Shortest faithful text of a number: 3 -> '3', 0.25 -> '0.25'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return str(value)


#: Every numeric parameter, in the order validation reports range problems (and the C
#: stub indexes them).
TABLE: tuple[Param, ...] = (
    Param("amplitude_ua", "amplitude_ma", "AMP", "AMP", "Amplitude", "uA", "mA", 1000, editor_step=10,
          patient_step=100, required=True, timing=False, limits=LimitKind.RANGE),
    Param("pulse_width_us", "pulse_width_us", "PW", "PW", "Pulse width", "us", "us", required=True,
          patient_step=10, limits=LimitKind.UNLOCK),
    Param("rate_hz", "rate_hz", "RATE", "RATE", "Rate", "Hz", "Hz", required=True, patient_step=1,
          limits=LimitKind.UNLOCK),
    Param("interphase_us", "interphase_us", "IPG", "IPG", "Interphase gap", "us", "us"),
    Param("cycle_on_ms", "cycle_on_s", "CYCLE_ON_MS", "CYCLE_ON", "Cycle on", "ms", "s", 1000, editor_step=1000,
          section=Section.TIMING),
    Param("cycle_off_ms", "cycle_off_s", "CYCLE_OFF_MS", "CYCLE_OFF", "Cycle off", "ms", "s", 1000,
          editor_step=1000, section=Section.TIMING),
    Param("ramp_ms", "ramp_s", "RAMP_MS", "RAMP", "Ramp", "ms", "s", 1000, editor_step=100, section=Section.TIMING),
    Param("burst_pulses", "burst_pulses", "BURST_N", "BURST_N", "Pulses per burst", "", "", required=True,
          section=Section.SHAPE),
    Param("intraburst_rate_hz", "intraburst_rate_hz", "INTRA_HZ", "INTRA", "Intra-burst rate", "Hz", "Hz",
          required=True, section=Section.SHAPE),
)

_CYCLING = {"cycle_on_s": Range(1000, 5_400_000, zero_off=True), "cycle_off_s": Range(1000, 5_400_000, zero_off=True),
            "ramp_s": Range(0, 10_000)}

#: The modes, each with the ranges of the parameters it takes.
MODES: dict[Mode, ModeSpec] = {
    Mode.TONIC: ModeSpec(
        "Tonic",
        {"amplitude_ma": Range(0, 20_000), "pulse_width_us": Range(20, 1000), "rate_hz": Range(2, 1200),
         "interphase_us": Range(0, 1000), **_CYCLING},
        (Recharge.ACTIVE, Recharge.PASSIVE),
        families=(Family.SCS_R, Family.SCS_P, Family.ETS, Family.DRG, Family.SCS_CL),
    ),
    Mode.BURST: ModeSpec(
        "Burst",
        {"amplitude_ma": Range(0, 20_000), "pulse_width_us": Range(100, 1000), "rate_hz": Range(1, 100),
         "burst_pulses": Range(2, 10), "intraburst_rate_hz": Range(250, 1000), "interphase_us": Range(0, 1000),
         **_CYCLING},
        (Recharge.PASSIVE, Recharge.ACTIVE),
        summary="{rate_hz} · {burst_pulses} × {intraburst_rate_hz} · {pulse_width_us}",
        families=(Family.SCS_R, Family.SCS_P, Family.ETS, Family.SCS_CL),
    ),
    Mode.HF: ModeSpec(
        "High frequency",
        {"amplitude_ma": Range(0, 15_000), "pulse_width_us": Range(20, 200), "rate_hz": Range(1000, 10_000),
         "interphase_us": Range(0, 100), **_CYCLING},
        (Recharge.ACTIVE,),
        families=(Family.SCS_R, Family.ETS, Family.SCS_CL),
    ),
}

#: A parameter by program-file key.
BY_KEY: Mapping[str, Param] = MappingProxyType({p.key: p for p in TABLE})


class _ModeParams(Mapping[Mode, Mapping[str, ParamSpec]]):
    """``PARAMS[mode][key]``: the mode's parameters as specs, read live from ``MODES``."""

    def __getitem__(self, mode: Mode) -> Mapping[str, ParamSpec]:
        ranges = MODES[mode].ranges
        return {p.key: ParamSpec(p, ranges[p.key]) for p in TABLE if p.key in ranges}

    def __iter__(self) -> Iterator[Mode]:
        return iter(MODES)

    def __len__(self) -> int:
        return len(MODES)


#: For every mode, the numeric parameters it takes (in table order).
PARAMS: Mapping[Mode, Mapping[str, ParamSpec]] = _ModeParams()


class _RechargeView(Mapping[Mode, tuple[Recharge, ...]]):
    def __getitem__(self, mode: Mode) -> tuple[Recharge, ...]:
        return MODES[mode].recharge

    def __iter__(self) -> Iterator[Mode]:
        return iter(MODES)

    def __len__(self) -> int:
        return len(MODES)


#: Recharge choices per mode; the first is the default.
RECHARGE: Mapping[Mode, tuple[Recharge, ...]] = _RechargeView()


def limits() -> tuple[Limit, ...]:
    """Every clinician limit, min before max, in table order."""
    return tuple(Limit(p, side) for p in TABLE if p.limits is not LimitKind.NONE for side in ("min", "max"))


#: Clinician limits by program-file key (``amplitude_max_ma``).
LIMITS: Mapping[str, Limit] = MappingProxyType({lim.key: lim for lim in limits()})

# --- resolutions ---------------------------------------------------------------------
AMP_WIRE_STEP_UA = BY_KEY["amplitude_ma"].step  #: amplitude resolution on the wire and in files
AMP_EDITOR_STEP_UA = BY_KEY["amplitude_ma"].editor_step  #: the clinician editor's amplitude step (0.01 mA)
AMP_PATIENT_STEP_UA = BY_KEY["amplitude_ma"].patient_step  #: one patient step (0.1 mA), `AMP STEP=+1`

# --- feasibility ---------------------------------------------------------------------
FIT_MARGIN_US = 10  #: a pulse and its recharge leave at least this much of the period

# --- contacts and electrodes ---------------------------------------------------------
N_CONTACTS = 16
LEAD_A = tuple(str(i) for i in range(1, 9))
LEAD_B = tuple(str(i) for i in range(9, 17))
CASE = "case"
CONTACTS: tuple[str, ...] = (*LEAD_A, *LEAD_B, CASE)
N_SLOTS = 16
PERCENT_TOTAL = 100  #: each side of an electrode configuration sums to this

# --- load and safety -----------------------------------------------------------------
CONTACT_IMPEDANCE_OHM = 262.0
CASE_IMPEDANCE_OHM = 60.0
IMPEDANCE_OPEN_OHM = 4000.0  #: above: an open contact
IMPEDANCE_SHORT_OHM = 50.0  #: below: a shorted contact
CONTACT_CURRENT_MAX_UA = 12_700  #: hard interlock per lead contact (the case is exempt)
RAIL_MAX_V = 12.0
RAIL_HEADROOM_V = 1.0
CONTACT_AREA_CM2 = 0.1225
CASE_AREA_CM2 = 30.0
SHANNON_K_LIMIT = 1.85
DENSITY_LIMIT_UC_CM2 = 30.0
COUPLING_CAP_UF = 10.0

# --- battery -------------------------------------------------------------------------
QUIESCENT_MW = 0.040
CONVERTER_EFFICIENCY = 0.8
LIION_CAPACITY_MWH = 740.0  #: 200 mAh at 3.7 V
LIION_STOP_PERCENT = 5.0
LIION_LOW_PERCENT = 20.0
LIION_CHARGE_MW = 185.0  #: 50 mA into the cell at 3.7 V
PRIMARY_CAPACITY_MWH = 9000.0  #: 3.0 Ah at 3.0 V
PRIMARY_ERI_PERCENT = 10.0
PRIMARY_EOS_PERCENT = 2.0
PACK_CAPACITY_MWH = 6000.0  #: the trial stimulator's replaceable pack; no charger
PACK_LOW_PERCENT = 20.0
PACK_EMPTY_PERCENT = 5.0  #: stimulation stops until a fresh pack
OCV_LIION: tuple[tuple[float, float], ...] = (
    (0, 3.00), (5, 3.45), (10, 3.60), (50, 3.70), (80, 3.90), (100, 4.10),
)
OCV_PRIMARY: tuple[tuple[float, float], ...] = (
    (0, 2.50), (2, 2.60), (10, 2.80), (50, 2.95), (100, 3.10),
)
OCV_PACK = OCV_PRIMARY  #: the trial stimulator's pack holds primary cells: the same curve

# --- device families -----------------------------------------------------------------


@dataclass(frozen=True)
class Lead:
    """One lead of a family: its name (A, B, ...) and its contacts, distal first."""

    name: str
    contacts: tuple[str, ...]


@dataclass(frozen=True)
class FamilySpec:
    """One device family: leads, case, modes (from ``MODES``), range overrides and grids by
    mode and key, keys a patient steps grid point by grid point, battery chemistries (the
    first is the default), contact area and default impedance, and whether each lead in use
    must be bipolar on its own, and the modes that may run closed loop."""

    label: str
    leads: tuple[Lead, ...]
    case_anode: bool
    chemistries: tuple[str, ...]
    contact_area_cm2: float = CONTACT_AREA_CM2
    contact_impedance_ohm: float = CONTACT_IMPEDANCE_OHM
    ranges: Mapping[Mode, Mapping[str, Range]] = field(default_factory=dict)
    grids: Mapping[str, Grid] = field(default_factory=dict)
    patient_grid_steps: frozenset[str] = frozenset()
    bipolar_per_lead: bool = False
    closed_loop_modes: tuple[Mode, ...] = ()  #: modes with LOOP=ECAP; any: the family takes ``LOOP_TABLE``

    @property
    def closed_loop(self) -> bool:
        """Whether programs on the family may carry the closed-loop keys (``LOOP_TABLE``)."""
        return bool(self.closed_loop_modes)

    @property
    def chemistry(self) -> str:
        """The family's default battery chemistry."""
        return self.chemistries[0]

    @property
    def contacts(self) -> tuple[str, ...]:
        """Every contact of the family in order, the case last where there is one."""
        lead_contacts = tuple(c for lead in self.leads for c in lead.contacts)
        return (*lead_contacts, CASE) if self.case_anode else lead_contacts

    def lead_of(self, contact: str) -> Lead | None:
        return next((lead for lead in self.leads if contact in lead.contacts), None)


def _leads(*names: str, per_lead: int) -> tuple[Lead, ...]:
    return tuple(Lead(name, tuple(str(i * per_lead + k) for k in range(1, per_lead + 1)))
                 for i, name in enumerate(names))


_SCS_LEADS = _leads("A", "B", per_lead=8)
_DRG_AMPLITUDE_GRID = Grid(((0, 25), (2000, 50)))  #: 25 uA below 2 mA, 50 uA from 2 mA
DRG_CONTACT_AREA_CM2 = 0.039  #: 1.25 mm long contacts on a 1 mm lead
DRG_CONTACT_IMPEDANCE_OHM = 800.0

#: The device families; a family's modes are the modes of ``MODES`` that list it.
FAMILIES: dict[Family, FamilySpec] = {
    # The rechargeable implant also takes a primary cell: before the families, the chemistry
    # was this generator's only device-model setting, and files that say so still read.
    Family.SCS_R: FamilySpec("Rechargeable SCS implant", _SCS_LEADS, True, ("liion", "primary")),
    Family.SCS_P: FamilySpec("Primary-cell SCS implant", _SCS_LEADS, True, ("primary",)),
    Family.ETS: FamilySpec("External trial stimulator", _SCS_LEADS, False, ("pack",)),
    Family.DRG: FamilySpec(
        "Dorsal root ganglion implant", _leads("A", "B", "C", "D", per_lead=4), False, ("primary",),
        DRG_CONTACT_AREA_CM2, DRG_CONTACT_IMPEDANCE_OHM,
        ranges=MappingProxyType({Mode.TONIC: MappingProxyType({
            "amplitude_ma": Range(0, 6000), "pulse_width_us": Range(40, 720), "rate_hz": Range(4, 100)})}),
        grids=MappingProxyType({"amplitude_ma": _DRG_AMPLITUDE_GRID, "pulse_width_us": Grid(((0, 10),)),
                                "rate_hz": Grid(((0, 2),))}),
        patient_grid_steps=frozenset({"amplitude_ma"}),
        bipolar_per_lead=True,
    ),
    Family.SCS_CL: FamilySpec("Closed-loop SCS implant", _SCS_LEADS, True, ("liion",),
                              closed_loop_modes=(Mode.TONIC,)),
}


def family_modes(family: Family) -> tuple[Mode, ...]:
    """The modes ``family`` offers, in table order."""
    return tuple(mode for mode, spec in MODES.items() if family in spec.families)


def family_params(family: Family, mode: Mode) -> Mapping[str, ParamSpec]:
    """The parameters of ``mode`` on ``family``: the mode's ranges with the family's
    overrides and grids (``PARAMS[mode]`` is the same for the default family)."""
    fam = FAMILIES[family]
    ranges = {**MODES[mode].ranges, **fam.ranges.get(mode, {})}
    return {p.key: ParamSpec(p, ranges[p.key], fam.grids.get(p.key)) for p in TABLE if p.key in ranges}


def patient_step(family: Family, mode: Mode, key: str, value: int, steps: int) -> int:
    """Where ``steps`` patient steps (negative: down) take ``value`` of ``key``: the
    parameter's patient step each, or the next grid point each where the family says so."""
    grid = family_params(family, mode)[key].grid
    if key in FAMILIES[family].patient_grid_steps and grid is not None:
        return grid.moved(value, steps)
    return value + steps * BY_KEY[key].patient_step


# --- closed loop ---------------------------------------------------------------------


class LoopMode(WireChoice):
    """How a closed-loop family sets the amplitude: as programmed, or held to an ECAP target."""

    OPEN = "open"
    ECAP = "ecap"


class ValueKind(StrEnum):
    """What kind of value a closed-loop key takes."""

    CHOICE = "choice"  #: one name of ``choices`` (``LOOP=ECAP``, file ``"ecap"``)
    NUMBER = "number"  #: a whole number in ``range`` (``TARGET_UV=80``)
    CONTACT_PAIR = "contact_pair"  #: two lead contacts (``SENSE=6,7``, file ``["6", "7"]``)


@dataclass(frozen=True)
class LoopParam:
    """One closed-loop program key, its name on every face (as ``Param``) and its kind.

    Only a family with ``closed_loop_modes`` takes these keys; a program that gives none of
    them carries none (``Program.closed_loop`` None: open loop). ``default`` fills a key left
    out when others are given (None: no value, the sense pair).
    """

    attr: str
    key: str
    wire: str
    c_name: str
    label: str
    unit: str
    kind: ValueKind
    range: Range | None = None
    choices: tuple[str, ...] = ()
    default: str | int | None = None

    def fmt_range(self) -> str:
        """The allowed values as a person reads them (``10..500 uV``, ``open or ecap``)."""
        if self.range is not None:
            return f"{self.range.minimum}..{self.range.maximum} {self.unit}".strip()
        return " or ".join(self.choices)


LOOP_TARGET_DEFAULT_UV = 50  #: inside the reference patient's window at T8 (about 9..115 uV monopolar, 11..139 bipolar)
LOOP_GAIN_DEFAULT = 10  #: 10 uA per uV: loop gain g = 0.4 per update with the slope of 40 uV/mA

#: The closed-loop keys, in the order READ and program files give them (after ELEC).
LOOP_TABLE: tuple[LoopParam, ...] = (
    LoopParam("loop", "loop", "LOOP", "LOOP", "Loop", "", ValueKind.CHOICE, choices=tuple(m.value for m in LoopMode),
              default=LoopMode.OPEN.value),
    LoopParam("target_uv", "target_uv", "TARGET_UV", "TARGET_UV", "ECAP target", "uV", ValueKind.NUMBER,
              Range(10, 500), default=LOOP_TARGET_DEFAULT_UV),
    LoopParam("gain_ua_per_uv", "gain_ua_per_uv", "GAIN", "GAIN", "Loop gain", "uA/uV", ValueKind.NUMBER,
              Range(1, 100), default=LOOP_GAIN_DEFAULT),
    LoopParam("sense", "sense", "SENSE", "SENSE", "Sense contacts", "", ValueKind.CONTACT_PAIR),
)

#: A closed-loop key by program-file key.
LOOP_BY_KEY: Mapping[str, LoopParam] = MappingProxyType({p.key: p for p in LOOP_TABLE})

# --- names ---------------------------------------------------------------------------
NAME_MAX = 64
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .-+:,")


def spec(mode: Mode, key: str) -> ParamSpec | None:
    """The spec of ``key`` in ``mode``, or None where the mode does not take it."""
    return PARAMS[mode].get(key)


def all_keys() -> tuple[str, ...]:
    """Every numeric parameter's file key, in table order."""
    return tuple(p.key for p in TABLE)


def max_fitting_pw(rate_hz: int, ipg_us: int, recharge: Recharge) -> int:
    """The largest pulse width (us) whose phases fit one period of ``rate_hz``.

    Active: ``2*PW + IPG <= P - 10``; passive: ``PW + IPG <= P - 10``, P = 1e6/rate.
    Computed in integers: ``rate*(k*PW + IPG + 10) <= 1e6``.
    """
    phases = 2 if recharge is Recharge.ACTIVE else 1
    room = 1_000_000 - rate_hz * (ipg_us + FIT_MARGIN_US)
    if room < 0:
        return -1
    return room // (phases * rate_hz)


def max_fitting_burst(rate_hz: int, intra_hz: int) -> int:
    """The most pulses per burst that fit one burst period: ``N*1e6/INTRA <= 1e6/RATE``."""
    return intra_hz // rate_hz
