"""``stimsim simulate / metrics / battery``: keys, units, formats and exit statuses."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from stimsim.cli import main
from stimsim.resources import example_programs

TONIC = {
    "format": "stimsim.programs",
    "version": 1,
    "programs": [
        {"slot": 3, "name": "Hand check", "mode": "tonic", "amplitude_ma": 3, "pulse_width_us": 300,
         "rate_hz": 50, "electrodes": {"4": -100, "5": 100}},
    ],
}
METRIC_KEYS = {
    "mode", "pulses_per_s", "duty", "charge_per_phase_uc", "charge_per_s_uc", "mean_abs_current_ma",
    "rms_current_ma", "load_ohm", "rail_v", "compliance", "delivered_amplitude_ma", "tissue_power_mw",
    "battery_power_mw", "contacts", "max_shannon_k", "max_density_uc_cm2", "warnings",
}


@pytest.fixture
def tonic_file(tmp_path: Path) -> Path:
    path = tmp_path / "hand.stimsim.json"
    path.write_text(json.dumps(TONIC))
    return path


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_metrics_hand_checked(tonic_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    m = _json(capsys, ["metrics", str(tonic_file)])
    assert set(m) == METRIC_KEYS
    assert m["mode"] == "tonic"
    assert m["charge_per_phase_uc"] == pytest.approx(0.9)
    assert m["charge_per_s_uc"] == pytest.approx(90.0)
    assert m["pulses_per_s"] == pytest.approx(50)
    assert m["load_ohm"] == pytest.approx(524)
    assert m["rail_v"] == pytest.approx(3 * 0.524 + 1)
    assert m["compliance"] == "ok" and m["warnings"] == []
    assert [c["contact"] for c in m["contacts"]] == ["4", "5"]
    assert [c["fraction"] for c in m["contacts"]] == [-1.0, 1.0]


def test_metrics_slot_choice_and_missing_slot(tonic_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _json(capsys, ["metrics", str(tonic_file), "--slot", "3"])["mode"] == "tonic"
    assert main(["metrics", str(tonic_file), "--slot", "4"]) == 2
    assert "no program in slot 4 (the file has slots 3)" in capsys.readouterr().err


def test_battery_keys_per_chemistry(tonic_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    li = _json(capsys, ["battery", str(tonic_file)])
    assert set(li) == {"chemistry", "battery_power_mw", "hours_per_day", "hours_per_charge", "days_per_charge",
                       "charge_minutes_per_day"}
    assert li["chemistry"] == "liion" and li["hours_per_day"] == 24
    assert li["hours_per_charge"] == pytest.approx(703 / li["battery_power_mw"])
    prim = _json(capsys, ["battery", str(tonic_file), "--chemistry", "primary", "--hours-per-day", "8"])
    assert set(prim) == {"chemistry", "battery_power_mw", "hours_per_day", "years_to_eri", "years_to_eos"}
    assert prim["years_to_eos"] > prim["years_to_eri"] > 0


def test_every_example_gives_metrics_and_battery(capsys: pytest.CaptureFixture[str]) -> None:
    for path in example_programs():
        m = _json(capsys, ["metrics", str(path)])
        assert set(m) == METRIC_KEYS and m["battery_power_mw"] > 0, path.name
        b = _json(capsys, ["battery", str(path)])
        assert b["battery_power_mw"] == pytest.approx(m["battery_power_mw"]), path.name


def test_simulate_csv(tonic_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "i.csv"
    assert main(["simulate", str(tonic_file), "--duration", "0.1", "--sample-rate", "10000", "--out", str(out)]) == 0
    with out.open() as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["t_s", "current_ma"]
    data = np.array(rows[1:], dtype=float)
    assert data.shape == (1000, 2)
    assert data[1, 0] == pytest.approx(1e-4)
    # 5 pulses of -3 mA for 300 us and +3 mA for 300 us: charge balances, and is 0.9 uC a phase
    assert data[:, 1].sum() / 10_000 * 1000 == pytest.approx(0.0, abs=1e-9)
    assert -data[data[:, 1] < 0, 1].sum() / 10_000 * 1000 == pytest.approx(5 * 0.9)


def test_simulate_npy(tonic_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "i.npy"
    assert main(["simulate", str(tonic_file), "--duration", "0.02", "--sample-rate", "1e6", "--out", str(out)]) == 0
    arr = np.load(out)
    assert arr.dtype == np.float64 and arr.shape == (20_000, 2)
    assert arr[0, 1] == pytest.approx(-3.0) and arr[299, 1] == pytest.approx(-3.0) and arr[300, 1] == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["simulate", "{f}", "--duration", "1", "--sample-rate", "10", "--out", "{d}/x.txt"], "must end in .csv or .npy"),
        (["simulate", "{f}", "--duration", "-1", "--sample-rate", "10", "--out", "{d}/x.csv"], "must be a number above 0"),
        (["simulate", "{f}", "--duration", "0.01", "--sample-rate", "10", "--out", "{d}/x.csv"], "gives no sample"),
        (["simulate", "{f}", "--duration", "1e6", "--sample-rate", "1e6", "--out", "{d}/x.csv"], "at most"),
        (["battery", "{f}", "--hours-per-day", "25"], "not within 0..24"),
        (["metrics", "{d}/absent.json"], "no such file"),
    ],
)
def test_bad_usage_exits_2_with_one_clear_line(
    argv: list[str], message: str, tonic_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [a.format(f=tonic_file, d=tmp_path) for a in argv]
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main(argv))
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert not (tmp_path / "x.csv").exists()


def test_bad_file_prints_one_line_per_problem(tmp_path: Path) -> None:
    bad = json.loads(json.dumps(TONIC))
    bad["programs"][0].update(pulse_width_us=1500, rate_hz=5000)
    path = tmp_path / "bad.stimsim.json"
    path.write_text(json.dumps(bad))
    proc = subprocess.run([sys.executable, "-m", "stimsim", "metrics", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        f"stimsim metrics: {path}: programs[0].pulse_width_us: 1500 is above 1000 for tonic (allowed 20..1000 us)",
        f"stimsim metrics: {path}: programs[0].rate_hz: 5000 is above 1200 for tonic (allowed 2..1200 Hz)",
    ]
