"""Pulse schedule: grid starts, burst pulses, cycling drops, ramp amplitudes, phases."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stimsim.engine import schedule
from stimsim.engine.params import Mode, Recharge
from stimsim.engine.program import DeviceModel, Electrodes, Program

from .conftest import tonic
from .waveform_reference import pulses as reference_pulses

ELEC = Electrodes.of({"4": -100, "5": 100})


def burst(**changes: object) -> Program:
    """BurstDR style: 40 Hz bursts of 5 pulses at 500 Hz, 1000 us, passive, unless changed."""
    prog = Program(Mode.BURST, 600, 1000, 40, ELEC, recharge=Recharge.PASSIVE, burst_pulses=5,
                   intraburst_rate_hz=500)
    return replace(prog, **changes)  # type: ignore[arg-type]


def hf(**changes: object) -> Program:
    prog = Program(Mode.HF, 2500, 30, 10_000, ELEC)
    return replace(prog, **changes)  # type: ignore[arg-type]


def test_tonic_pulses_start_on_the_grid_from_t0_with_half_open_windows() -> None:
    assert schedule.pulse_starts(tonic(), 0.0, 0.1).tolist() == [0.0, 0.02, 0.04, 0.06, 0.08]
    assert schedule.pulse_starts(tonic(), 0.02, 0.04).tolist() == [0.02]
    assert len(schedule.pulse_starts(tonic(), 0.0, 1.0)) == 50
    assert len(schedule.pulse_starts(tonic(), -1.0, 0.0)) == 0  # nothing before stimulation


def test_burst_pulses_start_at_burst_plus_intra_offsets() -> None:
    starts = schedule.pulse_starts(burst(), 0.0, 0.05)
    expected = [j / 40 + m / 500 for j in range(2) for m in range(5)]
    assert starts == pytest.approx(expected, abs=1e-15)
    assert len(schedule.pulse_starts(burst(), 0.0, 1.0)) == 200


def test_hf_grid_is_exact_far_from_t0() -> None:
    starts = schedule.pulse_starts(hf(), 100_000.0, 100_000.01)
    assert len(starts) == 100
    assert starts[0] == 100_000.0
    assert np.diff(starts) == pytest.approx(1e-4, abs=1e-10)
    assert len(schedule.pulse_starts(hf(), 0.0, 1.0)) == 10_000


def test_cycling_keeps_the_global_grid_and_drops_off_interval_pulses() -> None:
    # 1 Hz with 1.5 s on / 1.5 s off: pulses at 0, 1 (on), 2 (off), 3 (on), 4 (on), 5 (off).
    prog = tonic(rate_hz=2, cycle_on_ms=1500, cycle_off_ms=1500)
    starts = schedule.pulse_starts(prog, 0.0, 6.0)
    assert starts.tolist() == [0.0, 0.5, 1.0, 3.0, 3.5, 4.0]


def test_cycling_drops_burst_pulses_one_by_one() -> None:
    # Bursts of 10 pulses at 250 Hz (36 ms) every 1/3 s; on 1.010 s, off 1 s (cycle 2.010 s).
    prog = burst(rate_hz=3, burst_pulses=10, intraburst_rate_hz=250, pulse_width_us=100,
                 cycle_on_ms=1010, cycle_off_ms=1000)
    starts = schedule.pulse_starts(prog, 0.9, 2.2)
    # Burst at 1.0 s: pulses at 1.000, 1.004, 1.008 kept; 1.012.. dropped (off from 1.010).
    # Burst at 2.0 s: 2.000..2.008 in the off interval; 2.012..2.036 kept (on from 2.010).
    expected = [1.0 + 0.004 * m for m in range(3)] + [2.0 + 0.004 * m for m in range(3, 10)]
    assert starts == pytest.approx(expected, abs=1e-12)


def test_ramp_scales_amplitude_from_stimulation_on_and_from_each_cycle_start() -> None:
    prog = tonic(rate_hz=50, ramp_ms=1000)
    starts = schedule.pulse_starts(prog, 0.0, 1.2)
    amps = schedule.pulse_amplitudes(prog, starts, 3.0)
    assert amps == pytest.approx([3.0 * min(1.0, k * 0.02) for k in range(60)], abs=1e-12)
    cycled = tonic(rate_hz=2, ramp_ms=1000, cycle_on_ms=2000, cycle_off_ms=1500)
    starts = schedule.pulse_starts(cycled, 3.0, 6.0)  # second on interval starts at 3.5 s
    assert starts.tolist() == [3.5, 4.0, 4.5, 5.0]
    assert schedule.pulse_amplitudes(cycled, starts, 2.0) == pytest.approx([0.0, 1.0, 2.0, 2.0])


def test_phases_of_active_and_passive_pulses() -> None:
    prog = tonic(interphase_us=50)
    ph = schedule.pulse_phases(prog, 0.0, 0.03, 3.0)
    assert ph.start.tolist() == [0.0, 0.02]
    assert ph.cathodic_end == pytest.approx([300e-6, 0.02 + 300e-6])
    assert ph.anodic_start == pytest.approx([350e-6, 0.02 + 350e-6])
    assert ph.anodic_end == pytest.approx([650e-6, 0.02 + 650e-6])
    assert np.isnan(ph.recharge_close).all()
    assert ph.amplitude_ma.tolist() == [3.0, 3.0]
    passive = schedule.pulse_phases(burst(interphase_us=20), 0.0, 0.03, 0.6)
    assert np.isnan(passive.anodic_start).all()
    closes = passive.recharge_close
    assert np.isnan(closes[:4]).all() and np.isnan(closes[5:9]).all()
    assert closes[4] == pytest.approx(0.008 + 1000e-6 + 20e-6)


def test_a_cycle_cut_burst_closes_after_its_last_kept_pulse() -> None:
    prog = burst(rate_hz=3, burst_pulses=10, intraburst_rate_hz=250, pulse_width_us=100,
                 cycle_on_ms=1010, cycle_off_ms=1000)
    ph = schedule.pulse_phases(prog, 0.9, 1.5, 1.0)
    assert len(ph.start) == 3
    assert np.isnan(ph.recharge_close[:2]).all()
    assert ph.recharge_close[2] == pytest.approx(1.008 + 100e-6)


def test_infeasible_timing_is_refused_naming_the_key() -> None:
    with pytest.raises(ValueError, match="pulse_width_us"):
        schedule.grid(tonic(rate_hz=1200, pulse_width_us=1000))
    with pytest.raises(ValueError, match="cycle_off_s"):
        schedule.grid(tonic(cycle_on_ms=2000))


@st.composite
def timed_programs(draw: st.DrawFn) -> Program:
    """Feasible programs of every mode with cycling and ramp, at modest pulse rates."""
    mode = draw(st.sampled_from([Mode.TONIC, Mode.BURST, Mode.HF]))
    ipg = draw(st.sampled_from([0, 40, 100]))
    on, off = draw(st.sampled_from([(0, 0), (1000, 1000), (1300, 1100), (2000, 1000)]))
    ramp = draw(st.sampled_from([0, 250, 1000, 2600]))
    if mode is Mode.BURST:
        rate = draw(st.sampled_from([1, 3, 7, 40]))
        intra = draw(st.sampled_from([250, 333, 1000]))
        n = draw(st.integers(2, min(10, intra // rate)))
        pw = draw(st.integers(100, min(1000, (1_000_000 // intra - ipg - 10) // 2)))
        return Program(mode, 1000, pw, rate, ELEC, interphase_us=ipg, burst_pulses=n, intraburst_rate_hz=intra,
                       cycle_on_ms=on, cycle_off_ms=off, ramp_ms=ramp,
                       recharge=draw(st.sampled_from(list(Recharge))))
    rate = draw(st.sampled_from([2, 50, 333, 1200] if mode is Mode.TONIC else [1000, 3000]))
    recharge = draw(st.sampled_from(list(Recharge))) if mode is Mode.TONIC else Recharge.ACTIVE
    return Program(mode, 1000, 20, rate, ELEC, interphase_us=ipg, recharge=recharge, cycle_on_ms=on,
                   cycle_off_ms=off, ramp_ms=ramp)


@settings(max_examples=40, deadline=None)
@given(timed_programs(), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_starts_and_amplitudes_match_a_literal_walk_of_the_grid(prog: Program, where: float, size: float) -> None:
    reach = min(6.0, 3000 / (prog.rate_hz * (prog.burst_pulses or 1)))  # keeps the literal walk short
    t0, t1 = where * reach, (where + size) * reach
    ref = [p for p in reference_pulses(prog, DeviceModel(), t1) if p.start >= t0]
    starts = schedule.pulse_starts(prog, t0, t1)
    assert starts.tolist() == [float(p.start) for p in ref]
    amps = schedule.pulse_amplitudes(prog, starts, 1.0)
    assert amps == pytest.approx([p.amp for p in ref], abs=1e-12)
    if prog.cycling:  # and none of them in an off interval
        phase = np.mod(starts * 1000, prog.cycle_on_ms + prog.cycle_off_ms)
        assert (phase < prog.cycle_on_ms + 1e-6).all()
