"""The scope's timeline: display clock, segments, exact envelopes over changes, live cache."""

from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from stimsim.app.timeline import DisplayClock, LiveWindow, Timeline
from stimsim.engine import waveform
from stimsim.engine.params import Mode, Recharge
from stimsim.engine.program import DeviceModel, Electrodes, Program

DEV = DeviceModel()
TONIC = Program(Mode.TONIC, 3000, 300, 50, Electrodes.of({"4": -100, "5": 100}))


class Wall:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_slow_motion_scales_display_time_and_stays_continuous() -> None:
    wall = Wall()
    clock = DisplayClock(wall)
    wall.t += 2.0
    assert clock.now() == 2.0
    clock.set_speed(0.01)
    assert clock.now() == 2.0  # no jump when the speed changes
    wall.t += 1.0
    assert abs(clock.now() - 2.01) < 1e-12
    clock.set_speed(0.1)
    wall.t += 1.0
    assert abs(clock.now() - 2.11) < 1e-12


def test_off_is_zero_and_on_starts_the_train_at_its_own_t0() -> None:
    tl = Timeline(waveform.envelope, DEV)
    tl.set_output(1.0, TONIC)
    lo, hi = tl.envelope(0.0, 1.0, 100)
    assert not lo.any() and not hi.any()
    # From display time 1.0 the envelope is the engine's from t = 0.
    lo, hi = tl.envelope(1.0, 1.2, 397)  # pixel edges never meet pulse edges here
    ref_lo, ref_hi = waveform.envelope(TONIC, DEV, 0.0, 0.2, 397)
    assert np.array_equal(lo, ref_lo) and np.array_equal(hi, ref_hi)


def test_amplitude_change_keeps_the_grid_and_stop_ends_the_output() -> None:
    tl = Timeline(waveform.envelope, DEV)
    tl.set_output(1.0, TONIC)
    tl.set_output(1.5, TONIC.with_amplitude(4000))
    assert tl.current().on_since == 1.0
    tl.set_output(2.0, None)
    lo, _ = tl.envelope(1.0, 2.5, 1500)  # 1 ms pixels
    early, late, after = lo[:500], lo[500:1000], lo[1000:]
    assert np.isclose(early.min(), -3.0) and np.isclose(late.min(), -4.0) and not after.any()
    # pulses of the second segment stay on the 50 Hz grid of the first (on at 1.0 s)
    starts = np.nonzero((late < 0) & (np.roll(late, 1) == 0))[0]
    phase = ((1.5 + starts * 0.001 - 1.0) + 0.0015) % 0.02
    assert len(starts) == 25 and (phase < 0.003).all()


def test_turning_on_again_restarts_t0() -> None:
    tl = Timeline(waveform.envelope, DEV)
    tl.set_output(1.0, TONIC)
    tl.set_output(1.013, TONIC, turned_on=True)
    assert tl.current().on_since == 1.013


def test_a_change_inside_a_pixel_is_merged_exactly() -> None:
    tl = Timeline(waveform.envelope, DEV)
    tl.set_output(0.0, TONIC)
    tl.set_output(0.02015, TONIC.with_amplitude(5000))  # mid-pulse, inside the pixel [0.02, 0.021)
    lo, _ = tl.envelope(0.0, 0.03, 30)
    assert np.isclose(lo[20], -5.0)  # the pixel holds both amplitudes: its min is the larger pulse


@settings(max_examples=25, deadline=None)
@given(steps=st.lists(st.integers(min_value=0, max_value=300), min_size=1, max_size=12))
@example(steps=[31, 147, 291, 291, 3])  # two instants that became equal after a subtraction
@example(steps=[0, 1, 300, 300, 114, 300, 300, 300, 300, 300])
def test_live_window_equals_a_full_redraw(steps: list[int]) -> None:
    """Computing only the new pixels each frame gives exactly what a full redraw gives.

    Stimulation turns on a third of a pixel off the binary grid, so no pulse starts within
    3 us of a pixel edge: a pulse exactly on an edge may fall on either side by rounding
    (a choice of one pixel column, not a caching matter), and this test is about caching.
    """
    tl = Timeline(waveform.envelope, DEV)
    tl.set_output(0.1 + 2.0**-12 / 3, TONIC)
    live = LiveWindow(tl)
    span, pixels = 0.25, 1024  # 2**-12 s pixels: pixel edges are exact binary fractions
    w = span / pixels
    now = 0.3
    for n, step in enumerate(steps):
        now += step * w * 0.37
        if n == 3:
            tl.set_output(now, TONIC.with_amplitude(2500))
        t0, t1 = live.update(now, span, pixels)
        lo, hi = tl.envelope(t0, t1, pixels)
        assert np.array_equal(live.lo, lo) and np.array_equal(live.hi, hi)


def test_live_window_computes_only_new_pixels() -> None:
    tl = Timeline(waveform.envelope, DEV)
    tl.set_output(0.0, TONIC)
    live = LiveWindow(tl)
    live.update(1.0, 0.2, 1000)
    assert live.computed_last == 1000
    live.update(1.0 + 0.2 / 1000 * 7.5, 0.2, 1000)
    assert live.computed_last == 7


def test_passive_recharge_is_not_pulled_to_zero() -> None:
    """Between bursts the recharge current is positive all through a pixel: its min is not 0."""
    burst = Program(Mode.BURST, 600, 1000, 40, Electrodes.of({"4": -100, "5": 100}), burst_pulses=5,
                    intraburst_rate_hz=500, recharge=Recharge.PASSIVE)
    tl = Timeline(waveform.envelope, DEV)
    tl.set_output(2.0, burst)
    lo, hi = tl.envelope(2.0255, 2.0505, 47)  # pixel edges never meet pulse edges here
    ref_lo, ref_hi = waveform.envelope(burst, DEV, 0.0255, 0.0505, 47)
    assert np.allclose(lo, ref_lo) and np.allclose(hi, ref_hi)
    assert (lo[16:-1] > 0).all()  # between two bursts


def test_unknown_output_is_nan_not_zero() -> None:
    """After the link drops nothing is known: the scope must not draw a reassuring 0 mA."""
    tl = Timeline(waveform.envelope, DEV)
    tl.set_output(1.0, TONIC)
    tl.set_output(2.0, TONIC, known=False)
    lo, hi = tl.envelope(1.5, 2.5, 100)
    assert np.isfinite(lo[:50]).all() and np.isnan(lo[51:]).all() and np.isnan(hi[51:]).all()
    tl.set_output(3.0, None)  # reconnected: stimulation off
    lo, _ = tl.envelope(2.5, 3.5, 10)
    assert np.isnan(lo[:5]).all() and (lo[5:] == 0).all()
