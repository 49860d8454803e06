"""Battery: OCV, states, exact SoC over an interval, daily figures, schedules over years."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stimsim.engine import battery as B
from stimsim.engine import metrics
from stimsim.engine import params as P
from stimsim.engine.program import DeviceModel

from .conftest import tonic

HOUR = 3600.0


# --- OCV and states -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chem", "soc", "volts"),
    [
        ("liion", 0, 3.00), ("liion", 5, 3.45), ("liion", 7.5, 3.525), ("liion", 10, 3.60),
        ("liion", 30, 3.65), ("liion", 65, 3.80), ("liion", 100, 4.10),
        ("primary", 0, 2.50), ("primary", 1, 2.55), ("primary", 6, 2.70), ("primary", 75, 3.025),
        ("primary", 100, 3.10),
    ],
)
def test_ocv_linear_between_points(chem: str, soc: float, volts: float) -> None:
    assert B.ocv_volts(soc, chem) == pytest.approx(volts)


def test_ocv_rises_with_charge_and_refuses_bad_input() -> None:
    for chem in ("liion", "primary"):
        v = [B.ocv_volts(s, chem) for s in np.linspace(0, 100, 401)]
        assert all(b > a for a, b in zip(v, v[1:], strict=False))
    with pytest.raises(ValueError, match="not within 0..100"):
        B.ocv_volts(100.5, "liion")
    with pytest.raises(ValueError, match="unknown battery chemistry 'nimh'"):
        B.ocv_volts(50, "nimh")


@pytest.mark.parametrize(
    ("chem", "soc", "state"),
    [
        ("liion", 100, "OK"), ("liion", 20.001, "OK"), ("liion", 20, "LOW"), ("liion", 5.001, "LOW"),
        ("liion", 5, "EMPTY"), ("liion", 0, "EMPTY"),
        ("primary", 10.001, "OK"), ("primary", 10, "ERI"), ("primary", 2.001, "ERI"), ("primary", 2, "EOS"),
    ],
)
def test_battery_state_thresholds(chem: str, soc: float, state: str) -> None:
    assert B.battery_state(soc, chem) == state


# --- advance_soc / seconds_until ------------------------------------------------------------


def test_advance_soc_is_linear_in_energy() -> None:
    assert B.advance_soc(50.0, "liion", 7.4, HOUR) == pytest.approx(49.0)  # 7.4 mWh of 740
    assert B.advance_soc(50.0, "primary", 9.0, 10 * HOUR) == pytest.approx(49.0)  # 90 of 9000
    assert B.advance_soc(50.0, "liion", 7.4, 0.0) == 50.0


def test_charging_adds_charger_power_and_clamps_full() -> None:
    # 185 mW in, 7.4 mW out: +24 %/h
    assert B.advance_soc(50.0, "liion", 7.4, HOUR / 2, charging=True) == pytest.approx(62.0)
    assert B.advance_soc(90.0, "liion", 7.4, HOUR, charging=True) == 100.0
    with pytest.raises(ValueError, match="cannot be charged"):
        B.advance_soc(50.0, "primary", 1.0, 1.0, charging=True)


def test_stimulation_stops_at_the_stop_level() -> None:
    # 74 mW drains 10 %/h: 6 % -> 5 % in 360 s, then only the quiescent draw
    q_per_s = 100 * P.QUIESCENT_MW / P.LIION_CAPACITY_MWH / HOUR
    after = B.advance_soc(6.0, "liion", 74.0, HOUR)
    assert after == pytest.approx(5.0 - q_per_s * (HOUR - 360))
    assert B.advance_soc(5.0, "liion", 74.0, HOUR) == pytest.approx(5.0 - q_per_s * HOUR)
    # primary: end of service is for good; the cell creeps down by the quiescent draw only
    assert B.advance_soc(2.0, "primary", 50.0, HOUR) == pytest.approx(2.0 - 100 * 0.04 / 9000)
    assert B.advance_soc(0.0, "liion", 74.0, HOUR) == 0.0


def test_seconds_until_examples() -> None:
    assert B.seconds_until(100, 20, "liion", 7.4) == pytest.approx(80 * HOUR)
    assert B.seconds_until(50, 62, "liion", 7.4, charging=True) == pytest.approx(HOUR / 2)
    assert B.seconds_until(50, 50, "liion", 7.4) == 0.0
    assert B.seconds_until(50, 60, "liion", 7.4) is None  # draining never rises
    assert B.seconds_until(50, 40, "liion", 7.4, charging=True) is None
    assert B.seconds_until(50, 101, "liion", 0.0, charging=True) is None
    # past the stop only the quiescent draw: 6 -> 5 at 10 %/h, then 5 -> 4 at 0.0054 %/h
    q_per_h = 100 * P.QUIESCENT_MW / P.LIION_CAPACITY_MWH
    assert B.seconds_until(6, 4, "liion", 74.0) == pytest.approx(360 + HOUR / q_per_h)


@settings(max_examples=200, deadline=None)
@given(
    chem=st.sampled_from(["liion", "primary"]),
    soc=st.floats(0, 100),
    target=st.floats(0, 100),
    power=st.floats(0, 300),
    charging=st.booleans(),
)
def test_seconds_until_agrees_with_advance_soc(chem: str, soc: float, target: float, power: float,
                                               charging: bool) -> None:
    charging = charging and chem == "liion"
    dt = B.seconds_until(soc, target, chem, power, charging)
    if dt is None:
        # never: a long time later the SoC is still on the start's side of the target
        later = B.advance_soc(soc, chem, power, 1e9, charging)
        assert (later < target) == (soc < target) or later == soc  # signs, not a product that underflows
        return
    assert dt >= 0
    assert B.advance_soc(soc, chem, power, dt, charging) == pytest.approx(target, abs=1e-9)
    state_then = B.battery_state(B.advance_soc(soc, chem, power, dt, charging), chem)
    assert state_then in ("OK", "LOW", "EMPTY", "ERI", "EOS")


# --- daily figures --------------------------------------------------------------------------


def test_battery_figures_liion_formulas() -> None:
    prog = tonic()
    p = 0.040 + 0.09 * 2.572 / 0.8
    fig = B.battery_figures(prog, DeviceModel(), "liion", 12)
    e = 0.040 * 24 + (p - 0.040) * 12
    assert fig == pytest.approx({
        "chemistry": "liion", "battery_power_mw": p, "hours_per_day": 12.0,
        "hours_per_charge": 703 / p, "days_per_charge": 703 / e, "charge_minutes_per_day": 60 * e / 185,
    })
    assert set(fig) == {"chemistry", "battery_power_mw", "hours_per_day", "hours_per_charge",
                        "days_per_charge", "charge_minutes_per_day"}


def test_battery_figures_primary_formulas() -> None:
    prog = tonic(cycle_on_ms=30_000, cycle_off_ms=90_000)
    p = metrics.battery_power_mw(prog, DeviceModel())
    assert p == pytest.approx(0.040 + 0.09 / 4 * 2.572 / 0.8)  # a quarter of the pulses
    fig = B.battery_figures(prog, DeviceModel(), "primary")
    e = 0.040 * 24 + (p - 0.040) * 24
    assert set(fig) == {"chemistry", "battery_power_mw", "hours_per_day", "years_to_eri", "years_to_eos"}
    assert fig["years_to_eri"] == pytest.approx(0.90 * 9000 / (e * 365.25))
    assert fig["years_to_eos"] == pytest.approx(0.98 * 9000 / (e * 365.25))
    with pytest.raises(ValueError, match="hours per day 25"):
        B.battery_figures(prog, DeviceModel(), "primary", 25)


# --- schedules ------------------------------------------------------------------------------


def test_schedule_low_time_matches_hand_computation() -> None:
    # 7.4 mW (1 %/h) from 08:00 to 16:00, quiescent otherwise, no charging
    sch = B.DailySchedule("liion", (B.ProgramPeriod("day", 7.4, 8.0, 8.0),))
    q = 100 * 0.040 / 740  # %/h
    per_day = 16 * q + 8 * 1.0
    assert 100 - 9 * per_day - 8 * q - 8 < 20 < 100 - 9 * per_day - 8 * q  # LOW: day 9, while on
    soc_at_8 = 100 - 9 * per_day - 8 * q
    low_h = 9 * 24 + 8 + (soc_at_8 - 20) / 1.0
    res = B.simulate_schedule(sch, 30)
    assert res.crossings["LOW"] == pytest.approx(low_h, abs=1e-9)
    assert float(res.soc_at(low_h)) == pytest.approx(20.0)
    assert low_h in res.t_h  # the trace is split at the crossing
    # the stop: day 11 at 08:00 sits at 100 - 11*per_day - 8q, then 1 %/h down to 5 %
    empty_h = 11 * 24 + 8 + (100 - 11 * per_day - 8 * q - 5)
    assert res.crossings["EMPTY"] == pytest.approx(empty_h, abs=1e-9)
    assert res.stopped_h == res.crossings["EMPTY"]
    assert res.t_h[-1] == pytest.approx(empty_h) and res.soc[-1] == 5.0
    assert res.summary()["net_percent_per_day"] == pytest.approx(-per_day)


def test_primary_schedule_matches_battery_figures() -> None:
    prog = tonic()
    device = DeviceModel()
    fig = B.battery_figures(prog, device, "primary", 24)
    sch = B.DailySchedule("primary", (B.ProgramPeriod.of(prog, device, 0.0, 24.0),))
    res = B.simulate_schedule(sch, 40 * 366)
    hours_per_year = 24 * 365.25
    assert res.crossings["ERI"] == pytest.approx(fig["years_to_eri"] * hours_per_year, rel=1e-12)
    assert res.crossings["EOS"] == pytest.approx(fig["years_to_eos"] * hours_per_year, rel=1e-12)


def test_daily_charging_reaches_a_steady_day() -> None:
    # 12 mW 08:00-20:00 (-19.5 %) and a 60 min charge at 21:00 (+25 %): full before 22:00
    sch = B.DailySchedule("liion", (B.ProgramPeriod("A", 12.0, 8.0, 12.0),), (B.ChargeSession(21.0, 60.0),))
    res = B.simulate_schedule(sch, 365)
    q = 100 * 0.040 / 740  # quiescent %/h
    a = 100 * 12.0 / 740
    # every day ends 2 h of quiescent draw below full; the lowest point is 21:00 of a steady day
    assert res.soc_at(24.0 * np.arange(1, 366)) == pytest.approx(np.full(365, 100 - 2 * q), abs=1e-9)
    assert res.min_soc == pytest.approx(100 - 11 * q - 12 * a, abs=1e-9)
    assert float(res.soc_at(20.0)) == pytest.approx(100 - 8 * q - 12 * a)  # day 0 starts full
    full_at = 21 + (12 * a + 11 * q) / (100 * (185 - 0.04) / 740)
    assert float(res.soc_at(24 * 100 + full_at)) == pytest.approx(100.0)
    assert float(res.soc_at(24 * 100 + full_at - 0.1)) < 100.0
    assert res.crossings == {"LOW": None, "EMPTY": None}
    assert res.net_percent_per_day == pytest.approx(100 * (185 - 144 - 0.04 * 12) / 740)


def test_schedule_starting_below_the_stop_ends_at_once() -> None:
    res = B.simulate_schedule(B.DailySchedule("liion", (B.ProgramPeriod("A", 5.0, 0.0, 24.0),)), 10, 3.0)
    assert res.crossings == {"LOW": 0.0, "EMPTY": 0.0}
    assert res.t_h.tolist() == [0.0] and res.soc.tolist() == [3.0]


def test_schedule_validation() -> None:
    with pytest.raises(ValueError, match="overlap"):
        B.DailySchedule("liion", (B.ProgramPeriod("A", 1, 22.0, 4.0), B.ProgramPeriod("B", 1, 1.0, 2.0)))
    with pytest.raises(ValueError, match="cannot be charged"):
        B.DailySchedule("primary", (), (B.ChargeSession(20.0, 30.0),))
    with pytest.raises(ValueError, match="start 24"):
        B.DailySchedule("liion", (B.ProgramPeriod("A", 1, 24.0, 1.0),))
    with pytest.raises(ValueError, match="overlap"):
        B.DailySchedule("liion", (), (B.ChargeSession(20.0, 90.0), B.ChargeSession(21.0, 10.0)))
    with pytest.raises(ValueError, match="days 0"):
        B.simulate_schedule(B.DailySchedule("liion"), 0)
    ok = B.DailySchedule.sequential("liion", 20.0, [("A", 1.0, 6.0), ("B", 2.0, 8.0)])
    assert [(p.start_h, p.hours) for p in ok.programs] == [(20.0, 6.0), (2.0, 8.0)]


# A reference integrator: quarter-hour steps (every schedule below changes only on quarter hours),
# day after day, clamping at 100 % and stopping at the stop level.


def reference(sch: B.DailySchedule, days: int, start: float) -> tuple[np.ndarray, dict[str, float | None]]:
    c = B.cell(sch.chemistry)
    step = 0.25
    rates = []
    for k in range(96):
        mid = (k + 0.5) * step
        draw = P.QUIESCENT_MW
        for p in sch.programs:
            if (mid - p.start_h) % 24 < p.hours:
                draw = p.power_mw
        gain = sum(c.charge_mw for s in sch.charging if (mid - s.start_h) % 24 < s.hours)
        rates.append(100 * (gain - draw) / c.capacity_mwh)
    x = start
    ends = []
    crossings: dict[str, float | None] = {name: None for name, _ in c.thresholds()}
    for name, level in c.thresholds():
        if x <= level:
            crossings[name] = 0.0
    for d in range(days):
        for k, r in enumerate(rates):
            t0 = d * 24 + k * step
            new = min(100.0, x + r * step)
            for name, level in c.thresholds():
                if crossings[name] is None and new <= level:
                    crossings[name] = t0 + (x - level) / -r
            x = new
            if crossings[c.stop_state] is not None:
                return np.array(ends), crossings
        ends.append(x)
    return np.array(ends), crossings


quarter_hours = st.integers(0, 95).map(lambda k: k / 4)


@st.composite
def schedules(draw: st.DrawFn) -> B.DailySchedule:
    chem = draw(st.sampled_from(["liion", "liion", "primary"]))
    n = draw(st.integers(0, 3))
    start = draw(quarter_hours)
    lengths = [draw(st.integers(1, 24)) / 4 for _ in range(n)]
    powers = [draw(st.floats(0.04, 40.0)) for _ in range(n)]
    runs = [(f"P{i}", powers[i], lengths[i]) for i in range(n)]
    charging: tuple[B.ChargeSession, ...] = ()
    if chem == "liion" and draw(st.booleans()):
        charging = (B.ChargeSession(draw(quarter_hours), 15 * draw(st.integers(1, 8))),)
    return B.DailySchedule.sequential(chem, start, runs, charging)


@settings(max_examples=60, deadline=None)
@given(sch=schedules(), start=st.floats(1.0, 100.0), days=st.integers(1, 60))
def test_schedule_matches_stepwise_reference(sch: B.DailySchedule, start: float, days: int) -> None:
    res = B.simulate_schedule(sch, days, start)
    ends, crossings = reference(sch, days, start)
    for name, at in crossings.items():
        got = res.crossings[name]
        assert (got is None) == (at is None), name
        if at is not None:
            assert got == pytest.approx(at, abs=1e-6)
    if ends.size:
        assert res.soc_at(24.0 * np.arange(1, ends.size + 1)) == pytest.approx(ends, abs=1e-7)
    assert np.all(np.diff(res.t_h) >= 0)
    assert res.soc.max() <= 100.0 and res.soc.min() >= 0.0


def ten_year_schedule() -> B.DailySchedule:
    runs = [("morning", 2.5, 6.0), ("day", 4.0, 8.0), ("evening", 1.2, 4.0)]
    return B.DailySchedule.sequential("liion", 6.0, runs, (B.ChargeSession(21.0, 30.0),))


def test_ten_years_of_three_programs_with_daily_charging() -> None:
    sch = ten_year_schedule()
    days = 3653
    t0 = time.perf_counter()
    res = B.simulate_schedule(sch, days)
    elapsed = time.perf_counter() - t0
    assert elapsed < 0.5  # no loop over days (the benchmark's target is 50 ms)
    assert res.t_h[-1] == days * 24.0
    ends, crossings = reference(sch, 400, 100.0)
    assert res.soc_at(24.0 * np.arange(1, 401)) == pytest.approx(ends, abs=1e-7)
    assert res.crossings == crossings
    # the pattern is steady: the last day repeats the 400th
    last = res.soc_at(24.0 * (days - 1) + np.linspace(0, 24, 97))
    day_400 = res.soc_at(24.0 * 399 + np.linspace(0, 24, 97))
    assert last == pytest.approx(day_400, abs=1e-9)


def test_ten_years_draining_stops_at_empty() -> None:
    # 100 mWh a day against 92.5 mWh of charging: -1 % a day, empty after about 3 months
    runs = [("morning", 2.5, 6.0), ("day", 10.0, 8.0), ("evening", 1.2, 4.0)]
    sch = B.DailySchedule.sequential("liion", 6.0, runs, (B.ChargeSession(21.0, 30.0),))
    res = B.simulate_schedule(sch, 3653)
    ends, crossings = reference(sch, 3653, 100.0)
    assert res.crossings == pytest.approx(crossings)
    assert res.stopped_h is not None and res.soc[-1] == 5.0
    assert res.soc_at(24.0 * np.arange(1, ends.size + 1)) == pytest.approx(ends, abs=1e-7)
