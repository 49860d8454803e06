"""``stimsim loop``: the JSON figures, the trace, and the refusals (exit 2, one clear line)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from stimsim.cli import main
from stimsim.closedloop import runner as R
from stimsim.closedloop import schedule as SC
from stimsim.engine import files
from stimsim.patient import scenario as S
from stimsim.resources import programs_dir

PROGRAM = str(programs_dir() / "closed-loop" / "ecap-loop-t8.stimsim.json")  #: not among the examples the app loads
SCENARIO = "low-back-left-leg-t8"
KEYS = ["updates", "mean_abs_dev_uv", "time_in_window", "max_ecap_uv", "amp_min_ma", "amp_max_ma"]
BASE = ["loop", SCENARIO, "--program", PROGRAM, "--postures", "sitting:10,supine:20,cough@15"]
TONIC = str(programs_dir() / "tonic-50hz.stimsim.json")


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, Any]:
    assert main(argv) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def _refused(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    return capsys.readouterr().err


def _refused_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("stimsim loop: ")
    return lines[0]


def test_the_figures_in_order_with_the_programs_loop_or_the_one_asked_for(capsys: pytest.CaptureFixture[str]) -> None:
    closed = _json(capsys, BASE)  # the program says "loop": "ecap"
    assert list(closed) == KEYS
    assert closed == _json(capsys, [*BASE, "--loop", "ecap", "--target", "40", "--gain", "24"])
    opened = _json(capsys, [*BASE, "--loop", "open"])
    assert opened["updates"] == closed["updates"] == 1500
    assert opened["amp_min_ma"] == opened["amp_max_ma"] == 6.062
    assert closed["mean_abs_dev_uv"] < opened["mean_abs_dev_uv"] / 10
    assert closed["time_in_window"] > opened["time_in_window"]
    assert 1.0 <= closed["amp_min_ma"] < closed["amp_max_ma"] <= 8.0


def test_the_figures_are_the_runners(capsys: pytest.CaptureFixture[str]) -> None:
    scenario = S.load(S.find(SCENARIO))
    program = files.load(PROGRAM).program()
    setup = R.Loop(scenario.patient, program, scenario.device, 40.0, 24.0, closed=True, noise_uv=1.5, seed=9)
    expected = R.run_reference(setup, SC.parse("sitting:10,supine:20,cough@15")).figures(40.0)
    out = _json(capsys, [*BASE, "--noise", "1.5", "--seed", "9"])
    assert out == pytest.approx(expected.as_dict(), rel=1e-11)
    assert out != _json(capsys, [*BASE, "--noise", "1.5", "--seed", "10"])
    assert out != _json(capsys, [*BASE, "--noise", "1.5", "--seed", "9", "--gain", "12"])
    assert out != _json(capsys, [*BASE, "--noise", "1.5", "--seed", "9", "--target", "50"])
    quiet = _json(capsys, [*BASE, "--noise", "0"])
    assert quiet["mean_abs_dev_uv"] < out["mean_abs_dev_uv"]


def test_the_trace(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "trace.csv"
    figures = _json(capsys, [*BASE, "--out", str(out)])
    with out.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["t_s", "posture", "amplitude_ma", "ecap_uv"]
    body = rows[1:]
    assert len(body) == figures["updates"]
    assert body[0][:3] == ["0", "sitting", "6.062"]
    assert body[500][:2] == ["10", "supine"]  # a pulse on the change takes the new posture
    assert all(len(r[2].split(".")[1]) == 3 for r in body)
    amps = np.array([float(r[2]) for r in body])
    assert amps.min() == figures["amp_min_ma"] and amps.max() == figures["amp_max_ma"]
    ecap = np.array([float(r[3]) for r in body])
    assert abs(ecap.max() - figures["max_ecap_uv"]) <= 0.0005


@pytest.mark.parametrize("spec, says", [
    ("sitting:10,lying:5", "--postures 'lying:5': 'lying' is not a posture"),
    ("cough@3", "names no posture"),
    ("sitting:10,cough@12", "'cough@12' starts at or after the schedule's end (10 s)"),
    ("sitting:x", "'x' is not a number of seconds"),
])
def test_a_bad_schedule_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path, spec: str,
                                               says: str) -> None:
    out = tmp_path / "t.csv"
    argv = ["loop", SCENARIO, "--program", PROGRAM, "--postures", spec, "--out", str(out)]
    assert says in _refused_2(capsys, argv)
    assert not out.exists()


@pytest.mark.parametrize("extra, says", [
    (["--noise", "-1"], "argument --noise: -1 is not within 0..100 uV"),
    (["--noise", "nan"], "argument --noise: nan is not within 0..100 uV"),
    (["--seed", "1.5"], "'1.5' is not a whole number"),
    (["--target", "5"], "5 is not within 10..500 uV"),
    (["--gain", "101"], "101 is not within 1..100 uA/uV"),
    (["--loop", "pid"], "invalid choice: 'pid'"),
])
def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str], extra: list[str], says: str) -> None:
    err = _refused(capsys, [*BASE, *extra])
    assert says in err


def _program_file(tmp_path: Path, **changes: Any) -> str:
    data = json.loads(Path(PROGRAM).read_text())
    data["programs"][0].update(changes)
    path = tmp_path / "p.stimsim.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_bad_programs_are_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    argv = ["loop", SCENARIO, "--postures", "sitting:1"]
    zone = _program_file(tmp_path, amplitude_ma=10.0, limits={})
    line = _refused_2(capsys, [*argv, "--program", zone])
    assert "starts inside the charge-density zone, which the loop never enters without ACK=CHARGE" in line
    burst = _program_file(tmp_path, mode="burst", burst_pulses=5, intraburst_rate_hz=500, rate_hz=40,
                          recharge="passive", loop=None, target_uv=None, gain_ua_per_uv=None, sense=None)
    assert "the loop runs tonic programs (this one is burst)" in _refused_2(capsys, [*argv, "--program", burst])
    assert "no program in slot 4" in _refused_2(capsys, [*argv, "--program", PROGRAM, "--slot", "4"])
    broken = tmp_path / "broken.stimsim.json"
    broken.write_text("{")
    assert _refused_2(capsys, [*argv, "--program", str(broken)]).startswith(f"stimsim loop: {broken}: ")
    sense = _program_file(tmp_path, sense=["4", "8"])
    assert "sense: " in _refused_2(capsys, [*argv, "--program", sense])
    assert "--out x.txt: the file name must end in .csv" in _refused_2(capsys, [*BASE, "--out", "x.txt"])


def test_a_program_without_loop_keys_runs_open_with_the_tables_target(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["loop", SCENARIO, "--program", TONIC, "--postures", "sitting:2"]
    out = _json(capsys, argv)
    assert out["amp_min_ma"] == out["amp_max_ma"] == 3.5
    assert out["max_ecap_uv"] < 15.0  # 3.5 mA is below the ECAP threshold: only noise
    assert out["mean_abs_dev_uv"] == pytest.approx(50.0, abs=3.0)  # the table's default target
    line = _refused_2(capsys, [*argv, "--loop", "ecap"])
    assert "sense: missing (required for loop ecap" in line
