"""The virtual nerve and one loop update, against docs/closed-loop.md."""

from __future__ import annotations

import math

import numpy as np
import pytest

from stimsim.closedloop import VirtualNerve, clamp_for, loop_gain, reference_patient, round_half_away, step
from stimsim.closedloop.loop import (
    AMP_LIMITS,
    CHARGE_DENSITY,
    COMPLIANCE,
    INTERLOCK,
    MODE_RANGE,
    Clamp,
    first_update_at,
    update_pulse,
    update_times_s,
)
from stimsim.engine import params as EP
from stimsim.engine.params import Mode
from stimsim.engine.program import DeviceModel, Electrodes, Limits, Program
from stimsim.engine.validate import check_program
from stimsim.patient import evaluate

PROGRAM = Program(Mode.TONIC, 4000, 300, 50, Electrodes.of({"4": -100, "5": 50, "6": 50}),
                  limits=Limits(amplitude_max_ua=8000))


def test_thresholds_come_from_the_patient_model_with_posture_and_cough() -> None:
    patient = reference_patient()
    nerve = VirtualNerve(patient, PROGRAM, noise_uv=0.0)
    for posture in ("supine", "sitting", "standing", "prone"):
        nerve.posture = posture
        expected = evaluate(patient, PROGRAM, 1.0, posture)
        assert nerve.pt_ma == pytest.approx(expected.pt_ma, rel=1e-12)
        assert nerve.dt_ma == pytest.approx(expected.dt_ma, rel=1e-12)
        assert nerve.threshold_ma == pytest.approx(0.95 * expected.pt_ma, rel=1e-12)
    nerve.posture = "sitting"
    plain = nerve.pt_ma
    nerve.cough = True  # 1.5 mm less CSF: PT times exp(-1.5 / lambda)
    assert nerve.pt_ma == pytest.approx(plain * math.exp(-1.5 / 2.0), rel=1e-12)


def test_ecap_is_slope_times_the_amplitude_above_threshold() -> None:
    nerve = VirtualNerve.reference(PROGRAM, noise_uv=0.0)
    t = nerve.threshold_ma
    assert nerve.ecap_uv(int(t * 1000) - 50) == 0.0
    assert nerve.ecap_uv(6000) == pytest.approx(40.0 * (6.0 - t))
    low, high = nerve.window_uv
    assert low == pytest.approx(40.0 * 0.05 * nerve.pt_ma)
    assert high == pytest.approx(40.0 * (nerve.dt_ma - t))
    assert nerve.thresholds.in_window(low) and nerve.thresholds.in_window(high)
    assert not nerve.thresholds.in_window(high + 1e-9)


def test_noise_is_seeded_and_added_to_every_measurement_the_first_included() -> None:
    a = VirtualNerve.reference(PROGRAM, noise_uv=3.0, seed=7)
    b = VirtualNerve.reference(PROGRAM, noise_uv=3.0, seed=7)
    clean = a.ecap_uv(6000)
    first = [a.measure(6000) for _ in range(2000)]
    assert first == [b.measure(6000) for _ in range(2000)]
    assert first[0] != clean
    draws = np.random.default_rng(7).standard_normal(2000)
    assert first == [clean + 3.0 * float(z) for z in draws]
    assert np.std(np.array(first) - clean) == pytest.approx(3.0, rel=0.1)


def test_eps_moves_the_thresholds() -> None:
    nerve = VirtualNerve.reference(PROGRAM, eps=1.0, noise_uv=0.0)
    pt = nerve.pt_ma
    nerve.eps = 1.5
    assert nerve.pt_ma == pytest.approx(1.5 * pt)


@pytest.mark.parametrize("x, expected", [(2.5, 3), (-2.5, -3), (2.4999999999999996, 2), (0.5, 1), (-0.5, -1),
                                         (0.49999999999999994, 0), (7.0, 7), (-7.2, -7), (0.0, 0)])
def test_rounding_takes_halves_away_from_zero(x: float, expected: int) -> None:
    assert round_half_away(x) == expected


def test_one_update() -> None:
    clamp = Clamp(0, 10_000, AMP_LIMITS, AMP_LIMITS)
    assert step(4000, 30.0, 40.0, 20.0, clamp) == 4200
    assert step(4000, 40.025, 40.0, 20.0, clamp) == 4000  # 3999.5 uA: the half goes away from zero
    assert step(4000, 40.075, 40.0, 20.0, clamp) == 3999  # 3998.5 uA
    assert step(9990, 0.0, 40.0, 20.0, clamp) == 10_000
    assert step(100, 500.0, 40.0, 20.0, clamp) == 0
    assert loop_gain(25.0) == pytest.approx(1.0)


def test_the_clamp_names_each_bound() -> None:
    device = DeviceModel()
    assert clamp_for(PROGRAM, device) == Clamp(0, 8000, MODE_RANGE, AMP_LIMITS)
    floor = Program(Mode.TONIC, 4000, 300, 50, PROGRAM.electrodes, limits=Limits(amplitude_min_ua=500))
    assert clamp_for(floor, device).low_ua == 500 and clamp_for(floor, device).low_reason == AMP_LIMITS
    open_ended = Program(Mode.TONIC, 4000, 300, 50, Electrodes.of({"4": -100, "5": 50, "6": 50}))
    zone = clamp_for(open_ended, device)
    assert zone.high_reason == CHARGE_DENSITY
    below, at = open_ended.with_amplitude(zone.high_ua), open_ended.with_amplitude(zone.high_ua + 1)
    assert not check_program(below, device, acknowledged=False)
    assert [p.rule for p in check_program(at, device, acknowledged=False)] == ["CHARGE_DENSITY"]
    acked = clamp_for(open_ended, device, acknowledged=True)
    assert acked.high_reason == INTERLOCK and acked.high_ua == EP.CONTACT_CURRENT_MAX_UA
    narrow = Program(Mode.TONIC, 4000, 60, 50, Electrodes.of({"4": -100, "5": 50, "6": 50}))
    high_z = device.with_impedances({"4": 3000.0, "5": 3000.0, "6": 3000.0})
    comp = clamp_for(narrow, high_z, acknowledged=True)
    assert comp.high_reason == COMPLIANCE and comp.high_ua == 2444  # 11 V over 4500 ohm
    split = Program(Mode.TONIC, 4000, 60, 50, Electrodes.of({"4": -70, "12": -30, "case": 100}))
    assert clamp_for(split, device, acknowledged=True).high_ua == 12_700 * 100 // 70
    assert clamp_for(split, device, acknowledged=True).high_reason == INTERLOCK
    assert clamp_for(split.with_amplitude(4000), device, acknowledged=True).low_reason == MODE_RANGE


def test_updates_every_pulse_up_to_100_hz_then_on_the_first_pulse_of_each_10_ms() -> None:
    assert [update_pulse(n, 50) for n in range(4)] == [0, 1, 2, 3]
    assert [update_pulse(n, 130) for n in range(5)] == [0, 2, 3, 4, 6]  # 0, 15.4, 23.1, 30.8, 46.2 ms
    assert [update_pulse(n, 1000) for n in range(3)] == [0, 10, 20]
    times = update_times_s(5, 130)
    assert list(times) == [k / 130 for k in (0, 2, 3, 4, 6)]
    from fractions import Fraction
    assert first_update_at(Fraction(1, 50), 50) == 1
    for rate in (50, 100, 130, 333, 1000, 1200):
        for t in (Fraction(0), Fraction(1, 100), Fraction(17, 10), Fraction(3)):
            n = first_update_at(t, rate)
            assert Fraction(update_pulse(n, rate), rate) >= t
            assert n == 0 or Fraction(update_pulse(n - 1, rate), rate) < t
