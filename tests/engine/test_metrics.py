"""Long-run metrics: hand-checked figures, exact cycling and ramp sums, passive recharge rms."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stimsim.engine import files, metrics
from stimsim.engine import params as P
from stimsim.engine.battery import battery_figures
from stimsim.engine.params import Mode, Recharge
from stimsim.engine.program import DeviceModel, Electrodes, Program
from stimsim.engine.validate import check_program
from stimsim.resources import example_programs

from .conftest import tonic

DEVICE = DeviceModel()
KEYS = {
    "mode", "pulses_per_s", "duty", "charge_per_phase_uc", "charge_per_s_uc", "mean_abs_current_ma",
    "rms_current_ma", "load_ohm", "rail_v", "compliance", "delivered_amplitude_ma", "tissue_power_mw",
    "battery_power_mw", "contacts", "max_shannon_k", "max_density_uc_cm2", "warnings",
}
CONTACT_KEYS = {"contact", "fraction", "charge_uc", "density_uc_cm2", "shannon_k"}


def burst(**changes: object) -> Program:
    """0.6 mA, 1000 us, 40 Hz bursts of 5 at 500 Hz, passive, on 4- 5+ unless changed."""
    prog = Program(Mode.BURST, 600, 1000, 40, Electrodes.of({"4": -100, "5": 100}),
                   recharge=Recharge.PASSIVE, burst_pulses=5, intraburst_rate_hz=500)
    return replace(prog, **changes)  # type: ignore[arg-type]


# --- hand-checked figures -----------------------------------------------------------------


def test_tonic_active_hand_figures() -> None:
    m = metrics.program_metrics(tonic(), DEVICE)
    assert set(m) == KEYS
    assert m["mode"] == "tonic"
    assert m["load_ohm"] == pytest.approx(524.0)
    assert m["rail_v"] == pytest.approx(3 * 0.524 + 1.0)
    assert m["compliance"] == "ok"
    assert m["delivered_amplitude_ma"] == pytest.approx(3.0)
    assert m["pulses_per_s"] == pytest.approx(50.0)
    assert m["charge_per_phase_uc"] == pytest.approx(0.9)
    assert m["charge_per_s_uc"] == pytest.approx(90.0)
    assert m["duty"] == pytest.approx(0.03)
    assert m["mean_abs_current_ma"] == pytest.approx(0.09)
    assert m["rms_current_ma"] == pytest.approx(3 * math.sqrt(0.03))
    assert m["tissue_power_mw"] == pytest.approx(9 * 0.03 * 524 / 1000)
    # P = P_q + I_out * V_rail / eta, I_out = both phases = 0.09 mA
    assert m["battery_power_mw"] == pytest.approx(0.040 + 0.09 * 2.572 / 0.8)
    assert metrics.battery_power_mw(tonic(), DEVICE) == m["battery_power_mw"]
    d = 0.9 / 0.1225
    assert [c["contact"] for c in m["contacts"]] == ["4", "5"]
    assert [c["fraction"] for c in m["contacts"]] == [-1.0, 1.0]
    for c in m["contacts"]:
        assert set(c) == CONTACT_KEYS
        assert c["charge_uc"] == pytest.approx(0.9)
        assert c["density_uc_cm2"] == pytest.approx(d)
        assert c["shannon_k"] == pytest.approx(math.log10(d) + math.log10(0.9))
    assert m["max_density_uc_cm2"] == pytest.approx(d)
    assert m["warnings"] == []
    json.dumps(m, allow_nan=False)


def test_burst_passive_battery_counts_cathodic_phase_only() -> None:
    m = metrics.program_metrics(burst(), DEVICE)
    # 200 pulses/s of 0.6 mA for 1 ms: cathodic 0.12 mA; mean |i| counts the recharge too
    assert m["pulses_per_s"] == pytest.approx(200.0)
    assert m["duty"] == pytest.approx(0.2)
    assert m["mean_abs_current_ma"] == pytest.approx(0.24)
    rail = 0.6 * 0.524 + 1.0
    assert m["battery_power_mw"] == pytest.approx(0.040 + 0.12 * rail / 0.8)
    active = metrics.program_metrics(burst(recharge=Recharge.ACTIVE), DEVICE)
    assert active["battery_power_mw"] == pytest.approx(0.040 + 0.24 * rail / 0.8)
    assert active["duty"] == pytest.approx(0.4)


def test_compliance_limited_uses_delivered_amplitude() -> None:
    # four 2000 ohm cathodes in parallel (500) + two 1000 ohm anodes (500): Z = 1000 ohm
    device = DeviceModel().with_impedances({"1": 2000, "2": 2000, "3": 2000, "4": 2000, "5": 1000, "6": 1000})
    prog = tonic(amplitude_ua=20_000,
                 electrodes=Electrodes.of({"1": -25, "2": -25, "3": -25, "4": -25, "5": 50, "6": 50}))
    assert check_program(prog, device) == []
    m = metrics.program_metrics(prog, device)
    assert m["load_ohm"] == pytest.approx(1000.0)
    assert m["compliance"] == "limited"
    assert m["delivered_amplitude_ma"] == pytest.approx(11.0)
    assert m["rail_v"] == pytest.approx(12.0)
    assert m["charge_per_phase_uc"] == pytest.approx(11 * 0.3)
    assert m["mean_abs_current_ma"] == pytest.approx(2 * 11 * 300e-6 * 50)
    assert m["battery_power_mw"] == pytest.approx(0.040 + 2 * 11 * 300e-6 * 50 * 12 / 0.8)
    assert "COMPLIANCE" in m["warnings"]


@pytest.mark.parametrize(("pw", "warn"), [(290, False), (300, True)])
def test_shannon_k_warning_edge(pw: int, warn: bool) -> None:
    # 10 mA: Q = 2.9 uC gives k = 1.837, Q = 3.0 uC k = 1.866 (limit 1.85) with D < 30
    m = metrics.program_metrics(tonic(amplitude_ua=10_000, pulse_width_us=pw), DEVICE)
    q = 10 * pw / 1000
    assert m["max_shannon_k"] == pytest.approx(math.log10(q * q / P.CONTACT_AREA_CM2))
    assert m["max_density_uc_cm2"] < P.DENSITY_LIMIT_UC_CM2
    assert m["warnings"] == (["CHARGE_DENSITY"] if warn else [])


def test_density_warning_and_case_contact() -> None:
    prog = tonic(amplitude_ua=12_000, pulse_width_us=400, electrodes=Electrodes.of({"4": -100, "case": 100}))
    m = metrics.program_metrics(prog, DEVICE)
    four, case = m["contacts"]
    assert (four["contact"], case["contact"]) == ("4", "case")
    assert four["density_uc_cm2"] == pytest.approx(4.8 / 0.1225)
    assert four["density_uc_cm2"] > 30
    assert case["density_uc_cm2"] == pytest.approx(4.8 / 30.0)
    assert m["max_density_uc_cm2"] == four["density_uc_cm2"]
    assert m["warnings"] == ["CHARGE_DENSITY"]


def test_warnings_sorted_when_both() -> None:
    device = DeviceModel().with_impedances({"4": 800, "5": 800})
    m = metrics.program_metrics(tonic(amplitude_ua=12_000, pulse_width_us=500), device)
    assert m["warnings"] == ["CHARGE_DENSITY", "COMPLIANCE"]


def test_zero_amplitude_gives_null_k_and_json() -> None:
    m = metrics.program_metrics(tonic(amplitude_ua=0), DEVICE)
    assert m["max_shannon_k"] is None
    assert all(c["shannon_k"] is None for c in m["contacts"])
    assert m["rms_current_ma"] == 0.0
    assert m["battery_power_mw"] == pytest.approx(P.QUIESCENT_MW)
    json.dumps(m, allow_nan=False)
    assert metrics.program_metrics(burst(amplitude_ua=0), DEVICE)["rms_current_ma"] == 0.0


@pytest.mark.parametrize("path", example_programs(), ids=lambda p: p.name)
def test_example_programs_have_finite_figures(path: Path) -> None:
    pf = files.load(path)
    for prog in pf.programs:
        m = metrics.program_metrics(prog, pf.device)
        numbers = [v for v in m.values() if isinstance(v, float)]
        assert all(math.isfinite(v) for v in numbers)
        assert 0 < m["duty"] < 1
        assert m["rms_current_ma"] >= m["mean_abs_current_ma"] > 0
        json.dumps(m, allow_nan=False)
        for chem in ("liion", "primary"):
            fig = battery_figures(prog, pf.device, chem, 24)
            assert all(math.isfinite(v) and v > 0 for v in fig.values() if isinstance(v, float))
            json.dumps(fig, allow_nan=False)


# --- cycling and ramp: exact sums ---------------------------------------------------------


def brute_sums(prog: Program) -> tuple[Fraction, float, float]:
    """Kept fraction and mean f, f^2 per grid pulse, by enumerating a whole pattern period."""
    n = metrics.pulses_per_burst(prog)
    intra = prog.intraburst_rate_hz or 1
    cycle_ms = prog.cycle_on_ms + prog.cycle_off_ms
    # the pattern repeats after lcm(cycle, burst period) = cycle*R/gcd(cycle*R, 1000) bursts
    bursts = cycle_ms * prog.rate_hz // math.gcd(cycle_ms * prog.rate_hz, 1000)
    j = np.arange(bursts, dtype=np.int64)[:, None]
    m = np.arange(n, dtype=np.int64)[None, :]
    ticks = 1000 * j * intra + 1000 * m * prog.rate_hz  # in 1/(R*I) ms
    phase_ms = (ticks % (cycle_ms * prog.rate_hz * intra)) / (prog.rate_hz * intra)
    kept = phase_ms < prog.cycle_on_ms
    f = np.minimum(1.0, phase_ms / prog.ramp_ms) if prog.ramp_ms else np.ones_like(phase_ms)
    total = bursts * n
    return (Fraction(int(kept.sum()), total), float((f * kept).sum()) / total,
            float((f * f * kept).sum()) / total)


def test_commensurate_cycle_keeps_two_pulses_of_three() -> None:
    # 2 Hz in a 2.5 s cycle, 1.25 s on: pulses at 0, 0.5, 1.0 run, 1.5 and 2.0 do not
    prog = tonic(rate_hz=2, cycle_on_ms=1250, cycle_off_ms=1250)
    assert metrics.cycle_keep_fraction(prog) == Fraction(3, 5)
    assert metrics.program_metrics(prog, DEVICE)["pulses_per_s"] == pytest.approx(1.2)
    one_hz = Program(Mode.BURST, 1000, 100, 1, Electrodes.of({"4": -100, "5": 100}),
                     recharge=Recharge.PASSIVE, burst_pulses=2, intraburst_rate_hz=250,
                     cycle_on_ms=1500, cycle_off_ms=1500)
    # 1 Hz bursts at 0, 1, 2 s in a 3 s cycle, 1.5 s on: bursts 0 and 1 run, 2 of 3
    assert metrics.cycle_keep_fraction(one_hz) == Fraction(2, 3)
    assert metrics.pulse_sums(one_hz).count == Fraction(4, 3)
    assert metrics.program_metrics(one_hz, DEVICE)["pulses_per_s"] == pytest.approx(4 / 3)


def test_incommensurate_cycle_keeps_on_fraction() -> None:
    prog = tonic(rate_hz=3, cycle_on_ms=1001, cycle_off_ms=1000)
    assert metrics.cycle_keep_fraction(prog) == Fraction(1001, 2001)
    assert brute_sums(prog)[0] == Fraction(1001, 2001)


def test_ramp_recurs_each_cycle() -> None:
    # 10 Hz, 1 s on / 1 s off, 0.5 s ramp: factors 0 .2 .4 .6 .8 1 1 1 1 1 every 2 s
    prog = tonic(rate_hz=10, cycle_on_ms=1000, cycle_off_ms=1000, ramp_ms=500)
    sums = metrics.pulse_sums(prog)
    assert sums == metrics.PulseSums(Fraction(5), Fraction(7, 2), Fraction(31, 10))
    m = metrics.program_metrics(prog, DEVICE)
    pw = 300e-6
    assert m["mean_abs_current_ma"] == pytest.approx(2 * 3 * pw * 3.5)
    assert m["rms_current_ma"] == pytest.approx(math.sqrt(2 * 9 * pw * 3.1))
    assert m["duty"] == pytest.approx(2 * pw * 5)
    assert m["battery_power_mw"] == pytest.approx(0.040 + 2 * 3 * pw * 3.5 * 2.572 / 0.8)


def test_ramp_without_cycling_is_a_transient() -> None:
    plain = metrics.program_metrics(tonic(), DEVICE)
    assert metrics.program_metrics(tonic(ramp_ms=10_000), DEVICE) == plain


@settings(max_examples=40, deadline=None)
@given(
    mode=st.sampled_from([Mode.TONIC, Mode.BURST]),
    rate=st.integers(1, 40),
    n=st.integers(2, 4),
    intra=st.sampled_from([250, 333, 500, 1000]),
    on=st.integers(1000, 2600),
    off=st.integers(1000, 2600),
    ramp=st.sampled_from([0, 1, 7, 250, 999, 1500, 4000]),
)
def test_cycling_sums_match_enumeration(mode: Mode, rate: int, n: int, intra: int, on: int, off: int,
                                        ramp: int) -> None:
    if mode is Mode.TONIC:
        prog = tonic(rate_hz=max(rate, 2), cycle_on_ms=on, cycle_off_ms=off, ramp_ms=ramp)
    else:
        n = min(n, intra // rate)
        prog = burst(rate_hz=rate, burst_pulses=n, intraburst_rate_hz=intra, cycle_on_ms=on,
                     cycle_off_ms=off, ramp_ms=ramp)
    kept, mean_f, mean_f2 = brute_sums(prog)
    grid = prog.rate_hz * metrics.pulses_per_burst(prog)
    sums = metrics.pulse_sums(prog)
    assert sums.count / grid == kept
    assert float(sums.linear) / grid == pytest.approx(mean_f, rel=1e-9, abs=1e-12)
    assert float(sums.square) / grid == pytest.approx(mean_f2, rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    amp=st.integers(0, 12_000),
    pw=st.integers(20, 1000),
    rate=st.integers(2, 1200),
    passive=st.booleans(),
    cycle=st.sampled_from([(0, 0), (1000, 1000), (1500, 4000), (30_000, 90_000)]),
    ramp=st.integers(0, 10_000),
)
def test_metric_invariants(amp: int, pw: int, rate: int, passive: bool, cycle: tuple[int, int],
                           ramp: int) -> None:
    recharge = Recharge.PASSIVE if passive else Recharge.ACTIVE
    pw = min(pw, max(20, P.max_fitting_pw(rate, 0, recharge)))
    prog = tonic(amplitude_ua=amp, pulse_width_us=pw, rate_hz=rate, recharge=recharge,
                 cycle_on_ms=cycle[0], cycle_off_ms=cycle[1], ramp_ms=ramp)
    if check_program(prog):
        return
    m = metrics.program_metrics(prog, DEVICE)
    assert 0 <= m["duty"] < 1
    # Every pulse moves its cathodic charge twice (out, then back by recharge): mean |i| is
    # at most 2*A*PW*rate. It may exceed A: a passive recharge squeezed into a closed time
    # shorter than PW runs above A on average.
    cathodic = m["delivered_amplitude_ma"] * pw * rate / 1e6
    assert m["mean_abs_current_ma"] <= 2 * cathodic * (1 + 1e-12) + 1e-15
    if not passive:
        assert m["mean_abs_current_ma"] <= m["delivered_amplitude_ma"] + 1e-12
    assert m["rms_current_ma"] >= m["mean_abs_current_ma"] * (1 - 1e-12)
    assert m["charge_per_s_uc"] == pytest.approx(1000 * m["mean_abs_current_ma"])
    assert m["tissue_power_mw"] == pytest.approx(m["rms_current_ma"] ** 2 * m["load_ohm"] / 1000)
    assert m["battery_power_mw"] >= P.QUIESCENT_MW


# --- passive recharge ------------------------------------------------------------------------


def numeric_passive_rms(prog: Program, z_ohm: float, amp_ma: float) -> tuple[float, float]:
    """(rms, mean) current of the passive train in steady state, by iterating the capacitor
    period after period from discharged and integrating i(t)^2 on a fine grid (midpoint rule)."""
    c_f = P.COUPLING_CAP_UF * 1e-6
    tau = z_ohm * c_f
    n = metrics.pulses_per_burst(prog)
    intra = prog.intraburst_rate_hz or 1
    period = 1.0 / prog.rate_hz
    pw = prog.pulse_width_us * 1e-6
    close = (n - 1) / intra + pw + prog.interphase_us * 1e-6
    dv = amp_ma * 1e-3 * pw / c_f  # V per cathodic phase
    v_end = 0.0
    for _ in range(100_000):  # carry the voltage over until the train settles
        v_close = v_end + n * dv
        new_end = v_close * math.exp(-(period - close) / tau)
        if abs(new_end - v_end) < 1e-15:
            break
        v_end = new_end
    v_close = v_end + n * dv
    steps = 400_000
    t = (np.arange(steps) + 0.5) * (period / steps)
    i = np.zeros(steps)
    for m in range(n):
        start = m / intra
        i[(t >= start) & (t < start + pw)] = -amp_ma
    closed = t >= close
    i[closed] = 1000.0 * v_close * np.exp(-(t[closed] - close) / tau) / z_ohm
    return math.sqrt(float(np.mean(i * i))), float(np.mean(i))


@pytest.mark.parametrize(
    ("prog", "device"),
    [
        (tonic(recharge=Recharge.PASSIVE, interphase_us=50), DEVICE),
        (tonic(recharge=Recharge.PASSIVE, rate_hz=1000, pulse_width_us=100, amplitude_ua=2000),
         DeviceModel().with_impedances({"4": 2000, "5": 2000})),
        (burst(), DEVICE),
        (burst(rate_hz=100, burst_pulses=8, intraburst_rate_hz=1000, pulse_width_us=200),
         DeviceModel().with_impedances({"4": 1500})),
    ],
    ids=["tonic-50Hz", "tonic-1kHz-4kohm", "burstdr", "burst-100Hz-x8"],
)
def test_passive_rms_matches_numeric_integral(prog: Program, device: DeviceModel) -> None:
    assert check_program(prog, device) == []
    m = metrics.program_metrics(prog, device)
    rms, mean = numeric_passive_rms(prog, m["load_ohm"], m["delivered_amplitude_ma"])
    assert m["rms_current_ma"] == pytest.approx(rms, rel=2e-4)
    assert abs(mean) < 1e-3 * m["mean_abs_current_ma"]  # the train is charge balanced
    # the recharge adds to the cathodic phases' rms, never replaces it
    cathodic_only = m["delivered_amplitude_ma"] * math.sqrt(m["duty"])
    assert m["rms_current_ma"] > cathodic_only


def exact_cycled_recharge(prog: Program, z_ohm: float, amp_ma: float) -> float:
    """Mean i^2 (mA^2) of the passive recharge over the pattern period, by the exact per-closure
    recursion of the capacitor through every pulse (capacitor carried over the whole run)."""
    c_uf = P.COUPLING_CAP_UF
    tau = z_ohm * c_uf * 1e-6
    n = metrics.pulses_per_burst(prog)
    intra = prog.intraburst_rate_hz or 1
    cycle = prog.cycle_on_ms + prog.cycle_off_ms
    bursts = cycle * prog.rate_hz // math.gcd(cycle * prog.rate_hz, 1000)
    period = Fraction(bursts, prog.rate_hz)
    closures: list[tuple[Fraction, Fraction, float]] = []  # (opens, closes, sum of f)
    for j in range(2 * bursts):
        first: Fraction | None = None
        last = Fraction(0)
        total = 0.0
        for m in range(n):
            t = Fraction(j, prog.rate_hz) + Fraction(m, intra)
            phase = (t * 1000) % cycle
            if phase < prog.cycle_on_ms:
                total += min(1.0, float(phase) / prog.ramp_ms) if prog.ramp_ms else 1.0
                first = t if first is None else first
                last = t + Fraction(prog.pulse_width_us + prog.interphase_us, 1_000_000)
        if first is not None:
            closures.append((first, last, total))
    dv = amp_ma * prog.pulse_width_us / 1000 / c_uf
    v = 0.0
    energy = 0.0
    for k, (opens, closes, total) in enumerate(closures):
        v += total * dv
        nxt = closures[k + 1][0] if k + 1 < len(closures) else 2 * period
        dt = float(nxt - closes)
        if opens >= period:  # second period: the start-up has passed
            energy += (1000 * v / z_ohm) ** 2 * tau / 2 * -math.expm1(-2 * dt / tau)
        v *= math.exp(-dt / tau)
    return energy / float(period)


@pytest.mark.parametrize(
    ("prog", "z_override", "typical"),
    [
        (tonic(recharge=Recharge.PASSIVE, cycle_on_ms=1000, cycle_off_ms=1000), None, 2e-3),
        (tonic(recharge=Recharge.PASSIVE, rate_hz=1000, pulse_width_us=100, cycle_on_ms=1000,
               cycle_off_ms=1000, ramp_ms=500), 2000, None),
        (burst(cycle_on_ms=1010, cycle_off_ms=1003, ramp_ms=7), None, 1e-2),
        (burst(rate_hz=1, burst_pulses=10, intraburst_rate_hz=1000, pulse_width_us=100,
               cycle_on_ms=1500, cycle_off_ms=1000, ramp_ms=3), None, None),
    ],
    ids=["tonic-50Hz", "tonic-1kHz-ramp-4kohm", "burst-cut-bursts", "burst-1Hz-ramp"],
)
def test_cycled_passive_rms_within_documented_bound(prog: Program, z_override: float | None,
                                                    typical: float | None) -> None:
    device = DEVICE if z_override is None else DeviceModel().with_impedances({"4": z_override, "5": z_override})
    m = metrics.program_metrics(prog, device)
    comp_z, amp = m["load_ohm"], m["delivered_amplitude_ma"]
    sums = metrics.pulse_sums(prog)
    n = metrics.pulses_per_burst(prog)
    approx = metrics.closure_energy_ma2s(prog, amp, comp_z) / n * float(sums.square)
    exact = exact_cycled_recharge(prog, comp_z, amp)
    rel = (approx - exact) / exact
    # the documented bound: (4*rho/(1 - rho) + 3/4) / n2
    intra = prog.intraburst_rate_hz or 1
    closed = 1 / prog.rate_hz - (n - 1) / intra - (prog.pulse_width_us + prog.interphase_us) * 1e-6
    rho = math.exp(-closed / (comp_z * P.COUPLING_CAP_UF * 1e-6))
    cycles_per_s = 1000 / (prog.cycle_on_ms + prog.cycle_off_ms)
    n2 = float(sums.square) / n / cycles_per_s
    assert -1e-9 <= rel <= (4 * rho / (1 - rho) + 0.75) / n2
    if typical is not None:
        assert rel < typical
    # and the figure the metrics report is built on it
    cathodic = amp * amp * prog.pulse_width_us * 1e-6 * float(sums.square)
    assert m["rms_current_ma"] == pytest.approx(math.sqrt(cathodic + approx))
