"""DRG leads in the virtual patient against the figures of docs/patient.md ("DRG"): thresholds
without posture, each root's regions on its side, tonic relief, the scenario file and the command."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from stimsim.cli import main
from stimsim.engine.files import FileError
from stimsim.engine.params import Family, Mode
from stimsim.engine.program import Electrodes, Program
from stimsim.patient import POSTURES, Params, Patient, evaluate, evaluate_many, relief_after
from stimsim.patient import scenario as S
from stimsim.patient.drg_leads import ROOT_REGIONS, ROOTS, DrgLead, DrgLeads
from stimsim.patient.drg_model import most_cathodic

REF = Params()
A_BIPOLE = {"2": -100, "3": 100}
BOTH = {"2": -50, "3": 50, "6": -50, "7": 50}


def tonic(amp_ma: float, electrodes: dict[str, int], pw: int = 300) -> Program:
    return Program(Mode.TONIC, round(amp_ma * 1000), pw, 20, Electrodes.of(electrodes))


def drg_patient(*leads: tuple[str, str, str], pain: dict[str, float] | None = None,
                params: Params = REF) -> Patient:
    return Patient.of(params, DrgLeads(tuple(DrgLead(*lead) for lead in leads)), pain or {"left_knee": 5})


L4_L5 = drg_patient(("A", "L4", "left"), ("B", "L5", "left"),
                    pain={"left_knee": 4, "left_leg": 3, "left_foot": 7})


@pytest.mark.parametrize("pw, pt", [(300, 0.35 * (1 + 295 / 300)), (60, 0.35 * (1 + 295 / 60)),
                                    (720, 0.35 * (1 + 295 / 720)), (40, 0.35 * (1 + 295 / 40))])
def test_pt_is_0_35_times_the_strength_duration_factor(pw: int, pt: float) -> None:
    r = evaluate(L4_L5, tonic(0.0, A_BIPOLE, pw), 0.0)
    assert r.pt_ma == pytest.approx(pt)
    assert r.dt_ma == pytest.approx(1.6 * pt)  # DT = r * PT, no lateral factor
    assert evaluate(L4_L5, tonic(0.0, A_BIPOLE, 300), 0.0).pt_ma == pytest.approx(0.694167, abs=1e-6)


def test_eps_and_dt_ratio_scale_the_thresholds() -> None:
    params = REF.with_values(eps=1.5, dt_ratio=1.3)
    r = evaluate(drg_patient(("A", "L4", "left"), params=params), tonic(0.0, A_BIPOLE), 0.0)
    assert r.pt_ma == pytest.approx(1.5 * 0.35 * (1 + 295 / 300))
    assert r.dt_ma == pytest.approx(1.3 * r.pt_ma)


def test_posture_changes_nothing() -> None:
    answers = {posture: evaluate(L4_L5, tonic(1.0, BOTH), 1.0, posture) for posture in POSTURES}
    assert {(r.pt_ma, r.dt_ma, r.regions, r.sensation) for r in answers.values()} == {
        (answers["sitting"].pt_ma, answers["sitting"].dt_ma, answers["sitting"].regions, "tingling")}
    assert answers["prone"].posture == "prone" and answers["prone"].csf_depth_mm is None


@pytest.mark.parametrize("root", ROOTS)
@pytest.mark.parametrize("side", ["left", "right"])
def test_each_root_covers_its_regions_on_its_side_only(root: str, side: str) -> None:
    patient = drg_patient(("C", root, side))
    program = tonic(1.0, {"10": -100, "11": 100})
    r = evaluate(patient, program, 1.0)
    assert r.sensation == "tingling"
    assert r.regions == tuple(sorted(f"{side}_{name}" for name in ROOT_REGIONS[root]))


def test_the_roots_given_by_the_families_contract() -> None:
    assert dict(ROOT_REGIONS) == {
        "T10": ("abdomen",), "T11": ("abdomen", "low_back"), "T12": ("low_back", "abdomen"), "L1": ("low_back",),
        "L2": ("front_thigh",), "L3": ("front_thigh", "knee"), "L4": ("knee", "leg"), "L5": ("leg", "foot"),
        "S1": ("foot",)}


def test_below_pt_nothing_and_amplitude_does_not_widen_the_regions() -> None:
    pt = 0.35 * (1 + 295 / 300)
    assert evaluate(L4_L5, tonic(0.69, BOTH), 0.69).regions == ()
    at_pt = evaluate(L4_L5, tonic(pt, BOTH), pt)
    near_dt = evaluate(L4_L5, tonic(1.1, BOTH), 1.1)
    assert at_pt.regions == near_dt.regions == ("left_foot", "left_knee", "left_leg")
    assert at_pt.intensity == pytest.approx(0.0) and near_dt.intensity == pytest.approx((1.1 - pt) / (0.6 * pt))
    above = evaluate(L4_L5, tonic(1.2, BOTH), 1.2)
    assert above.sensation == "uncomfortable" and above.says == "That's uncomfortable."


def test_only_the_leads_in_the_program_cover() -> None:
    r = evaluate(L4_L5, tonic(1.0, A_BIPOLE), 1.0)
    assert r.regions == ("left_knee", "left_leg")
    assert r.coverage == pytest.approx(7 / 14)
    assert r.says == "Tingling in my left knee and my left lower leg, strong."


def test_relief_is_tonic_with_r_tonic_0_70() -> None:
    r = evaluate(L4_L5, tonic(1.0, BOTH), 1.0)
    assert r.coverage == 1.0 and r.relief_paresthesia == pytest.approx(0.70) and r.relief_sub == 0.0
    assert relief_after(REF, r, 300.0).value == pytest.approx(0.70 * (1 - math.exp(-1)))
    half = evaluate(L4_L5, tonic(1.0, A_BIPOLE), 1.0)
    assert half.relief_paresthesia == pytest.approx(0.70 * 0.5)


def test_the_most_cathodic_lead_names_the_level() -> None:
    two = DrgLeads((DrgLead("A", "L4", "left"), DrgLead("B", "L5", "left")))
    assert most_cathodic(two, Electrodes.of({"2": -30, "3": 50, "6": -70, "7": 50})).root == "L5"
    assert most_cathodic(two, Electrodes.of(BOTH)).root == "L4"  # a tie: lead A
    r = evaluate(L4_L5, tonic(1.0, {"2": -30, "3": 50, "6": -70, "7": 50}), 1.0)
    assert r.cathode_level == 24.0 and r.configuration == "bipole" and r.cathode_offset_mm is None


@pytest.mark.parametrize("electrodes, mode, words", [
    ({"10": -100, "11": 100}, Mode.TONIC, "contact 10 is on lead C, which this patient does not have"),
    ({"2": -100, "case": 100}, Mode.TONIC, "the DRG implant has no case to use as an anode"),
    (A_BIPOLE, Mode.BURST, "DRG leads are driven in tonic only, not burst"),
])
def test_what_drg_leads_cannot_do_is_a_value_error(electrodes: dict[str, int], mode: Mode, words: str) -> None:
    program = Program(mode, 1000, 300, 40, Electrodes.of(electrodes))
    with pytest.raises(ValueError, match=words):
        evaluate(L4_L5, program, 1.0)


def test_many_patients_at_once_agree_with_one_at_a_time() -> None:
    eps = np.array([0.8, 1.0, 1.6])
    batch = evaluate_many(L4_L5, tonic(1.0, BOTH), 1.0, eps, np.array([-1.0, 0.0, 2.2]))
    for i, e in enumerate(eps):
        one = evaluate(drg_patient(("A", "L4", "left"), ("B", "L5", "left"), params=REF.with_values(eps=float(e)),
                                   pain={"left_knee": 4, "left_leg": 3, "left_foot": 7}), tonic(1.0, BOTH), 1.0)
        assert batch.pt_ma[i] == pytest.approx(one.pt_ma) and batch.coverage[i] == pytest.approx(one.coverage)
    assert np.isnan(batch.csf_depth_mm).all()
    assert list(batch.sensation) == [2, 1, 0]  # DT 0.888 mA, PT 0.694 mA, PT 1.111 mA


# --- the scenario file and the command ---------------------------------------------------

def _run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, Any]:
    assert main(argv) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def test_the_shipped_drg_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    scenario = S.load(S.find("drg-knee-foot-l4-l5"))
    assert scenario.family is Family.DRG and scenario.device.chemistry == "primary"
    assert scenario.patient.leads == DrgLeads((DrgLead("A", "L4", "left"), DrgLead("B", "L5", "left")))
    out = _run(capsys, ["patient", "drg-knee-foot-l4-l5"])
    assert out["cathode_level"] == 23.0 and out["cathode_offset_mm"] is None and out["csf_depth_mm"] is None
    assert out["configuration"] == "bipole" and out["sensation"] == "none"
    assert out["pt_ma"] == pytest.approx(0.35 * (1 + 295 / 300))


def test_the_command_ignores_posture_for_drg(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.stimsim.json"
    path.write_text(json.dumps({"format": "stimsim.programs", "version": 1, "device": {"family": "DRG"},
                                "programs": [{"slot": 1, "mode": "tonic", "amplitude_ma": 1.0, "pulse_width_us": 300,
                                              "rate_hz": 20, "electrodes": BOTH}]}))
    outs = [_run(capsys, ["patient", "drg-knee-foot-l4-l5", "--program", str(path), "--posture", p,
                          "--minutes", "30"]) for p in POSTURES]
    assert len({(o["pt_ma"], tuple(o["regions"]), o["relief"]) for o in outs}) == 1
    assert outs[0]["regions"] == ["left_foot", "left_knee", "left_leg"] and outs[0]["responder"] is True


def test_a_program_for_leads_the_patient_lacks_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.stimsim.json"
    path.write_text(json.dumps({"format": "stimsim.programs", "version": 1, "device": {"family": "DRG"},
                                "programs": [{"slot": 1, "mode": "tonic", "amplitude_ma": 1.0, "pulse_width_us": 300,
                                              "rate_hz": 20, "electrodes": {"14": -100, "15": 100}}]}))
    assert main(["patient", "drg-knee-foot-l4-l5", "--program", str(path)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"stimsim patient: {path}: contact 14 is on lead D, which this patient does not have")


BAD_DRG = {
    "format": "stimsim.scenario", "version": 1,
    "leads": {"A": {"root": "L6", "side": "left"}, "B": {"root": "L5", "side": "middle"},
              "C": {"top": "T8", "root": "S1", "side": "right"}, "D": {"side": "left"}, "E": {"root": "L4"}},
    "device": {"family": "DRG", "contact_impedance_ohm": {"case": 60}},
    "pain": {"left_foot": 5},
}
BAD_DRG_LINES = [
    "leads.E: unknown key (allowed: A, B, C, D)",
    'leads.A.root: "L6" is not a root a DRG lead may lie at (T10, T11, T12, L1, L2, L3, L4, L5, S1)',
    'leads.B.side: "middle" is not left or right',
    "leads.C.top: unknown key (allowed: root, side)",
    "leads.D.root: missing (required): a nerve root, one of T10, T11, T12, L1, L2, L3, L4, L5, S1",
    "device.contact_impedance_ohm.case: not a contact (1..16)",
]


def test_a_bad_drg_scenario_gets_one_line_per_problem_and_exit_2(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.scenario.json"
    path.write_text(json.dumps(BAD_DRG))
    with pytest.raises(FileError) as info:
        S.load(path)
    assert info.value.lines == BAD_DRG_LINES
    assert main(["patient", str(path)]) == 2
    assert capsys.readouterr().err.splitlines() == [f"stimsim patient: {path}: {line}" for line in BAD_DRG_LINES]


def test_a_drg_scenarios_programs_follow_the_drg_rules() -> None:
    """Each lead in use carries its own cathode and anode; the amplitude lies on the 25 uA grid;
    a contact on a lead the patient lacks is refused."""
    data: dict[str, Any] = {"format": "stimsim.scenario", "version": 1, "leads": {"A": {"root": "L4", "side": "left"}},
                            "device": {"family": "DRG"}, "pain": {"left_knee": 5},
                            "programs": [{"slot": 1, "mode": "tonic", "amplitude_ma": 1.01, "pulse_width_us": 300,
                                          "rate_hz": 20, "electrodes": {"2": -100, "6": 100}}]}
    S.from_data(data, problems := [], "x")
    assert any(line.startswith("programs[0].amplitude_ma") for line in problems), problems
    assert any(line.startswith("programs[0].electrodes") and "RULE" not in line for line in problems), problems
    data["programs"][0].update(amplitude_ma=1.0, electrodes={"6": -100, "7": 100})
    S.from_data(data, problems := [], "x")
    assert problems == [f"programs[0].electrodes.{c}: contact {c} is on lead B, which this patient does not have"
                        for c in (6, 7)]


def test_empty_and_missing_drg_leads() -> None:
    base = {"format": "stimsim.scenario", "version": 1, "device": {"family": "DRG"}, "pain": {"left_knee": 5}}
    S.from_data({**base, "leads": {}}, problems := [], "x")
    assert problems == ["leads: give at least one DRG lead (A, B, C or D)"]
    S.from_data(base, problems := [], "x")
    assert problems == ['leads: missing (required): an object with DRG leads A..D, each {"root": "L4", "side": "left"}']
