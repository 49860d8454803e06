"""``stimsim gui``: the screenshot path, scaling, and clear refusals of bad options."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from stimsim.resources import example_programs


def _gui(*args: str, scale: str | None = None, display: bool = True) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    if not display:
        for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
            env.pop(name, None)
    if scale:
        env["QT_SCALE_FACTOR"] = scale
    return subprocess.run([sys.executable, "-m", "stimsim", "gui", *args], capture_output=True, text=True,
                          env=env, timeout=60)


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_screenshot_writes_the_window_and_exits(tmp_path: Path) -> None:
    out = tmp_path / "app.png"
    done = _gui("--screenshot", str(out))
    assert done.returncode == 0, done.stderr
    assert _png_size(out) == (1280, 800)


@pytest.mark.parametrize("scale", ["2"])
def test_screenshot_at_display_scaling(tmp_path: Path, scale: str) -> None:
    out = tmp_path / "app.png"
    done = _gui("--screenshot", str(out), "--presentation", scale=scale)
    assert done.returncode == 0, done.stderr
    width, height = _png_size(out)
    # drawn at the display's scale (presentation mode may widen the window a little)
    assert height == int(800 * float(scale)) and 1280 * float(scale) <= width <= 1500 * float(scale)


def test_programs_file_is_written_to_the_device(tmp_path: Path) -> None:
    data = json.loads(example_programs()[0].read_text())
    data["programs"][0]["slot"] = 7
    path = tmp_path / "mine.stimsim.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "app.png"
    done = _gui("--programs", str(path), "--screenshot", str(out))
    assert done.returncode == 0, done.stderr
    assert out.exists()


def test_a_bad_programs_file_is_refused_with_one_clear_line_per_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.stimsim.json"
    path.write_text('{"format": "stimsim.programs", "version": 1, "programs": [{"mode": "tonic", "rate_hz": 50}]}')
    done = _gui("--programs", str(path), "--screenshot", str(tmp_path / "x.png"))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert [line.split(": ", 2)[2] for line in lines] == [
        "programs[0].amplitude_ma: missing (required)",
        "programs[0].pulse_width_us: missing (required)",
        "programs[0].electrodes: missing (required)",
    ]
    assert all(line.startswith(f"stimsim gui: {path}: ") for line in lines)
    assert not (tmp_path / "x.png").exists()


def test_screenshot_must_be_a_png(tmp_path: Path) -> None:
    done = _gui("--screenshot", str(tmp_path / "x.jpg"))
    assert done.returncode == 2 and "must end in .png" in done.stderr


def test_without_a_display_the_window_says_what_is_missing(tmp_path: Path) -> None:
    done = _gui(display=False)
    assert done.returncode == 2
    assert "no display to open the window on" in done.stderr and "xvfb-run" in done.stderr


def test_a_screenshot_needs_no_display(tmp_path: Path) -> None:
    out = tmp_path / "app.png"
    done = _gui("--screenshot", str(out), display=False)
    assert done.returncode == 0, done.stderr
    assert _png_size(out) == (1280, 800)
    assert "propagateSizeHints" not in done.stderr  # offscreen noise is not the user's business


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
def test_programs_need_the_stimulators_pin(tmp_path: Path) -> None:
    from .test_device_link import Emulator

    emu = Emulator(tmp_path / "state", "--pty", "--pin", "1234")
    try:
        program = str(example_programs()[0])
        out = tmp_path / "app.png"
        refused = _gui("--device", emu.url, "--programs", program, "--screenshot", str(out))
        assert refused.returncode == 1
        assert f"stimsim gui: --programs {program}: nothing was written: Wrong PIN" in refused.stderr
        assert "--pin" in refused.stderr.split("Wrong PIN", 1)[1]
        assert not out.exists()
        written = _gui("--device", emu.url, "--programs", program, "--pin", "1234", "--screenshot", str(out))
        assert written.returncode == 0, written.stderr
        assert out.exists()
    finally:
        emu.kill()


@pytest.mark.parametrize(("args", "words"), [
    (("--pin", "12a4"), "--pin 12a4: a PIN is 4 to 8 digits"),
    (("--pin", "123"), "a PIN is 4 to 8 digits"),
    (("--slot", "17"), "--slot 17: slots are 1 to 16"),
    (("--time-per-screen", "3ms"), "'3ms' is not a time per screen"),
    (("--amp", "4,5"), "--amp 4,5: an amplitude is a number of mA, e.g. 4.5"),
    (("--amp", "nan"), "--amp nan: an amplitude is a number of mA"),
])
def test_bad_start_options_are_refused(tmp_path: Path, args: tuple[str, ...], words: str) -> None:
    done = _gui(*args, "--screenshot", str(tmp_path / "x.png"))
    assert done.returncode == 2 and words in done.stderr
    assert not (tmp_path / "x.png").exists()


def test_the_readme_screenshot_command_shows_an_annotated_burst(tmp_path: Path) -> None:
    out = tmp_path / "app.png"
    done = _gui("--slot", "2", "--stim-on", "--annotate", "--time-per-screen", "50ms", "--screenshot", str(out))
    assert done.returncode == 0, done.stderr
    assert _png_size(out) == (1280, 800)


def test_a_refused_start_slot_is_an_error(tmp_path: Path) -> None:
    done = _gui("--slot", "9", "--screenshot", str(tmp_path / "x.png"))  # the examples fill slots 1..5
    assert done.returncode == 1 and "That program slot is empty" in done.stderr


def test_an_amplitude_beyond_the_patient_limit_at_start_is_an_error(tmp_path: Path) -> None:
    done = _gui("--slot", "1", "--amp", "25", "--screenshot", str(tmp_path / "x.png"))
    assert done.returncode == 1 and "(--slot, --stim-on, --amp) was refused" in done.stderr


def test_login_at_start_unlocks_the_clinician_view_and_a_wrong_pin_exits_1(tmp_path: Path) -> None:
    from .test_device_link import Emulator

    emu = Emulator(tmp_path / "state", "--pty", "--pin", "1234")
    try:
        out = tmp_path / "clinician.png"
        refused = _gui("--device", emu.url, "--view", "clinician", "--login", "--screenshot", str(out))
        assert refused.returncode == 1 and not out.exists()
        assert "--login: the clinician login was refused: Wrong PIN" in refused.stderr
        done = _gui("--device", emu.url, "--view", "clinician", "--login", "--pin", "1234", "--no-device-panel",
                    "--screenshot", str(out))
        assert done.returncode == 0, done.stderr
        assert out.exists()
    finally:
        emu.kill()


def test_login_and_no_device_panel_options_in_the_app(qtbot: object, qapp: object, tmp_path: Path) -> None:
    from pytestqt.qtbot import QtBot

    from stimsim.app.launch import AppOptions, StimsimApp

    assert isinstance(qtbot, QtBot)
    stim = StimsimApp(AppOptions(login=True, device_panel=False, view="clinician", data_dir=tmp_path))
    try:
        stim.start()
        qtbot.waitUntil(lambda: stim.window.clinician.logged_in, timeout=5_000)
        assert stim.window.splitter.sizes()[1] == 0
        assert not stim.window.device_panel_action.isChecked()
    finally:
        stim.shutdown()
        stim.window.close()


def test_an_unknown_scenario_is_refused_naming_the_shipped_ones(tmp_path: Path) -> None:
    done = _gui("--scenario", "nope", "--screenshot", str(tmp_path / "x.png"))
    assert done.returncode == 2 and "--scenario nope: no such scenario (shipped: " in done.stderr
    assert "low-back-left-leg-t8" in done.stderr and not (tmp_path / "x.png").exists()


def test_a_scenario_at_start_puts_its_patient_and_programs_up(qtbot: object, qapp: object, tmp_path: Path) -> None:
    from pytestqt.qtbot import QtBot

    from stimsim.app.launch import AppOptions, StimsimApp
    from stimsim.patient import scenario as S

    assert isinstance(qtbot, QtBot)
    scenario = S.load(S.find("low-back-left-leg-t8"))
    stim = StimsimApp(AppOptions(scenario="low-back-left-leg-t8", stim_on=True, data_dir=tmp_path))
    try:
        with qtbot.waitSignal(stim.worker.setupFinished, timeout=10_000):
            stim.start()
        qtbot.waitUntil(lambda: stim.model.status.stim_on and 1 in stim.model.slots, timeout=5_000)
        assert stim.window.faces.currentWidget() is stim.window.patient_view
        session = stim.window.patient_view.session
        assert session.scenario is not None and session.scenario.name == scenario.name
        assert stim.model.slots[1].name == scenario.programs[0].name  # (the built-in generator is shared in a process)
        assert 790 <= (stim.model.status.battery_permille or 0) <= 800  # the scenario's implant: 80 %
    finally:
        stim.shutdown()
        stim.window.close()


def test_amp_at_start_sets_the_scenario_program_so_the_patient_feels_it(qtbot: object, qapp: object,
                                                                        tmp_path: Path) -> None:
    from pytestqt.qtbot import QtBot

    from stimsim.app.launch import AppOptions, StimsimApp

    assert isinstance(qtbot, QtBot)
    stim = StimsimApp(AppOptions(scenario="low-back-left-leg-t8", stim_on=True, amp_ua=6200, data_dir=tmp_path))
    try:
        with qtbot.waitSignal(stim.worker.setupFinished, timeout=10_000):
            stim.start()
        qtbot.waitUntil(lambda: stim.model.status.stim_on and stim.model.status.amplitude_ua == 6200, timeout=5_000)
        session = stim.window.patient_view.session
        qtbot.waitUntil(lambda: session.response is not None and session.response.felt, timeout=5_000)
        assert session.dialogue[-1].text.startswith("Tingling in ")
    finally:
        stim.shutdown()
        stim.window.close()
