"""The closed-loop scenario through the runner: lying down, its open-loop program
over-stimulates the patient and its closed-loop program keeps them comfortable."""

from __future__ import annotations

from dataclasses import replace

from stimsim.closedloop import runner
from stimsim.closedloop.schedule import parse
from stimsim.patient import evaluate
from stimsim.patient import scenario as S
from stimsim.patient.model import UNCOMFORTABLE

SCENARIO = "closed-loop-lying-down"


def _run(slot: int) -> tuple[S.Scenario, runner.Trace, runner.Loop]:
    scenario = S.load(S.find(SCENARIO))
    program = next(p for p in scenario.programs if p.slot == slot)
    settings = program.closed_loop
    assert settings is not None
    loop = runner.Loop(scenario.patient, replace(program, closed_loop=None), scenario.device,
                       settings.target_uv, settings.gain_ua_per_uv, closed=settings.closed)
    return scenario, runner.run(loop, parse("sitting:10,supine:60")), loop


def _felt_lying_down(scenario: S.Scenario, loop: runner.Loop, trace: runner.Trace) -> set[str]:
    """What the patient feels at each amplitude the program delivered lying down (after the first second)."""
    lying = trace.amplitude_ua[trace.times_s() >= 11.0]
    return {evaluate(scenario.patient, loop.program, int(a) / 1000.0, "supine").sensation for a in set(lying.tolist())}


def test_the_scenario_is_a_posture_sensitive_closed_loop_patient_lying_down() -> None:
    scenario = S.load(S.find(SCENARIO))
    assert scenario.family.value == "SCS-CL" and scenario.params.posture == "supine"
    assert [p.closed_loop.closed for p in scenario.programs if p.closed_loop] == [False, True]
    sitting = evaluate(scenario.patient, scenario.programs[0], scenario.programs[0].amplitude_ua / 1000, "sitting")
    assert sitting.felt and sitting.sensation != UNCOMFORTABLE  # the programs were set sitting


def test_open_loop_over_stimulates_lying_down() -> None:
    scenario, trace, loop = _run(1)
    figures = trace.figures(loop.target_uv)
    assert figures.amp_min_ma == figures.amp_max_ma == 6.062
    assert _felt_lying_down(scenario, loop, trace) == {UNCOMFORTABLE}
    assert figures.time_in_window < 0.2  # above the window lying down: above discomfort


def test_closed_loop_keeps_the_patient_comfortable_lying_down() -> None:
    scenario, trace, loop = _run(2)
    figures = trace.figures(loop.target_uv)
    felt = _felt_lying_down(scenario, loop, trace)
    assert UNCOMFORTABLE not in felt and felt
    assert figures.time_in_window > 0.95 and figures.mean_abs_dev_uv < 5.0
