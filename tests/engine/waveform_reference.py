"""A slow, obviously-correct model of i(t) for checking the engine's waveform.

It walks the pulse grid one burst at a time from t = 0 with exact fractions, applies
cycling and ramp literally as model.md section 3 states them, simulates the coupling
capacitor pulse by pulse, and lists i(t) as explicit segments: constant (phases, gaps)
or exponential (passive recharge). Charges and pixel min/max are read off the segments.
It shares no code with ``stimsim.engine.schedule`` / ``waveform``.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from fractions import Fraction

from stimsim.engine import params as P
from stimsim.engine.load import load_ohm, program_compliance
from stimsim.engine.params import Mode, Recharge
from stimsim.engine.program import DeviceModel, Program


@dataclass(frozen=True)
class Pulse:
    start: float
    amp: float
    closes: bool  #: passive: the recharge path closes after this pulse


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    level: float  #: constant current (mA), or the current at ``start`` when ``tau``
    tau: float = 0.0  #: > 0: the current decays as level * exp(-(t - start)/tau)

    def value(self, t: float) -> float:
        return self.level * math.exp(-(t - self.start) / self.tau) if self.tau else self.level

    def charge(self, a: float, b: float) -> float:
        """Integral of the current over [a, b] within this segment (mA*s)."""
        lo, hi = max(a, self.start), min(b, self.end)
        if hi <= lo:
            return 0.0
        if not self.tau:
            return self.level * (hi - lo)
        return self.level * self.tau * (math.exp(-(lo - self.start) / self.tau) - math.exp(-(hi - self.start) / self.tau))


def delivered(program: Program, device: DeviceModel) -> float:
    return program_compliance(program, device).delivered_ma


def pulses(program: Program, device: DeviceModel, t_end: float) -> list[Pulse]:
    """Every kept pulse starting before ``t_end``, by walking the grid literally.

    Times are exact fractions over the common denominator ``1000 * RATE * INTRA``.
    """
    amp = delivered(program, device)
    n = program.burst_pulses if program.mode is Mode.BURST else 1
    intra = program.intraburst_rate_hz if program.mode is Mode.BURST else 1
    assert n is not None and intra is not None
    rate = program.rate_hz
    den = 1000 * rate * intra  # one unit of time is 1/den s
    cycle = (program.cycle_on_ms + program.cycle_off_ms) * rate * intra
    on = program.cycle_on_ms * rate * intra
    ramp = program.ramp_ms * rate * intra
    end = Fraction(t_end) * den
    out: list[Pulse] = []
    j = 0
    while j * 1000 * intra < end:
        kept = []
        for m in range(n):
            t = j * 1000 * intra + m * 1000 * rate  # = (j/RATE + m/INTRA) * den
            since = t
            if program.cycling:
                if t % cycle >= on:
                    continue
                since = t % cycle
            factor = min(1.0, since / ramp) if ramp else 1.0  # int / int: correctly rounded
            kept.append((t / den, amp * factor))
        for i, (start, a) in enumerate(kept):
            if start < t_end:
                out.append(Pulse(start, a, i == len(kept) - 1))
        j += 1
    return out


def segments(program: Program, device: DeviceModel, t_end: float) -> list[Segment]:
    """i(t) over [0, t_end + a pulse span) as contiguous explicit segments."""
    pw = program.pulse_width_us * 1e-6
    ipg = program.interphase_us * 1e-6
    horizon = t_end + 2 * pw + ipg + 1e-3
    plist = pulses(program, device, horizon)
    out: list[Segment] = []
    t = 0.0
    if program.recharge is Recharge.ACTIVE:
        for p in plist:
            s = float(p.start)
            out += [Segment(t, s, 0.0), Segment(s, s + pw, -p.amp), Segment(s + pw, s + pw + ipg, 0.0),
                    Segment(s + pw + ipg, s + 2 * pw + ipg, p.amp)]
            t = s + 2 * pw + ipg
        out.append(Segment(t, horizon + 1.0, 0.0))
        return [seg for seg in out if seg.end > seg.start]
    tau = load_ohm(program.electrodes, device) * P.COUPLING_CAP_UF * 1e-6
    charge = 0.0  # on the capacitor, mA*s
    closed_at = 0.0  # when the path last closed (t = 0: discharged, closed)
    for p in plist:
        s = float(p.start)
        if s > t:
            if closed_at <= t:  # closed: decaying recharge current
                out.append(Segment(t, s, charge / tau, tau))
                charge *= math.exp(-(s - t) / tau)
            else:  # open gap inside a burst
                out.append(Segment(t, s, 0.0))
        out.append(Segment(s, s + pw, -p.amp))
        charge += p.amp * pw
        t = s + pw
        if p.closes:
            out.append(Segment(t, t + ipg, 0.0))
            t = closed_at = t + ipg
        else:
            closed_at = math.inf
    out.append(Segment(t, horizon + 1.0, charge / tau, tau))
    return [seg for seg in out if seg.end > seg.start]


class Reference:
    """i(t) of a program on a device over [0, t_end) as explicit segments."""

    def __init__(self, program: Program, device: DeviceModel, t_end: float) -> None:
        self.amp = delivered(program, device)
        self.segs = segments(program, device, t_end)
        self.starts = [seg.start for seg in self.segs]

    def meeting(self, a: float, b: float) -> list[Segment]:
        """The segments meeting [a, b) (contiguous and in time order)."""
        i = max(0, bisect_right(self.starts, a) - 1)
        out = []
        while i < len(self.segs) and self.segs[i].start < b:
            if self.segs[i].end > a:
                out.append(self.segs[i])
            i += 1
        return out

    def charge(self, a: float, b: float) -> float:
        """Net charge (mA*s) delivered over [a, b] (nothing flows before t = 0)."""
        return sum(seg.charge(a, b) for seg in self.meeting(a, b))

    def mean(self, a: float, b: float) -> float:
        return self.charge(a, b) / (b - a)

    def envelope(self, t0: float, t1: float, pixels: int) -> tuple[list[float], list[float]]:
        """Per-pixel min and max of i(t) (before t = 0: zero)."""
        w = (t1 - t0) / pixels
        lo, hi = [], []
        for k in range(pixels):
            a, b = t0 + k * w, (t0 + (k + 1) * w if k + 1 < pixels else t1)
            values = [0.0] if a < 0 else []
            for seg in self.meeting(a, b):
                values += [seg.value(max(a, seg.start)), seg.value(min(b, seg.end))]
            lo.append(min(values))
            hi.append(max(values))
        return lo, hi

    def ambiguous(self, t0: float, t1: float, pixels: int, eps: float = 1e-9) -> set[int]:
        """Pixels with a phase boundary within ``eps`` of one of their edges, where float
        rounding may legitimately decide which pixel the boundary falls in."""
        w = (t1 - t0) / pixels
        out: set[int] = set()
        for seg in self.meeting(t0 - w, t1 + w):
            for edge in (seg.start, seg.end):
                k = round((edge - t0) / w)
                if abs(t0 + k * w - edge) < eps:
                    out.update({k - 1, k})
        return out
