"""The one table of parameter specs and device constants.

Every range, step, unit and safety figure of the simulated system lives here, once.
The engine's validation, the virtual generator, the protocol codec, the UI controls and
the generated C header of the firmware stub all read this module, so a limit cannot
drift between them.

Canonical values are integers in the units of the serial protocol (uA, us, ms, Hz,
percent); program files use friendlier units (mA, s) and convert through ``file_scale``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Mode(StrEnum):
    """Stimulation mode of a program."""

    TONIC = "tonic"
    BURST = "burst"
    HF = "hf"

    @property
    def wire(self) -> str:
        return self.value.upper()


class Recharge(StrEnum):
    """How the charge of the cathodic phase is recovered."""

    ACTIVE = "active"
    PASSIVE = "passive"

    @property
    def wire(self) -> str:
        return self.value.upper()


@dataclass(frozen=True)
class ParamSpec:
    """One numeric parameter of one mode.

    ``minimum``/``maximum``/``step`` are canonical integers (wire units). ``zero_off``
    marks parameters where 0 means "off" and is allowed below ``minimum`` (cycling).
    A file value times ``file_scale`` is the canonical value.
    """

    key: str
    wire: str
    label: str
    unit: str
    minimum: int
    maximum: int
    step: int = 1
    file_unit: str = ""
    file_scale: int = 1
    zero_off: bool = False

    def allows(self, value: int) -> bool:
        if self.zero_off and value == 0:
            return True
        return self.minimum <= value <= self.maximum

    def to_file(self, value: int) -> float | int:
        """Canonical integer to the program-file value (mA or s for scaled keys)."""
        if self.file_scale == 1:
            return value
        return value / self.file_scale

    def fmt(self, value: int) -> str:
        """A value as a person reads it, in file units (``1.5``, ``300``)."""
        return fmt_number(self.to_file(value))

    def range_text(self) -> str:
        low = f"0 or {self.fmt(self.minimum)}" if self.zero_off else self.fmt(self.minimum)
        return f"{low}..{self.fmt(self.maximum)} {self.file_unit}".strip()


def fmt_number(value: float | int) -> str:
    """Shortest faithful text of a number: 3 -> '3', 0.25 -> '0.25'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return str(value)


def _amp(max_ua: int) -> ParamSpec:
    return ParamSpec("amplitude_ma", "AMP", "Amplitude", "uA", 0, max_ua, 1, "mA", 1000)


def _pw(lo: int, hi: int) -> ParamSpec:
    return ParamSpec("pulse_width_us", "PW", "Pulse width", "us", lo, hi, 1, "us")


def _rate(lo: int, hi: int, label: str = "Rate") -> ParamSpec:
    return ParamSpec("rate_hz", "RATE", label, "Hz", lo, hi, 1, "Hz")


def _ipg(hi: int) -> ParamSpec:
    return ParamSpec("interphase_us", "IPG", "Interphase gap", "us", 0, hi, 1, "us")


_CYCLE_ON = ParamSpec(
    "cycle_on_s", "CYCLE_ON_MS", "Cycle on", "ms", 1000, 5_400_000, 1, "s", 1000, zero_off=True
)
_CYCLE_OFF = ParamSpec(
    "cycle_off_s", "CYCLE_OFF_MS", "Cycle off", "ms", 1000, 5_400_000, 1, "s", 1000, zero_off=True
)
_RAMP = ParamSpec("ramp_s", "RAMP_MS", "Ramp", "ms", 0, 10_000, 1, "s", 1000)

#: The parameter table: for every mode, the numeric parameters it takes.
PARAMS: dict[Mode, dict[str, ParamSpec]] = {
    Mode.TONIC: {
        p.key: p
        for p in (_amp(20_000), _pw(20, 1000), _rate(2, 1200), _ipg(1000), _CYCLE_ON, _CYCLE_OFF, _RAMP)
    },
    Mode.BURST: {
        p.key: p
        for p in (
            _amp(20_000),
            _pw(100, 1000),
            _rate(1, 100, "Burst rate"),
            ParamSpec("burst_pulses", "BURST_N", "Pulses per burst", "", 2, 10, 1, ""),
            ParamSpec("intraburst_rate_hz", "INTRA_HZ", "Intra-burst rate", "Hz", 250, 1000, 1, "Hz"),
            _ipg(1000),
            _CYCLE_ON,
            _CYCLE_OFF,
            _RAMP,
        )
    },
    Mode.HF: {
        p.key: p
        for p in (_amp(15_000), _pw(20, 200), _rate(1000, 10_000), _ipg(100), _CYCLE_ON, _CYCLE_OFF, _RAMP)
    },
}

#: Recharge choices per mode; the first is the default.
RECHARGE: dict[Mode, tuple[Recharge, ...]] = {
    Mode.TONIC: (Recharge.ACTIVE, Recharge.PASSIVE),
    Mode.BURST: (Recharge.PASSIVE, Recharge.ACTIVE),
    Mode.HF: (Recharge.ACTIVE,),
}

#: Clinician limits: limit key -> (the parameter it bounds, "min" or "max", wire key).
LIMIT_KEYS: dict[str, tuple[str, str, str]] = {
    "amplitude_min_ma": ("amplitude_ma", "min", "AMP_MIN"),
    "amplitude_max_ma": ("amplitude_ma", "max", "AMP_MAX"),
    "pulse_width_min_us": ("pulse_width_us", "min", "PW_MIN"),
    "pulse_width_max_us": ("pulse_width_us", "max", "PW_MAX"),
    "rate_min_hz": ("rate_hz", "min", "RATE_MIN"),
    "rate_max_hz": ("rate_hz", "max", "RATE_MAX"),
}

# --- resolutions ---------------------------------------------------------------------
AMP_WIRE_STEP_UA = 1  #: amplitude resolution on the wire and in files
AMP_EDITOR_STEP_UA = 10  #: the clinician editor's amplitude step (0.01 mA)
AMP_PATIENT_STEP_UA = 100  #: one patient step (0.1 mA), `AMP STEP=+1`

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
OCV_LIION: tuple[tuple[float, float], ...] = (
    (0, 3.00), (5, 3.45), (10, 3.60), (50, 3.70), (80, 3.90), (100, 4.10),
)
OCV_PRIMARY: tuple[tuple[float, float], ...] = (
    (0, 2.50), (2, 2.60), (10, 2.80), (50, 2.95), (100, 3.10),
)

# --- names ---------------------------------------------------------------------------
NAME_MAX = 64
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .-+:,")


def spec(mode: Mode, key: str) -> ParamSpec | None:
    """The spec of ``key`` in ``mode``, or None where the mode does not take it."""
    return PARAMS[mode].get(key)


def all_keys() -> tuple[str, ...]:
    """Every numeric parameter key of any mode, in table order."""
    seen: dict[str, None] = {}
    for table in PARAMS.values():
        for key in table:
            seen.setdefault(key, None)
    return tuple(seen)


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
