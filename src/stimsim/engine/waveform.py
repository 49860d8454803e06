"""The stimulation current i(t) of a program: exact box-averaged samples and pixel envelopes.

i(t) is in mA, cathodic negative, from stimulation on at t = 0 with the coupling capacitor
discharged, at the delivered (compliance-limited) amplitude (model section 3).

Public: ``sample`` (box-averaged samples), ``envelope`` (per-pixel min/max),
``charge_uc`` (net charge delivered since t = 0), ``pulse_phases`` (phase boundaries for
annotations), ``delivered_ma``, ``sample_count``.

Everything is computed from the pulse schedule in closed form, never by integrating or
oversampling:

- Samples come from the cumulative delivered charge Q(t) = integral of i from 0 to t,
  evaluated at the sample edges: sample n is ``(Q(e[n+1]) - Q(e[n])) * fs``. With active
  recharge Q is the charge of the pulse under way (zero between pulses); with passive
  recharge Q = -q, q the charge on the coupling capacitor, which cathodic phases raise and
  the closed recharge path lets decay with tau = Z*C. Either way Q stays bounded, so
  ``sum(samples)/fs`` telescopes to the window's charge, and a sample is exact to about
  1e-11 of the amplitude (edge times are kept local to blocks of 65536 samples).
  Stretches where the waveform repeats with the group period (a run at full amplitude)
  are computed for one repeat of the sample pattern (fs/RATE in lowest terms) and copied:
  dense sampling then costs about one write pass.
- Envelopes are answered per pixel from "the last pulse starting before x" arithmetic,
  O(pixels + runs in the window) whatever the pulse count.

The capacitor charge at any time is exact: within a run the state after each burst obeys
``x[h] = d*x[h-1] + c[h]`` (constant decay d between bursts), solved explicitly over the
ramp and as a geometric series after it; across cycling runs it is carried run by run,
starting where an older state's weight ``exp(-off/tau)^k`` has fallen below 1e-18.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from . import params as P
from . import schedule
from .load import load_ohm, program_compliance
from .program import DeviceModel, Program
from .schedule import NO_END, FloatArray, Frame, Grid, IntArray, PulsePhases

#: An older capacitor state whose weight has decayed below this is treated as gone.
FORGET = 1e-18
_CHUNK = 1 << 16  #: samples per vectorised pass of the general path (stays in cache)
_MAX_PATTERN = 1 << 22  #: longest repeating sample pattern worth copying


# --- the program on a device ------------------------------------------------------------


class _Train:
    """A program on a device: timing, delivered amplitude, recharge time constant."""

    def __init__(self, program: Program, device: DeviceModel) -> None:
        self.grid: Grid = schedule.grid(program)
        self.amp = float(program_compliance(program, device).delivered_ma)
        self.tau = load_ohm(program.electrodes, device) * P.COUPLING_CAP_UF * 1e-6
        self._runs: dict[int, _RunRecharge] = {}

    def recharge(self, phi: int) -> _RunRecharge:
        """Passive recharge of a run of phase ``phi`` (computed once per phase)."""
        run = self._runs.get(phi)
        if run is None:
            run = self._runs[phi] = _RunRecharge(self, phi)
        return run

    def charge_at_run_start(self, run: int) -> float:
        """Capacitor charge (mA*s) when run ``run`` starts: exact carry from t = 0.

        Each off interval multiplies an older state by at most exp(-off/tau), so only
        the last k runs with exp(-off/tau)^k < FORGET can matter; those are carried
        exactly from zero (exactly from t = 0 when there are no more runs than that).
        """
        g = self.grid
        if g.active or not g.cycled or run <= 0:
            return 0.0
        off_s = (g.cycle_ticks - g.on_ticks) / g.tps
        keep = max(1, math.ceil(-math.log(FORGET) * self.tau / off_s))
        charge = 0.0
        for r in range(max(0, run - keep), run):
            charge = self.recharge(g.phase(r)).end_charge(charge)
        return charge

    def zones(self, frame: Frame, x0: float, x1: float) -> list[_Zone]:
        """The runs meeting local times [x0, x1], in order (run -1: before t = 0)."""
        g = self.grid
        t_lo, t_hi = frame.ticks_floor(x0), frame.ticks_floor(x1)
        if g.cycled:
            first, last = max(t_lo // g.cycle_ticks, -1), max(t_hi // g.cycle_ticks, -1)
        else:
            first, last = (-1 if t_lo < 0 else 0), (-1 if t_hi < 0 else 0)
        out: list[_Zone] = []
        charge = self.charge_at_run_start(max(first, 0))
        for run in range(first, last + 1):
            zone = _Zone(self, frame, run, charge)
            out.append(zone)
            if run >= 0 and zone.rec is not None and g.cycled:
                charge = zone.rec.end_charge(charge)
        return out


@functools.lru_cache(maxsize=64)
def _train(program: Program, device: DeviceModel) -> _Train:
    return _Train(program, device)


def _geometric_scan(c: FloatArray, d: float) -> FloatArray:
    """``x[h] = d*x[h-1] + c[h]`` with ``x[-1] = 0``, by doubling (log2 n vector steps,
    sums of non-negative terms only, so no cancellation or overflow)."""
    x = np.array(c, dtype=np.float64)
    shift, factor = 1, d
    while shift < len(x):
        x[shift:] = x[shift:] + factor * x[:-shift]
        shift, factor = 2 * shift, factor * factor
    return x


class _RunRecharge:
    """Passive recharge through one run of phase ``phi``, affine in the run's initial charge.

    Group h of the run (burst j' = g_first + h) closes the recharge path with capacitor
    charge ``x[h] = x0[h] + q_in * dq[h]``. Between consecutive groups the path is closed
    for the same time, so ``x[h] = d*x[h-1] + c[h]``: the first ``head`` groups (ramp,
    partial first burst) are solved explicitly, later ones as a geometric series, and the
    run's last group (possibly a partial burst) explicitly.
    """

    def __init__(self, train: _Train, phi: int) -> None:
        g = train.grid
        n, b = g.per_group, g.group_ticks
        q_first, q_last = (int(v[0]) for v in g.run_bounds(np.array([phi], dtype=np.int64)))
        self.q_last = q_last
        self.g_first = q_first // n
        self.h_last = q_last // n - self.g_first if g.cycled else NO_END
        head = min(max(1, g.first_steady_group(phi, q_first) - self.g_first), self.h_last + 1)
        self.head = head
        closed_s = (b - (n - 1) * g.intra_ticks) / g.tps - g.pw_s - g.ipg_s
        self.lam = closed_s / train.tau  # decay exponent between groups
        self.em1 = math.expm1(-self.lam)
        self.c_body = train.amp * n * g.pw_s
        self.tau = train.tau

        def charges(q_lo: int, q_hi: int, groups: int) -> FloatArray:
            q = np.arange(q_lo, q_hi + 1, dtype=np.int64)
            amp = train.amp * g.ramp_factor(g.rel_ticks(phi, q)) * g.pw_s
            return np.bincount(q // n - q_lo // n, weights=amp, minlength=groups).astype(np.float64)

        c = charges(q_first, min(q_last, (self.g_first + head) * n - 1), head)
        self.x0 = _geometric_scan(c, math.exp(-self.lam))
        first_s = int(g.rel_ticks(phi, np.array([q_first], dtype=np.int64))[0]) / g.tps
        self.dq = math.exp(-first_s / train.tau) * np.exp(-self.lam * np.arange(head))
        self.x0_last, self.dq_last = 0.0, 0.0
        if g.cycled:
            if self.h_last >= head:
                x0_prev, dq_prev = self._body(self.h_last - 1)
                c_last = float(charges((self.g_first + self.h_last) * n, q_last, 1)[0])
                d = math.exp(-self.lam)
                self.x0_last, self.dq_last = d * x0_prev + c_last, d * dq_prev
            else:
                self.x0_last, self.dq_last = float(self.x0[-1]), float(self.dq[-1])
            last_s = int(g.rel_ticks(phi, np.array([q_last], dtype=np.int64))[0]) / g.tps
            self.tail = math.exp(-(g.cycle_ticks / g.tps - last_s - g.pw_s - g.ipg_s) / train.tau)

    def _body(self, h: int) -> tuple[float, float]:
        k = h - self.head + 1
        e = math.exp(-k * self.lam)
        return (float(self.x0[-1]) * e + self.c_body * math.expm1(-k * self.lam) / self.em1,
                float(self.dq[-1]) * e)

    def end_charge(self, q_in: float) -> float:
        """Capacitor charge at the start of the next run (cycled trains)."""
        return (self.x0_last + q_in * self.dq_last) * self.tail

    def state(self, h: IntArray, q_in: float) -> FloatArray:
        """Capacitor charge when group ``h`` (of this run) closes the recharge path."""
        h = np.clip(h, 0, self.h_last)
        idx = np.minimum(h, self.head - 1)
        x = self.x0[idx] + q_in * self.dq[idx]
        body = h >= self.head
        if body.any():
            k = np.maximum(h - self.head + 1, 0).astype(np.float64)
            e = np.exp(-k * self.lam)
            xb = (self.x0[-1] + q_in * self.dq[-1]) * e + self.c_body * np.expm1(-k * self.lam) / self.em1
            x = np.where(body, xb, x)
            if self.h_last != NO_END and self.h_last >= self.head:
                x = np.where(h == self.h_last, self.x0_last + q_in * self.dq_last, x)
        out: FloatArray = x
        return out

    @property
    def steady(self) -> float:
        """The close state the body approaches: ``c/(1 - d)``."""
        return self.c_body / -self.em1

    def deviation(self, h: IntArray, q_in: float) -> FloatArray:
        """``state(h) - steady`` for body groups (h >= head - 1): a geometric decay."""
        k = (h - self.head + 1).astype(np.float64)
        out: FloatArray = (self.x0[-1] + q_in * self.dq[-1] - self.steady) * np.exp(-k * self.lam)
        return out


# --- one run seen from a window ---------------------------------------------------------


class _Zone:
    """Run ``run`` (from its start to the next run's start) in a window's local frame.

    Run -1 is the time before stimulation turned on (no current). Methods take local
    seconds and pulse numbers q of this run.
    """

    def __init__(self, train: _Train, frame: Frame, run: int, q_in: float) -> None:
        g = self.grid = train.grid
        self.train, self.frame, self.run, self.q_in = train, frame, run, q_in
        self.rec: _RunRecharge | None = None
        if run < 0:
            self.start = -math.inf
            self.phi = self.q_first = self.q_last = self.s_rel = 0
            return
        start = g.run_start(run)
        self.start = frame.local_of(start)
        self.s_rel = start - frame.k0
        self.phi = start % g.group_ticks
        q_first, q_last = g.run_bounds(np.array([self.phi], dtype=np.int64))
        self.q_first, self.q_last = int(q_first[0]), int(q_last[0])
        if not g.active:
            self.rec = train.recharge(self.phi)

    @property
    def silent(self) -> bool:
        return self.run < 0

    def last_start(self, x: FloatArray, strict: bool, settle: bool = False) -> tuple[IntArray, npt.NDArray[np.bool_]]:
        """The last pulse of this run starting at or before (strict: before) each ``x``;
        (q clipped into the run, valid).

        ``settle`` makes the answer agree with comparing ``x`` to the pulse's local start
        as a float, where the tick arithmetic alone may round the other way (a pixel edge
        computed as 7*0.02 and a pulse at 7/50 s are the same float).
        """
        f = (x + self.frame.delta) * self.frame.tps
        ticks = (np.ceil(f) - 1 if strict else np.floor(f)).astype(np.int64) - self.s_rel
        q = np.maximum(np.minimum(self.grid.last_at_or_before(self.phi, ticks), self.q_last), self.q_first - 1)
        if settle:  # ticks are >= 1000 apart, so rounding is off by one pulse at most
            start = self.start_s(self.rel(np.maximum(q, self.q_first)))
            late = (q >= self.q_first) & ((start >= x) if strict else (start > x))
            q = q - late
            after = np.minimum(q + 1, self.q_last)
            start = self.start_s(self.rel(after))
            q = q + ((after > q) & ((start < x) if strict else (start <= x)))
        ok = q >= self.q_first
        return np.maximum(q, self.q_first), ok

    def rel(self, q: IntArray) -> IntArray:
        return self.grid.rel_ticks(self.phi, q)

    def start_s(self, rel: IntArray) -> FloatArray:
        """Local start time of pulses ``rel`` ticks after the run start."""
        return (rel + self.s_rel) / self.frame.tps - self.frame.delta

    def amp(self, rel: IntArray) -> FloatArray:
        return self.train.amp * self.grid.ramp_factor(rel)

    # passive helpers: groups, their closes and states
    def is_last(self, q: IntArray) -> npt.NDArray[np.bool_]:
        """Whether pulse q is the last of its burst in this run (the path closes after it)."""
        out: npt.NDArray[np.bool_] = ((q % self.grid.per_group) == self.grid.per_group - 1) | (q == self.q_last)
        return out

    def close_s(self, group: IntArray) -> FloatArray:
        """Local time the recharge path closes after burst ``group``."""
        n = self.grid.per_group
        last = np.minimum(group * n + n - 1, self.q_last)
        return self.start_s(self.rel(last)) + self.grid.pw_s + self.grid.ipg_s

    def state(self, group: IntArray) -> FloatArray:
        assert self.rec is not None
        return self.rec.state(group - self.rec.g_first, self.q_in)

    def body_s(self) -> tuple[float, float] | None:
        """Local span where the run repeats with the group period at full amplitude."""
        g, n = self.grid, self.grid.per_group
        g_last = self.q_last // n
        j0 = g.first_steady_group(self.phi, self.q_first)
        if not g.cycled:
            return self.frame.local_of(g.run_start(self.run) + j0 * g.group_ticks - self.phi), math.inf
        j1 = g_last if self.q_last % n == n - 1 else g_last - 1
        if j1 < j0:
            return None
        base = g.run_start(self.run) - self.phi
        return self.frame.local_of(base + j0 * g.group_ticks), self.frame.local_of(base + (j1 + 1) * g.group_ticks)

    def quiet_from_s(self) -> float:
        """Local time after which an active run is silent until the next run."""
        if self.run < 0:
            return -math.inf
        if not self.grid.cycled:
            return math.inf
        last = self.rel(np.array([self.q_last], dtype=np.int64))
        return float(self.start_s(last)[0]) + self.grid.pulse_span_s


# --- cumulative charge ------------------------------------------------------------------


def _charge_active(z: _Zone, x: FloatArray) -> FloatArray:
    g = z.grid
    q, ok = z.last_start(x, strict=False)
    rel = z.rel(q)
    u = x - z.start_s(rel)
    part = np.clip(u, 0.0, g.pw_s) - np.clip(u - (g.pw_s + g.ipg_s), 0.0, g.pw_s)
    return np.where(ok, -z.amp(rel) * part, 0.0)


def _charge_passive(z: _Zone, x: FloatArray) -> FloatArray:
    return _passive_terms(z, x, split=False)[0]


def _passive_terms(z: _Zone, x: FloatArray, split: bool) -> tuple[FloatArray, FloatArray]:
    """Q at sorted ``x``; with ``split`` (all of x in the run's body) as the part with every
    burst at the steady state plus the part of the decaying deviation from it, which
    shrinks by the same factor every group period."""
    g, tau = z.grid, z.train.tau
    n, pw = g.per_group, g.pw_s
    q, ok = z.last_start(x, strict=False)
    # Figures per distinct pulse (q is sorted: usually many edges share one), then a
    # gather per edge.
    new = np.empty(len(q), dtype=bool)
    new[:1] = True
    np.not_equal(q[1:], q[:-1], out=new[1:])
    qu = q[new]
    i = np.cumsum(new) - 1
    rel = z.rel(qu)
    start, charge = z.start_s(rel), z.amp(rel) * pw
    group = qu // n
    group_last = np.minimum(group * n + n - 1, z.q_last)
    after = np.zeros(len(qu))  # charge of the burst's pulses still to come after this one
    for k in range(1, n):
        later = np.minimum(qu + k, group_last)
        after += np.where(qu + k <= group_last, z.amp(z.rel(later)), 0.0) * pw
    cl = z.close_s(group)[i]
    closed = x >= cl
    # Closed: the close state decaying. Open (inside a burst): the close state less the
    # charge still to come.
    weight = np.where(closed, np.exp(-np.maximum(x - cl, 0.0) / tau), 1.0)
    to_come = np.where(closed, 0.0, after[i] + charge[i] * (1.0 - np.clip(x - start[i], 0.0, pw) / pw))
    if split:
        assert z.rec is not None
        deviation = z.rec.deviation(group - z.rec.g_first, z.q_in)[i]
        return to_come - z.rec.steady * weight, -deviation * weight
    state = z.state(group)[i]
    before = z.q_in * np.exp(-np.maximum(x - z.start, 0.0) / tau)
    return np.where(ok, to_come - state * weight, -before), np.zeros(0)


def _charge(train: _Train, zones: list[_Zone], x: FloatArray) -> FloatArray:
    """Q (mA*s) at sorted local times ``x``; Q is continuous, so a time a rounding error
    away from its run still gets the right value."""
    out = np.zeros(len(x))
    starts = np.array([z.start for z in zones[1:]])
    cuts = [0, *np.searchsorted(x, starts).tolist(), len(x)]
    fn = _charge_active if train.grid.active else _charge_passive
    for z, lo, hi in zip(zones, cuts[:-1], cuts[1:], strict=True):
        if hi > lo and not z.silent:
            out[lo:hi] = fn(z, x[lo:hi])
    return out


# --- sampling -----------------------------------------------------------------------------


def sample_count(duration_s: float, fs: float) -> int:
    """``floor(duration_s * fs)``, tolerant of the product's float rounding (0.29 s at
    100 Hz is 29 samples)."""
    if not (math.isfinite(duration_s) and duration_s >= 0):
        raise ValueError(f"duration {duration_s!r} s must be a finite number >= 0")
    if not (math.isfinite(fs) and fs > 0):
        raise ValueError(f"sample rate {fs!r} Hz must be a finite number > 0")
    product = duration_s * fs
    return math.floor(product + product * 1e-12)


def _fill_general(train: _Train, origin: Fraction, fs: float, out: FloatArray, n0: int, n1: int) -> None:
    """Samples n0..n1 by the cumulative charge at their edges. Each chunk gets its own
    frame at its first edge (exact rational time), so edge times stay small and precise."""
    rate = Fraction(fs)
    for c0 in range(n0, n1, _CHUNK):
        c1 = min(n1, c0 + _CHUNK)
        frame = Frame.at(origin + c0 / rate, train.grid.tps)
        edges = np.arange(c1 - c0 + 1, dtype=np.float64) / fs
        zones = train.zones(frame, 0.0, float(edges[-1]))
        out[c0:c1] = np.diff(_charge(train, zones, edges)) * fs


def _inside(span: tuple[float, float], fs: float, n: int) -> tuple[int, int]:
    """Sample range whose intervals lie inside local ``span`` (conservative by one)."""
    if span[0] >= n / fs:
        return n, n
    lo = 0 if span[0] == -math.inf else max(0, math.floor(span[0] * fs) + 1)
    hi = n if span[1] == math.inf else min(n, math.ceil(span[1] * fs) - 1)
    return lo, max(lo, hi)


def _fast_spans(train: _Train, zones: list[_Zone], fs: float, n: int) -> Iterator[tuple[int, int, str]]:
    """Sample ranges computed without the general path: silence, and periodic bodies."""
    for i, z in enumerate(zones):
        end = zones[i + 1].start if i + 1 < len(zones) else math.inf
        if z.silent:
            yield (*_inside((-math.inf, end), fs, n), "zero")
            continue
        body = z.body_s()
        if body is not None:
            yield (*_inside(body, fs, n), "body")
        if train.grid.active:
            yield (*_inside((z.quiet_from_s(), end), fs, n), "zero")


def _pattern(fs: float, rate_hz: int) -> tuple[int, int]:
    """(samples, group periods) after which the sample pattern of a periodic stretch
    repeats: the lowest terms of fs/RATE, exact for the float fs."""
    ratio = Fraction(fs) / rate_hz
    return ratio.numerator, ratio.denominator


def _fill_body(train: _Train, origin: Fraction, fs: float, out: FloatArray, lo: int, hi: int,
               pattern: tuple[int, int]) -> int:
    """Samples lo.. of a run's periodic body by copying the pattern of its first repeat;
    returns where the whole repeats end. Passive: steady part plus the deviation from
    the steady state, which every repeat scales by exp(-groups*lambda)."""
    length, groups = pattern
    blocks = (hi - lo) // length
    view = out[lo:lo + blocks * length].reshape(blocks, length)
    if train.grid.active:
        _fill_general(train, origin, fs, out, lo, lo + length)
        view[1:] = out[lo:lo + length]
        return lo + blocks * length
    frame = Frame.at(origin + lo / Fraction(fs), train.grid.tps)
    edges = np.arange(length + 1, dtype=np.float64) / fs
    zone = train.zones(frame, 0.0, float(edges[-1]))[-1]
    assert zone.rec is not None
    steady, deviation = _passive_terms(zone, edges, split=True)
    shrink = np.exp(-zone.rec.lam * groups * np.arange(blocks, dtype=np.float64))
    np.multiply.outer(shrink, np.diff(deviation) * fs, out=view)
    view += np.diff(steady) * fs
    return lo + blocks * length


def sample(program: Program, device: DeviceModel, duration_s: float, fs: float, *, t0: float = 0.0) -> FloatArray:
    """Box-averaged current: ``floor(duration_s*fs)`` samples, sample n the exact mean current
    (mA, cathodic negative) over ``[t0 + n/fs, t0 + (n+1)/fs)``, stimulation on at t = 0."""
    if not math.isfinite(t0):
        raise ValueError(f"start time {t0!r} s must be finite")
    n = sample_count(duration_s, fs)
    train = _train(program, device)
    g = train.grid
    out = np.empty(n, dtype=np.float64)
    if n == 0:
        return out
    origin = Fraction(t0)
    zones = train.zones(Frame.at(origin, g.tps), 0.0, n / fs)
    pattern = _pattern(fs, g.tps // g.group_ticks)
    done = 0
    for lo, hi, kind in sorted(_fast_spans(train, zones, fs, n)):
        lo = max(lo, done)
        if hi <= lo:
            continue
        _fill_general(train, origin, fs, out, done, lo)
        if kind == "zero":
            out[lo:hi] = 0.0
        elif pattern[0] <= min(_MAX_PATTERN, (hi - lo) // 2):
            hi = _fill_body(train, origin, fs, out, lo, hi, pattern)
        else:
            _fill_general(train, origin, fs, out, lo, hi)
        done = hi
    _fill_general(train, origin, fs, out, done, n)
    return out


def charge_uc(program: Program, device: DeviceModel, times: npt.ArrayLike) -> FloatArray:
    """Net charge (uC, cathodic negative) delivered from t = 0 to each time (s).

    With passive recharge this is minus the coupling capacitor's charge; with active
    recharge, the part of the pulse under way. Sample sums telescope to its differences.
    """
    t = np.asarray(times, dtype=np.float64)
    if t.size == 0:
        return np.zeros(t.shape)
    if not np.all(np.isfinite(t)):
        raise ValueError("times must be finite")
    train = _train(program, device)
    order = np.argsort(t, axis=None)
    flat = t.reshape(-1)[order]
    frame = Frame.at(float(flat[0]), train.grid.tps)
    x = flat - flat[0]
    zones = train.zones(frame, 0.0, float(x[-1]))
    out = np.empty(flat.size)
    out[order] = _charge(train, zones, x) * 1000.0
    return out.reshape(t.shape)


# --- envelope ------------------------------------------------------------------------------


def _envelope_active(z: _Zone, a: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray]:
    g = z.grid
    pw, ipg = g.pw_s, g.ipg_s
    qb, okb = z.last_start(b, strict=True, settle=True)
    relb = z.rel(qb)
    sb, ab = z.start_s(relb), z.amp(relb)
    cath = okb & (sb + pw > a)
    qn, okn = z.last_start(b - (pw + ipg), strict=True, settle=True)
    reln = z.rel(qn)
    anod = okn & (z.start_s(reln) + (2 * pw + ipg) > a)
    # The pixel lies within one pulse's phases without touching a zero-current moment.
    inside = okb & (sb <= a) & (b <= sb + (2 * pw + ipg))
    if ipg > 0:
        inside &= ~((a < sb + pw + ipg) & (b > sb + pw))
    lo = np.where(cath, -ab, np.where(inside, ab, 0.0))
    hi = np.where(anod, z.amp(reln), np.where(inside, -ab, 0.0))
    return lo, hi


def _envelope_passive(z: _Zone, a: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray]:
    g, tau = z.grid, z.train.tau
    pw, ipg, n = g.pw_s, g.ipg_s, g.per_group
    qb, okb = z.last_start(b, strict=True, settle=True)
    relb = z.rel(qb)
    sb, ab = z.start_s(relb), z.amp(relb)
    cath = okb & (sb + pw > a)

    # Zero current: the gaps after cathodic phases while the path is open. Gap ends rise
    # with the pulse, so the last non-empty gap starting before b decides.
    qz, okz = z.last_start(b - pw, strict=True, settle=True)
    if ipg == 0:  # the gap after a burst's last pulse is empty
        for _ in range(2):
            step = okz & z.is_last(qz)
            qz = np.where(step, qz - 1, qz)
            okz &= qz >= z.q_first
        okz &= ~z.is_last(qz)
    qz = np.maximum(qz, z.q_first)
    gap_end = np.where(z.is_last(qz), z.start_s(z.rel(qz)) + pw + ipg,
                       z.start_s(z.rel(np.minimum(qz + 1, z.q_last))))
    zero = okz & (gap_end > a)

    # Closes of the path inside the pixel: the states x[h] are valley-shaped in h (decay
    # first, then rise) except the run's last burst, so their max over a range of bursts
    # is at its ends or the one before the last.
    def last_close_before(x: FloatArray) -> tuple[IntArray, npt.NDArray[np.bool_]]:
        q, ok = z.last_start(x - (pw + ipg), strict=True, settle=True)
        group = np.where(z.is_last(q), q // n, q // n - 1)
        return group, ok & (group >= z.q_first // n)

    g_hi, ok_hi = last_close_before(b)
    g_lo, ok_lo = last_close_before(a)
    g_lo = np.where(ok_lo, g_lo + 1, z.q_first // n)
    has_close = ok_hi & (g_lo <= g_hi)
    g_hi = np.maximum(g_hi, g_lo)
    peak = np.maximum(np.maximum(z.state(g_lo), z.state(g_hi)), z.state(np.maximum(g_lo, g_hi - 1)))

    def charge_in_closed(x: FloatArray, q: IntArray, ok: npt.NDArray[np.bool_]) -> FloatArray:
        group = q // n
        close = z.close_s(group)
        inside = z.state(group) * np.exp(-np.maximum(x - close, 0.0) / tau)
        return np.where(ok, inside, z.q_in * np.exp(-np.maximum(x - z.start, 0.0) / tau))

    qa, oka = z.last_start(a, strict=False, settle=True)
    closed_a = ~oka | (z.close_s(qa // n) <= a)
    at_a = charge_in_closed(a, qa, oka)
    top = np.maximum(np.where(has_close, peak, -np.inf), np.where(closed_a, at_a, -np.inf)) / tau
    hi = np.where(has_close | closed_a, top, np.where(zero, 0.0, -ab))
    lo = np.where(cath, -ab, np.where(zero, 0.0, charge_in_closed(b, qb, okb) / tau))
    return lo, hi


def _every_pixel_holds_a_whole_period(g: Grid, t0: float, pixel_s: float) -> bool:
    """The dense steady case, answered without touching a pulse.

    An active train with no cycling, past its ramp, whose pixels are at least one group
    period wide: each pixel holds a group's first cathodic phase start (-A), and the anodic
    phase of that pulse or of the previous group's last pulse (+A). So every pixel is
    exactly (-A, +A); this is what a 10 kHz train on a seconds-wide window looks like.
    """
    return (
        g.active
        and not g.cycled
        and t0 >= g.ramp_ticks / g.tps
        and pixel_s >= g.period_s * (1 + 1e-9)
    )


def envelope(program: Program, device: DeviceModel, t0: float, t1: float, pixels: int) -> tuple[FloatArray, FloatArray]:
    """Per-pixel (min, max) of i(t) in mA over pixel k = ``[t0 + k*w, t0 + (k+1)*w)``,
    ``w = (t1 - t0)/pixels``, exact from the schedule.

    A pixel's min is -A of the strongest cathodic phase it touches, else 0 where it
    touches a zero-current moment, else the lowest recharge current in it; max likewise
    with the anodic phases and the recharge current. Cost O(pixels + runs in the window).
    """
    if not (math.isfinite(t0) and math.isfinite(t1) and t1 > t0):
        raise ValueError(f"window [{t0!r}, {t1!r}] s must be finite with t1 > t0")
    if isinstance(pixels, bool) or not isinstance(pixels, (int, np.integer)) or pixels < 1:
        raise ValueError(f"pixels {pixels!r} must be a whole number >= 1")
    train = _train(program, device)
    width = t1 - t0
    if _every_pixel_holds_a_whole_period(train.grid, t0, width / pixels):
        return np.full(pixels, -train.amp), np.full(pixels, train.amp)
    frame = Frame.at(t0, train.grid.tps)
    edges = np.arange(pixels + 1, dtype=np.float64) * (width / pixels)
    edges[-1] = width
    zones = train.zones(frame, 0.0, width)
    cuts = np.array([z.start for z in zones[1:]], dtype=np.float64)
    cuts = cuts[(cuts > 0) & (cuts < width)]
    if len(cuts):
        a = np.union1d(edges[:-1], cuts)
        b = np.append(a[1:], width)
        pixel_of = np.searchsorted(edges[:-1], a, side="right") - 1
    else:
        a, b, pixel_of = edges[:-1], edges[1:], None
    lo, hi = np.zeros(len(a)), np.zeros(len(a))
    zone_cuts = [0, *np.searchsorted(a, [z.start for z in zones[1:]]).tolist(), len(a)]
    fn = _envelope_active if train.grid.active else _envelope_passive
    for z, i0, i1 in zip(zones, zone_cuts[:-1], zone_cuts[1:], strict=True):
        if i1 > i0 and not z.silent:
            lo[i0:i1], hi[i0:i1] = fn(z, a[i0:i1], b[i0:i1])
    if pixel_of is not None:
        first = np.searchsorted(pixel_of, np.arange(pixels))
        lo, hi = np.minimum.reduceat(lo, first), np.maximum.reduceat(hi, first)
    return lo + 0.0, hi + 0.0


# --- annotations ---------------------------------------------------------------------------


def pulse_phases(program: Program, device: DeviceModel, t0: float, t1: float) -> PulsePhases:
    """Phase boundaries of the pulses starting in ``[t0, t1)`` at the delivered amplitude
    (see ``schedule.PulsePhases``), for scope annotations."""
    return schedule.pulse_phases(program, t0, t1, _train(program, device).amp)


def delivered_ma(program: Program, device: DeviceModel) -> float:
    """The amplitude the waveform uses: the programmed one, compliance-limited."""
    return _train(program, device).amp
