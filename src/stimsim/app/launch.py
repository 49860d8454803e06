"""Starting the app: options, the built-in generator, the window, the screenshot path.

``StimsimApp`` wires the model, the device worker and the window together, so the
command line, the tests and the benchmark all start exactly the same app.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QMessageLogContext, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from ..device.limits import DEFAULT_PIN
from ..engine import files
from ..engine.program import Program
from ..resources import example_programs
from .model import AppModel, Link
from .style import apply_style
from .timeline import EnvelopeFn
from .widgets.annotations import PulseStartsFn
from .widgets.device_panel import PortLister, serial_ports
from .worker import DeviceWorker

#: The example programs go to slots 1..5 in this order (a plain tonic program first).
EXAMPLE_ORDER = ("tonic-50hz", "burstdr-40hz", "hf-10khz", "subperception-1khz", "burst-cycled-30on-90off")
SCREENSHOT_SETTLE_MS = 400  #: let the scope draw a few frames before the window is captured
SCREENSHOT_TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class AppOptions:
    device: str | None = None  #: URL of a stimulator; None: the built-in virtual generator
    programs: tuple[Program, ...] | None = None  #: written to the device at start (None: examples, built-in only)
    presentation: bool = False
    screenshot: Path | None = None
    pin: str = DEFAULT_PIN


def example_slot_programs() -> tuple[Program, ...]:
    """The packaged example programs, one per slot from 1, in :data:`EXAMPLE_ORDER`."""
    paths = example_programs()
    rank = {name: i for i, name in enumerate(EXAMPLE_ORDER)}
    paths.sort(key=lambda p: (rank.get(p.name.removesuffix(".stimsim.json"), len(rank)), p.name))
    out: list[Program] = []
    for path in paths:
        for prog in files.load(path).programs:
            out.append(replace(prog, slot=len(out) + 1))
    return tuple(out)


def program_file_programs(path: str | os.PathLike[str]) -> tuple[Program, ...]:
    """The programs of a program file (raises files.FileError naming every problem)."""
    return files.load(path).programs


def builtin_generator_url() -> str:
    """Create the built-in virtual generator once per process and register it by name.

    A registered generator outlives a disconnect, so "Reconnect" finds the same device
    with its slots and battery, as with a board on a cable.
    """
    global _builtin_url
    if _builtin_url is None:
        from ..device import transport

        _builtin_url = transport.register_generator("builtin", transport.new_generator())
    return _builtin_url


_builtin_url: str | None = None


def default_envelope() -> EnvelopeFn:
    from ..engine import waveform

    return waveform.envelope


def default_pulse_starts() -> PulseStartsFn:
    from ..engine import schedule

    return schedule.pulse_starts


class StimsimApp:
    """The whole app: model, worker (device thread) and main window."""

    def __init__(self, options: AppOptions = AppOptions(), *, ports: PortLister = serial_ports,
                 envelope: EnvelopeFn | None = None, pulse_starts: PulseStartsFn | None = None,
                 builtin_url: str | None = None) -> None:
        """``builtin_url``: another registered virtual generator to use as the built-in one (tests)."""
        from .main_window import MainWindow  # after QApplication exists

        self.options = options
        self.builtin_url = builtin_url or builtin_generator_url()
        self.model = AppModel()
        self.worker = DeviceWorker(self.model, builtin_url=self.builtin_url)
        self.window = MainWindow(
            self.model, self.worker, envelope or default_envelope(),
            pulse_starts=pulse_starts or default_pulse_starts(), builtin_url=self.builtin_url, ports=ports,
            on_close=self.shutdown,
        )
        self._closed = False

    @property
    def url(self) -> str:
        return self.options.device or self.builtin_url

    def start(self) -> None:
        """Show the window and connect; load programs as the options say."""
        self.window.resize(1280, 800)
        self.window.show()
        self.window.device_panel.refresh_ports()
        url = self.url
        if url != self.builtin_url:
            self.window.device_panel.port_box.setEditText(url)
        self.worker.connect_device(url)
        programs = self.options.programs
        if programs is None and self.options.device is None:
            programs = example_slot_programs()
        if programs:
            self.worker.load_programs(programs, self.options.pin)

    def shutdown(self) -> None:
        if not self._closed:
            self._closed = True
            self.window.scope.stop_timers()
            self.worker.shutdown()


def run(options: AppOptions, argv: Sequence[str] | None = None) -> int:
    """Run the app until its window closes (or, with a screenshot, until it is written)."""
    started = time.perf_counter()
    drop_offscreen_noise()
    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    assert isinstance(app, QApplication)
    app.setApplicationName("stimsim")
    app.setApplicationDisplayName("stimsim")
    apply_style(app, presentation=options.presentation)
    stim = StimsimApp(options)
    app.aboutToQuit.connect(stim.shutdown)
    stim.start()
    if options.screenshot is not None:
        return _screenshot(app, stim, options.screenshot, started)
    return app.exec()


_OFFSCREEN_NOISE = "This plugin does not support propagateSizeHints()"


def drop_offscreen_noise() -> None:
    """Qt's offscreen platform warns on every window resize; a screenshot run need not say so."""
    if os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        return

    def handler(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if message != _OFFSCREEN_NOISE:
            sys.stderr.write(message + "\n")

    qInstallMessageHandler(handler)


def _screenshot(app: QApplication, stim: StimsimApp, path: Path, started: float) -> int:
    """Capture the window once it shows the device (or after a timeout), then quit."""
    result = {"code": 1, "done": 0}
    want_setup = stim.options.programs is not None or stim.options.device is None

    def capture() -> None:
        if result["done"]:
            return
        result["done"] = 1
        pixmap = stim.window.grab()
        path.parent.mkdir(parents=True, exist_ok=True)
        if pixmap.save(str(path), "PNG"):
            result["code"] = 0
            print(f"wrote {path} ({pixmap.width()}x{pixmap.height()}) "
                  f"{time.perf_counter() - started:.2f} s after start", file=sys.stderr)
        else:
            print(f"stimsim gui: cannot write the screenshot {path}", file=sys.stderr)
        stim.shutdown()
        app.quit()

    def settle(*_args: object) -> None:
        QTimer.singleShot(SCREENSHOT_SETTLE_MS, capture)

    if want_setup:
        stim.worker.setupFinished.connect(lambda _name, _failed: settle())
    else:
        stim.worker.connectFinished.connect(settle)
    stim.model.linkChanged.connect(
        lambda: settle() if stim.model.link in (Link.DISCONNECTED, Link.NOT_ANSWERING, Link.LOST)
        and stim.model.link_detail.startswith(("Cannot", "No answer")) else None)
    QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, capture)
    app.exec()
    return result["code"]
