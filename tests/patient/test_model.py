"""The patient model against the figures of docs/patient.md."""

from __future__ import annotations

import math
from dataclasses import fields, replace

import numpy as np
import pytest

from stimsim.engine.params import Mode, Recharge
from stimsim.engine.program import Electrodes, Program
from stimsim.patient import POSTURES, Lead, Leads, Params, Patient, Relief, evaluate, evaluate_many, relief_after, spine
from stimsim.patient import regions as RG
from stimsim.patient.defaults import TABLE, field_names
from stimsim.patient.leads import cathode

REF = Params()


def lead_with_contact1_at(level: float, offset: float = 0.0, name: str = "A") -> Lead:
    """A lead placed so its contact 1 (or 9) centre sits exactly at ``level``."""
    top = float(spine.mm_to_level(spine.level_to_mm(level) - REF.contact_mm / 2))
    return Lead(name, top, offset)


def patient_at(level: float, offset: float = 0.0, pain: dict[str, float] | None = None,
               params: Params = REF) -> Patient:
    return Patient.of(params, Leads((lead_with_contact1_at(level, offset),)), pain or {"left_buttock": 5})


MONO = Electrodes.of({"1": -100, "case": 100})


def tonic(amp_ma: float, pw: int = 300) -> Program:
    return Program(Mode.TONIC, round(amp_ma * 1000), pw, 50, MONO)


# --- positions -------------------------------------------------------------------------


def test_labels_and_millimetres() -> None:
    assert spine.parse_label("C1") == 1.0 and spine.parse_label("T1") == 8.0
    assert spine.parse_label("T8") == 15.0 and spine.parse_label("T9.5") == 16.5
    assert spine.parse_label("L1") == 20.0 and spine.parse_label("S1") == 25.0
    for bad in ("T13", "C8", "L6", "S2", "X1", "T", "t8", "T8.", "T-1", ""):
        with pytest.raises(ValueError):
            spine.parse_label(bad)
    assert spine.label(16.5) == "T9.5" and spine.label(15.0) == "T8" and spine.label(16.25) == "T9.25"
    assert float(spine.level_to_mm(8.0)) == 140.0  # seven cervical vertebrae of 20 mm
    assert float(spine.level_to_mm(9.0)) == 170.0  # then 30 mm each
    assert float(spine.mm_to_level(155.0)) == 8.5
    assert float(spine.mm_to_level(spine.level_to_mm(16.37))) == pytest.approx(16.37)


def test_contact_centres_and_the_cathode_position() -> None:
    lead_a = Lead("A", 15.0, -1.0)
    lead_b = Lead("B", 15.0, 2.0)
    leads = Leads((lead_a, lead_b))
    levels = leads.contact_levels(REF)
    assert levels["1"] == pytest.approx(15.0 + 1.5 / 30)
    assert levels["4"] == pytest.approx(15.0 + (3 * 7 + 1.5) / 30)
    assert levels["9"] == levels["1"] and levels["16"] == levels["8"]
    cath = cathode(leads, Electrodes.of({"1": -25, "12": -75, "case": 100}), REF)
    assert cath.z == pytest.approx(0.25 * levels["1"] + 0.75 * levels["12"])
    assert cath.x == pytest.approx(0.25 * -1.0 + 0.75 * 2.0)
    assert cath.configuration == "monopole" and cath.s_cfg == 1.0
    long = cathode(leads, Electrodes.of({"2": -100, "1": 50, "3": 50}), REF)
    assert (long.configuration, long.s_cfg) == ("longitudinal", 1.2)
    trans = cathode(leads, Electrodes.of({"2": -100, "10": 100}), REF)
    assert (trans.configuration, trans.s_cfg) == ("transverse", 1.5)
    both = cathode(leads, Electrodes.of({"2": -50, "10": -50, "3": 50, "11": 50}), REF)
    assert both.configuration == "longitudinal"
    with pytest.raises(ValueError, match="lead B, which this patient does not have"):
        cathode(Leads((lead_a,)), Electrodes.of({"10": -100, "case": 100}), REF)


# --- thresholds --------------------------------------------------------------------------


def test_the_check_figure_sitting_and_supine() -> None:
    """Midline monopole, cathode at z = 16.0 (T9's upper endplate), 300 us."""
    patient = patient_at(16.0)
    sitting = evaluate(patient, tonic(1.0), 1.0, "sitting")
    assert sitting.cathode_level == pytest.approx(16.0)
    assert sitting.csf_depth_mm == pytest.approx(4.88)
    assert round(sitting.pt_ma, 3) == 4.670
    assert round(evaluate(patient, tonic(1.0), 1.0, "supine").pt_ma, 3) == 2.832
    assert sitting.dt_ma == pytest.approx(1.6 * sitting.pt_ma)


def test_csf_depth_table_and_flat_ends() -> None:
    assert float(spine.csf_depth_mm(5.0, REF)) == 2.75
    assert float(spine.csf_depth_mm(13.0, REF)) == 6.2
    assert float(spine.csf_depth_mm(18.0, REF)) == 4.0
    assert float(spine.csf_depth_mm(2.0, REF)) == 2.75 and float(spine.csf_depth_mm(24.0, REF)) == 4.0


@pytest.mark.parametrize("level", [12.0, 15.0, 16.0, 17.5])
def test_thresholds_are_lowest_lying_on_the_back(level: float) -> None:
    patient = patient_at(level)
    pts = {p: evaluate(patient, tonic(1.0), 1.0, p).pt_ma for p in POSTURES}
    assert pts["supine"] < pts["sitting"] < pts["standing"] < pts["prone"]


def test_strength_duration_rate_mode_and_lateral_factors() -> None:
    patient = patient_at(16.0)
    pt300 = evaluate(patient, tonic(1.0), 1.0).pt_ma
    pt1000 = evaluate(patient, tonic(1.0, pw=1000), 1.0).pt_ma
    assert pt1000 / pt300 == pytest.approx((1 + 295 / 1000) / (1 + 295 / 300))
    fast = replace(tonic(1.0), rate_hz=1200)
    assert evaluate(patient, fast, 1.0).pt_ma == pytest.approx(pt300)  # rate changes no threshold
    b = Program(Mode.BURST, 600, 300, 40, MONO, recharge=Recharge.PASSIVE, burst_pulses=5, intraburst_rate_hz=500)
    assert evaluate(patient, b, 0.6).pt_ma == pytest.approx(0.8 * pt300)
    one_k = Program(Mode.HF, 1000, 30, 1000, MONO)
    ten_k = replace(one_k, rate_hz=10_000)
    assert evaluate(patient, one_k, 1.0).pt_ma == pytest.approx(evaluate(patient, ten_k, 1.0).pt_ma)
    lateral = patient_at(16.0, offset=-3.0)
    r = evaluate(lateral, tonic(1.0), 1.0)
    assert r.pt_ma == pytest.approx(0.8 * pt300)
    assert r.dt_ma == pytest.approx(1.6 * 0.85 * r.pt_ma)
    half = patient_at(16.0, offset=1.0)
    assert evaluate(half, tonic(1.0), 1.0).pt_ma == pytest.approx(0.9 * pt300)


def test_ten_khz_at_1_to_5_ma_is_paresthesia_free_for_the_reference_patient_at_t8_t9() -> None:
    for level in np.linspace(15.0, 16.0, 11):
        for posture in ("sitting", "standing"):
            patient = patient_at(float(level))
            for amp in np.arange(1.0, 5.01, 0.5):
                program = Program(Mode.HF, round(amp * 1000), 30, 10_000, MONO)
                r = evaluate(patient, program, float(amp), posture)
                assert r.sensation == "none" and r.regions == (), (level, posture, amp)
                assert not r.paresthesia_in_subperception


def test_ten_khz_band_top_can_be_felt_where_the_csf_is_thin_lying_down() -> None:
    patient = patient_at(17.0)
    program = Program(Mode.HF, 5000, 30, 10_000, MONO)
    r = evaluate(patient, program, 5.0, "supine")
    assert r.pt_ma < 5.0 and r.sensation == "tingling" and r.paresthesia_in_subperception


def test_burstdr_at_0_6_ma_sits_in_its_band_at_t9_t10() -> None:
    patient = patient_at(16.5)
    program = Program(Mode.BURST, 600, 1000, 40, MONO, recharge=Recharge.PASSIVE, burst_pulses=5,
                      intraburst_rate_hz=500)
    r = evaluate(patient, program, 0.6, "sitting")
    assert 0.2 * r.pt_ma <= 0.6 <= 0.9 * r.pt_ma
    assert r.sensation == "none" and r.relief_sub == pytest.approx(0.60)


# --- what is said, where it is felt ---------------------------------------------------------


def test_sensation_and_words_follow_the_thresholds() -> None:
    patient = patient_at(16.0)
    pt = evaluate(patient, tonic(1.0), 1.0).pt_ma
    dt = 1.6 * pt
    assert evaluate(patient, tonic(1.0), pt * 0.99).says == "I don't feel anything."
    mild = evaluate(patient, tonic(1.0), pt + 0.1 * (dt - pt))
    assert mild.sensation == "tingling" and mild.intensity == pytest.approx(0.1)
    assert mild.says == "Tingling in both buttocks and the backs of both thighs, mild."
    assert evaluate(patient, tonic(1.0), pt + 0.5 * (dt - pt)).says.endswith(", moderate.")
    assert evaluate(patient, tonic(1.0), pt + 0.7 * (dt - pt)).says.endswith(", strong.")
    too_much = evaluate(patient, tonic(1.0), dt)
    assert too_much.sensation == "uncomfortable" and too_much.intensity is None
    assert too_much.says == "That's uncomfortable."
    lateral = patient_at(16.0, offset=-3.0)
    assert evaluate(lateral, tonic(1.0), 20.0).says == "It's jolting, my muscles twitch."
    one_side = evaluate(lateral, tonic(1.0), evaluate(lateral, tonic(1.0), 1.0).pt_ma * 1.05)
    assert one_side.says == ("Tingling in my left buttock, the left side of my belly and the back of my left thigh, "
                             "mild.")
    assert all(rid.startswith("left_") for rid in one_side.regions)


def test_regions_are_the_thirty_of_the_table() -> None:
    assert len(RG.IDS) == 30 and len(set(RG.IDS)) == 30
    keys = {"head": 2.0, "neck": 3.0, "shoulder": 3.5, "arm": 4.5, "hand": 5.5, "chest": 7.5, "low_back": 15.0,
            "abdomen": 16.5, "buttock": 16.0, "back_thigh": 16.5, "front_thigh": 17.0, "knee": 17.5, "leg": 17.5,
            "foot": 18.5, "perineum": 19.5}
    for region in RG.REGIONS:
        assert region.id == f"{region.side}_{region.name}"
        assert region.key_level == keys[region.name]
        assert region.view in ("front", "back") and region.human and region.title
    assert RG.describe(["left_foot", "right_foot", "left_low_back"]) == \
        "the left side of my low back and both feet"


def _lowest_region(patient: Patient, program: Program, amp: float) -> float:
    r = evaluate(patient, program, amp)
    return max(RG.BY_ID[rid].key_level for rid in r.regions)


def test_coverage_moves_toward_the_feet_with_amplitude_and_pulse_width() -> None:
    patient = patient_at(16.0)
    pt = evaluate(patient, tonic(1.0), 1.0).pt_ma
    lows = [_lowest_region(patient, tonic(1.0), pt * f) for f in (1.0, 1.2, 1.4, 1.59)]
    assert lows == sorted(lows) and lows[-1] > lows[0]
    pw_lows = []
    for pw in (300, 500, 700, 1000):
        program = tonic(1.0, pw=pw)
        pt_pw = evaluate(patient, program, 1.0).pt_ma
        pw_lows.append(_lowest_region(patient, program, pt_pw * 1.05))
    assert pw_lows == sorted(pw_lows) and pw_lows[-1] > pw_lows[0]
    r = evaluate(patient, tonic(1.0), pt * 1.0)
    assert all(RG.BY_ID[rid].key_level >= 15.5 for rid in r.regions)  # at most half a level rostral


def test_chest_and_abdomen_only_from_a_lateral_cathode() -> None:
    mid = evaluate(patient_at(16.0), tonic(1.0), 7.0)
    assert "left_abdomen" not in mid.regions and "right_abdomen" not in mid.regions
    lateral = patient_at(16.0, offset=3.0)
    r = evaluate(lateral, tonic(1.0), evaluate(lateral, tonic(1.0), 1.0).pt_ma * 1.2)
    assert "right_abdomen" in r.regions and "left_abdomen" not in r.regions


def test_coverage_is_the_intensity_weighted_share_of_the_pain_map() -> None:
    patient = patient_at(16.0, pain={"left_buttock": 6, "left_foot": 2})
    r = evaluate(patient, tonic(1.0), 5.0)
    assert "left_buttock" in r.regions and "left_foot" not in r.regions
    assert r.coverage == pytest.approx(6 / 8)
    assert r.relief_paresthesia == pytest.approx(0.55 * 6 / 8)


def test_many_patients_at_once_agree_with_one_at_a_time() -> None:
    patient = patient_at(16.0)
    rng = np.random.default_rng(1)
    eps = rng.uniform(0.6, 1.6, 50)
    postures = rng.choice(POSTURES, 50)
    dd = np.array([REF.posture_shift_mm(str(p)) for p in postures])
    batch = evaluate_many(patient, tonic(5.0), 5.0, eps, dd)
    for i in range(50):
        one = evaluate(Patient(replace(REF, eps=float(eps[i])), patient.leads, patient.pain), tonic(5.0), 5.0,
                       str(postures[i]))
        assert batch.pt_ma[i] == pytest.approx(one.pt_ma)
        assert batch.coverage[i] == pytest.approx(one.coverage)
        assert ("none", "tingling", "uncomfortable")[int(batch.sensation[i])] == one.sensation


# --- relief over time --------------------------------------------------------------------------


def _good_tonic() -> tuple[Patient, Program, float]:
    patient = patient_at(16.0, pain={"left_buttock": 5})
    return patient, tonic(6.0), 6.0


def test_tonic_washes_in_with_five_minutes_and_out_with_five() -> None:
    patient, program, amp = _good_tonic()
    r = evaluate(patient, program, amp)
    assert r.relief_paresthesia == pytest.approx(0.55)
    assert relief_after(REF, r, 300).value == pytest.approx(0.55 * (1 - math.exp(-1)))
    state = Relief(REF)
    for _ in range(60):
        state.advance(10, r)
    assert state.value == pytest.approx(0.55 * (1 - math.exp(-600 / 300)))  # steps add up exactly
    off = state.value
    state.advance(300, None)
    assert state.value == pytest.approx(off * math.exp(-1))


def test_sub_perception_wash_in_and_out() -> None:
    patient = patient_at(16.5)
    ten_k = Program(Mode.HF, 3000, 30, 10_000, MONO)
    r = evaluate(patient, ten_k, 3.0)
    assert r.relief_sub == pytest.approx(0.65) and r.tau_sub_s == 24 * 3600
    assert relief_after(REF, r, 24 * 3600).value == pytest.approx(0.65 * (1 - math.exp(-1)))
    b = Program(Mode.BURST, 600, 1000, 40, MONO, recharge=Recharge.PASSIVE, burst_pulses=5, intraburst_rate_hz=500)
    rb = evaluate(patient, b, 0.6)
    assert rb.tau_sub_s == 12 * 3600
    state = relief_after(REF, rb, 12 * 3600)
    assert state.value == pytest.approx(0.60 * (1 - math.exp(-1)))
    before = state.value
    state.advance(3600, None)
    assert state.value == pytest.approx(before * math.exp(-1))  # one hour after burst
    one_k = Program(Mode.HF, 2000, 100, 1000, MONO)
    pt = evaluate(patient, one_k, 0.0).pt_ma
    assert evaluate(patient, one_k, 0.5 * pt).relief_sub == pytest.approx(0.60)
    assert evaluate(patient, one_k, 0.95 * pt).relief_sub == 0.0
    far = patient_at(14.5)
    assert evaluate(far, ten_k, 3.0).relief_sub == pytest.approx(0.65 * math.exp(-(2.0 ** 2) / 2), rel=1e-3)
    assert evaluate(patient, replace(ten_k, amplitude_ua=6000), 6.0).relief_sub == 0.0  # above the band


def test_relief_cap_responsiveness_and_tolerance() -> None:
    patient, program, amp = _good_tonic()
    r = evaluate(patient, program, amp)
    strong = replace(REF, responsiveness=2.0)
    assert relief_after(strong, r, 1e6).value == pytest.approx(0.95)
    weak = replace(REF, responsiveness=0.5)
    assert relief_after(weak, r, 1e6).value == pytest.approx(0.275)
    fading = replace(REF, tolerance_days=30.0)
    assert relief_after(fading, r, 30 * 86400).value == pytest.approx(0.55 * math.exp(-1))


def test_responder_and_remission_thresholds() -> None:
    state = Relief(replace(REF, baseline_vas=5.0))
    state.paresthesia = 0.5
    assert state.value == 0.5 and state.responder and state.vas == 2.5 and state.remission
    state.paresthesia = 0.4999
    assert not state.responder and not state.remission


def test_the_table_and_the_params_hold_the_same_keys() -> None:
    assert set(field_names()) == set(TABLE)
    defaults = Params()
    for f in fields(Params):
        row = TABLE[f.name]
        if row.kind == "label":
            assert getattr(defaults, f.name) == spine.parse_label(str(row.value))
        else:
            assert getattr(defaults, f.name) == row.value, f.name
        if row.kind == "number":
            assert row.low <= float(row.value) <= row.high, f.name  # type: ignore[arg-type]


def test_ten_khz_felt_above_threshold_keeps_its_sub_perception_relief() -> None:
    patient = patient_at(16.5, pain={"left_buttock": 5, "left_foot": 5})
    program = Program(Mode.HF, 5000, 30, 10_000, MONO)
    r = evaluate(patient, program, 5.0, "supine")
    assert r.felt and 0 < r.relief_paresthesia < r.relief_sub
    assert relief_after(REF, r, 30 * 86400).value == pytest.approx(0.65, rel=1e-6)  # the larger part wins
    assert relief_after(REF, r, 600).value == pytest.approx(r.relief_paresthesia * (1 - math.exp(-2)))
