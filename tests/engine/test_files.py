"""Program files: reading refuses bad input with one line per problem; writes are atomic."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from stimsim.engine import files
from stimsim.engine.params import Mode, Recharge
from stimsim.resources import example_programs

GOOD = {
    "format": "stimsim.programs",
    "version": 1,
    "device": {"chemistry": "liion", "contact_impedance_ohm": {"1": 262, "case": 60}},
    "programs": [
        {
            "slot": 1, "name": "Low back tonic", "mode": "tonic", "amplitude_ma": 3.5,
            "pulse_width_us": 300, "rate_hz": 50, "interphase_us": 0, "recharge": "active",
            "burst_pulses": None, "intraburst_rate_hz": None, "cycle_on_s": 0, "cycle_off_s": 0,
            "ramp_s": 0, "electrodes": {"4": -100, "5": 50, "6": 50},
            "limits": {"amplitude_min_ma": 0.5, "amplitude_max_ma": 6.0},
        }
    ],
}


def _load(data: object) -> files.ProgramFile:
    return files.loads(json.dumps(data), "p.stimsim.json")


def _errors(data: object) -> list[str]:
    with pytest.raises(files.FileError) as err:
        _load(data)
    return err.value.lines


def _edit(**changes: object) -> dict:
    data = json.loads(json.dumps(GOOD))
    data["programs"][0].update(changes)
    return data


def test_the_reference_example_reads() -> None:
    pf = _load(GOOD)
    prog = pf.program()
    assert (prog.mode, prog.amplitude_ua, prog.pulse_width_us, prog.rate_hz) == (Mode.TONIC, 3500, 300, 50)
    assert prog.electrodes.as_dict() == {"4": -100, "5": 50, "6": 50}
    assert (prog.limits.amplitude_min_ua, prog.limits.amplitude_max_ua) == (500, 6000)
    assert pf.device.impedance("1") == 262 and pf.device.impedance("case") == 60
    assert pf.device.impedance("7") == 262


def test_defaults_may_be_left_out() -> None:
    data = {"format": "stimsim.programs", "version": 1, "programs": [
        {"mode": "burst", "amplitude_ma": 0.6, "pulse_width_us": 1000, "rate_hz": 40,
         "burst_pulses": 5, "intraburst_rate_hz": 500, "electrodes": {"4": -100, "5": 100}}]}
    prog = _load(data).program()
    assert prog.slot == 1 and prog.recharge is Recharge.PASSIVE and prog.cycle_on_ms == 0
    assert _load(data).device.chemistry == "liion"


def test_out_of_range_names_the_path() -> None:
    assert _errors(_edit(pulse_width_us=1500)) == [
        "programs[0].pulse_width_us: 1500 is above 1000 for tonic (allowed 20..1000 us)"
    ]


def test_every_problem_gets_a_line() -> None:
    lines = _errors(_edit(pulse_width_us=1500, colour="red", rate_hz=5000))
    assert lines == [
        "programs[0].colour: unknown key",
        "programs[0].pulse_width_us: 1500 is above 1000 for tonic (allowed 20..1000 us)",
        "programs[0].rate_hz: 5000 is above 1200 for tonic (allowed 2..1200 Hz)",
    ]
    lines = _errors(_edit(pulse_width_us=1500, rate_hz=5000, ramp_s=11))
    assert len(lines) == 3 and all(line.startswith("programs[0].") for line in lines)


def test_type_errors_and_resolution() -> None:
    assert _errors(_edit(rate_hz="fast")) == ['programs[0].rate_hz: "fast" is not a number']
    assert _errors(_edit(amplitude_ma=3.5004)) == [
        "programs[0].amplitude_ma: 3.5004 is finer than the resolution (0.001 mA)"
    ]
    assert _errors(_edit(mode="pulsed")) == ['programs[0].mode: "pulsed" is not one of tonic, burst, hf']
    assert _errors(_edit(electrodes={"4": -100, "5": 99.5})) == ["programs[0].electrodes.5: 99.5 is not a whole percent"]


def test_infeasible_and_unsafe_are_refused() -> None:
    (line,) = _errors(_edit(rate_hz=1200, pulse_width_us=500))
    assert line.startswith("programs[0].pulse_width_us: 500 us does not fit one period at 1200 Hz")
    (line,) = _errors(_edit(amplitude_ma=13, limits={}))
    assert "per-contact limit" in line and line.startswith("programs[0].electrodes.4:")


def test_top_level_problems() -> None:
    assert _errors([1, 2]) == ["the file must hold a JSON object"]
    data = dict(GOOD, version=2)
    assert _errors(data) == ["version: must be 1 (found 2)"]
    assert _errors(dict(GOOD, programs=[])) == ["programs: must be a list of at least one program"]
    bad_dev = dict(GOOD, device={"chemistry": "nimh", "contact_impedance_ohm": {"20": 5}})
    assert _errors(bad_dev) == [
        'device.chemistry: "nimh" is not one of liion, primary',
        "device.contact_impedance_ohm.20: not a contact (1..16 or case)",
    ]


def test_duplicate_slots_and_keys() -> None:
    data = json.loads(json.dumps(GOOD))
    data["programs"].append(dict(data["programs"][0]))
    assert _errors(data) == ["programs[1].slot: slot 1 is already used by programs[0]"]
    with pytest.raises(files.FileError, match="appears twice"):
        files.loads('{"format": "stimsim.programs", "format": "x"}', "dup.json")


def test_invalid_json_says_where() -> None:
    with pytest.raises(files.FileError) as err:
        files.loads('{"format": \n "stimsim.programs",,}', "bad.json")
    assert err.value.lines[0].startswith("line 2 column")
    with pytest.raises(files.FileError, match="NaN is not a number"):
        files.loads(json.dumps(GOOD).replace("3.5", "NaN"), "nan.json")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(files.FileError, match="no such file"):
        files.load(tmp_path / "absent.stimsim.json")


def test_round_trip_through_save(tmp_path: Path) -> None:
    pf = _load(GOOD)
    target = tmp_path / "out.stimsim.json"
    files.save(pf, target)
    assert files.load(target) == pf
    assert [p.name for p in tmp_path.iterdir()] == ["out.stimsim.json"]


def test_failed_write_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "keep.stimsim.json"
    target.write_text("old content")

    def boom(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        files.save(_load(GOOD), target)
    assert target.read_text() == "old content"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.stimsim.json"]


def test_examples_ship_and_read() -> None:
    paths = example_programs()
    names = {p.name for p in paths}
    assert {"tonic-50hz.stimsim.json", "burstdr-40hz.stimsim.json", "hf-10khz.stimsim.json",
            "subperception-1khz.stimsim.json", "burst-cycled-30on-90off.stimsim.json"} <= names
    burst = files.load(next(p for p in paths if p.name.startswith("burstdr"))).program()
    assert (burst.rate_hz, burst.burst_pulses, burst.intraburst_rate_hz, burst.pulse_width_us) == (40, 5, 500, 1000)
    assert burst.recharge is Recharge.PASSIVE
    cycled = files.load(next(p for p in paths if p.name.startswith("burst-cycled"))).program()
    assert (cycled.cycle_on_ms, cycled.cycle_off_ms) == (30_000, 90_000)
