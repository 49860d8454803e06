"""The loop: one amplitude update per pulse (at most ``max_update_hz``), and its clamps.

``I(n+1) = clamp(round(I(n) + GAIN * (TARGET - E(n))))`` in whole uA, halves away from
zero, GAIN in uA per uV. The clamps are the program's AMP_MIN..AMP_MAX, the mode's range,
the per-contact interlock, the compliance limit and, unless the slot was written with
ACK=CHARGE, the start of the charge-density zone. The loop gain per update is
``g = GAIN * S / 1000``: below 1 it settles, 1..2 it rings and settles, 2 it oscillates
without decay, above 2 it grows until the clamps hold it.

``step`` is the plain per-update reference every faster runner must equal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..engine import params as EP
from ..engine.load import contact_charges
from ..engine.program import DeviceModel, Program
from . import defaults as D
from .nerve import Output


def round_half_away(x: float) -> int:
    """The nearest whole number, halves away from zero (exact for any float)."""
    a = abs(x)
    f = math.floor(a)
    r = f + 1 if a - f >= 0.5 else f
    return int(r) if x >= 0 else -int(r)


def round_half_away_array(x: np.ndarray) -> np.ndarray:
    """``round_half_away`` of every element, as int64."""
    a = np.abs(x)
    f = np.floor(a)
    r = f + (a - f >= 0.5)
    return np.asarray(np.where(x >= 0, r, -r), dtype=np.int64)


@dataclass(frozen=True)
class Clamp:
    """The loop's amplitude range in uA, with what sets each end (when the ends cross,
    the upper end, a safety bound, wins)."""

    low_ua: int
    high_ua: int
    low_reason: str
    high_reason: str

    def apply(self, amplitude_ua: int) -> int:
        return min(max(amplitude_ua, self.low_ua), self.high_ua)

    def apply_array(self, amplitude_ua: np.ndarray) -> np.ndarray:
        return np.asarray(np.minimum(np.maximum(amplitude_ua, self.low_ua), self.high_ua), dtype=np.int64)


AMP_LIMITS = "AMP_MIN..AMP_MAX"
MODE_RANGE = "the mode's range"
INTERLOCK = "the contact interlock"
COMPLIANCE = "the compliance limit"
CHARGE_DENSITY = "the charge-density zone"


def interlock_max_ua(program: Program) -> int:
    """The largest amplitude whose share through every lead contact stays within the interlock."""
    shares = [abs(v) for c, v in program.electrodes.pairs if c != EP.CASE]
    if not shares:
        return 1 << 40
    return EP.CONTACT_CURRENT_MAX_UA * EP.PERCENT_TOTAL // max(shares)


def charge_zone_start_ua(program: Program, device: DeviceModel, upto_ua: int) -> int | None:
    """The smallest amplitude (uA, at most ``upto_ua``) in the charge-density warning zone,
    None when none is; the zone only grows with amplitude."""
    def inside(amplitude_ua: int) -> bool:
        return any(c.warning for c in contact_charges(program.with_amplitude(amplitude_ua), device))

    if not inside(upto_ua):
        return None
    lo, hi = 0, upto_ua  # inside(hi) holds; find the smallest such
    if inside(lo):
        return lo
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if inside(mid):
            hi = mid
        else:
            lo = mid
    return hi


def clamp_for(program: Program, device: DeviceModel | None = None, *, acknowledged: bool = False) -> Clamp:
    """The loop's clamp for ``program`` on ``device``; ``acknowledged``: the slot was written
    with ACK=CHARGE, so the charge-density zone does not bound it."""
    device = device or DeviceModel()
    spec = EP.family_params(device.family, program.mode)["amplitude_ma"]
    amp_min, amp_max = program.limits.amp_range(program.mode, device.family)
    lows = [(spec.minimum, MODE_RANGE), (amp_min, AMP_LIMITS)]  # a tie names the mode's range
    highs = [(spec.maximum, MODE_RANGE), (amp_max, AMP_LIMITS), (interlock_max_ua(program), INTERLOCK),
             (Output.of(program, device).full_max_ua, COMPLIANCE)]
    if not acknowledged:
        upto = min(v for v, _ in highs)
        start = charge_zone_start_ua(program, device, upto)
        if start is not None:
            highs.append((start - 1, CHARGE_DENSITY))
    low = max(lows, key=lambda item: item[0])
    high = min(highs, key=lambda item: item[0])
    return Clamp(low[0], high[0], low[1], high[1])


def step(amplitude_ua: int, ecap_uv: float, target_uv: float, gain_ua_per_uv: float, clamp: Clamp) -> int:
    """One loop update: the next amplitude in whole uA."""
    return clamp.apply(round_half_away(amplitude_ua + gain_ua_per_uv * (target_uv - ecap_uv)))


def loop_gain(gain_ua_per_uv: float, slope_uv_per_ma: float = D.SLOPE_UV_PER_MA) -> float:
    """``g = GAIN * S / 1000``: the share of a deviation one update takes away."""
    return gain_ua_per_uv * slope_uv_per_ma / 1000.0


# --- when the loop updates -------------------------------------------------------------------
def update_pulse(n: int, rate_hz: int, max_update_hz: int = D.MAX_UPDATE_HZ) -> int:
    """The pulse (0 = the first) of update ``n``: every pulse up to ``max_update_hz``, else the
    first pulse at or after each multiple of 1/max_update_hz s."""
    if rate_hz <= max_update_hz:
        return n
    return -((-n * rate_hz) // max_update_hz)


def update_time_s(n: int, rate_hz: int, max_update_hz: int = D.MAX_UPDATE_HZ) -> Fraction:
    return Fraction(update_pulse(n, rate_hz, max_update_hz), rate_hz)


def first_update_at(t_s: Fraction, rate_hz: int, max_update_hz: int = D.MAX_UPDATE_HZ) -> int:
    """The index of the first update at or after ``t_s`` (exact)."""
    if t_s <= 0:
        return 0
    pulse = math.ceil(t_s * rate_hz)  # the first pulse at or after t
    if rate_hz <= max_update_hz:
        return pulse
    # the first n with ceil(n*rate/max) >= pulse, that is n*rate/max > pulse - 1
    return (pulse - 1) * max_update_hz // rate_hz + 1


def update_times_s(count: int, rate_hz: int, max_update_hz: int = D.MAX_UPDATE_HZ) -> np.ndarray:
    """The times (s) of updates 0..count-1, as floats."""
    n = np.arange(count, dtype=np.int64)
    pulses = n if rate_hz <= max_update_hz else -((-n * rate_hz) // max_update_hz)
    return pulses / float(rate_hz)
