"""The projection: state of charge over days to years for a daily schedule and a charging habit.

Everything is ``engine.battery.simulate_schedule``. A habit of charging every day is one
engine run; charging every N days is a repeating N-day period, run as the engine's days
one after another (the charging day, then N-1 days without), each starting where the
last ended, until the period repeats itself exactly (then it is tiled) or the stop level
ends the run. The figures beside the plot are the engine's too (``figures``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...engine import battery as B
from ...engine.program import DeviceModel, Program

HOURS_PER_DAY = 24.0
DAYS_PER_YEAR = 365.25
_SAME = 1e-9  #: percent: a period that ends where it began repeats for ever


@dataclass(frozen=True)
class ChargingHabit:
    """The patient charges from ``start_h`` for ``minutes``, every ``every_days`` days."""

    start_h: float
    minutes: float
    every_days: int = 1

    def __post_init__(self) -> None:
        if self.every_days < 1:
            raise ValueError(f"charging every {self.every_days} days: give 1 or more")


@dataclass(frozen=True)
class Plan:
    """What to project: the day's programs, the charging habit, how long, from what level."""

    chemistry: str
    programs: tuple[B.ProgramPeriod, ...]
    charging: ChargingHabit | None
    days: int
    start_soc: float = 100.0

    def schedule(self, with_charging: bool = True) -> B.DailySchedule:
        """The engine's day (ValueError in words for overlaps or a primary cell on a charger)."""
        sessions: tuple[B.ChargeSession, ...] = ()
        if with_charging and self.charging is not None:
            sessions = (B.ChargeSession(self.charging.start_h, self.charging.minutes),)
        return B.DailySchedule(self.chemistry, self.programs, sessions)


def plan_for(programs: list[tuple[Program, float, float]], device: DeviceModel, chemistry: str,
             charging: ChargingHabit | None, days: int, start_soc: float = 100.0) -> Plan:
    """A plan from (program, start hour, hours a day) with ``ProgramPeriod.of``."""
    periods = tuple(B.ProgramPeriod.of(p, device, start, hours) for p, start, hours in programs)
    return Plan(chemistry, periods, charging, days, start_soc)


def project(plan: Plan) -> B.ScheduleResult:
    """The SoC trace of ``plan`` (see the module docstring)."""
    every = plan.charging.every_days if plan.charging is not None else 1
    if plan.charging is None or every == 1 or plan.days <= 1:
        return B.simulate_schedule(plan.schedule(), plan.days, plan.start_soc)
    c = B.cell(plan.chemistry)
    parts = ((plan.schedule(True), 1), (plan.schedule(False), every - 1))
    ts: list[np.ndarray] = []
    ss: list[np.ndarray] = []
    crossings: dict[str, float | None] = {name: None for name, _ in c.thresholds()}
    soc = plan.start_soc
    day = 0
    stopped = False
    while day < plan.days and not stopped:
        begin = soc
        for sched, count in parts:
            n = min(count, plan.days - day)
            if n <= 0:
                continue
            run = B.simulate_schedule(sched, n, soc)
            base = day * HOURS_PER_DAY
            for name, at in run.crossings.items():
                if crossings[name] is None and at is not None:
                    crossings[name] = base + at
            stopped = run.stopped_h is not None
            keep = slice(None) if stopped else slice(None, -1)  # a day's end is the next one's start
            ts.append(base + run.t_h[keep])
            ss.append(run.soc[keep])
            soc = run.end_soc
            day += n
            if stopped:
                break
        if not stopped and day < plan.days and abs(soc - begin) <= _SAME:
            t_rep, s_rep, soc = _tile(np.concatenate(ts), np.concatenate(ss), day, every, plan.days, soc)
            ts.append(t_rep)
            ss.append(s_rep)
            day = plan.days
    if not stopped:
        ts.append(np.array([plan.days * HOURS_PER_DAY]))
        ss.append(np.array([soc]))
    schedule = plan.schedule(True)
    gain = c.charge_mw * schedule.charging[0].hours / every
    return B.ScheduleResult(c.chemistry, plan.days, np.concatenate(ts), np.concatenate(ss), crossings,
                            _daily_draw(schedule), gain, schedule.stimulation_hours())


def _tile(t: np.ndarray, s: np.ndarray, day: int, every: int, days: int,
          soc: float) -> tuple[np.ndarray, np.ndarray, float]:
    """The period that just ended (it ended where it began, ``soc``) repeats unchanged from
    ``day`` to ``days``: its copies, and the SoC at ``days``."""
    period_h = every * HOURS_PER_DAY
    first = (day - every) * HOURS_PER_DAY
    mine = t >= first
    pt = np.append(t[mine] - first, period_h)
    ps = np.append(s[mine], soc)
    repeats = math.ceil((days - day) / every)
    offsets = day * HOURS_PER_DAY + np.arange(repeats) * period_h
    tt = (offsets[:, None] + pt[None, :-1]).ravel()
    st = np.tile(ps[:-1], repeats)
    keep = tt < days * HOURS_PER_DAY
    rest = (days - day) * HOURS_PER_DAY % period_h
    end = soc if rest == 0 else float(np.interp(rest, pt, ps))
    return tt[keep], st[keep], end


def _daily_draw(schedule: B.DailySchedule) -> float:
    return B.simulate_schedule(schedule, 1, 100.0).daily_draw_mwh


@dataclass(frozen=True)
class Figure:
    """One number beside the plot: its key, its label, its value and how it reads."""

    key: str
    label: str
    value: float | None
    text: str


def figures(plan: Plan, result: B.ScheduleResult) -> list[Figure]:
    """The projection's numbers, from the engine: energy a day; Li-ion: charging minutes a
    day, days per full charge, hours per charge of each program stimulating continuously;
    the trial stimulator's pack: days per pack and hours per pack of each program; primary:
    years to ERI and to EOS; and when the run first reached each state."""
    c = B.cell(plan.chemistry)
    draw = result.daily_draw_mwh
    out = [Figure("daily_draw_mwh", "Energy a day", draw,
                  f"{draw:.1f} mWh, {result.stimulation_hours_per_day:g} h stimulating")]
    if c.rechargeable:
        minutes = 60.0 * draw / c.charge_mw
        out.append(Figure("charge_minutes_per_day", "Charging needed", minutes, f"{minutes:.1f} min a day"))
        days = B.usable_mwh(c, c.stop_percent) / draw
        out.append(Figure("days_per_charge", "A full charge lasts", days, f"{days:.1f} days"))
        for p in plan.programs:
            hours = B.usable_mwh(c, c.stop_percent) / p.power_mw  # as battery_figures: usable / power
            out.append(Figure(f"hours_per_charge:{p.label}", f"{p.label}: one charge", hours,
                              f"{hours:.0f} h without a break"))
    elif c.replaceable:
        days = B.usable_mwh(c, c.stop_percent) / draw
        out.append(Figure("days_per_pack", "A battery pack lasts", days, f"{days:.1f} days"))
        for p in plan.programs:
            hours = B.usable_mwh(c, c.stop_percent) / p.power_mw
            out.append(Figure(f"hours_per_pack:{p.label}", f"{p.label}: one pack", hours,
                              f"{hours:.0f} h without a break"))
    else:
        eri = B.usable_mwh(c, c.warn_percent) / (draw * DAYS_PER_YEAR)
        eos = B.usable_mwh(c, c.stop_percent) / (draw * DAYS_PER_YEAR)
        out.append(Figure("years_to_eri", "Years to ERI", eri, f"{eri:.1f} years"))
        out.append(Figure("years_to_eos", "Years to end of service", eos, f"{eos:.1f} years"))
    for name, _level in c.thresholds():
        at = result.crossings[name]
        out.append(Figure(f"reached:{name}", f"{name} reached", None if at is None else at / HOURS_PER_DAY,
                          _when(at, plan.days)))
    return out


def _when(at_h: float | None, days: int) -> str:
    if at_h is None:
        return f"not within {span_words(days)}"
    d = at_h / HOURS_PER_DAY
    if d >= 2 * DAYS_PER_YEAR:
        return f"after {d / DAYS_PER_YEAR:.1f} years (day {math.floor(d) + 1})"
    return f"after {d:.1f} days (day {math.floor(d) + 1})"


def span_words(days: int) -> str:
    if days % 365 == 0 or days % 366 == 0 or days >= 730:
        years = days / DAYS_PER_YEAR
        return f"{years:.0f} year{'s' if round(years) != 1 else ''}"
    return f"{days} day{'s' if days != 1 else ''}"


def csv_text(plan: Plan, result: B.ScheduleResult) -> str:
    """The trace as CSV: hours, days, SoC percent and the state at each breakpoint."""
    lines = ["time_h,time_days,soc_percent,state"]
    for t, s in zip(result.t_h, result.soc, strict=True):
        state = B.battery_state(float(min(100.0, max(0.0, s))), plan.chemistry)
        lines.append(f"{t:.6f},{t / HOURS_PER_DAY:.6f},{s:.6f},{state}")
    return "\n".join(lines) + "\n"
