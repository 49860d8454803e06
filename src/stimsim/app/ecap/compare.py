"""Open against closed loop, for trainers: the same program, patient and posture schedule,
run once with the loop open and once closed (``closedloop.runner``), and their figures.
Pure numpy through the closed-loop package: no Qt, no device.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ...closedloop import runner
from ...closedloop.nerve import thresholds
from ...closedloop.schedule import parse
from ...engine import params as P
from ...engine.program import ClosedLoop, DeviceModel, Program
from ...patient.defaults import POSTURES
from ...patient.model import Patient

#: Sitting, lying down on the back, a cough, sitting up again: the postures a class sees.
SCHEDULE = "sitting:4,supine:8,cough@9,sitting:4"


@dataclass(frozen=True)
class Side:
    """One run: its time axis (s), ECAP (uV), amplitude (mA), window edges (uV) and figures."""

    closed: bool
    times_s: np.ndarray
    ecap_uv: np.ndarray
    amplitude_ma: np.ndarray
    window_low_uv: np.ndarray
    window_high_uv: np.ndarray
    figures: runner.Figures


@dataclass(frozen=True)
class Comparison:
    target_uv: float
    gain_ua_per_uv: float
    schedule: str
    open: Side
    closed: Side


def loop_settings(program: Program) -> ClosedLoop:
    """The program's loop keys, the table's defaults for those it leaves out."""
    return program.closed_loop or ClosedLoop()


def compare(patient: Patient, program: Program, device: DeviceModel, *, schedule: str = SCHEDULE,
            target_uv: float | None = None, gain_ua_per_uv: float | None = None, noise_uv: float = 3.0,
            seed: int = 0) -> Comparison:
    """Run ``program`` open and closed over ``schedule``; ValueError says why it cannot run
    (not tonic, a contact the patient lacks, a start inside the charge-density zone...)."""
    if program.mode is not P.Mode.TONIC:
        raise ValueError(f"the loop runs tonic programs only; this one is {program.mode.value}")
    loop = loop_settings(program)
    target = float(loop.target_uv if target_uv is None else target_uv)
    gain = float(loop.gain_ua_per_uv if gain_ua_per_uv is None else gain_ua_per_uv)
    plan = parse(schedule)
    base = runner.Loop(patient, replace(program, closed_loop=None), device, target, gain, noise_uv=noise_uv,
                       seed=seed)
    sides = []
    for closed in (False, True):
        run = replace(base, closed=closed)
        trace = runner.run(run, plan)
        low, high = _window(run, trace)
        sides.append(Side(closed, trace.times_s(), trace.ecap_uv, trace.amplitude_ua / 1000.0, low, high,
                          trace.figures(target)))
    return Comparison(target, gain, schedule, sides[0], sides[1])


def _window(loop: runner.Loop, trace: runner.Trace) -> tuple[np.ndarray, np.ndarray]:
    """The therapeutic window of each update's posture and cough."""
    low = np.empty(trace.ecap_uv.size)
    high = np.empty(trace.ecap_uv.size)
    for i, posture in enumerate(POSTURES):
        for cough in (False, True):
            where = (trace.posture == i) & (trace.cough == cough)
            if where.any():
                th = thresholds(loop.patient, loop.program, posture, cough)
                low[where], high[where] = th.window_low_uv, th.window_high_uv
    return low, high
