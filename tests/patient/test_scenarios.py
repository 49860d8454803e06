"""Scenario files: every shipped one loads and plays to the right score; bad files are refused line by line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stimsim.cli import main
from stimsim.engine.files import FileError
from stimsim.engine.params import FAMILIES, Family, Mode
from stimsim.engine.program import Electrodes, Program
from stimsim.patient import EventKind, SessionRecord, score
from stimsim.patient import scenario as S
from stimsim.resources import example_scenarios

from .sessions import BAD, GOOD, play

NAMES = [S.name_of(p) for p in example_scenarios()]

MINIMAL = {"format": "stimsim.scenario", "version": 1, "leads": {"A": {"top": "T8"}}, "pain": {"left_foot": 5}}


def test_at_least_eight_scenarios_ship_and_each_has_a_session() -> None:
    assert len(NAMES) >= 8
    assert set(NAMES) == set(GOOD) == set(BAD)


@pytest.mark.parametrize("name", NAMES)
def test_every_shipped_scenario_loads_with_title_brief_goals_and_a_program(name: str) -> None:
    scenario = S.load(S.find(name))
    assert scenario.name == name and scenario.title and len(scenario.brief) > 80
    assert scenario.programs and scenario.goals.minutes > 0
    assert S.find(str(S.find(name))) == S.find(name)  # a path finds the same file


@pytest.mark.parametrize("name", NAMES)
def test_a_good_session_makes_a_responder_with_a_good_score(name: str) -> None:
    result, _ = play(name, GOOD[name])
    assert result.responder, [p.reason for p in result.parts]
    assert result.grade == "good", [(p.name, p.points, p.reason) for p in result.parts]


@pytest.mark.parametrize("name", NAMES)
def test_a_bad_session_scores_poor_and_says_why(name: str) -> None:
    session, part, words = BAD[name]
    result, _ = play(name, session)
    assert result.grade == "poor"
    assert result.part(part).failed or not result.responder
    assert words in result.part(part).reason


def test_the_parts_and_their_reasons() -> None:
    result, program = play("low-back-left-leg-t8", GOOD["low-back-left-leg-t8"])
    assert [p.name for p in result.parts] == ["coverage", "relief", "safety", "battery", "time"]
    assert sum(p.max_points for p in result.parts) == 100
    assert result.part("relief").reason.startswith("relief 55 % after 30 minutes (VAS 7.5 -> 3.4): a responder")
    scenario = S.load(S.find("low-back-left-leg-t8"))
    slow = SessionRecord(minutes_taken=60, simulated_minutes=30)
    slow.add(EventKind.CHARGE_WARNING_CONFIRMED, 3.0)
    late = score(scenario, program, slow)
    assert late.part("time").points == 0 and "60 minutes, over the 30 minute goal" in late.part("time").reason
    assert late.part("safety").points == 15 and "a charge-density warning was confirmed (1 time)" in \
        late.part("safety").reason
    assert late.grade == "fair"


def test_left_out_keys_take_the_defaults_key_by_key() -> None:
    data = {**MINIMAL, "device": {"contact_impedance_ohm": {"3": 5000}}, "patient": {"eps": 1.2}}
    scenario = S.from_data(data, problems := [], "minimal")
    assert problems == [] and scenario is not None
    assert scenario.device.chemistry == "liion" and scenario.device.impedance("3") == 5000
    assert scenario.battery_pct == 80 and scenario.title == "minimal" and scenario.brief == ""
    assert scenario.params.eps == 1.2 and scenario.params.dt_ratio == 1.6 and scenario.params.best_level == 16.5
    assert scenario.params.posture == "sitting" and scenario.params.baseline_vas == 7.5
    assert scenario.goals == S.Goals(0.8, False, 30.0) and scenario.programs == ()
    assert scenario.patient.leads.leads[0].spacing_mm == 7.0


BAD_FILE = {
    "format": "stimsim.scenario", "version": 2, "colour": "red",
    "patient": {"eps": 9, "dt_ratio": "high", "best_level": "T13", "posture": "upside down", "mood": 1},
    "leads": {"A": {"top": "T8", "offset_mm": 20}, "C": {"top": "T9"}},
    "device": {"chemistry": "zinc", "battery_pct": 120},
    "pain": {"left_tail": 3, "left_foot": 11},
    "programs": [{"mode": "tonic", "amplitude_ma": 3, "pulse_width_us": 300, "rate_hz": 50,
                  "electrodes": {"12": -100, "case": 100}}],
    "goals": {"coverage": 2, "paresthesia_free": "yes", "speed": 1},
}

EXPECTED_LINES = [
    "colour: unknown key (allowed: format, version, title, brief, patient, leads, device, pain, programs, goals)",
    "version: must be 1 (found 2)",
    "patient.eps: 9 is outside 0.2..5",
    "patient.dt_ratio: \"high\" is not a number (allowed 1.3..2)",
    "patient.best_level: \"T13\" is not a spine level (C1..C7, T1..T12, L1..L5 or S1, with an optional fraction "
    "such as T9.5)",
    "patient.posture: \"upside down\" is not one of supine, sitting, standing, prone",
    "patient.mood: unknown key (see the patient table in docs/patient.md)",
    "leads.C: unknown key (allowed: A, B)",
    "leads.A.offset_mm: 20 is outside -10..10 mm",
    "device.chemistry: \"zinc\" is not one of liion, primary",
    "device.battery_pct: 120 is outside 0..100 %",
    "pain.left_tail: not a region id (left_ or right_ and one of head, neck, shoulder, arm, hand, chest, low_back, "
    "abdomen, buttock, back_thigh, front_thigh, knee, leg, foot, perineum)",
    "pain.left_foot: 11 is outside 0..10",
    "programs[0].electrodes.12: contact 12 is on lead B, which this patient does not have",
    "goals.speed: unknown key (allowed: coverage, paresthesia_free, minutes)",
    "goals.coverage: 2 is outside 0..1",
    "goals.paresthesia_free: \"yes\" is not true or false",
]


def test_a_bad_scenario_gets_one_line_per_problem_with_its_key_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.scenario.json"
    path.write_text(json.dumps(BAD_FILE))
    with pytest.raises(FileError) as info:
        S.load(path)
    assert info.value.lines == EXPECTED_LINES


def test_the_command_refuses_a_bad_scenario_with_status_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.scenario.json"
    path.write_text(json.dumps(BAD_FILE))
    assert main(["patient", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"stimsim patient: {path}: {line}" for line in EXPECTED_LINES]


@pytest.mark.parametrize("text, line", [
    ('{"format": "stimsim.scenario", "version": 1, "leads": {}, "pain": {"left_foot": 1}}',
     "leads: give at least one lead (A or B)"),
    ('{"format": "stimsim.scenario", "version": 1, "pain": {"left_foot": 1}}',
     "leads: missing (required): an object with lead A, lead B or both"),
    ('{"format": "stimsim.scenario", "version": 1, "leads": {"B": {}}, "pain": {"left_foot": 0}}',
     'leads.B.top: missing (required): a spine level such as "T8"'),
    ('{"format": "stimsim.scenario", "version": 1, "leads": {"B": {"top": "T8"}}, "pain": {"left_foot": 0}}',
     "pain: must name at least one region with pain above 0"),
    ('{"format": "stimsim.scenario", "version": 1, "version": 1}', "key version appears twice in one object"),
    ('{"format": "stimsim.scenario", "version": NaN}', "NaN is not a number a program file may hold"),
    ('[1, 2]', "the file must hold a JSON object"),
])
def test_more_refusals(text: str, line: str) -> None:
    with pytest.raises(FileError) as info:
        S.loads(text, "x.scenario.json")
    assert line in info.value.lines


def test_a_scenarios_device_wins_over_the_program_file() -> None:
    scenario = S.load(S.find("open-contact"))
    assert scenario.device.impedance("4") == 5200
    assert scenario.programs[0].electrodes.as_dict() == {"4": -100, "case": 100}


def test_an_unknown_name_lists_the_shipped_scenarios() -> None:
    with pytest.raises(FileError) as info:
        S.find("no-such-scenario")
    assert "no such file and no shipped scenario of that name (shipped: bilateral-legs-t9-t10" in info.value.lines[0]


def test_a_felt_sub_perception_final_program_costs_safety_even_without_the_goal() -> None:
    scenario = S.load(S.find("low-back-left-leg-t8"))
    assert not scenario.goals.paresthesia_free
    felt = Program(Mode.HF, 9000, 30, 10_000, Electrodes.of({"7": -50, "15": -50, "case": 100}))
    result = score(scenario, felt, SessionRecord(minutes_taken=10, simulated_minutes=60))
    assert "the final program is hf, a sub-perception mode, and the patient feels it" in result.part("safety").reason
    assert result.part("safety").points == 10


def test_a_scenarios_family_defaults_to_scs_r() -> None:
    assert S.from_data(MINIMAL, problems := [], "minimal") is not None and problems == []
    assert S.from_data(MINIMAL, [], "minimal").family is Family.SCS_R  # type: ignore[union-attr]


def test_the_primary_cell_scenario_names_its_family() -> None:
    scenario = S.load(S.find("primary-cell-near-eri"))
    assert scenario.family is Family.SCS_P
    assert scenario.device.chemistry == "primary"


@pytest.mark.parametrize("family", ["SCS-R", "SCS-P", "ETS"])
def test_a_scenario_names_its_family(family: str) -> None:
    data = {**MINIMAL, "device": {"family": family}}
    scenario = S.from_data(data, problems := [], "minimal")
    assert problems == []
    assert scenario is not None and scenario.family is Family(family)
    assert scenario.device.chemistry == FAMILIES[Family(family)].chemistry


def test_an_unknown_family_is_refused_with_its_key_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.scenario.json"
    path.write_text(json.dumps({**MINIMAL, "device": {"family": "SCS-X", "battery_pct": 200}}))
    assert main(["patient", str(path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"stimsim patient: {path}: device.family: \"SCS-X\" is not one of SCS-R, SCS-P, ETS, DRG, SCS-CL",
        f"stimsim patient: {path}: device.battery_pct: 200 is outside 0..100 %",
    ]


def test_the_programs_are_judged_under_the_scenarios_family() -> None:
    """A case anode is fine on SCS-R and refused on the trial stimulator (no case); hf is not an SCS-P mode."""
    monopole = [{"slot": 1, "mode": "tonic", "amplitude_ma": 2.0, "pulse_width_us": 300, "rate_hz": 50,
                 "electrodes": {"1": -100, "case": 100}}]
    high = [{"slot": 1, "mode": "hf", "amplitude_ma": 2.0, "pulse_width_us": 30, "rate_hz": 10000,
             "electrodes": {"1": -100, "2": 100}}]
    assert S.from_data({**MINIMAL, "programs": monopole}, problems := [], "m") is not None and problems == []
    S.from_data({**MINIMAL, "device": {"family": "ETS"}, "programs": monopole}, problems := [], "m")
    assert problems and all(line.startswith("programs[0].electrodes") for line in problems), problems
    S.from_data({**MINIMAL, "device": {"family": "SCS-P"}, "programs": high}, problems := [], "m")
    assert problems and all(line.startswith("programs[0].mode") for line in problems), problems
