"""Long-run figures of a program: pulse rate, duty, mean and rms current, power, charge.

Every figure is a long-run average with cycling included (model sections 4 and 5), so it
answers "what does this program do to the tissue and the battery over hours", not "what
happens in the first second". All of them use the delivered (compliance-limited)
amplitude; load, compliance and per-contact charge come from ``load``.

How cycling and ramp enter:

- Pulses stay on the global grid and those starting in an off interval are dropped, so the
  fraction of grid pulses kept is counted exactly over the whole period of the pattern (the
  cycle starts fall on the pulse grid with a period of ``q = 1000/gcd(L_ms*R, 1000)``
  cycles), not taken as ``ON/(ON+OFF)``: 1 Hz with 1.5 s on, 1.5 s off keeps 2 pulses of 3.
- With cycling the ramp recurs every cycle, so a pulse's amplitude factor
  ``f = min(1, s/RAMP)`` (s from its cycle's start) enters the averages exactly: the sums of
  ``f`` (charge, mean current, battery) and ``f^2`` (rms, tissue power) are closed-form
  arithmetic sums over each cycle phase, averaged over the q phases.
- Without cycling the ramp is a one-off turn-on transient and does not enter long-run
  figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TypedDict

from . import params as P
from .load import contact_charges, program_compliance
from .params import Mode, Recharge
from .program import DeviceModel, Program

_MS_PER_S = 1000
_US_PER_S = 1_000_000


class ContactEntry(TypedDict):
    """One contact of the configuration in the metrics output."""

    contact: str
    fraction: float
    charge_uc: float
    density_uc_cm2: float
    shannon_k: float | None


class Metrics(TypedDict):
    """The ``metrics`` keys of the command line, JSON-ready."""

    mode: str
    pulses_per_s: float
    duty: float
    charge_per_phase_uc: float
    charge_per_s_uc: float
    mean_abs_current_ma: float
    rms_current_ma: float
    load_ohm: float
    rail_v: float
    compliance: str
    delivered_amplitude_ma: float
    tissue_power_mw: float
    battery_power_mw: float
    contacts: list[ContactEntry]
    max_shannon_k: float | None
    max_density_uc_cm2: float
    warnings: list[str]


# --- pulse counting with cycling and ramp --------------------------------------------


@dataclass(frozen=True)
class PulseSums:
    """Long-run sums per second over the pulses that run (cycling drops included).

    ``count`` is pulses/s, ``linear`` the sum of the pulses' ramp factors f per second and
    ``square`` the sum of f^2 per second. Without a recurring ramp all three are equal.
    Exact rationals, so commensurate cycling patterns come out exactly.
    """

    count: Fraction
    linear: Fraction
    square: Fraction


def pulses_per_burst(program: Program) -> int:
    """Pulses per burst, 1 for tonic and hf (a tonic pulse is a burst of one)."""
    if program.mode is Mode.BURST:
        assert program.burst_pulses is not None
        return program.burst_pulses
    return 1


def pulse_sums(program: Program) -> PulseSums:
    """Pulses per second and their ramp-factor sums, cycling and its ramp included.

    Without cycling every grid pulse runs at full amplitude (the ramp is a one-off turn-on
    transient, outside long-run figures).
    """
    n = pulses_per_burst(program)
    if not program.cycling:
        per_s = Fraction(program.rate_hz * n)
        return PulseSums(per_s, per_s, per_s)
    intra = program.intraburst_rate_hz if program.mode is Mode.BURST else 1
    assert intra is not None
    return _cycled_sums(program.rate_hz, n, intra, program.cycle_on_ms, program.cycle_off_ms, program.ramp_ms)


def _cycled_sums(rate: int, n: int, intra: int, on_ms: int, off_ms: int, ramp_ms: int) -> PulseSums:
    """Exact sums over one full period of the cycle/pulse-grid pattern.

    Times are counted in integer ticks of ``1/(rate*intra)`` ms, so burst j's pulse m starts
    at tick ``1000*j*intra + 1000*m*rate`` (tonic: intra = 1, m = 0). Over the bursts the
    start's phase in the cycle, ``tick mod cycle``, runs once through every value
    ``r_m + k*step`` (step = gcd(1000*intra, cycle), r_m its offset), each exactly once per
    ``cycle/step`` bursts: the q-phase average. A pulse runs when its phase is below ON
    and its ramp factor is ``phase/RAMP`` capped at 1, so each sum is an arithmetic series.
    """
    scale = rate * intra
    cycle = (on_ms + off_ms) * scale
    on = on_ms * scale
    ramp = ramp_ms * scale
    step = math.gcd(1000 * intra, cycle)
    bursts_per_period = cycle // step
    count = linear = square = Fraction(0)
    for m in range(n):
        r = (1000 * m * rate) % step
        kept = _count_below(on, r, step)
        if ramp == 0:
            count += kept
            linear += kept
            square += kept
            continue
        rising = min(kept, _count_below(ramp, r, step))  # pulses still on the ramp
        s1 = rising * (rising - 1) // 2
        s2 = (rising - 1) * rising * (2 * rising - 1) // 6
        count += kept
        linear += Fraction(rising * r + step * s1, ramp) + (kept - rising)
        square += Fraction(rising * r * r + 2 * r * step * s1 + step * step * s2, ramp * ramp) + (kept - rising)
    per_s = Fraction(rate, bursts_per_period)
    return PulseSums(count * per_s, linear * per_s, square * per_s)


def _count_below(limit: int, first: int, step: int) -> int:
    """How many of ``first, first+step, ...`` are below ``limit``."""
    if limit <= first:
        return 0
    return (limit - first + step - 1) // step


def cycle_keep_fraction(program: Program) -> Fraction:
    """Exact long-run fraction of grid pulses that run (1 without cycling)."""
    grid = program.rate_hz * pulses_per_burst(program)
    return pulse_sums(program).count / grid


# --- currents --------------------------------------------------------------------------


def closure_energy_ma2s(program: Program, amplitude_ma: float, z_ohm: float) -> float:
    """Integral of i^2 (mA^2 s) over one steady-state passive-recharge closure.

    The coupling capacitor C gains the cathodic charge of a pulse (tonic) or of the whole
    burst (burst: the path stays open through it), then discharges through Z (tau = Z*C)
    for the closed time ``Tc`` until the next opening. In steady state the voltage at
    closure is ``V0 = dV/(1 - rho)``, rho = exp(-Tc/tau) (geometric series of the
    carried-over voltage), and ``int (V0/Z)^2 exp(-2t/tau) dt`` over Tc gives
    ``i0^2 * tau/2 * (1 + rho)/(1 - rho) = i0^2 * tau / (2*tanh(Tc/(2*tau)))`` with
    ``i0 = dV/Z``. Feasibility keeps Tc >= 10 us, so this is finite.
    """
    n = pulses_per_burst(program)
    if n > 1:
        assert program.intraburst_rate_hz is not None
        burst_s = (n - 1) / program.intraburst_rate_hz
    else:
        burst_s = 0.0
    closed_s = 1.0 / program.rate_hz - burst_s - (program.pulse_width_us + program.interphase_us) / _US_PER_S
    tau_s = z_ohm * P.COUPLING_CAP_UF / _US_PER_S
    charge_uc = n * amplitude_ma * program.pulse_width_us / 1000.0
    i0_ma = 1000.0 * (charge_uc / P.COUPLING_CAP_UF) / z_ohm
    return i0_ma * i0_ma * tau_s / (2.0 * math.tanh(closed_s / (2.0 * tau_s)))


@dataclass(frozen=True)
class Currents:
    """Long-run current figures at the delivered amplitude (mA, s)."""

    pulses_per_s: float
    duty: float
    mean_abs_ma: float
    rms_ma: float
    rail_drive_ma: float  #: mean magnitude of the current the rail drives (I_out)


def currents(program: Program, amplitude_ma: float, z_ohm: float) -> Currents:
    """Pulse rate, duty, mean |i|, rms and rail current, cycling and its ramp included.

    Driven phases (cathodic, and anodic with active recharge) are exact. Mean |i| counts
    both directions: the passive recharge returns exactly the cathodic charge (the train's
    long-run mean current is zero), so it is twice the cathodic charge rate either way.

    Passive rms without cycling is exact (``closure_energy_ma2s``). With cycling it takes
    this module's one approximation: every running pulse is given the steady-state
    recharge energy per pulse scaled by its f^2. That ignores the capacitor's build-up over
    the first closures of each on interval (it starts each on interval discharged: an off
    interval lasts >= 1 s, many tau), its lag behind a rising ramp, the longer last
    discharge into the off interval, and bursts cut by an on-interval edge. With
    rho = exp(-Tc/tau), n the closures (pulses; bursts) per on interval and n2 their sum
    of f^2 (a burst's divided by its N), the relative error of the recharge part of
    i_rms^2 is about ``2*rho/((1 - rho^2)*n)`` without ramp and at most
    ``(4*rho/(1 - rho) + 3/4)/n2`` in general (in practice an overestimate). Examples:
    50 Hz tonic into 524 ohm (tau = 5.2 ms), 1 s on: rho = 0.02, error 0.1 %; a corner
    case, 1200 Hz into 4 kohm, 1 s on: about 4 %. Tests check it against an exact
    per-pulse recursion.
    """
    sums = pulse_sums(program)
    pw_s = program.pulse_width_us / _US_PER_S
    active = program.recharge is Recharge.ACTIVE
    phases = 2 if active else 1
    count = float(sums.count)
    linear = float(sums.linear)
    square = float(sums.square)
    mean_abs = 2.0 * amplitude_ma * pw_s * linear
    mean_sq = phases * amplitude_ma * amplitude_ma * pw_s * square
    if not active and amplitude_ma > 0:
        per_pulse = closure_energy_ma2s(program, amplitude_ma, z_ohm) / pulses_per_burst(program)
        mean_sq += per_pulse * square
    return Currents(
        pulses_per_s=count,
        duty=phases * pw_s * count,
        mean_abs_ma=mean_abs,
        rms_ma=math.sqrt(mean_sq),
        rail_drive_ma=phases * amplitude_ma * pw_s * linear,
    )


# --- power -----------------------------------------------------------------------------


def stimulation_power_mw(rail_drive_ma: float, rail_v: float) -> float:
    """Battery power while stimulating: ``P_q + I_out * V_rail / eta`` (model section 5)."""
    return P.QUIESCENT_MW + rail_drive_ma * rail_v / P.CONVERTER_EFFICIENCY


def battery_power_mw(program: Program, device: DeviceModel) -> float:
    """Power (mW) drawn from the battery while ``program`` stimulates, long-run.

    ``I_out`` counts both phases with active recharge and the cathodic phase only with
    passive (the capacitor pays the recharge), cycling and its ramp included; the rail is
    the one the delivered amplitude needs, capped at 12 V.
    """
    comp = program_compliance(program, device)
    cur = currents(program, comp.delivered_ma, comp.load_ohm)
    return stimulation_power_mw(cur.rail_drive_ma, comp.rail_v)


# --- the metrics table -------------------------------------------------------------------

CHARGE_DENSITY = "CHARGE_DENSITY"
COMPLIANCE = "COMPLIANCE"


def program_metrics(program: Program, device: DeviceModel) -> Metrics:
    """Every long-run figure of ``program`` on ``device`` (the ``metrics`` command's keys).

    Warnings are rule names: ``CHARGE_DENSITY`` when any contact has k > 1.85 or
    D > 30 uC/cm^2, ``COMPLIANCE`` when the amplitude is limited by the rail. A contact
    without charge has Shannon k = -inf, given as None (JSON null).
    """
    comp = program_compliance(program, device)
    cur = currents(program, comp.delivered_ma, comp.load_ohm)
    charges = contact_charges(program, device)
    contacts: list[ContactEntry] = [
        {
            "contact": c.contact,
            "fraction": c.fraction,
            "charge_uc": c.charge_uc,
            "density_uc_cm2": c.density_uc_cm2,
            "shannon_k": _finite_or_none(c.shannon_k),
        }
        for c in charges
    ]
    finite_k = [k for k in (c.shannon_k for c in charges) if math.isfinite(k)]
    warnings = set()
    if any(c.warning for c in charges):
        warnings.add(CHARGE_DENSITY)
    if comp.limited:
        warnings.add(COMPLIANCE)
    return {
        "mode": program.mode.value,
        "pulses_per_s": cur.pulses_per_s,
        "duty": cur.duty,
        "charge_per_phase_uc": comp.delivered_ma * program.pulse_width_us / 1000.0,
        "charge_per_s_uc": 1000.0 * cur.mean_abs_ma,
        "mean_abs_current_ma": cur.mean_abs_ma,
        "rms_current_ma": cur.rms_ma,
        "load_ohm": comp.load_ohm,
        "rail_v": comp.rail_v,
        "compliance": "limited" if comp.limited else "ok",
        "delivered_amplitude_ma": comp.delivered_ma,
        "tissue_power_mw": cur.rms_ma * cur.rms_ma * comp.load_ohm / 1000.0,
        "battery_power_mw": stimulation_power_mw(cur.rail_drive_ma, comp.rail_v),
        "contacts": contacts,
        "max_shannon_k": max(finite_k) if finite_k else None,
        "max_density_uc_cm2": max((c.density_uc_cm2 for c in charges), default=0.0),
        "warnings": sorted(warnings),
    }


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None
