"""Running the loop (or the open loop) over a posture schedule, and its figures.

``run_reference`` is the plain per-update loop: a ``VirtualNerve`` measured pulse by pulse
and ``step``. ``run`` is the fast runner and gives the same amplitudes to the microampere.

How ``run`` is fast: the recurrence ``I(n+1) = f_n(I(n))`` is solved by fixed-point
iteration over whole blocks of updates at once (Jacobi iteration, numpy vectorised). A
block starts from a guess (the amplitude each update's posture and cough settle to); one
pass computes ``f_n`` of every update's amplitude, exactly as ``step`` does it in floats;
then only the updates whose predecessor changed are computed again, until none changes.
Then ``I(n+1) == f_n(I(n))`` holds for every n of the block, which is the recurrence
itself, so the result is the reference's, rounding and clamps included. With a loop gain
below 2 a wrong guess dies away geometrically, so a few passes settle a block; where it
does not (a gain of 2 or more that no clamp holds), the block's rest is computed update by
update. Block by block, the last amplitude of one block starts the next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..engine.program import DeviceModel, Program
from ..patient.defaults import POSTURES
from ..patient.model import Patient
from . import defaults as D
from .loop import Clamp, clamp_for, step, update_time_s, update_times_s
from .nerve import Output, VirtualNerve, thresholds
from .schedule import Schedule

BLOCK = 1 << 16  #: updates solved together
MAX_PASSES = 48  #: passes over a block before its rest is computed update by update


@dataclass(frozen=True)
class Loop:
    """What runs: the patient, the program on its device, the target and gain, closed or
    open, the noise, and whether the slot was written with ACK=CHARGE."""

    patient: Patient
    program: Program
    device: DeviceModel
    target_uv: float
    gain_ua_per_uv: float
    closed: bool = True
    noise_uv: float = D.NOISE_UV
    seed: int = 0
    acknowledged: bool = False
    slope_uv_per_ma: float = D.SLOPE_UV_PER_MA
    threshold_ratio: float = D.THRESHOLD_RATIO
    cough_depth_mm: float = D.COUGH_DEPTH_MM

    @property
    def clamp(self) -> Clamp:
        return clamp_for(self.program, self.device, acknowledged=self.acknowledged)

    def nerve(self) -> VirtualNerve:
        return VirtualNerve(self.patient, self.program, self.device, noise_uv=self.noise_uv, seed=self.seed,
                            slope_uv_per_ma=self.slope_uv_per_ma, threshold_ratio=self.threshold_ratio,
                            cough_depth_mm=self.cough_depth_mm)


@dataclass(frozen=True)
class Figures:
    """The reported figures, averaged over updates."""

    updates: int
    mean_abs_dev_uv: float
    time_in_window: float
    max_ecap_uv: float
    amp_min_ma: float
    amp_max_ma: float

    def as_dict(self) -> dict[str, float | int]:
        return {"updates": self.updates, "mean_abs_dev_uv": self.mean_abs_dev_uv,
                "time_in_window": self.time_in_window, "max_ecap_uv": self.max_ecap_uv,
                "amp_min_ma": self.amp_min_ma, "amp_max_ma": self.amp_max_ma}


@dataclass(frozen=True)
class Trace:
    """One row per update: posture index into ``POSTURES``, cough, amplitude (uA), measured
    ECAP (uV) and whether it lay in the therapeutic window of that moment; ``times_s()``
    gives each update's time from the program's rate."""

    rate_hz: int
    posture: np.ndarray
    cough: np.ndarray
    amplitude_ua: np.ndarray
    ecap_uv: np.ndarray
    in_window: np.ndarray

    def times_s(self) -> np.ndarray:
        return update_times_s(self.amplitude_ua.size, self.rate_hz)

    def figures(self, target_uv: float) -> Figures:
        if not self.ecap_uv.size:
            return Figures(0, 0.0, 0.0, 0.0, 0.0, 0.0)
        return Figures(
            updates=int(self.ecap_uv.size),
            mean_abs_dev_uv=float(np.mean(np.abs(self.ecap_uv - target_uv))),
            time_in_window=float(np.mean(self.in_window)),
            max_ecap_uv=float(np.max(self.ecap_uv)),
            amp_min_ma=int(np.min(self.amplitude_ua)) / 1000.0,
            amp_max_ma=int(np.max(self.amplitude_ua)) / 1000.0,
        )


def noise_sequence(count: int, noise_uv: float, seed: int) -> np.ndarray:
    """The noise of ``count`` measurements: the draws a ``VirtualNerve`` seeded with ``seed`` makes."""
    z = np.random.default_rng(seed).standard_normal(count)
    z *= noise_uv  # noise_uv * z, in place
    return z


@dataclass(frozen=True)
class _States:
    """Per posture-and-cough state (index ``2 * posture + cough``): T and the window."""

    threshold_ma: np.ndarray
    low_uv: np.ndarray
    high_uv: np.ndarray


def _states(loop: Loop) -> _States:
    t, lo, hi = (np.zeros(2 * len(POSTURES)) for _ in range(3))
    for i, posture in enumerate(POSTURES):
        for cough in (False, True):
            th = thresholds(loop.patient, loop.program, posture, cough, slope_uv_per_ma=loop.slope_uv_per_ma,
                            threshold_ratio=loop.threshold_ratio, cough_depth_mm=loop.cough_depth_mm)
            k = 2 * i + int(cough)
            t[k], lo[k], hi[k] = th.threshold_ma, th.window_low_uv, th.window_high_uv
    return _States(t, lo, hi)


def _trace(loop: Loop, schedule: Schedule, amplitude: np.ndarray, ecap: np.ndarray, state: np.ndarray,
           posture: np.ndarray, cough: np.ndarray, table: _States) -> Trace:
    inside = table.low_uv[state] <= ecap
    inside &= ecap <= table.high_uv[state]
    return Trace(loop.program.rate_hz, posture, cough, amplitude, ecap, inside)


def run(loop: Loop, schedule: Schedule, noise: np.ndarray | None = None) -> Trace:
    """The loop over ``schedule``, fast; ``noise`` (uV per update) replaces the seeded draws."""
    posture, cough = schedule.states(loop.program.rate_hz)
    count = posture.size
    w = noise_sequence(count, loop.noise_uv, loop.seed) if noise is None else np.asarray(noise, dtype=np.float64)
    if w.size != count:
        raise ValueError(f"{w.size} noise values for {count} updates")
    table = _states(loop)
    state = 2 * posture + cough.astype(np.int8)
    t_of = table.threshold_ma
    out = Output.of(loop.program, loop.device)
    slope = loop.slope_uv_per_ma
    start = loop.program.amplitude_ua
    if not loop.closed or count == 0:
        amplitude = np.full(count, start, dtype=np.int64)
        ecap = slope * np.maximum(0.0, out.delivered_ma_array(amplitude) - t_of[state]) + w
        return _trace(loop, schedule, amplitude, ecap, state, posture, cough, table)
    clamp = loop.clamp
    target, gain = loop.target_uv, loop.gain_ua_per_uv
    low, high = clamp.low_ua, clamp.high_ua
    if low < 0 or high > out.full_max_ua:  # the clamp keeps every loop amplitude delivered in full
        raise ValueError(f"a clamp of {low}..{high} uA reaches beyond the output's {out.full_max_ua} uA")

    def f(amp: np.ndarray, t: np.ndarray, noise_uv: np.ndarray) -> np.ndarray:
        """``step`` of many updates at once (amplitudes delivered in full), in the same
        float operations: E = S*max(0, I/1000 - T) + w, then I + GAIN*(TARGET - E), rounded
        halves away from zero and clamped (a negative value rounds to at most 0, below
        the clamp's low end, so the rounding of non-negative values is all that shows)."""
        x = amp / 1000.0
        x -= t
        np.maximum(x, 0.0, out=x)
        x *= slope
        x += noise_uv
        np.subtract(target, x, out=x)
        x *= gain
        x += amp
        r = np.floor(x)
        x -= r
        r += x >= 0.5
        np.clip(r, low, high, out=r)
        return r.astype(np.int64)

    amplitude = np.empty(count, dtype=np.int64)
    ecap = np.empty(count)
    amplitude[0] = start  # the output may limit the start; every later amplitude it delivers in full
    ecap[0] = slope * max(0.0, out.delivered_ma(start) - float(t_of[state[0]])) + float(w[0])
    if count > 1:
        amplitude[1] = step(start, float(ecap[0]), target, gain, clamp)
    settled = np.round(1000.0 * (t_of + target / slope)) if slope > 0 else np.full(t_of.size, float(low))
    g = gain * slope / 1000.0
    for lo in range(1, count, BLOCK):
        hi = min(lo + BLOCK, count - 1)  # amp[lo] is right; this block settles amp[lo+1 .. hi]
        t = t_of[state[lo:hi + 1]]
        if hi > lo:
            guess = settled[state[lo + 1:hi + 1]]  # where each update's state settles ...
            if 0.0 < g < 2.0:  # ... less the loop's answer to the last two noise values
                guess -= gain * w[lo:hi]
                guess[1:] -= gain * (1.0 - g) * w[lo:hi - 1]
            np.round(guess, out=guess)
            np.clip(guess, low, high, out=guess)
            amplitude[lo + 1:hi + 1] = guess
            _settle_block(amplitude[lo:hi + 1], t[:-1], w[lo:hi], f)
        x = amplitude[lo:hi + 1] / 1000.0
        x -= t
        np.maximum(x, 0.0, out=x)
        x *= slope
        x += w[lo:hi + 1]
        ecap[lo:hi + 1] = x
    return _trace(loop, schedule, amplitude, ecap, state, posture, cough, table)


Step = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _settle_block(amp: np.ndarray, t: np.ndarray, w: np.ndarray, f: Step) -> None:
    """Make ``amp[n+1] == f(amp[n], t[n], w[n])`` hold for every n of the block (``amp[0]``
    is right; ``amp`` holds a guess of the rest and is changed in place)."""
    m = t.size
    changed = np.arange(m)  # updates whose successor is to be computed (again)
    for _ in range(MAX_PASSES):
        if changed.size == 0:
            return
        if changed.size > m // 4:  # most of the block: one pass over all of it
            new = f(amp[:-1], t, w)
            moved = np.flatnonzero(new != amp[1:]) + 1
            amp[1:] = new
        else:
            new = f(amp[changed], t[changed], w[changed])
            succ = changed + 1
            differs = new != amp[succ]
            moved = succ[differs]
            amp[moved] = new[differs]
        changed = moved[moved < m]
    # not settled (a gain that does not damp): every update up to the first unsettled one
    # is right; compute the rest of the block one update at a time
    for i in range(int(changed[0]), m):
        amp[i + 1] = f(amp[i:i + 1], t[i:i + 1], w[i:i + 1])[0]


def run_reference(loop: Loop, schedule: Schedule, noise: np.ndarray | None = None) -> Trace:
    """The plain per-update loop: the nerve measured pulse by pulse, ``step`` after each.
    Without ``noise`` the nerve draws its own (seeded) noise; with it, E is the noise-free
    ECAP plus ``noise[n]``."""
    nerve = loop.nerve()
    rate = loop.program.rate_hz
    count = schedule.update_count(rate)
    clamp = loop.clamp
    amplitude = np.empty(count, dtype=np.int64)
    ecap = np.empty(count)
    posture = np.empty(count, dtype=np.int8)
    cough = np.empty(count, dtype=bool)
    current = loop.program.amplitude_ua
    for n in range(count):
        where, coughing = schedule.state_at(update_time_s(n, rate))
        if where != nerve.posture:
            nerve.posture = where
        if coughing != nerve.cough:
            nerve.cough = coughing
        e = nerve.measure(current) if noise is None else nerve.ecap_uv(current) + float(noise[n])
        amplitude[n], ecap[n] = current, e
        posture[n], cough[n] = POSTURES.index(where), coughing
        if loop.closed:
            current = step(current, e, loop.target_uv, loop.gain_ua_per_uv, clamp)
    table = _states(loop)
    state = 2 * posture + cough.astype(np.int8)
    return _trace(loop, schedule, amplitude, ecap, state, posture, cough, table)
