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

from PySide6.QtCore import QMessageLogContext, QSize, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QWidget

from ..engine import files
from ..engine import params as P
from ..engine.program import Program
from ..host.limits import DEFAULT_PIN
from ..resources import example_programs
from . import app_log
from .family_programs import family_examples
from .messages import WRONG_PIN
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
WINDOW_SIZE = QSize(1280, 800)  #: the first size, on a screen that has room (and of every screenshot)


@dataclass(frozen=True)
class AppOptions:
    device: str | None = None  #: URL of a stimulator; None: the built-in virtual generator
    programs: tuple[Program, ...] | None = None  #: written to the device at start (None: examples, built-in only)
    presentation: bool = False
    screenshot: Path | None = None
    pin: str = DEFAULT_PIN  #: the clinician PIN --programs logs in with
    programs_file: str = ""  #: where ``programs`` came from, for messages
    slot: int | None = None  #: make this slot active at start
    stim_on: bool = False  #: turn stimulation on at start
    amp_ua: int | None = None  #: set the active program's amplitude at start (uA), as the remote would
    annotate: bool = False  #: scope annotations on at start
    time_per_screen: float | None = None  #: the scope's time per screen at start (s)
    data_dir: Path | None = None  #: records, autosave, recent files (None: $STIMSIM_DATA_DIR or the user's folder)
    login: bool = False  #: log in as clinician at start with ``pin``
    scenario: str = ""  #: start this shipped rehearsal scenario (its programs instead of the examples)
    device_panel: bool = True  #: False: start with the device panel collapsed (Ctrl+D shows it)
    view: str = ""  #: bring this view forward at start (remote = the scope with the remote)
    family: P.Family | None = None  #: the built-in generator's family (None: the scenario's, else SCS-R)


def example_slot_programs(family: P.Family = P.Family.SCS_R) -> tuple[Program, ...]:
    """The packaged example programs, one per slot from 1, in :data:`EXAMPLE_ORDER`, made to fit
    ``family`` (those of a mode it lacks left out; see ``family_programs``)."""
    paths = example_programs()
    rank = {name: i for i, name in enumerate(EXAMPLE_ORDER)}
    paths.sort(key=lambda p: (rank.get(p.name.removesuffix(".stimsim.json"), len(rank)), p.name))
    out: list[Program] = []
    for path in paths:
        for prog in files.load(path).programs:
            out.append(replace(prog, slot=len(out) + 1))
    return family_examples(tuple(out), family)


def program_file_programs(path: str | os.PathLike[str]) -> tuple[Program, ...]:
    """The programs of a program file (raises files.FileError naming every problem)."""
    return files.load(path).programs


def builtin_generator_url(family: P.Family = P.Family.SCS_R) -> str:
    """Create the built-in virtual generator of ``family`` once per process and register it by
    name (``virtual://builtin``, another family's ``virtual://builtin-drg``...).

    A registered generator outlives a disconnect, so "Reconnect" finds the same device
    with its slots and battery, as with a board on a cable.
    """
    url = _builtin_urls.get(family)
    if url is None:
        from ..generator import urlhandler

        urlhandler.register()
        name = "builtin" if family is P.Family.SCS_R else f"builtin-{family.value.lower()}"
        url = urlhandler.register_generator(name, urlhandler.new_generator(family=family))
        _builtin_urls[family] = url
    return url


_builtin_urls: dict[P.Family, str] = {}


def scenario_family(name: str) -> P.Family:
    """The device family of a shipped scenario (SCS-R where the scenario names none)."""
    from ..patient import scenario as scenarios

    try:
        loaded = scenarios.load(scenarios.find(name))
    except files.FileError:
        return P.Family.SCS_R  # the Patient view says what is wrong with it when it starts the scenario
    return loaded.family


def start_family(options: AppOptions) -> P.Family:
    """The family of the built-in generator: ``--family``, else the scenario's, else SCS-R."""
    if options.family is not None:
        return options.family
    return scenario_family(options.scenario) if options.scenario else P.Family.SCS_R


def builtin_implant_url() -> str:
    """The built-in SCS-R implant a trial's programs can be transferred to: created once per
    process and registered by name, so it keeps what was written to it."""
    global _implant_url
    if _implant_url is None:
        from ..generator import urlhandler

        urlhandler.register()
        _implant_url = urlhandler.register_generator(
            "implant", urlhandler.new_generator(family=P.Family.SCS_R, sn=IMPLANT_SN))
    return _implant_url


IMPLANT_SN = "IPG-TRIAL-01"  #: the built-in implant's serial number (not the trial stimulator's)
_implant_url: str | None = None


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
        self.family = start_family(options)
        self.builtin_url = builtin_url or builtin_generator_url(self.family)
        self.model = AppModel()
        self.worker = DeviceWorker(self.model, builtin_url=self.builtin_url)
        self.window = MainWindow(
            self.model, self.worker, envelope or default_envelope(),
            pulse_starts=pulse_starts or default_pulse_starts(), builtin_url=self.builtin_url, ports=ports,
            on_close=self.shutdown, presentation=options.presentation,
        )
        self._log = app_log.install(self.worker.link.note)
        self.window.patient_view.pin = options.pin  # the patient view writes scenarios with the known PIN
        self.window.patient_view.implant_for = self.implant_for
        self.window.trial_view.implant_url = builtin_implant_url()  # the transfer's built-in SCS-R implant
        from .records.data_folder import data_folder
        from .records.session import SessionFiles

        self.session = SessionFiles(self.window, self.model, self.worker, data_folder(options.data_dir))
        self.setup_error = ""  #: why --programs was not written ("" when it was, or was not asked)
        self.worker.setupFinished.connect(self._setup_finished)
        self._closed = False

    @property
    def url(self) -> str:
        return self.options.device or self.builtin_url

    def start(self) -> None:
        """Show the window and connect; load programs and set the start state as the options say."""
        self.window.resize(first_size(self.window))
        self.window.show()
        self.window.share_height()
        self.window.device_panel.refresh_ports()
        opts = self.options
        if opts.time_per_screen is not None:
            self.window.scope.set_span(opts.time_per_screen)
        if opts.annotate:
            self.window.scope.set_annotations(True)
        if opts.presentation:
            self.window.set_presentation(True, full_screen=opts.screenshot is None)
        if opts.view:
            self.window.show_face(face_of_view(opts.view))
        if not opts.device_panel:
            self.window.show_device_panel(False)
        if opts.screenshot is None and QApplication.platformName() != "offscreen":
            QTimer.singleShot(0, self.session.offer_recovery)
        url = self.url
        if url != self.builtin_url:
            self.window.device_panel.port_box.setEditText(url)
        self.worker.connect_device(url)
        if self.programs:
            self.worker.load_programs(self.programs, opts.pin)
        if opts.scenario:
            self.window.patient_view.select(opts.scenario)
            self.window.patient_view.start(at_start=True)
            trial = opts.scenario in self.window.trial_view.scenarios  # an ETS trial: the Trial view
            if trial:
                self.window.trial_view.select(opts.scenario)
            if not opts.view:
                self.window.show_face("trial" if trial else "patient")
        if opts.login:
            self.worker.login_at_start(opts.pin)
        if opts.slot is not None or opts.stim_on or opts.amp_ua is not None:
            self.worker.start_state(opts.slot, opts.stim_on, opts.amp_ua)

    def implant_for(self, family: P.Family) -> str | None:
        """The built-in generator of ``family`` for a scenario of that family, when the app is
        on a built-in generator; None on a stimulator of its own (it is not swapped for one)."""
        if self.worker.link.url not in (None, "", self.builtin_url, *_builtin_urls.values()):
            return None
        return self.builtin_url if self.family is family else builtin_generator_url(family)

    @property
    def programs(self) -> tuple[Program, ...]:
        """What is written at start: the options' programs, or the examples on the built-in generator."""
        if self.options.programs is not None:
            return self.options.programs
        if self.options.device is None and not self.options.scenario:
            return example_slot_programs(self.family)
        return ()

    @property
    def last_setup(self) -> str:
        """The name of the last start-up job (the screenshot waits for it), or "" if none."""
        if self.options.slot is not None or self.options.stim_on or self.options.amp_ua is not None:
            return "start"
        if self.options.login:
            return "login"
        if self.options.scenario:
            return "scenario"
        return "programs" if self.programs else ""

    def _setup_finished(self, name: str, failed: str) -> None:
        """A start-up job the command line asked for failed: say why, and exit non-zero later."""
        if not failed or self.setup_error:
            return
        if name == "programs":
            where = f" {self.options.programs_file}" if self.options.programs_file else ""
            hint = " (the stimulator has another clinician PIN: give it with --pin)" if failed == WRONG_PIN else ""
            self.setup_error = f"--programs{where}: nothing was written: {failed}{hint}"
            self.model.set_notice(f"The programs were not written: {failed}", "error")
        elif name == "scenario":
            self.setup_error = f"--scenario {self.options.scenario}: its programs were not written: {failed}"
        elif name == "login":
            hint = " (the stimulator has another clinician PIN: give it with --pin)" if failed == WRONG_PIN else ""
            self.setup_error = f"--login: the clinician login was refused: {failed}{hint}"
        elif name == "start":
            self.setup_error = f"the start state asked for (--slot, --stim-on, --amp) was refused: {failed}"
        else:
            return
        print(f"stimsim gui: {self.setup_error}", file=sys.stderr)

    def shutdown(self) -> None:
        if not self._closed:
            self._closed = True
            self.window.scope.stop_timers()
            self.worker.shutdown()
            self.session.close()
            app_log.remove(self._log)


#: ``--view`` names that are not a view's own name.
VIEW_ALIASES = {"remote": "scope"}  #: the remote is always shown; "remote" brings the scope beside it


def face_of_view(view: str) -> str:
    return VIEW_ALIASES.get(view, view)


def view_names(stim: StimsimApp) -> list[str]:
    """What ``--view`` takes: the aliases and every registered view."""
    return [*VIEW_ALIASES, *stim.window.face_names()]


def first_size(window: QWidget) -> QSize:
    """1280x800, or the screen's free area if that is smaller (a 1024x768 projector)."""
    size = QSize(WINDOW_SIZE)
    screen = window.screen()
    if screen is not None and QApplication.platformName() != "offscreen":
        free = screen.availableGeometry().size()
        size = size.boundedTo(free)
    return size.expandedTo(window.minimumSizeHint())


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
    if options.view and face_of_view(options.view) not in stim.window.face_names():
        print(f"stimsim gui: --view {options.view}: no such view (views: {', '.join(view_names(stim))})",
              file=sys.stderr)
        stim.shutdown()
        return 2
    stim.start()
    if options.screenshot is not None:
        return _screenshot(app, stim, options.screenshot, started)
    code = app.exec()
    return 1 if stim.setup_error and code == 0 else code


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
    last = stim.last_setup

    def capture() -> None:
        if result["done"]:
            return
        result["done"] = 1
        if stim.setup_error:  # the picture would not show what was asked for
            stim.shutdown()
            app.quit()
            return
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

    def settle(*_args: object) -> None:  # a view may ask for longer (the ECAP view: its live stream)
        face = stim.window.faces.currentWidget()
        QTimer.singleShot(int(getattr(face, "screenshot_settle_ms", SCREENSHOT_SETTLE_MS)), capture)

    if last:
        stim.worker.setupFinished.connect(lambda name, failed: settle() if name == last or failed else None)
    else:
        stim.worker.connectFinished.connect(settle)
    stim.model.linkChanged.connect(
        lambda: settle() if stim.model.link in (Link.DISCONNECTED, Link.NOT_ANSWERING, Link.LOST)
        and stim.model.link_detail.startswith(("Cannot", "No answer")) else None)
    QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, capture)
    app.exec()
    return result["code"]
