"""The loop over posture schedules: the fast runner against the plain per-update loop, the
loop gain regimes, the clamps, and the published anchors (docs/closed-loop.md)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from stimsim.closedloop import runner as R
from stimsim.closedloop import schedule as SC
from stimsim.closedloop.loop import COMPLIANCE, INTERLOCK, clamp_for, loop_gain
from stimsim.closedloop.nerve import VirtualNerve, reference_patient
from stimsim.engine.params import Mode
from stimsim.engine.program import DeviceModel, Electrodes, Limits, Program

TARGET = 40.0  #: the documented target (uV)
GAIN = 24.0  #: the documented gain (uA per uV): g = 0.96, the largest whole gain below 1
CONTACTS = Electrodes.of({"4": -100, "5": 50, "6": 50})
PATIENT = reference_patient()


def sitting_program(rate_hz: int = 50, limits: Limits | None = None) -> Program:
    """The example program: amplitude where the ECAP sits at the target, sitting."""
    base = Program(Mode.TONIC, 4000, 300, rate_hz, CONTACTS, limits=limits or Limits(amplitude_max_ua=8000))
    t = VirtualNerve(PATIENT, base, noise_uv=0.0, posture="sitting").threshold_ma
    return base.with_amplitude(round(1000 * (t + TARGET / 40.0)))


def loop(program: Program | None = None, *, gain: float = GAIN, noise: float = 0.0, closed: bool = True,
         device: DeviceModel | None = None, target: float = TARGET, seed: int = 0,
         acknowledged: bool = False) -> R.Loop:
    return R.Loop(PATIENT, program or sitting_program(), device or DeviceModel(), target, gain, closed=closed,
                  noise_uv=noise, seed=seed, acknowledged=acknowledged)


def same(a: R.Trace, b: R.Trace) -> None:
    assert np.array_equal(a.amplitude_ua, b.amplitude_ua)
    assert np.array_equal(a.ecap_uv, b.ecap_uv)
    assert np.array_equal(a.posture, b.posture) and np.array_equal(a.cough, b.cough)
    assert np.array_equal(a.in_window, b.in_window)


SPEC = "sitting:3,supine:4,cough@5,cough@5.5,standing:3,prone:2,sitting:2.02"


@pytest.mark.parametrize("gain", [5.0, GAIN, 37.5, 50.0, 60.0, 80.0])
@pytest.mark.parametrize("rate", [50, 130, 1000])
def test_the_fast_runner_equals_the_plain_loop_without_noise(gain: float, rate: int) -> None:
    setup = loop(sitting_program(rate), gain=gain)
    schedule = SC.parse(SPEC)
    same(R.run(setup, schedule), R.run_reference(setup, schedule))


@pytest.mark.parametrize("gain", [GAIN, 37.5, 50.0, 60.0])
def test_the_fast_runner_equals_the_plain_loop_with_the_same_noise(gain: float) -> None:
    setup = loop(gain=gain, noise=3.0, seed=11)
    schedule = SC.parse(SPEC)
    fast = R.run(setup, schedule)
    same(fast, R.run_reference(setup, schedule))  # the nerve draws its own seeded noise
    noise = np.random.default_rng(5).normal(0.0, 8.0, fast.ecap_uv.size)
    same(R.run(setup, schedule, noise), R.run_reference(setup, schedule, noise))


def test_the_fast_runner_equals_the_plain_loop_over_blocks_and_from_a_limited_start() -> None:
    # many blocks of the fast runner, and a start the output limits (high impedances)
    device = DeviceModel().with_impedances({"4": 2200.0, "5": 2200.0, "6": 2200.0})
    program = sitting_program(limits=Limits())
    assert program.amplitude_ua > clamp_for(program, device).high_ua
    setup = loop(program, device=device, noise=3.0)
    schedule = SC.parse("sitting:100,supine:2000,cough@900,standing:600")
    old = R.BLOCK
    try:
        R.BLOCK = 1000
        same(R.run(setup, schedule), R.run_reference(setup, schedule))
    finally:
        R.BLOCK = old


def _after_change(gain: float, to: str = "supine", limits: Limits | None = None) -> np.ndarray:
    """Amplitudes (uA) after sitting -> ``to`` without noise, g = gain * 40 / 1000."""
    program = sitting_program(limits=limits or Limits())
    trace = R.run(loop(program, gain=gain), SC.parse(f"sitting:1,{to}:20"))
    return trace.amplitude_ua[50:].astype(np.int64)


def test_below_1_the_loop_settles_without_overshoot() -> None:
    assert loop_gain(GAIN) == pytest.approx(0.96)
    amp = _after_change(12.0)  # g = 0.48
    assert np.all(np.diff(amp) <= 0)  # falls to the supine amplitude and stays
    assert amp[-1] == amp[-100] and amp[-1] < amp[0] - 1500


def test_between_1_and_2_the_loop_rings_and_settles() -> None:
    amp = _after_change(37.0)  # g = 1.48
    final = amp[-1]
    assert amp[-200:].min() == amp[-200:].max() == final
    dev = amp[:20] - final
    assert (dev[1] < 0 < dev[0]) and dev[2] > 0  # overshoots, back, again
    assert abs(dev[5]) < abs(dev[1]) / 4


def test_at_2_the_loop_oscillates_without_decay() -> None:
    amp = _after_change(50.0, "standing")  # g = 2; standing raises the threshold a little
    first, last = amp[:10], amp[-10:]
    assert last.max() - last.min() == first.max() - first.min() > 1500
    assert np.all(np.diff(np.sign(np.diff(last))) != 0)  # up, down, up ...


def test_above_2_the_loop_grows_until_clamped() -> None:
    program = sitting_program(limits=Limits(amplitude_min_ua=5200, amplitude_max_ua=7000))
    start = program.amplitude_ua + 50  # 2 uV above the target
    trace = R.run(loop(program.with_amplitude(start), gain=60.0), SC.parse("sitting:20"))  # g = 2.4
    dev = trace.amplitude_ua.astype(np.int64) - program.amplitude_ua
    assert dev[:6].tolist() == [50, -70, 98, -137, 192, -269]  # grows by g - 1 = 1.4 each update
    assert set(trace.amplitude_ua[-20:].tolist()) == {5200, 7000}  # until AMP_MIN and AMP_MAX hold it


def test_the_clamp_holds_at_amp_max_and_the_interlocks() -> None:
    schedule = SC.parse("sitting:5")
    capped = R.run(loop(target=500.0), schedule)  # a target no amplitude within AMP_MAX reaches
    assert capped.amplitude_ua.max() == 8000 and capped.amplitude_ua[-50:].min() == 8000
    open_ended = sitting_program(limits=Limits())
    zone = R.run(loop(open_ended, target=500.0), schedule)
    clamp = clamp_for(open_ended, DeviceModel())
    assert zone.amplitude_ua.max() == clamp.high_ua == zone.amplitude_ua[-1]
    acked = R.run(loop(open_ended, target=500.0, acknowledged=True), schedule)
    assert acked.amplitude_ua.max() == 12_700  # the per-contact interlock
    assert clamp_for(open_ended, acknowledged=True).high_reason == INTERLOCK
    device = DeviceModel().with_impedances({"4": 1500.0, "5": 1500.0, "6": 1500.0})
    limited = R.run(loop(open_ended, device=device, target=500.0, acknowledged=True), schedule)
    comp = clamp_for(open_ended, device, acknowledged=True)
    assert comp.high_reason == COMPLIANCE and limited.amplitude_ua[1:].max() == comp.high_ua == 4888  # 11 V, 2250 ohm


def test_open_loop_holds_the_amplitude() -> None:
    trace = R.run(loop(closed=False, noise=3.0), SC.parse(SPEC))
    assert set(trace.amplitude_ua.tolist()) == {sitting_program().amplitude_ua}
    same(trace, R.run_reference(loop(closed=False, noise=3.0), SC.parse(SPEC)))


def test_sitting_to_supine_open_loop_deviates_about_22_times_more_than_closed_loop() -> None:
    """JAMA Neurol 2022 fig. 4: 66.4 uV open vs 3.0 uV closed after sitting to supine, 22.1x."""
    schedule = SC.parse("sitting:10,supine:600")
    closed = R.run(loop(noise=3.0), schedule)
    opened = R.run(loop(noise=3.0, closed=False), schedule)
    supine = closed.posture == 0
    dev_closed = float(np.mean(np.abs(closed.ecap_uv[supine] - TARGET)))
    dev_open = float(np.mean(np.abs(opened.ecap_uv[supine] - TARGET)))
    assert dev_open / dev_closed == pytest.approx(22.1, rel=0.15)
    assert dev_closed == pytest.approx(3.0, rel=0.15)


def test_a_day_in_the_window() -> None:
    schedule = SC.parse(SC.A_DAY)
    assert schedule.duration_s == 86_400
    trace = R.run(loop(sitting_program(rate_hz=100), noise=3.0), schedule)
    figures = trace.figures(TARGET)
    assert figures.updates == 8_640_000
    assert figures.time_in_window >= 0.9


# --- schedules -------------------------------------------------------------------------------
def test_a_pulse_on_a_change_takes_the_new_posture_and_coughs_do_not_stack() -> None:
    schedule = SC.parse("sitting:0.1,supine:0.1,cough@0.04,cough@0.06")
    posture, cough = schedule.states(50)
    assert posture.tolist() == [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]  # t = 0.1 s is supine
    assert cough.tolist() == [False, False, True, True, True, True, True, True, True, True]
    assert schedule.state_at(Fraction(1, 10)) == ("supine", True)
    setup = loop(closed=False)
    trace = R.run(setup, SC.parse("sitting:3,cough@0.5,cough@0.7"))  # a cough covers [0.5, 1.7)
    assert trace.cough.sum() == 60 and trace.cough[25] and not trace.cough[24] and not trace.cough[85]
    nerve = VirtualNerve(PATIENT, setup.program, noise_uv=0.0, posture="sitting", cough=True)
    coughing = nerve.ecap_uv(setup.program.amplitude_ua)
    assert np.all(trace.ecap_uv[trace.cough] == coughing)  # once, where the two overlap too
    nerve.cough = False
    assert np.all(trace.ecap_uv[~trace.cough] == nerve.ecap_uv(setup.program.amplitude_ua)) and coughing > TARGET


@pytest.mark.parametrize("spec, message", [
    ("", "an empty item"),
    ("sitting:10,", "an empty item"),
    ("lying:10", "'lying' is not a posture (allowed: supine, sitting, standing, prone)"),
    ("sitting", "is neither posture:seconds nor cough@second"),
    ("sitting:ten", "'ten' is not a number of seconds"),
    ("sitting:0", "a posture lasts more than 0 s"),
    ("sitting:-3", "a posture lasts more than 0 s"),
    ("cough@3", "names no posture"),
    ("sitting:10,cough@10", "'cough@10' starts at or after the schedule's end (10 s)"),
    ("sitting:10,cough@-1", "a cough cannot start before 0 s"),
    ("sitting:90000", "more than one day"),
    ("sitting:nan", "'nan' is not a number of seconds"),
])
def test_bad_schedules_are_refused_saying_why(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=None) as info:
        SC.parse(spec)
    assert message in str(info.value)
