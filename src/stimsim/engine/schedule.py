"""Exact pulse timing of a program: the pulse grid, cycling drops, ramp amplitudes, phases.

Model section 3. Pulse starts are kept as integer *ticks* so grid points, cycle boundaries
and ramp ends compare exactly however long stimulation has been on: one tick is
``1 / (1000 * RATE * INTRA)`` s (INTRA = 1 outside burst), which makes every burst start
``j/RATE``, every intra-burst offset ``m/INTRA`` and every millisecond a whole number of
ticks. Seconds appear at the public edges and in a window-local ``Frame``, where
sub-tick positions matter but magnitudes stay small.

Tonic and hf are handled as bursts of one pulse: group ``j`` starts at ``j*B`` ticks and its
pulse ``m`` at ``j*B + m*I``. A *run* is one cycling on interval (or, without cycling, all
of stimulation from t = 0); its pulses are numbered ``q = j'*N + m`` with ``j'`` counted
from the group at or before the run start, so a run keeps exactly the contiguous range
``q_first..q_last``, and its grid depends only on the run start's *phase*
``phi = start mod B``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from . import params as P
from .params import Mode, Recharge
from .program import Program
from .validate import check_program

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: ``q_last`` of a run that never ends (stimulation without cycling).
NO_END = 2**62

#: Program keys whose problems make the pulse timing undefined (ranges, fit, cycling pair).
_TIMING_KEYS = frozenset({*(p.key for p in P.TABLE if p.timing), "recharge"})


@dataclass(frozen=True)
class Grid:
    """The timing of a program in ticks (pulse grid, cycling, ramp) and seconds (phases)."""

    tps: int  #: ticks per second
    group_ticks: int  #: B: burst period (tonic/hf: pulse period)
    intra_ticks: int  #: I: intra-burst pulse period (unused when ``per_group`` is 1)
    per_group: int  #: N: pulses per burst (1 for tonic and hf)
    on_ticks: int  #: cycling on time, 0 without cycling
    cycle_ticks: int  #: cycling on + off time, 0 without cycling
    ramp_ticks: int  #: 0 without ramp
    pw_s: float
    ipg_s: float
    active: bool  #: active recharge (else passive through the coupling capacitor)

    @property
    def cycled(self) -> bool:
        return self.cycle_ticks > 0

    @property
    def period_s(self) -> float:
        """The group period 1/RATE (burst period in burst mode)."""
        return self.group_ticks / self.tps

    @property
    def pulse_span_s(self) -> float:
        """Cathodic start to the end of the anodic phase (active) or of the gap (passive)."""
        return (2 * self.pw_s if self.active else self.pw_s) + self.ipg_s

    # --- run arithmetic, vectorised over phases / pulse numbers --------------------------

    def zone_of(self, ticks: IntArray) -> IntArray:
        """Run index of absolute tick times; -1 before stimulation turned on."""
        if self.cycled:
            return np.maximum(ticks // self.cycle_ticks, -1)
        return np.where(ticks < 0, -1, 0).astype(np.int64)

    def run_start(self, run: int) -> int:
        return run * self.cycle_ticks

    def phase(self, run: int) -> int:
        return self.run_start(run) % self.group_ticks

    def last_at_or_before(self, phi: IntArray | int, rel: IntArray | int) -> IntArray:
        """Pulse number q of the last grid pulse starting at or before ``rel`` ticks after
        the start of a run of phase ``phi`` (unclipped: may lie outside the run)."""
        z: IntArray = np.asarray(rel, dtype=np.int64) + np.asarray(phi, dtype=np.int64)
        if self.per_group == 1:
            return z // self.group_ticks
        j: IntArray = z // self.group_ticks
        m: IntArray = np.minimum((z - j * self.group_ticks) // self.intra_ticks, self.per_group - 1)
        return j * self.per_group + m

    def rel_ticks(self, phi: IntArray | int, q: IntArray) -> IntArray:
        """Start of pulse ``q`` in ticks after the start of its run."""
        shift = np.asarray(phi, dtype=np.int64)
        if self.per_group == 1:
            return q * self.group_ticks - shift
        j: IntArray = q // self.per_group
        return j * self.group_ticks + (q - j * self.per_group) * self.intra_ticks - shift

    def run_bounds(self, phi: IntArray) -> tuple[IntArray, IntArray]:
        """(q_first, q_last) of the pulses kept in runs of phase ``phi``."""
        phi = np.asarray(phi, dtype=np.int64)
        m0 = -(-phi // self.intra_ticks)  # first intra slot at or after the run start
        first = np.where(m0 < self.per_group, m0, self.per_group)
        if not self.cycled:
            return first, np.full_like(first, NO_END)
        return first, self.last_at_or_before(phi, self.on_ticks - 1)

    def first_steady_group(self, phi: int, q_first: int) -> int:
        """The first group (j') of a run that is whole and at full amplitude: from there
        on the run repeats with the group period."""
        whole = q_first // self.per_group + (1 if q_first % self.per_group else 0)
        return max(whole, -(-(self.ramp_ticks + phi) // self.group_ticks))

    def ramp_factor(self, rel: IntArray) -> FloatArray:
        """``min(1, s/RAMP)`` for pulses starting ``rel`` ticks after their run start."""
        if self.ramp_ticks == 0:
            return np.ones(np.shape(rel))
        return np.minimum(1.0, np.asarray(rel, dtype=np.float64) / self.ramp_ticks)

    def ticks_ceil(self, t: float) -> int:
        """The first tick at or after ``t`` seconds, exactly."""
        return math.ceil(Fraction(t) * self.tps)


def grid(program: Program) -> Grid:
    """The timing grid of ``program``; ValueError when its timing is out of range or
    infeasible (the waveform is defined only for programs a generator would run)."""
    problems = [p for p in check_program(program) if p.key in _TIMING_KEYS and p.rule != "LIMITS"]
    if problems:
        detail = "; ".join(f"{p.key}: {p.message}" for p in problems)
        raise ValueError(f"program timing cannot be simulated: {detail}")
    rate = program.rate_hz
    if program.mode is Mode.BURST:
        assert program.burst_pulses is not None and program.intraburst_rate_hz is not None
        per_group, intra = program.burst_pulses, program.intraburst_rate_hz
    else:
        per_group, intra = 1, 1
    ms = rate * intra  # ticks per millisecond
    on = program.cycle_on_ms * ms if program.cycling else 0
    cycle = (program.cycle_on_ms + program.cycle_off_ms) * ms if program.cycling else 0
    return Grid(
        tps=1000 * ms,
        group_ticks=1000 * intra,
        intra_ticks=1000 * rate,
        per_group=per_group,
        on_ticks=on,
        cycle_ticks=cycle,
        ramp_ticks=program.ramp_ms * ms,
        pw_s=program.pulse_width_us * 1e-6,
        ipg_s=program.interphase_us * 1e-6,
        active=program.recharge is Recharge.ACTIVE,
    )


@dataclass(frozen=True)
class Frame:
    """Window-local seconds: local ``x`` is absolute ``t0 + x``.

    ``t0`` is split exactly into whole ticks ``k0`` and a remainder ``delta`` (< 1 tick), so
    local times of pulses are differences of integers divided once, and stay precise
    however far from t = 0 the window lies.
    """

    tps: int
    k0: int
    delta: float

    @classmethod
    def at(cls, t0: float | Fraction, tps: int) -> Frame:
        exact = Fraction(t0) * tps
        k0 = math.floor(exact)
        return cls(tps, k0, float((exact - k0) / tps))

    def local(self, ticks: IntArray) -> FloatArray:
        """Local seconds of absolute ticks."""
        return np.asarray(ticks - self.k0, dtype=np.float64) / self.tps - self.delta

    def local_of(self, ticks: int) -> float:
        return (ticks - self.k0) / self.tps - self.delta

    def ticks_floor(self, x: float) -> int:
        """The last absolute tick at or before local ``x``."""
        return self.k0 + math.floor((x + self.delta) * self.tps)


def pulse_ticks(g: Grid, lo: int, hi: int) -> IntArray:
    """Absolute ticks of the kept pulses starting in ``[lo, hi)``, in time order.

    Cost O(runs + pulses) in the window: each run's kept range is found arithmetically,
    and grid pulses of off intervals are never generated.
    """
    lo = max(lo, 0)
    if hi <= lo:
        return np.zeros(0, dtype=np.int64)
    if g.cycled:
        runs = np.arange(lo // g.cycle_ticks, (hi - 1) // g.cycle_ticks + 1, dtype=np.int64)
    else:
        runs = np.zeros(1, dtype=np.int64)
    start = runs * g.cycle_ticks
    phi = start % g.group_ticks
    q_first, q_last = g.run_bounds(phi)
    qa = np.maximum(q_first, g.last_at_or_before(phi, lo - start - 1) + 1)
    qb = np.minimum(q_last, g.last_at_or_before(phi, hi - 1 - start))
    count = np.maximum(qb - qa + 1, 0)
    total = int(count.sum())
    offset = np.repeat(np.cumsum(count) - count, count)
    q = np.repeat(qa, count) + (np.arange(total, dtype=np.int64) - offset)
    return np.repeat(start, count) + g.rel_ticks(np.repeat(phi, count), q)


def _window_ticks(g: Grid, t0: float, t1: float) -> IntArray:
    """Ticks of the kept pulses whose start, as a float in seconds, lies in [t0, t1)."""
    ticks = pulse_ticks(g, g.ticks_ceil(t0) - 1, g.ticks_ceil(t1) + 1)
    starts = ticks / g.tps
    return ticks[(starts >= t0) & (starts < t1)]


def pulse_starts(program: Program, t0: float, t1: float) -> FloatArray:
    """Start times (s) of the pulses starting in ``[t0, t1)`` after cycling drops."""
    g = grid(program)
    return _window_ticks(g, t0, t1) / g.tps


def _ramp_of_ticks(g: Grid, ticks: IntArray) -> FloatArray:
    run = np.maximum(g.zone_of(ticks), 0)
    return g.ramp_factor(ticks - run * g.cycle_ticks)


def pulse_amplitudes(program: Program, starts: npt.ArrayLike, delivered_ma: float) -> FloatArray:
    """Amplitude (mA, positive) of the pulses starting at ``starts`` (s, as given by
    ``pulse_starts``): ``delivered_ma * min(1, s/RAMP)``, s from the start of its run."""
    g = grid(program)
    ticks = np.rint(np.asarray(starts, dtype=np.float64) * g.tps).astype(np.int64)
    return delivered_ma * _ramp_of_ticks(g, ticks)


@dataclass(frozen=True)
class PulsePhases:
    """Phase boundaries (absolute seconds) of pulses, one entry per pulse, for annotations.

    Cathodic ``[start, cathodic_end)`` at ``-amplitude``; active recharge adds the anodic
    ``[anodic_start, anodic_end)`` at ``+amplitude`` (NaN with passive recharge). With
    passive recharge ``recharge_close`` is when the recharge path closes after this pulse
    (its cathodic end plus the gap, for the last pulse of a burst only; NaN where the path
    stays open, and with active recharge).
    """

    start: FloatArray
    cathodic_end: FloatArray
    anodic_start: FloatArray
    anodic_end: FloatArray
    recharge_close: FloatArray
    amplitude_ma: FloatArray


def pulse_phases(program: Program, t0: float, t1: float, delivered_ma: float) -> PulsePhases:
    """The phases of the pulses starting in ``[t0, t1)``.

    To include a pulse already under way at ``t0``, start the window ``Grid.pulse_span_s``
    earlier.
    """
    g = grid(program)
    ticks = _window_ticks(g, t0, t1)
    start = ticks / g.tps
    amp = delivered_ma * _ramp_of_ticks(g, ticks)
    nan = np.full_like(start, np.nan)
    cath_end = start + g.pw_s
    if g.active:
        return PulsePhases(start, cath_end, cath_end + g.ipg_s, cath_end + g.ipg_s + g.pw_s, nan, amp)
    run = np.maximum(g.zone_of(ticks), 0)
    run_start = run * g.cycle_ticks
    phi = run_start % g.group_ticks
    q = g.last_at_or_before(phi, ticks - run_start)
    _, q_last = g.run_bounds(phi)
    closes = ((q % g.per_group) == g.per_group - 1) | (q == q_last)
    close = np.where(closes, cath_end + g.ipg_s, np.nan)
    return PulsePhases(start, cath_end, nan, nan, close, amp)
