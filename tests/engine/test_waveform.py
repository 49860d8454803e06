"""The current waveform: exact box-averaged samples, charge balance, capacitor, envelopes.

Hand-checked figures first; then properties against ``waveform_reference``, a literal
pulse-by-pulse model sharing no code with the engine.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from stimsim.engine import files, schedule, waveform
from stimsim.engine import params as P
from stimsim.engine.load import load_ohm
from stimsim.engine.params import Mode, Recharge
from stimsim.engine.program import DeviceModel, Electrodes, Program
from stimsim.resources import example_programs

from .conftest import tonic
from .test_schedule import burst, hf
from .waveform_reference import Reference

DEVICE = DeviceModel()
#: 20 kohm contacts: 40 kohm load, compliance-limited above 0.275 mA, tau = 0.4 s.
HIGH_Z = DeviceModel().with_impedances({"4": 20_000.0, "5": 20_000.0})
LOW_Z = DeviceModel().with_impedances({"4": 3.0, "5": 3.0})  # tau = 60 us
ELEC = Electrodes.of({"4": -100, "5": 100})


def tau_s(device: DeviceModel) -> float:
    return load_ohm(ELEC, device) * P.COUPLING_CAP_UF * 1e-6


# --- hand-checked ----------------------------------------------------------------------------


def test_active_tonic_second_at_one_megasample() -> None:
    """3 mA, 300 us, 50 Hz: each cathodic phase -0.9 uC, 50 of them, balanced by anodic ones."""
    x = waveform.sample(tonic(), DEVICE, 1.0, 1e6)
    assert len(x) == 1_000_000
    assert np.count_nonzero(np.isclose(x, -3.0, atol=1e-9)) == 50 * 300
    assert np.count_nonzero(np.isclose(x, 3.0, atol=1e-9)) == 50 * 300
    assert np.count_nonzero(np.abs(x) > 1e-9) == 2 * 50 * 300
    assert x[x < 0].sum() / 1e6 * 1000 == pytest.approx(-0.9 * 50)  # uC
    assert x.sum() / 1e6 == pytest.approx(0.0, abs=1e-15)
    assert x[:300] == pytest.approx(-3.0) and x[300:600] == pytest.approx(3.0) and x[600] == 0.0


@pytest.mark.parametrize(("duration", "fs", "count"), [
    (1.0, 1e6, 1_000_000), (0.29, 100.0, 29), (1.0, 44_100.0, 44_100), (0.0, 1000.0, 0),
    (1e-3, 999.0, 0), (2.5, 3.0, 7),
])
def test_sample_count_is_floor_of_duration_times_rate(duration: float, fs: float, count: int) -> None:
    assert len(waveform.sample(tonic(), DEVICE, duration, fs)) == count


def test_a_pulse_shorter_than_a_sample_is_averaged_not_lost() -> None:
    prog = tonic(rate_hz=2, pulse_width_us=20, interphase_us=100)
    x = waveform.sample(prog, DEVICE, 0.001, 10_000.0)  # 100 us samples
    # [0, 100 us) holds the 20 us cathodic phase; [100, 200 us) the anodic one at 120..140 us.
    assert x[:3] == pytest.approx([-3.0 * 0.2, 3.0 * 0.2, 0.0], abs=1e-12)
    slow = waveform.sample(hf(), DEVICE, 0.01, 1000.0)  # 10 balanced pulses a sample
    assert slow == pytest.approx(np.zeros(10), abs=1e-12)
    passive = waveform.sample(replace(prog, recharge=Recharge.PASSIVE), DEVICE, 1.0, 1.0)
    assert passive[0] == pytest.approx(0.0, abs=1e-15)  # fully recharged within the second


def test_window_start_and_negative_times() -> None:
    x = waveform.sample(tonic(), DEVICE, 0.001, 1e5, t0=0.02)  # starts with pulse 1
    assert x[:30] == pytest.approx(-3.0) and x[30:60] == pytest.approx(3.0)
    before = waveform.sample(tonic(), DEVICE, 0.002, 1e4, t0=-0.001)
    assert before[:10] == pytest.approx(0.0, abs=0) and before[10] == pytest.approx(-3.0)


def test_compliance_limited_amplitude_is_delivered() -> None:
    prog = tonic(amplitude_ua=5000)  # 5 mA into 40 kohm needs 201 V: limited to 11000/40000 mA
    delivered = 11_000 / 40_000
    x = waveform.sample(prog, HIGH_Z, 0.02, 1e5)
    assert x.min() == pytest.approx(-delivered) and x.max() == pytest.approx(delivered)
    lo, hi = waveform.envelope(prog, HIGH_Z, 0.0, 0.02, 4)
    assert lo[0] == pytest.approx(-delivered) and hi[0] == pytest.approx(delivered)
    assert waveform.delivered_ma(prog, HIGH_Z) == pytest.approx(delivered)
    assert waveform.pulse_phases(prog, HIGH_Z, 0.0, 0.02).amplitude_ma == pytest.approx([delivered])


def test_passive_capacitor_reaches_its_closed_form_steady_state() -> None:
    """After many pulses the charge left when the path closes is c/(1 - d)."""
    prog = tonic(recharge=Recharge.PASSIVE, interphase_us=50)
    tau = tau_s(DEVICE)
    c = 3.0 * 300e-6  # mA*s per cathodic phase
    d = math.exp(-(0.02 - 300e-6 - 50e-6) / tau)
    close = 200 * 0.02 + 350e-6
    q = -waveform.charge_uc(prog, DEVICE, [close, close + 0.003]) / 1000
    assert q[0] == pytest.approx(c / (1 - d), rel=1e-12)
    assert q[1] == pytest.approx(c / (1 - d) * math.exp(-0.003 / tau), rel=1e-12)
    # The recharge current is the capacitor charge over tau, starting when the path closes.
    lo, hi = waveform.envelope(prog, DEVICE, close, close + 0.003, 1)
    assert hi[0] == pytest.approx(q[0] / tau) and lo[0] == pytest.approx(q[1] / tau)


def test_passive_long_run_mean_tends_to_zero() -> None:
    prog = burst()  # passive BurstDR
    charge_left = [abs(waveform.sample(prog, DEVICE, d, 10_000.0).sum() / 10_000.0) for d in (1.0, 10.0)]
    bound = 5 * 0.6 * 1e-3  # one burst's cathodic charge, mA*s
    assert max(charge_left) < bound  # the net charge stays bounded (the capacitor's) ...
    means = [charge_left[0] / 1.0, charge_left[1] / 10.0]
    assert means[1] < bound / 10  # ... so the mean current falls as 1/duration


def test_active_trains_balance_pulse_by_pulse() -> None:
    for prog in (tonic(ramp_ms=500, cycle_on_ms=1000, cycle_off_ms=1000, interphase_us=30),
                 burst(recharge=Recharge.ACTIVE, pulse_width_us=400, ramp_ms=300), hf(ramp_ms=200)):
        starts = schedule.pulse_starts(prog, 0.0, 3.0)
        span = 2 * prog.pulse_width_us * 1e-6 + prog.interphase_us * 1e-6
        assert waveform.charge_uc(prog, DEVICE, starts) == pytest.approx(0.0, abs=1e-12)
        assert waveform.charge_uc(prog, DEVICE, starts + span) == pytest.approx(0.0, abs=1e-9)
        amps = schedule.pulse_amplitudes(prog, starts, waveform.delivered_ma(prog, DEVICE))
        mid = waveform.charge_uc(prog, DEVICE, starts + prog.pulse_width_us * 1e-6)
        assert mid == pytest.approx(-amps * prog.pulse_width_us * 1e-3, abs=1e-9)  # uC per phase


def test_cycled_passive_carry_far_from_t0_is_exact() -> None:
    """tau = 0.4 s against 1 s off: each cycle start still carries charge from before."""
    prog = burst(rate_hz=7, amplitude_ua=250, pulse_width_us=400, intraburst_rate_hz=250,
                 cycle_on_ms=1000, cycle_off_ms=1000, ramp_ms=300)
    t = 47.0  # 23 cycles in; the engine carries the last 17 exactly
    ref = Reference(prog, HIGH_Z, t + 0.6)
    for start in (t, t + 0.3):
        x = waveform.sample(prog, HIGH_Z, 0.2, 5000.0, t0=start)
        expected = [ref.mean(start + i / 5000.0, start + (i + 1) / 5000.0) for i in range(0, len(x), 37)]
        assert x[::37] == pytest.approx(expected, abs=1e-12)


def test_no_current_in_cycling_off_intervals() -> None:
    prog = hf(cycle_on_ms=1000, cycle_off_ms=2000)
    lo, hi = waveform.envelope(prog, DEVICE, 0.0, 6.0, 60)
    off = [k for k in range(60) if (k % 30) >= 10]  # pixels of 0.1 s inside [1, 3) and [4, 6)
    assert np.all(lo[off] == 0.0) and np.all(hi[off] == 0.0)
    assert np.all(lo[[0, 9, 30, 39]] == -2.5) and np.all(hi[[0, 9, 30, 39]] == 2.5)
    assert not waveform.sample(prog, DEVICE, 0.5, 1e5, t0=1.0001).any()


def test_ramp_is_seen_in_samples_and_envelope() -> None:
    prog = tonic(ramp_ms=1000)
    lo, _ = waveform.envelope(prog, DEVICE, -0.01, 1.19, 60)  # one pulse mid-pixel
    assert -lo == pytest.approx([3.0 * min(1.0, k * 0.02) for k in range(60)], abs=1e-12)
    x = waveform.sample(prog, DEVICE, 1.2, 1e4)
    assert -x[::200] == pytest.approx([3.0 * min(1.0, k * 0.02) for k in range(60)], abs=1e-9)


def test_envelope_of_a_day_of_10khz_is_exact() -> None:
    # 864 M pulses: only an envelope that never walks the pulses returns at all (cost: benchmarks/)
    lo, hi = waveform.envelope(hf(), DEVICE, 1000.0, 1000.0 + 86_400.0, 2000)
    assert np.all(lo == -2.5) and np.all(hi == 2.5)


def test_envelope_of_silence_and_recharge_tails() -> None:
    lo, hi = waveform.envelope(tonic(), DEVICE, 0.001, 0.019, 3)  # between pulses
    assert lo.tolist() == [0.0] * 3 and hi.tolist() == [0.0] * 3
    prog = tonic(recharge=Recharge.PASSIVE)
    lo, hi = waveform.envelope(prog, DEVICE, 0.005, 0.011, 2)  # closed path, no pulse
    q = -waveform.charge_uc(prog, DEVICE, [0.005, 0.008, 0.011]) / 1000 / tau_s(DEVICE)
    assert hi == pytest.approx(q[:2]) and lo == pytest.approx(q[1:])
    lo, hi = waveform.envelope(prog, DEVICE, -1.0, -0.5, 4)
    assert lo.tolist() == [0.0] * 4 and hi.tolist() == [0.0] * 4


def test_bad_arguments_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="duration"):
        waveform.sample(tonic(), DEVICE, -1.0, 1000.0)
    with pytest.raises(ValueError, match="sample rate"):
        waveform.sample(tonic(), DEVICE, 1.0, 0.0)
    with pytest.raises(ValueError, match="start time"):
        waveform.sample(tonic(), DEVICE, 1.0, 10.0, t0=math.nan)
    with pytest.raises(ValueError, match="t1 > t0"):
        waveform.envelope(tonic(), DEVICE, 1.0, 1.0, 10)
    with pytest.raises(ValueError, match="pixels"):
        waveform.envelope(tonic(), DEVICE, 0.0, 1.0, 0)
    with pytest.raises(ValueError, match="pulse_width_us"):
        waveform.sample(tonic(rate_hz=1200, pulse_width_us=1000), DEVICE, 1.0, 10.0)


@pytest.mark.parametrize("path", example_programs(), ids=lambda p: p.name.split(".")[0])
def test_example_programs_sample_exactly(path: Path) -> None:
    pf = files.load(path)
    prog, dev = pf.program(), pf.device
    ref = Reference(prog, dev, 1.01)
    x = waveform.sample(prog, dev, 1.0, 20_000.0)
    assert x.sum() / 20_000.0 == pytest.approx(ref.charge(0.0, 1.0), abs=1e-12)
    picks = range(0, 20_000, 97)
    assert x[list(picks)] == pytest.approx([ref.mean(i / 2e4, (i + 1) / 2e4) for i in picks], abs=1e-9)


# --- properties against the literal model --------------------------------------------------------


@st.composite
def programs(draw: st.DrawFn) -> Program:
    """Feasible programs of every mode and recharge, with cycling and ramp."""
    mode = draw(st.sampled_from([Mode.TONIC, Mode.BURST, Mode.HF]))
    ipg = draw(st.sampled_from([0, 30, 100]))
    on, off = draw(st.sampled_from([(0, 0), (1000, 1000), (1300, 1100)]))
    ramp = draw(st.sampled_from([0, 250, 1700]))
    amp = draw(st.sampled_from([500, 3000, 8000]))
    if mode is Mode.BURST:
        rate = draw(st.sampled_from([3, 7, 40]))
        intra = draw(st.sampled_from([250, 500, 1000]))
        n = draw(st.integers(2, min(10, intra // rate)))
        pw = draw(st.integers(100, min(1000, (1_000_000 // intra - ipg - 10) // 2)))
        return Program(mode, amp, pw, rate, ELEC, interphase_us=ipg, burst_pulses=n,
                       intraburst_rate_hz=intra, cycle_on_ms=on, cycle_off_ms=off, ramp_ms=ramp,
                       recharge=draw(st.sampled_from(list(Recharge))))
    if mode is Mode.HF:
        rate = draw(st.sampled_from([1000, 4000, 10_000]))
        ipg = min(ipg, 30)
        pw = draw(st.integers(20, min(200, (1_000_000 // rate - ipg - 10) // 2)))
        return Program(mode, amp, pw, rate, ELEC, interphase_us=ipg, cycle_on_ms=on, cycle_off_ms=off,
                       ramp_ms=ramp)
    rate = draw(st.sampled_from([2, 50, 333, 1200]))
    recharge = draw(st.sampled_from(list(Recharge)))
    room = 1_000_000 // rate - ipg - 10
    pw = draw(st.integers(20, min(1000, room // 2 if recharge is Recharge.ACTIVE else room)))
    return Program(mode, amp, pw, rate, ELEC, interphase_us=ipg, recharge=recharge, cycle_on_ms=on,
                   cycle_off_ms=off, ramp_ms=ramp)


devices = st.sampled_from([DEVICE, HIGH_Z, LOW_Z])
windows = st.tuples(st.floats(-0.01, 1.0), st.sampled_from([0.0007, 0.013, 0.2, 0.9]))
rates = st.sampled_from([997.0, 20_000.0, 44_100.0, 1e6 / 3, 250_000.0])


def _reach(prog: Program) -> float:
    """How far from t = 0 a window may go while the literal model stays quick."""
    return min(4.0, 4000 / (prog.rate_hz * (prog.burst_pulses or 1)))


@settings(max_examples=60, deadline=None)
@given(programs(), devices, windows, rates)
def test_samples_are_the_exact_mean_current_for_any_rate(prog: Program, dev: DeviceModel,
                                                         window: tuple[float, float], fs: float) -> None:
    where, duration = window
    t0 = where * _reach(prog)
    n = waveform.sample_count(duration, fs)
    assume(0 < n <= 200_000)
    x = waveform.sample(prog, dev, duration, fs, t0=t0)
    ref = Reference(prog, dev, t0 + duration + 0.01)
    scale = max(ref.amp, 1.0)
    # The whole window: samples sum to its charge.
    assert x.sum() / fs == pytest.approx(ref.charge(t0, t0 + n / fs), abs=1e-12 * scale)
    # Sample by sample (the model's own rounding grows with t and fs).
    tol = 1e-9 * scale + 50 * scale * fs * max(abs(t0) + duration, 1e-3) * 2.2e-16
    picks = sorted({0, n - 1, *range(0, n, max(1, n // 40))})
    assert x[picks] == pytest.approx([ref.mean(t0 + i / fs, t0 + (i + 1) / fs) for i in picks], abs=tol)


@settings(max_examples=60, deadline=None)
@given(programs(), devices, windows, st.sampled_from([1, 3, 64, 333]))
def test_envelope_is_the_exact_pixel_min_and_max(prog: Program, dev: DeviceModel,
                                                  window: tuple[float, float], pixels: int) -> None:
    where, duration = window
    t0 = where * _reach(prog)
    lo, hi = waveform.envelope(prog, dev, t0, t0 + duration, pixels)
    ref = Reference(prog, dev, t0 + duration + 0.01)
    rlo, rhi = ref.envelope(t0, t0 + duration, pixels)
    unclear = ref.ambiguous(t0, t0 + duration, pixels)
    fair = [k for k in range(pixels) if k not in unclear]
    tol = 1e-9 * max(ref.amp, 1.0)
    assert lo[fair] == pytest.approx(np.array(rlo)[fair], abs=tol)
    assert hi[fair] == pytest.approx(np.array(rhi)[fair], abs=tol)


@settings(max_examples=40, deadline=None)
@given(programs(), devices, windows, st.sampled_from([1, 7, 50]), st.sampled_from([3, 40]))
def test_envelope_bounds_the_dense_samples_of_its_pixels(prog: Program, dev: DeviceModel,
                                                         window: tuple[float, float], pixels: int, per: int) -> None:
    where, duration = window
    t0 = where * _reach(prog)
    fs = pixels * per / duration
    x = waveform.sample(prog, dev, duration, fs, t0=t0)
    assume(len(x) == pixels * per)
    lo, hi = waveform.envelope(prog, dev, t0, t0 + duration, pixels)
    tol = 1e-7 * max(waveform.delivered_ma(prog, dev), 1.0)
    blocks = x.reshape(pixels, per)
    assert np.all(blocks.min(axis=1) >= lo - tol)
    assert np.all(blocks.max(axis=1) <= hi + tol)
    # A pixel holding a whole cathodic phase reaches -A of that pulse: exactly, when no
    # stronger pulse touches the pixel (pixels with a phase edge on their border, where
    # float rounding decides, are left out).
    ph = waveform.pulse_phases(prog, dev, t0 - 0.01, t0 + duration + 0.01)
    w = duration / pixels
    bounds = np.concatenate([ph.start, ph.cathodic_end, ph.anodic_start, ph.anodic_end])
    bounds = bounds[~np.isnan(bounds)]
    for s, e, a in zip(ph.start, ph.cathodic_end, ph.amplitude_ma, strict=True):
        k = math.floor((s - t0) / w)
        a_k, b_k = t0 + k * w, t0 + (k + 1) * w
        if not (0 <= k < pixels and a_k < s and e < b_k):
            continue
        if np.any(np.abs(bounds - a_k) < 1e-9) or np.any(np.abs(bounds - b_k) < 1e-9):
            continue
        touching = (ph.start < b_k) & (ph.cathodic_end > a_k)
        assert lo[k] == pytest.approx(-ph.amplitude_ma[touching].max(), abs=1e-12)
        assert lo[k] <= -a


@pytest.mark.parametrize(
    ("mode_kwargs", "t0", "span"),
    [
        ({"mode": Mode.HF, "rate_hz": 10_000, "pulse_width_us": 30}, 5.0, 60.0),
        ({"mode": Mode.TONIC, "rate_hz": 50, "pulse_width_us": 300}, 3.0, 100.0),
        ({"mode": Mode.BURST, "rate_hz": 40, "pulse_width_us": 200, "burst_pulses": 5,
          "intraburst_rate_hz": 500, "recharge": Recharge.ACTIVE}, 2.0, 120.0),
        ({"mode": Mode.TONIC, "rate_hz": 50, "pulse_width_us": 300, "ramp_ms": 4000}, 4.0, 100.0),
    ],
)
def test_dense_steady_shortcut_equals_the_general_path(
    mode_kwargs: dict, t0: float, span: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    prog = replace(Program(Mode.TONIC, 3000, 300, 50, Electrodes.of({"4": -100, "5": 100})), **mode_kwargs)
    assert waveform._every_pixel_holds_a_whole_period(schedule.grid(prog), t0, span / 2000)
    fast = waveform.envelope(prog, DeviceModel(), t0, t0 + span, 2000)
    monkeypatch.setattr(waveform, "_every_pixel_holds_a_whole_period", lambda *a: False)
    general = waveform.envelope(prog, DeviceModel(), t0, t0 + span, 2000)
    np.testing.assert_array_equal(fast[0], general[0])
    np.testing.assert_array_equal(fast[1], general[1])
