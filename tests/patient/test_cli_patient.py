"""``stimsim patient`` and ``stimsim scenario list``: JSON keys, defaults, choices and refusals."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from stimsim.cli import main
from stimsim.patient import scenario as S
from stimsim.resources import example_scenarios, programs_dir

KEYS = ["posture", "mode", "amplitude_ma", "cathode_level", "cathode_offset_mm", "configuration", "csf_depth_mm",
        "pt_ma", "dt_ma", "sensation", "intensity", "says", "regions", "coverage", "relief", "vas", "responder",
        "remission"]


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, Any]:
    assert main(argv) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def test_the_keys_in_order_and_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(capsys, ["patient", "low-back-left-leg-t8"])
    assert list(out) == KEYS
    assert out["posture"] == "sitting" and out["mode"] == "tonic" and out["amplitude_ma"] == 2.0
    assert out["configuration"] == "longitudinal" and out["sensation"] == "none" and out["intensity"] is None
    assert out["says"] == "I don't feel anything." and out["regions"] == []
    assert out["relief"] == 0 and out["vas"] == 7.5 and out["responder"] is False and out["remission"] is False


def test_a_program_file_slot_posture_and_minutes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    program = {"format": "stimsim.programs", "version": 1, "device": {"chemistry": "primary"}, "programs": [
        {"slot": 2, "mode": "tonic", "amplitude_ma": 6.5, "pulse_width_us": 450, "rate_hz": 50,
         "electrodes": {"2": -50, "10": -50, "case": 100}}]}
    path = tmp_path / "p.stimsim.json"
    path.write_text(json.dumps(program))
    out = _json(capsys, ["patient", "low-back-left-leg-t8", "--program", str(path), "--slot", "2",
                         "--minutes", "5"])
    assert out["sensation"] == "tingling" and 0 < out["intensity"] < 1
    assert out["regions"] == sorted(out["regions"]) and "left_low_back" in out["regions"]
    assert out["coverage"] == 1.0
    assert out["relief"] == pytest.approx(0.55 * (1 - math.exp(-1)))
    assert out["vas"] == pytest.approx(7.5 * (1 - out["relief"]))
    supine = _json(capsys, ["patient", "low-back-left-leg-t8", "--program", str(path), "--posture", "supine"])
    assert supine["pt_ma"] < out["pt_ma"] and supine["csf_depth_mm"] == pytest.approx(out["csf_depth_mm"] - 1.0)
    assert supine["sensation"] == "uncomfortable" and supine["says"] == "That's uncomfortable."


def test_the_open_contact_limits_the_delivered_amplitude(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(capsys, ["patient", "open-contact"])
    assert out["amplitude_ma"] == pytest.approx(11000 / (5200 + 60))  # compliance-limited, not the 4 mA asked


def test_a_path_works_like_a_name(capsys: pytest.CaptureFixture[str]) -> None:
    by_name = _json(capsys, ["patient", "burst-wash-in", "--minutes", "1440"])
    by_path = _json(capsys, ["patient", str(S.find("burst-wash-in")), "--minutes", "1440"])
    assert by_name == by_path and by_name["relief"] > 0


@pytest.mark.parametrize("argv, message", [
    (["patient", "nowhere"], "no such file and no shipped scenario of that name"),
    (["patient", "low-back-left-leg-t8", "--slot", "7"], "no program in slot 7 (it has slots 1)"),
    (["patient", "low-back-left-leg-t8", "--program", "missing.stimsim.json"], "missing.stimsim.json: no such file"),
    (["patient", "primary-cell-near-eri", "--program", str(programs_dir() / "hf-10khz.stimsim.json")], ""),
])
def test_refusals_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(argv)
    err = capsys.readouterr().err
    if message:
        assert status == 2 and message in err
    else:
        assert status == 0  # a program file's own device does not replace the scenario's implant


def test_a_contact_the_patient_lacks_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    program = {"format": "stimsim.programs", "version": 1, "programs": [
        {"mode": "tonic", "amplitude_ma": 3, "pulse_width_us": 300, "rate_hz": 50, "electrodes": {"12": -100,
                                                                                                  "case": 100}}]}
    path = tmp_path / "b.stimsim.json"
    path.write_text(json.dumps(program))
    assert main(["patient", "posture-lateral-lying-down", "--program", str(path)]) == 2
    assert "contact 12 is on lead B, which this patient does not have" in capsys.readouterr().err


@pytest.mark.parametrize("minutes", ["-1", "nan", "x"])
def test_bad_minutes_are_usage_errors(minutes: str) -> None:
    with pytest.raises(SystemExit) as info:
        main(["patient", "burst-wash-in", "--minutes", minutes])
    assert info.value.code == 2


def test_scenario_list_names_each_shipped_scenario_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(example_scenarios())
    for line, path in zip(lines, example_scenarios(), strict=True):
        name, title = line.split(maxsplit=1)
        assert name == S.name_of(path) and title == S.load(path).title
