"""Benchmark of the battery model and the metrics: schedules over years, per-call costs.

``run()`` returns (figure, value, unit and target) rows; ``python benchmarks/bench_battery.py``
prints them. Times are the best of several repeats (the machine is shared).
"""

from __future__ import annotations

from timing import best_ms

from stimsim.engine import battery as B
from stimsim.engine import metrics
from stimsim.engine.params import Mode, Recharge
from stimsim.engine.program import DeviceModel, Electrodes, Program

TEN_YEARS_DAYS = 3653


def _hours(value: float | None) -> float:
    return float("nan") if value is None else value


def _programs() -> tuple[Program, Program, Program]:
    elec = Electrodes.of({"4": -100, "5": 50, "6": 50})
    tonic = Program(Mode.TONIC, 3500, 300, 50, elec, ramp_ms=2000)
    burst = Program(Mode.BURST, 800, 1000, 40, elec, recharge=Recharge.PASSIVE, burst_pulses=5,
                    intraburst_rate_hz=500, cycle_on_ms=30_000, cycle_off_ms=90_000, ramp_ms=1000)
    hf = Program(Mode.HF, 2500, 30, 10_000, elec)
    return tonic, burst, hf


def _schedule(charge_minutes: float) -> B.DailySchedule:
    """Tonic 07:00-15:00, cycled burst 15:00-22:00, 10 kHz 22:00-07:00, charging at 20:00."""
    device = DeviceModel()
    tonic, burst, hf = _programs()
    periods = (
        B.ProgramPeriod.of(tonic, device, 7.0, 8.0),
        B.ProgramPeriod.of(burst, device, 15.0, 7.0),
        B.ProgramPeriod.of(hf, device, 22.0, 9.0),
    )
    return B.DailySchedule("liion", periods, (B.ChargeSession(20.0, charge_minutes),))


def run() -> list[tuple[str, float, str]]:
    device = DeviceModel()
    tonic, burst, hf = _programs()
    steady = _schedule(60.0)
    draining = _schedule(10.0)
    rows: list[tuple[str, float, str]] = []

    res = B.simulate_schedule(steady, TEN_YEARS_DAYS)
    rows.append(("schedule: 10 years, 3 programs, daily 60 min charge (full daily)",
                 best_ms(lambda: B.simulate_schedule(steady, TEN_YEARS_DAYS)), "ms (target <= 50 ms)"))
    rows.append(("  trace breakpoints", float(res.t_h.size), "points"))
    rows.append(("  daily draw", res.daily_draw_mwh, "mWh/day"))
    rows.append(("  lowest state of charge", res.min_soc, "%"))

    res = B.simulate_schedule(draining, TEN_YEARS_DAYS)
    rows.append(("schedule: 10 years, 3 programs, daily 10 min charge (drains)",
                 best_ms(lambda: B.simulate_schedule(draining, TEN_YEARS_DAYS)), "ms (target <= 50 ms)"))
    rows.append(("  LOW reached after", _hours(res.crossings["LOW"]) / 24.0, "days"))
    rows.append(("  EMPTY reached after", _hours(res.stopped_h) / 24.0, "days"))

    primary = B.DailySchedule("primary", (B.ProgramPeriod.of(tonic, device, 8.0, 12.0),))
    res = B.simulate_schedule(primary, 40 * 366)
    rows.append(("schedule: 40 years, primary cell, 12 h tonic a day",
                 best_ms(lambda: B.simulate_schedule(primary, 40 * 366)), "ms"))
    rows.append(("  ERI reached after", _hours(res.crossings["ERI"]) / (24.0 * 365.25), "years"))

    rows.append(("program_metrics, cycled burst with ramp",
                 best_ms(lambda: metrics.program_metrics(burst, device), number=200) * 1000.0, "us per call"))
    rows.append(("program_metrics, 10 kHz hf",
                 best_ms(lambda: metrics.program_metrics(hf, device), number=200) * 1000.0, "us per call"))
    rows.append(("battery_figures, tonic",
                 best_ms(lambda: B.battery_figures(tonic, device, "liion", 24), number=200) * 1000.0,
                 "us per call"))
    rows.append(("advance_soc",
                 best_ms(lambda: B.advance_soc(50.0, "liion", 5.0, 0.1), number=2000) * 1000.0,
                 "us per call"))
    return rows


if __name__ == "__main__":
    for figure, value, unit in run():
        print(f"{figure:<70} {value:>12.4g}  {unit}")
