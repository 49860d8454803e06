"""Program files under hostile or careless input: one line per problem, never a traceback."""

from __future__ import annotations

import copy
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stimsim.cli import main
from stimsim.engine import atomic_file, files

PROGRAM: dict[str, Any] = {"slot": 1, "mode": "tonic", "amplitude_ma": 3, "pulse_width_us": 300, "rate_hz": 50,
                           "electrodes": {"4": -100, "5": 100}}


def _file(**changes: Any) -> dict[str, Any]:
    return {"format": "stimsim.programs", "version": 1, "programs": [{**copy.deepcopy(PROGRAM), **changes}]}


def _errors(text: str) -> list[str]:
    with pytest.raises(files.FileError) as err:
        files.loads(text, "p.stimsim.json")
    return err.value.lines


def _cli(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    path = tmp_path / "p.stimsim.json"
    path.write_text(text)
    code = main(["metrics", str(path)])
    return code, capsys.readouterr().err.splitlines()


@pytest.mark.parametrize(("change", "where"), [
    ({"amplitude_ma": 1e306}, "programs[0].amplitude_ma: 1e+306 is far outside any range (allowed 0..20 mA)"),
    ({"cycle_on_s": 1e308, "cycle_off_s": 1}, "programs[0].cycle_on_s: 1e+308 is far outside any range"),
    ({"limits": {"amplitude_max_ma": 1e308}}, "programs[0].limits.amplitude_max_ma: 1e+308 is far outside"),
])
def test_huge_finite_numbers_are_one_line_with_the_key_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: dict[str, Any], where: str
) -> None:
    code, err = _cli(tmp_path, json.dumps(_file(**change)), capsys)
    assert code == 2
    assert len(err) == 1 and where in err[0]


def test_an_integer_of_thousands_of_digits_names_its_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = json.dumps(_file(rate_hz=0)).replace('"rate_hz": 0', '"rate_hz": ' + "9" * 5000)
    code, err = _cli(tmp_path, text, capsys)
    assert code == 2
    assert len(err) == 1 and "programs[0].rate_hz: 999999999999... (a number of 5000 digits)" in err[0]


def test_deep_nesting_is_refused_before_the_parser_recurses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = json.dumps(_file(name="x")).replace('"x"', "[" * 3000 + "]" * 3000)
    code, err = _cli(tmp_path, text, capsys)
    assert code == 2
    assert len(err) == 1 and "programs[0].name[0][0]" in err[0] and "nested deeper than 32 levels" in err[0]


def test_a_file_over_one_mib_is_refused_before_reading(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _cli(tmp_path, json.dumps(_file(name="x" * (2 << 20))), capsys)
    assert code == 2 and len(err) == 1 and "larger than 1024 KiB" in err[0]


def test_an_endless_device_is_refused_at_once() -> None:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "stimsim", "metrics", "/dev/zero"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert "larger than 1024 KiB" in done.stderr
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("key", ["amplitude_ma", "pulse_width_us", "rate_hz"])
def test_a_null_required_value_is_missing(key: str) -> None:
    assert _errors(json.dumps(_file(**{key: None}))) == [f"programs[0].{key}: missing (required)"]


def test_a_null_burst_value_is_missing_for_burst() -> None:
    text = json.dumps(_file(mode="burst", rate_hz=40, pulse_width_us=1000, amplitude_ma=0.6, burst_pulses=None,
                            intraburst_rate_hz=500))
    assert _errors(text) == ["programs[0].burst_pulses: missing (required for burst)"]


@pytest.mark.parametrize("version", [True, 1.0, "1"])
def test_version_must_be_the_integer_one(version: object) -> None:
    data = _file()
    data["version"] = version
    assert _errors(json.dumps(data)) == [f"version: must be 1 (found {json.dumps(version)})"]


def test_a_key_cannot_forge_a_line_or_reach_the_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _file()
    data["programs"][0]["x\nprograms[0].rate_hz: forged"] = 1
    data["programs"][0]["\x1b[31mred"] = 1
    data["programs"][0]["electrodes"]["\x1b]0;title\x07"] = 100
    code, err = _cli(tmp_path, json.dumps(data), capsys)
    assert code == 2
    assert len(err) == 3
    assert not any("\x1b" in line or "\x07" in line for line in err)
    assert any('programs[0]."x\\nprograms[0].rate_hz: forged": unknown key' in line for line in err)
    assert any('programs[0]."\\u001b[31mred": unknown key' in line for line in err)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=12,
)
KEYS = ["slot", "name", "mode", "amplitude_ma", "pulse_width_us", "rate_hz", "interphase_us", "recharge",
        "burst_pulses", "intraburst_rate_hz", "cycle_on_s", "cycle_off_s", "ramp_s", "electrodes", "limits"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from([*KEYS, "version", "format", "device"]), value=JSON)
def test_any_json_value_in_any_key_is_read_or_refused_in_words(key: str, value: Any) -> None:
    data = _file()
    if key in ("version", "format", "device"):
        data[key] = value
    else:
        data["programs"][0][key] = value
    try:
        text = json.dumps(data)
    except (ValueError, OverflowError):
        return
    try:
        files.loads(text, "p.json")
    except files.FileError as exc:
        assert exc.lines and all(line and "\n" not in line for line in exc.lines)


# --- atomic writes --------------------------------------------------------------------


def test_a_rewrite_keeps_the_target_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")
    target.chmod(0o644)
    atomic_file.atomic_write_text(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644 and target.read_text() == "new"


def test_a_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        atomic_file.atomic_write_text(tmp_path / "new.csv", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o644


def test_a_failed_write_leaves_no_temporary_and_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")

    def boom(fh: Any) -> None:
        fh.write(b"half")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        atomic_file.atomic_write(target, boom)
    assert target.read_text() == "old"
    assert atomic_file.temporaries_of(target) == []


def test_the_next_write_removes_leftovers_of_killed_writers(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    leftover = tmp_path / f".out.csv.{dead.stdout.strip()}.0badc0de.tmp"
    leftover.write_bytes(b"x" * 1000)
    alive = tmp_path / f".out.csv.{os.getppid()}.0badc0de.tmp"  # a writer still running keeps its file
    alive.write_bytes(b"y")
    atomic_file.atomic_write_text(target, "new")
    assert not leftover.exists() and alive.exists()


def test_a_killed_simulate_leaves_nothing_the_next_run_keeps(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "resources" / "programs" / "tonic-50hz.stimsim.json"
    out = tmp_path / "trace.csv"
    cmd = [sys.executable, "-m", "stimsim", "simulate", str(example), "--duration", "20", "--sample-rate", "1e6",
           "--out", str(out)]
    proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not atomic_file.temporaries_of(out) and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    assert atomic_file.temporaries_of(out), "the writer was killed before it wrote"
    assert main(["simulate", str(example), "--duration", "0.01", "--sample-rate", "1000", "--out", str(out)]) == 0
    assert atomic_file.temporaries_of(out) == []


@pytest.mark.parametrize(("argv", "says"), [
    (["--out", "{tmp}"], "is a folder"),
    (["--out", "/proc/stimsim-test.csv"], "cannot write"),
    (["--duration", "1e200", "--sample-rate", "1e200", "--out", "{tmp}/a.csv"], "more than 1e308 samples"),
])
def test_simulate_refuses_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                      says: str) -> None:
    example = Path(__file__).resolve().parents[2] / "resources" / "programs" / "tonic-50hz.stimsim.json"
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    args = [a.replace("{tmp}", str(folder if a == "{tmp}" else tmp_path)) for a in argv]
    base = ["simulate", str(example), "--duration", "1", "--sample-rate", "1000"]
    assert main([*base, *args]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and says in err[0]


def test_the_docs_show_these_refusals_as_they_are_printed() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "files.md").read_text(encoding="utf-8")
    forged = _file()
    forged["programs"][0]["x\nprograms[0].rate_hz: forged"] = 1
    cases = [json.dumps(forged), json.dumps(_file(amplitude_ma=1e306)),
             json.dumps(_file(name="x")).replace('"x"', "[" * 40 + "]" * 40)]
    for text in cases:
        for line in _errors(text):
            assert f"p.stimsim.json: {line}\n" in docs
