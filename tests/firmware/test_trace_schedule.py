"""The stub's phase edges equal the engine's schedule (stimsim.engine.schedule) within 1 us.

Tonic, burst and hf are run live (stimfw-host --trace, real time); cycling and ramp need
seconds of stimulation, so they run through stimfw-edges, the same device code on a fake
clock. Every cathodic start and end, anodic phase (active recharge), recharge-switch close
(passive recharge) and pulse amplitude is compared with ``schedule.pulse_phases``.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from stimsim.engine import schedule
from stimsim.engine.load import program_compliance
from stimsim.engine.params import Mode, Recharge
from stimsim.engine.program import DeviceModel, Electrodes, Program

from .stub_support import EDGES, running

pytestmark = pytest.mark.usefixtures("stub_build")

ELEC = Electrodes.of({"4": -100, "5": 100})
TOL_US = 1.0


@dataclass(frozen=True)
class Edge:
    t_us: int
    out: str
    level: int
    amp_ua: int


def wire_args(p: Program) -> dict[str, object]:
    args: dict[str, object] = {
        "MODE": p.mode.wire, "AMP": p.amplitude_ua, "PW": p.pulse_width_us, "RATE": p.rate_hz,
        "IPG": p.interphase_us, "RECHARGE": p.recharge.wire, "CYCLE_ON_MS": p.cycle_on_ms,
        "CYCLE_OFF_MS": p.cycle_off_ms, "RAMP_MS": p.ramp_ms, "ELEC": p.electrodes.to_wire(),
    }
    if p.mode is Mode.BURST:
        args["BURST_N"] = p.burst_pulses
        args["INTRA_HZ"] = p.intraburst_rate_hz
    return args


def parse_trace(text: str) -> tuple[list[Edge], float]:
    """Edges of the last timeline in a trace, and when it was switched off (us)."""
    edges: list[Edge] = []
    off = float("inf")
    for line in text.splitlines():
        if line.startswith("# BEGIN"):
            edges, off = [], float("inf")
        elif line.startswith("# OFF"):
            off = float(line.split()[2])
        elif line and not line.startswith("#"):
            t, out, level, amp = line.split()
            edges.append(Edge(int(t), out, int(level), int(amp)))
    return edges, off


def assert_matches_engine(p: Program, edges: list[Edge], until_us: float) -> int:
    """Compare every pulse that ends before ``until_us``; returns how many were compared."""
    span_s = (2 * p.pulse_width_us + p.interphase_us + 20) / 1e6
    t1 = until_us / 1e6 - span_s
    delivered = program_compliance(p, DeviceModel()).delivered_ma
    ph = schedule.pulse_phases(p, 0.0, t1, delivered)
    assert len(ph.start) > 0

    def times(out: str, level: int) -> np.ndarray:
        return np.array([e.t_us for e in edges if e.out == out and e.level == level and e.t_us < t1 * 1e6 + 1],
                        dtype=float)

    cath_on = times("CATH", 1)
    assert len(cath_on) == len(ph.start), f"{len(cath_on)} cathodic starts, engine has {len(ph.start)}"
    assert np.max(np.abs(cath_on - ph.start * 1e6)) <= TOL_US
    cath_off = np.array([e.t_us for e in edges if e.out == "CATH" and e.level == 0], dtype=float)[: len(ph.start)]
    assert np.max(np.abs(cath_off - ph.cathodic_end * 1e6)) <= TOL_US
    if p.recharge is Recharge.ACTIVE:
        anod_on = np.array([e.t_us for e in edges if e.out == "ANOD" and e.level == 1], dtype=float)[: len(ph.start)]
        anod_off = np.array([e.t_us for e in edges if e.out == "ANOD" and e.level == 0], dtype=float)[: len(ph.start)]
        assert np.max(np.abs(anod_on - ph.anodic_start * 1e6)) <= TOL_US
        assert np.max(np.abs(anod_off - ph.anodic_end * 1e6)) <= TOL_US
    else:
        closes = ph.recharge_close[~np.isnan(ph.recharge_close)] * 1e6
        switch = np.array([e.t_us for e in edges if e.out == "ANOD" and e.level == 1], dtype=float)[: len(closes)]
        assert len(switch) == len(closes)
        assert np.max(np.abs(switch - closes)) <= TOL_US
        opens = {e.t_us for e in edges if e.out == "ANOD" and e.level == 0}
        assert opens <= {e.t_us for e in edges if e.out == "CATH" and e.level == 1}  # opens at a pulse start
    amps = np.array([e.amp_ua for e in edges if e.out == "CATH" and e.level == 1], dtype=float)[: len(ph.start)]
    assert np.max(np.abs(amps - ph.amplitude_ma * 1000.0)) <= 1.5
    return len(ph.start)


def _prog(**kw: object) -> Program:
    base: dict[str, object] = {"mode": Mode.TONIC, "amplitude_ua": 2000, "pulse_width_us": 200, "rate_hz": 50, "electrodes": ELEC}
    base.update(kw)
    return Program(**base)  # type: ignore[arg-type]


LIVE = {
    "tonic": _prog(rate_hz=130, pulse_width_us=210, interphase_us=30),
    "burst": _prog(mode=Mode.BURST, amplitude_ua=600, pulse_width_us=1000, rate_hz=40, burst_pulses=5,
                   intraburst_rate_hz=500, recharge=Recharge.PASSIVE),
    "hf": _prog(mode=Mode.HF, amplitude_ua=3000, pulse_width_us=30, rate_hz=10000),
}


@pytest.mark.parametrize("name", sorted(LIVE))
def test_live_trace_equals_engine_schedule(name: str, tmp_path: Path) -> None:
    program = LIVE[name]
    trace = tmp_path / "edges.txt"
    with running("--pty", "--trace", str(trace)) as stub:
        stub.request("HELLO")
        assert stub.login().ok
        assert stub.request("PROG", {"SLOT": 1, **wire_args(program), "ACK": "CHARGE"}).ok
        assert stub.request("STIM", ["ON"]).ok
        time.sleep(0.25)  # real stimulation time: this is what the trace records
        assert stub.request("STOP").ok
    edges, off = parse_trace(trace.read_text())
    assert off < float("inf"), "the trace has no # OFF line"
    compared = assert_matches_engine(program, edges, off - 5000)
    assert compared >= 5


OFFLINE = {
    "tonic-cycling-ramp": (_prog(rate_hz=3, cycle_on_ms=1000, cycle_off_ms=1500, ramp_ms=700), 10_000),
    "tonic-passive-cycling": (_prog(rate_hz=47, recharge=Recharge.PASSIVE, interphase_us=50, cycle_on_ms=1000,
                                    cycle_off_ms=1000, ramp_ms=300), 6_000),
    # bursts of 12 ms every 1/7 s: on intervals end and begin in the middle of a burst
    "burst-cut-by-cycling": (_prog(mode=Mode.BURST, amplitude_ua=800, pulse_width_us=300, rate_hz=7, burst_pulses=4,
                                   intraburst_rate_hz=250, recharge=Recharge.PASSIVE, cycle_on_ms=1005,
                                   cycle_off_ms=1000, ramp_ms=1500), 9_000),
    "burst-active": (_prog(mode=Mode.BURST, amplitude_ua=800, pulse_width_us=300, rate_hz=33, burst_pulses=3,
                           intraburst_rate_hz=333, recharge=Recharge.ACTIVE, interphase_us=20), 2_000),
    "hf-ramp-cycling": (_prog(mode=Mode.HF, amplitude_ua=4000, pulse_width_us=40, rate_hz=3333, ramp_ms=2000,
                              cycle_on_ms=2500, cycle_off_ms=1000), 5_000),
}


@pytest.mark.parametrize("name", sorted(OFFLINE))
def test_offline_edges_equal_engine_schedule(name: str) -> None:
    program, span_ms = OFFLINE[name]
    text = " ".join(f"{k}={v}" for k, v in wire_args(program).items())
    result = subprocess.run([str(EDGES), str(span_ms), text], capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr
    edges, _ = parse_trace(result.stdout)
    compared = assert_matches_engine(program, edges, span_ms * 1000.0)
    assert compared >= 10
