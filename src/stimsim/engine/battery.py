"""The battery: open-circuit voltage, state thresholds, state of charge over time.

Model section 5. Every figure comes from ``params``. State of charge (SoC, percent of the
nominal capacity) is linear in energy, so with a constant power it is linear in time:
everything here is integrated exactly, piece by piece, never by small steps.

Stop rule: at the stop level (Li-ion EMPTY 5 %, primary EOS 2 %) stimulation stops, so from
there on only the quiescent draw drains the cell (the draw becomes
``min(power, P_q)``). Within one ``advance_soc`` interval the stop is a latch: once the
SoC is at or below the stop level stimulation stays off for the rest of the interval,
even if charging lifts the SoC again. Turning stimulation back on is the caller's
decision (the virtual generator's, when the patient restarts it), expressed by the power
it passes for the next interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import params as P
from .metrics import battery_power_mw
from .program import DeviceModel, Program

LIION = "liion"
PRIMARY = "primary"
PACK = "pack"
OK = "OK"
LOW = "LOW"
EMPTY = "EMPTY"
ERI = "ERI"
EOS = "EOS"
_SECONDS_PER_HOUR = 3600.0
_DAYS_PER_YEAR = 365.25
_HOURS_PER_DAY = 24.0
_FULL_TOLERANCE = 1e-9  #: percent; float noise at 100 % is not a clamp


@dataclass(frozen=True)
class Cell:
    """One chemistry's figures, gathered from ``params``.

    ``warn_state`` is entered at ``warn_percent`` (LOW, ERI), ``stop_state`` at
    ``stop_percent`` (EMPTY, EOS: stimulation stops). ``charge_mw`` is the power the
    charger puts into the cell (0: not rechargeable); ``replaceable``: a fresh one is put
    in when it runs down (the trial stimulator's pack).
    """

    chemistry: str
    capacity_mwh: float
    warn_state: str
    warn_percent: float
    stop_state: str
    stop_percent: float
    charge_mw: float
    ocv: tuple[tuple[float, float], ...]
    replaceable: bool = False

    @property
    def rechargeable(self) -> bool:
        return self.charge_mw > 0

    def thresholds(self) -> tuple[tuple[str, float], ...]:
        """(state, percent) from the top down."""
        return ((self.warn_state, self.warn_percent), (self.stop_state, self.stop_percent))

    def percent_per_hour(self, power_mw: float) -> float:
        """SoC change per hour for a net power into the cell (negative: draining)."""
        return 100.0 * power_mw / self.capacity_mwh


CELLS: dict[str, Cell] = {
    LIION: Cell(LIION, P.LIION_CAPACITY_MWH, LOW, P.LIION_LOW_PERCENT, EMPTY, P.LIION_STOP_PERCENT,
                P.LIION_CHARGE_MW, P.OCV_LIION),
    PRIMARY: Cell(PRIMARY, P.PRIMARY_CAPACITY_MWH, ERI, P.PRIMARY_ERI_PERCENT, EOS, P.PRIMARY_EOS_PERCENT,
                  0.0, P.OCV_PRIMARY),
    PACK: Cell(PACK, P.PACK_CAPACITY_MWH, LOW, P.PACK_LOW_PERCENT, EMPTY, P.PACK_EMPTY_PERCENT, 0.0, P.OCV_PACK,
               replaceable=True),
}


def cell(chemistry: str) -> Cell:
    """The figures of ``chemistry``; ValueError names the chemistries there are."""
    try:
        return CELLS[chemistry]
    except KeyError:
        raise ValueError(f"unknown battery chemistry {chemistry!r} ({', '.join(CELLS)})") from None


def _check_soc(soc_percent: float, what: str = "state of charge") -> None:
    if not (math.isfinite(soc_percent) and 0.0 <= soc_percent <= 100.0):
        raise ValueError(f"{what} {soc_percent!r} % is not within 0..100")


def _check_nonnegative(value: float, what: str) -> None:
    if not (math.isfinite(value) and value >= 0.0):
        raise ValueError(f"{what} {value!r} must be a finite number >= 0")


# --- instantaneous figures -------------------------------------------------------------


def ocv_volts(soc_percent: float, chemistry: str) -> float:
    """Open-circuit voltage (V) for display, linear between the table's points."""
    _check_soc(soc_percent)
    points = cell(chemistry).ocv
    for (s0, v0), (s1, v1) in zip(points, points[1:], strict=False):
        if soc_percent <= s1:
            return v0 + (v1 - v0) * (soc_percent - s0) / (s1 - s0)
    return points[-1][1]


def battery_state(soc_percent: float, chemistry: str) -> str:
    """OK, LOW or EMPTY (Li-ion, pack), OK, ERI or EOS (primary); a state holds at its level."""
    _check_soc(soc_percent)
    c = cell(chemistry)
    if soc_percent <= c.stop_percent:
        return c.stop_state
    if soc_percent <= c.warn_percent:
        return c.warn_state
    return OK


# --- state of charge over an interval ----------------------------------------------------


def _rates(c: Cell, power_mw: float, charging: bool) -> tuple[float, float]:
    """SoC rate (%/s) while stimulating and once stopped at the stop level."""
    _check_nonnegative(power_mw, "power_mw")
    if charging and not c.rechargeable:
        raise ValueError(f"a {c.chemistry} cell cannot be charged")
    gain = c.charge_mw if charging else 0.0
    running = c.percent_per_hour(gain - power_mw) / _SECONDS_PER_HOUR
    stopped = c.percent_per_hour(gain - min(power_mw, P.QUIESCENT_MW)) / _SECONDS_PER_HOUR
    return running, stopped


def advance_soc(soc_percent: float, chemistry: str, power_mw: float, seconds: float,
                charging: bool = False) -> float:
    """The SoC after ``seconds`` drawing ``power_mw`` (plus the charger's power when charging).

    Exact (linear in energy) and clamped to 0..100; at the stop level stimulation stops
    (see the module docstring), so only the quiescent draw continues.
    """
    _check_soc(soc_percent)
    _check_nonnegative(seconds, "seconds")
    c = cell(chemistry)
    running, stopped = _rates(c, power_mw, charging)
    soc = soc_percent
    if soc > c.stop_percent:
        if running >= 0 or soc + running * seconds > c.stop_percent:
            return _clamp(soc + running * seconds)
        seconds -= (soc - c.stop_percent) / -running
        soc = c.stop_percent
    return _clamp(soc + stopped * seconds)


def seconds_until(soc_percent: float, target_percent: float, chemistry: str, power_mw: float,
                  charging: bool = False) -> float | None:
    """Seconds until the SoC reaches ``target_percent`` (0 if there already), None if never.

    Same model as ``advance_soc``: past the stop level only the quiescent draw drains (and
    charging then lifts the SoC with stimulation still off); the SoC never passes 100 %.
    """
    _check_soc(soc_percent)
    c = cell(chemistry)
    running, stopped = _rates(c, power_mw, charging)
    if not (math.isfinite(target_percent) and 0.0 <= target_percent <= 100.0):
        return None
    seconds = _seconds_to(soc_percent, target_percent, c.stop_percent, running, stopped)
    return seconds if seconds is not None and math.isfinite(seconds) else None


def _seconds_to(soc: float, target: float, stop: float, running: float, stopped: float) -> float | None:
    if target == soc:
        return 0.0
    if target > soc:
        if soc > stop and running > 0:
            return (target - soc) / running
        if soc > stop and running < 0 < stopped:  # down to the stop, then charged up
            return (soc - stop) / -running + (target - stop) / stopped
        if soc <= stop and stopped > 0:
            return (target - soc) / stopped
        return None
    elapsed = 0.0
    if soc > stop:
        if running >= 0:
            return None
        if target >= stop:
            return (soc - target) / -running
        elapsed = (soc - stop) / -running
        soc = stop
    return elapsed + (soc - target) / -stopped if stopped < 0 else None


def _clamp(soc: float) -> float:
    return min(100.0, max(0.0, soc))


# --- daily figures ---------------------------------------------------------------------


def energy_per_day_mwh(power_mw: float, hours_per_day: float) -> float:
    """``E = P_q*24 + (P - P_q)*H``: the quiescent draw never stops."""
    return P.QUIESCENT_MW * _HOURS_PER_DAY + (power_mw - P.QUIESCENT_MW) * hours_per_day


def usable_mwh(c: Cell, down_to_percent: float) -> float:
    """Energy from full down to ``down_to_percent`` (Li-ion 100 % -> 5 %: 703 mWh)."""
    return c.capacity_mwh * (100.0 - down_to_percent) / 100.0


def battery_figures(program: Program, device: DeviceModel, chemistry: str,
                    hours_per_day: float = _HOURS_PER_DAY) -> dict[str, str | float]:
    """The ``battery`` command's keys for ``program`` running ``hours_per_day`` a day.

    Li-ion: hours per charge stimulating continuously, days per charge, minutes of charging
    a day; primary: years to ERI and to end of service; the trial stimulator's pack: hours
    and days per pack down to EMPTY. Cycling is included through the program's long-run
    battery power.
    """
    c = cell(chemistry)
    if not (math.isfinite(hours_per_day) and 0.0 <= hours_per_day <= _HOURS_PER_DAY):
        raise ValueError(f"hours per day {hours_per_day!r} is not within 0..24")
    power = battery_power_mw(program, device)
    energy = energy_per_day_mwh(power, hours_per_day)
    out: dict[str, str | float] = {
        "chemistry": c.chemistry,
        "battery_power_mw": power,
        "hours_per_day": float(hours_per_day),
    }
    if c.rechargeable:
        usable = usable_mwh(c, c.stop_percent)
        out["hours_per_charge"] = usable / power
        out["days_per_charge"] = usable / energy
        out["charge_minutes_per_day"] = 60.0 * energy / c.charge_mw
    elif c.replaceable:
        usable = usable_mwh(c, c.stop_percent)
        out["hours_per_pack"] = usable / power
        out["days_per_pack"] = usable / energy
    else:
        out["years_to_eri"] = usable_mwh(c, c.warn_percent) / (energy * _DAYS_PER_YEAR)
        out["years_to_eos"] = usable_mwh(c, c.stop_percent) / (energy * _DAYS_PER_YEAR)
    return out


# --- daily schedules over days to years --------------------------------------------------


@dataclass(frozen=True)
class ProgramPeriod:
    """A program running every day from ``start_h`` (0..24) for ``hours`` (may pass midnight).

    ``power_mw`` is the battery power while it runs, quiescent draw included (what
    ``metrics.battery_power_mw`` gives); outside every period only the quiescent draw runs.
    """

    label: str
    power_mw: float
    start_h: float
    hours: float

    @classmethod
    def of(cls, program: Program, device: DeviceModel, start_h: float, hours: float) -> ProgramPeriod:
        label = program.name or f"slot {program.slot}"
        return cls(label, battery_power_mw(program, device), start_h, hours)


@dataclass(frozen=True)
class ChargeSession:
    """A daily charging session (Li-ion only) from ``start_h`` for ``minutes``."""

    start_h: float
    minutes: float

    @property
    def hours(self) -> float:
        return self.minutes / 60.0


@dataclass(frozen=True)
class DailySchedule:
    """The same day repeated: programs in their daily time slots, charging sessions.

    Programs may not overlap one another (one program runs at a time), nor may charging
    sessions; a charging session may overlap a program (charging while stimulating).
    Construct with explicit start times, or with ``sequential`` for back-to-back programs.
    """

    chemistry: str
    programs: tuple[ProgramPeriod, ...] = ()
    charging: tuple[ChargeSession, ...] = ()

    def __post_init__(self) -> None:
        c = cell(self.chemistry)
        if self.charging and not c.rechargeable:
            raise ValueError(f"a {c.chemistry} cell cannot be charged: leave the charging sessions out")
        spans: list[tuple[str, float, float]] = []
        for p in self.programs:
            _check_nonnegative(p.power_mw, f"program {p.label!r} power_mw")
            spans.append((f"program {p.label!r}", p.start_h, p.hours))
        _check_spans(spans)
        _check_spans([(f"charging at {s.start_h:g} h", s.start_h, s.hours) for s in self.charging])

    @classmethod
    def sequential(cls, chemistry: str, start_h: float, runs: list[tuple[str, float, float]],
                   charging: tuple[ChargeSession, ...] = ()) -> DailySchedule:
        """Programs back to back from ``start_h``: ``runs`` holds (label, power_mw, hours)."""
        periods = []
        at = start_h
        for label, power, hours in runs:
            periods.append(ProgramPeriod(label, power, at % _HOURS_PER_DAY, hours))
            at += hours
        return cls(chemistry, tuple(periods), charging)

    def stimulation_hours(self) -> float:
        return sum(p.hours for p in self.programs)


def _check_spans(spans: list[tuple[str, float, float]]) -> None:
    """Each span within one day and none overlapping another (on the 24 h circle)."""
    for what, start, hours in spans:
        if not (math.isfinite(start) and 0.0 <= start < _HOURS_PER_DAY):
            raise ValueError(f"{what}: start {start!r} h is not within 0..24")
        if not (math.isfinite(hours) and 0.0 < hours <= _HOURS_PER_DAY):
            raise ValueError(f"{what}: duration {hours!r} h is not within 0..24 (and above 0)")
    for i, (what_a, start_a, hours_a) in enumerate(spans):
        for what_b, start_b, hours_b in spans[i + 1:]:
            gap = (start_b - start_a) % _HOURS_PER_DAY
            if gap < hours_a or (_HOURS_PER_DAY - gap) % _HOURS_PER_DAY < hours_b:
                raise ValueError(f"{what_a} and {what_b} overlap")


@dataclass(frozen=True)
class _DayProfile:
    """The day as constant-rate pieces: breakpoints (h), SoC rate (%/h) per piece, and the
    cumulative SoC change at each breakpoint ignoring any clamp."""

    times: np.ndarray
    rates: np.ndarray
    cumulative: np.ndarray

    @property
    def top(self) -> float:
        return float(self.cumulative.max())

    @property
    def bottom(self) -> float:
        return float(self.cumulative.min())

    @property
    def delta(self) -> float:
        return float(self.cumulative[-1])


def _day_profile(schedule: DailySchedule) -> _DayProfile:
    c = cell(schedule.chemistry)
    edges = {0.0, _HOURS_PER_DAY}
    for start, hours in [(p.start_h, p.hours) for p in schedule.programs] + [
            (s.start_h, s.hours) for s in schedule.charging]:
        edges.add(start)
        edges.add((start + hours) % _HOURS_PER_DAY)
    times = sorted(edges)
    rates = []
    for t0, t1 in zip(times, times[1:], strict=False):
        mid = 0.5 * (t0 + t1)
        draw = P.QUIESCENT_MW
        for p in schedule.programs:
            if (mid - p.start_h) % _HOURS_PER_DAY < p.hours:
                draw = p.power_mw
        gain = sum(c.charge_mw for s in schedule.charging if (mid - s.start_h) % _HOURS_PER_DAY < s.hours)
        rates.append(c.percent_per_hour(gain - draw))
    t = np.array(times)
    r = np.array(rates)
    cumulative = np.concatenate(([0.0], np.cumsum(r * np.diff(t))))
    return _DayProfile(t, r, cumulative)


def _day_path(profile: _DayProfile, soc: float) -> tuple[np.ndarray, np.ndarray]:
    """One day's exact SoC path from ``soc`` at 0 h, clamped at 100 % (charging beyond full
    is lost): breakpoints plus the moments it reaches full."""
    ts = [0.0]
    ss = [soc]
    x = soc
    for t0, t1, rate in zip(profile.times[:-1], profile.times[1:], profile.rates, strict=True):
        end = x + rate * (t1 - t0)
        if end > 100.0:
            if x < 100.0:
                ts.append(float(t0 + (100.0 - x) / rate))
                ss.append(100.0)
            ts.append(float(t1))
            ss.append(100.0)
            x = 100.0
        else:
            ts.append(float(t1))
            ss.append(float(end))
            x = float(end)
    return np.array(ts), np.array(ss)


def _first_reach(ts: np.ndarray, ss: np.ndarray, level: float) -> float | None:
    """First time the piecewise-linear path (ts, ss) is at or below ``level``."""
    below = np.flatnonzero(ss <= level)
    if below.size == 0:
        return None
    i = int(below[0])
    if i == 0:
        return float(ts[0])
    s0, s1 = float(ss[i - 1]), float(ss[i])
    return float(ts[i - 1] + (s0 - level) / (s0 - s1) * (ts[i] - ts[i - 1]))


@dataclass(frozen=True)
class ScheduleResult:
    """The exact SoC trace of a schedule and when it first entered each battery state.

    ``t_h``/``soc`` are the breakpoints of the piecewise-linear trace (hours from the
    start at midnight, percent). ``crossings`` maps the warning and stop states (LOW and
    EMPTY, or ERI and EOS) to the first time (h) the SoC was at or below their level, or
    None. The simulation ends at the stop level (stimulation stops there).
    """

    chemistry: str
    days: int
    t_h: np.ndarray
    soc: np.ndarray
    crossings: dict[str, float | None]
    daily_draw_mwh: float  #: energy drawn from the cell per day (programs + quiescent)
    daily_charge_mwh: float  #: charger energy offered per day (lost while full)
    stimulation_hours_per_day: float

    @property
    def stopped_h(self) -> float | None:
        """When the stop level was reached (the trace ends there), or None."""
        return self.crossings[cell(self.chemistry).stop_state]

    @property
    def end_soc(self) -> float:
        return float(self.soc[-1])

    @property
    def min_soc(self) -> float:
        return float(self.soc.min())

    @property
    def net_percent_per_day(self) -> float:
        """SoC change a day would bring without clamping at full."""
        c = cell(self.chemistry)
        return c.percent_per_hour(self.daily_charge_mwh - self.daily_draw_mwh)

    def soc_at(self, hours: float | np.ndarray) -> np.ndarray:
        """SoC at given times (exact: linear between breakpoints)."""
        return np.asarray(np.interp(hours, self.t_h, self.soc), dtype=float)

    def summary(self) -> dict[str, object]:
        """JSON-ready figures of the run."""
        return {
            "chemistry": self.chemistry,
            "days": self.days,
            "start_soc": float(self.soc[0]),
            "end_soc": self.end_soc,
            "min_soc": self.min_soc,
            "ended_h": float(self.t_h[-1]),
            "stopped_h": self.stopped_h,
            "crossings_h": dict(self.crossings),
            "daily_draw_mwh": self.daily_draw_mwh,
            "daily_charge_mwh": self.daily_charge_mwh,
            "net_percent_per_day": self.net_percent_per_day,
            "stimulation_hours_per_day": self.stimulation_hours_per_day,
        }


class _TraceBuilder:
    """Collects the trace in day blocks and records first crossings."""

    def __init__(self, c: Cell) -> None:
        self.cell = c
        self.t_chunks: list[np.ndarray] = []
        self.s_chunks: list[np.ndarray] = []
        self.crossings: dict[str, float | None] = {name: None for name, _ in c.thresholds()}
        self.stopped = False

    def check_day(self, day: int, ts: np.ndarray, ss: np.ndarray) -> None:
        """Record first crossings in one day's path (day-relative times)."""
        for name, level in self.cell.thresholds():
            if self.crossings[name] is None:
                hit = _first_reach(ts, ss, level)
                if hit is not None:
                    self.crossings[name] = day * _HOURS_PER_DAY + hit

    def add_day_until_stop(self, day: int, ts: np.ndarray, ss: np.ndarray) -> bool:
        """Add one explicit day (its end point excluded); True if it reached the stop."""
        self.check_day(day, ts, ss)
        stop_at = self.crossings[self.cell.stop_state]
        base = day * _HOURS_PER_DAY
        if stop_at is not None and stop_at <= base + _HOURS_PER_DAY:
            keep = ts < stop_at - base
            at_level = min(self.cell.stop_percent, float(ss[0]))  # a start below the stop stays put
            self.add(base + ts[keep], ss[keep])
            self.add(np.array([stop_at]), np.array([at_level]))
            self.stopped = True
            return True
        self.add(base + ts[:-1], ss[:-1])
        return False

    def add_repeated(self, first_day: int, starts: np.ndarray, ts: np.ndarray, rel: np.ndarray) -> None:
        """Days ``first_day + k`` with SoC ``starts[k] + rel`` at day times ``ts`` (end excluded)."""
        days = first_day + np.arange(starts.size)
        self.add((days[:, None] * _HOURS_PER_DAY + ts[None, :-1]).ravel(),
                 (starts[:, None] + rel[None, :-1]).ravel())

    def add(self, t: np.ndarray, s: np.ndarray) -> None:
        self.t_chunks.append(t)
        self.s_chunks.append(s)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        t = np.concatenate(self.t_chunks)
        s = np.concatenate(self.s_chunks)
        for name, level in self.cell.thresholds():  # split the trace at the first crossings
            at = self.crossings[name]
            if at is not None and not np.any(t == at):
                i = int(np.searchsorted(t, at))
                t = np.insert(t, i, at)
                s = np.insert(s, i, level)
        return t, s


def _first_linear_day(start: float, delta: float, bottom: float, level: float, n: int) -> int | None:
    """First k < n whose day, starting at ``start + k*delta`` unclamped, dips to ``level``."""
    def dips(k: int) -> bool:
        return start + k * delta + bottom <= level

    if delta >= 0:
        return 0 if dips(0) else None
    k = max(0, math.ceil((start + bottom - level) / -delta))
    while k > 0 and dips(k - 1):  # guard against rounding in the division
        k -= 1
    while k < n and not dips(k):
        k += 1
    return k if k < n else None


def simulate_schedule(schedule: DailySchedule, days: int, start_soc: float = 100.0) -> ScheduleResult:
    """Integrate the SoC exactly over ``days`` days of ``schedule``, starting at midnight.

    The day's power is piecewise constant, so the SoC is linear on each piece; pieces are
    split where the SoC reaches full (100 % clamps: charging beyond full is lost) and at
    the first threshold crossings, and the run stops at the stop level.

    Years run in a few steps, without a loop over days: with the day's highest cumulative
    change ``top`` and net change ``delta``, a day starting at s ends at
    ``min(s, 100 - top) + delta``. So a day either does not clamp (then days repeat
    shifted by delta each, computed as one numpy block until one clamps or stops) or it
    clamps; after a clamped day with delta >= 0 every day starts at the same SoC (one day
    tiled), and with delta < 0 no later day clamps.
    """
    c = cell(schedule.chemistry)
    _check_soc(start_soc, "start SoC")
    if days < 1:
        raise ValueError(f"days {days!r} must be at least 1")
    profile = _day_profile(schedule)
    top, bottom, delta = profile.top, profile.bottom, profile.delta
    out = _TraceBuilder(c)
    soc = start_soc
    day = 0
    while day < days and not out.stopped:
        if soc + top <= 100.0 + _FULL_TOLERANCE:
            n = days - day
            if delta > 0:
                n = min(n, math.floor((100.0 + _FULL_TOLERANCE - top - soc) / delta) + 1)
                while n > 1 and soc + (n - 1) * delta + top > 100.0 + _FULL_TOLERANCE:
                    n -= 1
            stop_day = _first_linear_day(soc, delta, bottom, c.stop_percent, n)
            full = n if stop_day is None else stop_day
            for name, level in c.thresholds():
                k = _first_linear_day(soc, delta, bottom, level, n)
                if k is not None and out.crossings[name] is None:
                    out.check_day(day + k, profile.times, soc + k * delta + profile.cumulative)
            out.add_repeated(day, soc + np.arange(full) * delta, profile.times, profile.cumulative)
            if stop_day is not None:
                out.add_day_until_stop(day + stop_day, profile.times,
                                       soc + stop_day * delta + profile.cumulative)
                break
            soc += n * delta
            day += n
            continue
        ts, ss = _day_path(profile, soc)
        if out.add_day_until_stop(day, ts, ss):
            break
        soc = float(ss[-1])
        day += 1
        if delta >= 0 and day < days:  # a fixed point: every later day is this one
            ts, ss = _day_path(profile, soc)
            if out.add_day_until_stop(day, ts, ss):
                break
            rest = days - day - 1
            out.add_repeated(day + 1, np.full(rest, soc), ts, ss - soc)
            day = days
    if not out.stopped:
        out.add(np.array([days * _HOURS_PER_DAY]), np.array([soc]))
    t, s = out.arrays()
    np.minimum(s, 100.0, out=s)
    gain = float(sum(c.charge_mw * x.hours for x in schedule.charging))
    stim_h = schedule.stimulation_hours()
    draw = P.QUIESCENT_MW * (_HOURS_PER_DAY - stim_h) + sum(p.power_mw * p.hours for p in schedule.programs)
    return ScheduleResult(c.chemistry, days, t, s, out.crossings, draw, gain, stim_h)
