"""Program files name the device family in their device block; the family's rules apply."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stimsim.cli import main
from stimsim.engine import files
from stimsim.engine.params import Family


def _file(device: dict[str, Any] | None = None, **program: Any) -> str:
    prog = {"mode": "tonic", "amplitude_ma": 2, "pulse_width_us": 300, "rate_hz": 20,
            "electrodes": {"1": -100, "2": 100}, **program}
    data: dict[str, Any] = {"format": "stimsim.programs", "version": 1, "programs": [prog]}
    if device is not None:
        data["device"] = device
    return json.dumps(data)


def _problems(text: str) -> list[str]:
    with pytest.raises(files.FileError) as exc:
        files.loads(text)
    return list(exc.value.lines)


def test_the_family_defaults_to_the_rechargeable_scs_implant() -> None:
    pf = files.loads(_file())
    assert (pf.device.family, pf.device.chemistry) == (Family.SCS_R, "liion")


def test_a_drg_file_reads_with_the_drg_defaults() -> None:
    pf = files.loads(_file({"family": "DRG"}))
    assert (pf.device.family, pf.device.chemistry, pf.device.impedance("1")) == (Family.DRG, "primary", 800.0)


@pytest.mark.parametrize("family", ["XYZ", "drg", 3, None])
def test_an_unknown_family_is_refused_with_its_key_path(family: object) -> None:
    [line] = _problems(_file({"family": family}))
    assert line.startswith("device.family: ")
    assert line.endswith("is not one of SCS-R, SCS-P, ETS, DRG, SCS-CL")


@pytest.mark.parametrize(("device", "program", "line"), [
    ({"family": "DRG"}, {"mode": "hf", "pulse_width_us": 30, "rate_hz": 10000},
     "programs[0].mode: hf is not offered by the DRG (modes: tonic)"),
    ({"family": "DRG"}, {"amplitude_ma": 2.025},
     "programs[0].amplitude_ma: 2.025 is not on the 0.05 mA grid of amplitude (nearest 2.05)"),
    ({"family": "DRG"}, {"amplitude_ma": 6.05},
     "programs[0].amplitude_ma: 6.05 is above 6 for tonic (allowed 0..6 mA)"),
    ({"family": "DRG"}, {"limits": {"amplitude_max_ma": 1.99}},
     "programs[0].limits.amplitude_max_ma: 1.99 is not on the 0.025 mA grid of amplitude (nearest 2)"),
    ({"family": "DRG"}, {"electrodes": {"1": -100, "5": 100}},
     "programs[0].electrodes: lead A has no anode of its own (each lead in use needs a cathode and an anode on it)"),
    ({"family": "ETS"}, {"electrodes": {"1": -100, "case": 100}},
     "programs[0].electrodes.case: the external trial stimulator has no case to use as an anode"),
    ({"family": "DRG", "contact_impedance_ohm": {"case": 60}}, {},
     "device.contact_impedance_ohm.case: not a contact (1..16)"),
    ({"family": "ETS", "chemistry": "liion"}, {},
     'device.chemistry: "liion" is not a battery of the ETS (pack)'),
    ({"family": "SCS-P", "chemistry": "liion"}, {},
     'device.chemistry: "liion" is not a battery of the SCS-P (primary)'),
])
def test_every_rule_of_the_family_applies_to_the_file(device: dict[str, Any], program: dict[str, Any],
                                                      line: str) -> None:
    assert line in _problems(_file(device, **program))


def test_the_same_programs_read_on_the_default_family() -> None:
    files.loads(_file(amplitude_ma=2.025))
    files.loads(_file(electrodes={"1": -100, "case": 100}))


def test_a_family_survives_a_round_trip_and_the_default_is_not_written() -> None:
    pf = files.loads(_file({"family": "DRG", "contact_impedance_ohm": {"3": 900}}))
    data = files.to_data(pf)
    assert data["device"] == {"family": "DRG", "chemistry": "primary", "contact_impedance_ohm": {"3": 900}}
    assert files.loads(files.dumps(pf)) == pf
    assert "family" not in files.to_data(files.loads(_file()))["device"]


def test_battery_and_metrics_honour_the_family(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ets = tmp_path / "trial.stimsim.json"
    ets.write_text(_file({"family": "ETS"}, amplitude_ma=3, rate_hz=50, electrodes={"4": -100, "5": 100}))
    assert main(["battery", str(ets), "--hours-per-day", "24"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["chemistry"] == "pack"
    assert figures["hours_per_pack"] == pytest.approx(5700 / figures["battery_power_mw"])
    assert set(figures) == {"chemistry", "battery_power_mw", "hours_per_day", "hours_per_pack", "days_per_pack"}
    drg = tmp_path / "drg.stimsim.json"
    drg.write_text(_file({"family": "DRG"}, amplitude_ma=6))
    assert main(["metrics", str(drg)]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["load_ohm"] == pytest.approx(1600)
    assert metrics["max_density_uc_cm2"] == pytest.approx(1.8 / 0.039)
    assert "CHARGE_DENSITY" in metrics["warnings"]
