"""The app over a real byte stream: the emulator on a pty, a silent pty, a lost link, restarts.

These start ``python -m stimsim emulate --pty`` (or ``--tcp``) as a separate process, as a
device engineer would, and check what the app shows and how fast.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from stimsim.app.launch import AppOptions, StimsimApp, example_slot_programs
from stimsim.app.model import Link
from stimsim.app.style import apply_style

from .conftest import LoopWatch

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")


class Emulator:
    """``stimsim emulate`` in a subprocess; ``url`` is what it printed after PORT."""

    def __init__(self, state: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "stimsim", "emulate", "--state", str(state), *args],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline().split()
        assert first[:1] == ["PORT"], f"emulator printed {first!r}"
        self.url = first[1]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture
def emulators(tmp_path: Path) -> Iterator[list[Emulator]]:
    started: list[Emulator] = []
    yield started
    for emu in started:
        emu.kill()


def _app(qtbot: QtBot, qapp: QApplication, url: str, programs: bool = True) -> StimsimApp:
    apply_style(qapp)
    opts = AppOptions(device=url, programs=example_slot_programs() if programs else None)
    app = StimsimApp(opts, ports=lambda: [])
    qtbot.addWidget(app.window)
    app.start()
    return app


def _connected(qtbot: QtBot, app: StimsimApp, slots: int = 5) -> None:
    qtbot.waitUntil(lambda: app.model.link is Link.CONNECTED and len(app.model.slots) == slots, timeout=10_000)


def test_emulator_over_pty_session_lost_link_and_new_connection(
        qtbot: QtBot, qapp: QApplication, tmp_path: Path, emulators: list[Emulator]) -> None:
    emulators.append(Emulator(tmp_path / "state", "--pty"))
    app = _app(qtbot, qapp, emulators[0].url)
    try:
        _connected(qtbot, app)
        assert app.model.identity.model == "STIMSIM-VG" and app.model.status.role == "PATIENT"
        app.worker.step_amplitude(+1)
        qtbot.waitUntil(lambda: app.model.status.amplitude_ua == 3600, timeout=3_000)

        # The device goes away: the app shows it within 1 s.
        emulators[0].kill()
        lost_at = time.monotonic()
        qtbot.waitUntil(lambda: app.model.link is not Link.CONNECTED, timeout=2_000)
        assert time.monotonic() - lost_at < 1.0
        assert app.window.remote.program_label.text() in ("Connection lost", "Not answering")
        assert app.window.device_panel.connect_button.text() == "Reconnect"

        # It comes back (its slots kept in --state) on a new pty: connecting re-reads it.
        emulators.append(Emulator(tmp_path / "state", "--pty"))
        app.worker.connect_device(emulators[1].url)
        _connected(qtbot, app)
        assert app.model.status.amplitude_ua == 3600  # read from the device, not remembered
    finally:
        app.shutdown()


def test_device_restart_during_a_session_is_reported_and_reread(
        qtbot: QtBot, qapp: QApplication, tmp_path: Path, emulators: list[Emulator]) -> None:
    emulators.append(Emulator(tmp_path / "state", "--pty"))
    app = _app(qtbot, qapp, emulators[0].url)
    try:
        _connected(qtbot, app)
        boot = app.model.identity.boot
        app.worker.toggle_stimulation()
        qtbot.waitUntil(lambda: app.model.status.stim_on, timeout=3_000)
        app.worker.send_line("SIM RESET")
        qtbot.waitUntil(lambda: app.model.identity.boot not in ("", boot), timeout=5_000)
        qtbot.waitUntil(lambda: "restarted" in app.model.notice.text, timeout=3_000)
        assert "nothing was re-sent" in app.model.notice.text
        assert app.model.link is Link.CONNECTED
        qtbot.waitUntil(lambda: not app.model.status.stim_on, timeout=3_000)  # a reboot stops stimulation
        assert len(app.model.slots) == 5
        events = app.window.device_panel.events
        assert any("started" in events.item(i).text() for i in range(events.count()))
    finally:
        app.shutdown()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_reconnect_to_the_same_url_says_the_device_restarted(
        qtbot: QtBot, qapp: QApplication, tmp_path: Path, emulators: list[Emulator]) -> None:
    port = _free_port()
    emulators.append(Emulator(tmp_path / "state", "--tcp", str(port)))
    app = _app(qtbot, qapp, emulators[0].url)
    try:
        _connected(qtbot, app)
        emulators[0].kill()
        qtbot.waitUntil(lambda: app.model.link is not Link.CONNECTED, timeout=2_000)
        emulators.append(Emulator(tmp_path / "state", "--tcp", str(port)))
        qtbot.mouseClick(app.window.device_panel.connect_button, qtbot_left())
        _connected(qtbot, app)
        assert "restarted since the last connection" in app.model.link_detail
    finally:
        app.shutdown()


def qtbot_left() -> object:
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def test_a_silent_device_never_blocks_the_window(qtbot: QtBot, qapp: QApplication) -> None:
    """A pty whose other end never answers: connect, press STOP, all with the loop turning."""
    master, slave = os.openpty()
    path = os.ttyname(slave)
    try:
        app = _app(qtbot, qapp, path, programs=False)
        qtbot.waitExposed(app.window)
        start = time.monotonic()  # (building the window is not the device's doing: a loaded machine is slow at it)
        qtbot.wait(50)
        assert app.model.link is Link.CONNECTING  # HELLO and its three resends take 800 ms
        with LoopWatch() as watch:
            app.worker.stop()  # nothing connected yet: said at once, never blocks
            qtbot.waitUntil(lambda: app.model.link is Link.NOT_ANSWERING, timeout=5_000)
            took = time.monotonic() - start
        assert watch.worst < 0.05, f"event loop blocked for {watch.worst * 1000:.0f} ms"
        assert took < 2.0
        assert "No answer from" in app.model.link_detail
        assert app.window.remote.program_label.text() == "Not answering"
    finally:
        app.shutdown()
        os.close(master)
        os.close(slave)


def test_a_device_that_falls_silent_shows_within_1_s_and_comes_back(
        qtbot: QtBot, qapp: QApplication, tmp_path: Path, emulators: list[Emulator]) -> None:
    emulators.append(Emulator(tmp_path / "state", "--pty"))
    app = _app(qtbot, qapp, emulators[0].url)
    proc = emulators[0].proc
    try:
        _connected(qtbot, app)
        qtbot.wait(50)
        with LoopWatch() as watch:
            proc.send_signal(signal.SIGSTOP)
            silent_at = time.monotonic()
            qtbot.waitUntil(lambda: app.model.link is Link.NOT_ANSWERING, timeout=2_000)
            shown = time.monotonic() - silent_at
            app.window.remote.stop_button.pressed.emit()  # STOP while silent: the window stays live
            qtbot.wait(300)
            proc.send_signal(signal.SIGCONT)
            qtbot.waitUntil(lambda: app.model.link is Link.CONNECTED, timeout=5_000)
        assert shown < 1.0
        assert watch.worst < 0.05, f"event loop blocked for {watch.worst * 1000:.0f} ms"
    finally:
        proc.send_signal(signal.SIGCONT)
        app.shutdown()


def test_a_lost_link_is_said_in_the_window_not_on_the_terminal(
        qtbot: QtBot, qapp: QApplication, tmp_path: Path, emulators: list[Emulator],
        capfd: pytest.CaptureFixture[str]) -> None:
    emulators.append(Emulator(tmp_path / "state", "--pty"))
    app = _app(qtbot, qapp, emulators[0].url)
    root = logging.getLogger()
    pytest_handlers = root.handlers[:]
    root.handlers.clear()  # as outside pytest: no handler, so Python would print warnings on stderr
    try:
        _connected(qtbot, app)
        emulators[0].kill()
        qtbot.waitUntil(lambda: app.model.link is Link.LOST, timeout=3_000)
        qtbot.wait(100)
        assert app.window.remote.program_label.text() == "Connection lost"
        assert "port closed" in app.window.device_panel.banner.text()
        assert "link lost" in app.window.device_panel.console.toPlainText().lower()
    finally:
        root.handlers[:] = pytest_handlers
        app.shutdown()
    out, err = capfd.readouterr()
    assert err.strip() == "" and "readiness" not in out


def test_the_app_judges_programs_under_the_family_the_device_says(qtbot: QtBot, qapp: QApplication) -> None:
    from stimsim.engine.params import Family
    from stimsim.generator import urlhandler

    gen = urlhandler.new_generator(rng_seed=3, family=Family.DRG)
    url = urlhandler.register_generator("drg-family", gen)
    try:
        app = _app(qtbot, qapp, url, programs=False)
        try:
            qtbot.waitUntil(lambda: app.model.device_model.family is Family.DRG, timeout=5_000)
            assert app.model.device_model.chemistry == "primary"
        finally:
            app.shutdown()
    finally:
        urlhandler.unregister_generator("drg-family")
