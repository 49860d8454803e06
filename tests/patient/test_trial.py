"""The trial: the diary model, the verdict and ``stimsim trial`` (both verdicts, the ETS rules, bad arguments)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from stimsim.cli import main
from stimsim.engine.params import Family
from stimsim.engine.program import DeviceModel
from stimsim.patient import scenario as S
from stimsim.patient import trial as T
from stimsim.patient.relief import relief_after

SUCCESS = "trial-lasting-relief"
FADES = "trial-relief-fades"


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, Any]:
    assert main(argv) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def _trial(name: str, hours: float = 24.0, slot: int = 0) -> T.Trial:
    sc = S.load(S.find(name))
    return T.Trial(sc.patient, sc.programs[slot], sc.device, hours)


def test_the_trial_scenarios_are_ets_patients_with_a_brief_and_goals() -> None:
    for name in (SUCCESS, FADES):
        sc = S.load(S.find(name))
        assert sc.family is Family.ETS and sc.device.chemistry == "pack"
        assert "trial" in sc.brief and sc.programs and sc.goals.minutes > 0


def test_seven_days_of_lasting_relief_make_a_candidate() -> None:
    trial = _trial(SUCCESS)
    report = trial.play(7)
    assert [e.day for e in report.days] == list(range(1, 8))
    # 10 kHz washes in with tau 24 h: day d is relief after d*24 h, the washed-in relief times the wash-in
    full = trial.response.relief_sub
    assert 0.6 < full <= 0.65 and trial.response.sensation == "none"
    for e in report.days:
        assert e.relief == pytest.approx(full * (1 - math.exp(-e.day)), rel=1e-9)
        assert e.vas == pytest.approx(7.5 * (1 - e.relief))
        assert e.hours == 24.0 and e.activity == pytest.approx(10 - e.vas)
    assert [e.medication_doses for e in report.days] == [2, 2, 2, 1, 1, 1, 1]
    last3 = sum(e.relief for e in report.days[-3:]) / 3
    assert report.mean_relief_last3 == pytest.approx(last3) and last3 >= 0.5
    assert report.candidate and report.verdict == "candidate for an implant"
    assert report.baseline_vas == 7.5


def test_relief_that_fades_makes_no_candidate() -> None:
    report = _trial(FADES).play(7)
    reliefs = [e.relief for e in report.days]
    assert reliefs[0] >= 0.5  # a responder the first evening ...
    assert all(b < a for a, b in zip(reliefs, reliefs[1:], strict=False))  # ... fading every day (tolerance 4 days)
    assert reliefs[6] == pytest.approx(reliefs[0] * math.exp(-6 / 4), rel=1e-6)
    assert report.mean_relief_last3 < 0.5 and not report.candidate
    assert report.verdict == "not a candidate for an implant"
    assert [e.medication_doses for e in report.days][-1] == 4 - round(4 * reliefs[6])


def test_day_d_is_relief_after_d_times_h_hours_of_stimulation() -> None:
    trial = _trial(SUCCESS, hours=8)
    for day in (1, 3, 7):
        state = relief_after(trial.patient.params, trial.response, day * 8 * 3600.0)
        assert trial.entry(day).relief == state.value and trial.entry(day).hours == 8
    assert trial.response.posture == "sitting"
    short = trial.play(3)
    assert short.mean_relief_last3 == pytest.approx(sum(e.relief for e in short.days) / 3)


def test_the_verdict_is_at_least_half_and_needs_three_days() -> None:
    entry = T.DiaryEntry(1, 0.5, 3.0, 24, 7.0, 2)
    assert T.report(6.0, [entry, entry, entry]).candidate
    below = T.DiaryEntry(1, 0.4999, 3.0, 24, 7.0, 2)
    assert not T.report(6.0, [entry, entry, below]).candidate
    assert not T.report(6.0, [entry, entry]).candidate  # two evenings are no trial yet


def test_a_case_anode_cannot_run_on_the_ets() -> None:
    sc = S.load(S.find("low-back-left-leg-t8"))
    from dataclasses import replace

    from stimsim.engine.program import Electrodes
    program = replace(sc.programs[0], electrodes=Electrodes.of({"4": -100, "case": 100}))
    assert T.ets_problems(sc.programs[0], sc.device) == []
    problems = T.ets_problems(program, sc.device)
    assert problems == ["electrodes.case: the external trial stimulator has no case to use as an anode"]
    with pytest.raises(ValueError, match="cannot run on the ETS"):
        T.Trial(sc.patient, program, sc.device)
    assert T.ets_device(sc.device).family is Family.ETS
    assert T.ets_device(DeviceModel().with_impedances({"3": 2000})).impedance("3") == 2000


def test_bad_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="3..10 days"):
        _trial(SUCCESS).play(2)
    with pytest.raises(ValueError, match="1..24 hours"):
        _trial(SUCCESS, hours=25)
    with pytest.raises(ValueError, match="count from 1"):
        _trial(SUCCESS).entry(0)


# --- stimsim trial ------------------------------------------------------------------------------------


def test_cli_both_verdicts_match_the_model(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(capsys, ["trial", SUCCESS])
    assert list(out)[:1] == ["days"] and {"days", "mean_relief_last3", "candidate", "baseline_vas"} <= set(out)
    model = _trial(SUCCESS).play(7)
    assert [d["day"] for d in out["days"]] == list(range(1, 8))
    assert [d["relief"] for d in out["days"]] == pytest.approx([e.relief for e in model.days], rel=1e-11)
    assert [d["vas"] for d in out["days"]] == pytest.approx([e.vas for e in model.days], rel=1e-11)
    assert out["candidate"] is True and out["baseline_vas"] == 7.5
    assert out["mean_relief_last3"] == pytest.approx(model.mean_relief_last3, rel=1e-11)
    fades = _json(capsys, ["trial", FADES])
    assert fades["candidate"] is False and fades["mean_relief_last3"] < 0.5


def test_cli_days_hours_and_slot(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(capsys, ["trial", SUCCESS, "--days", "3", "--hours", "12"])
    assert len(out["days"]) == 3 and all(d["hours"] == 12 for d in out["days"])
    day1 = _json(capsys, ["trial", SUCCESS, "--days", "3"])["days"][0]["relief"]
    assert out["days"][1]["relief"] == pytest.approx(day1, rel=1e-11)  # 2 x 12 h = 1 x 24 h
    tonic = _json(capsys, ["trial", SUCCESS, "--slot", "2", "--days", "10"])
    assert len(tonic["days"]) == 10 and tonic["candidate"] is False


def test_cli_a_program_file_with_a_case_anode_is_refused_in_words(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    program = {"format": "stimsim.programs", "version": 1, "device": {"chemistry": "liion"}, "programs": [
        {"slot": 3, "mode": "tonic", "amplitude_ma": 6.5, "pulse_width_us": 450, "rate_hz": 50,
         "electrodes": {"2": -50, "10": -50, "case": 100}}]}
    path = tmp_path / "p.stimsim.json"
    path.write_text(json.dumps(program))
    assert main(["trial", SUCCESS, "--program", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "cannot run on the ETS" in captured.err and "has no case to use as an anode" in captured.err
    program["programs"][0]["electrodes"] = {"2": -50, "10": -50, "3": 100}  # type: ignore[index]
    path.write_text(json.dumps(program))
    out = _json(capsys, ["trial", SUCCESS, "--program", str(path)])
    assert len(out["days"]) == 7


@pytest.mark.parametrize("args", [["--days", "2"], ["--days", "11"], ["--days", "7.5"], ["--hours", "0.5"],
                                  ["--hours", "25"], ["--hours", "nan"], ["--hours", "x"], ["--slot", "9"]])
def test_cli_bad_arguments_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        status = main(["trial", SUCCESS, *args])
        raise SystemExit(status)
    assert exc.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.strip()


def test_a_rehearsal_on_a_trial_scenario_scores_the_pack_in_days_per_pack() -> None:
    from stimsim.patient import SessionRecord, score

    sc = S.load(S.find(SUCCESS))
    part = score(sc, sc.programs[0], SessionRecord(minutes_taken=10, simulated_minutes=30)).part("battery")
    assert part.reason.endswith("days per pack (target 7)") and part.points == part.max_points


def test_cli_a_drg_patient_cannot_have_an_ets_trial(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main(["trial", "drg-knee-foot-l4-l5"]))
    assert exc.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "drives SCS leads; this patient has DRG leads" in captured.err
