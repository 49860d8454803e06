"""The device worker: the thread and the queue between the window and the stimulator.

A Python thread runs the user's requests one at a time from a queue on a
:class:`~stimsim.app.link.DeviceLink`, polling STATUS when idle, so a silent device never
blocks the window. What the link learns reaches the model through one queued signal that
carries a function to run on the GUI thread. STOP does not queue: it clears what is
queued (a STOP must never be followed by a stale "amplitude up") and is written at once
from its own thread, which the client allows while another request waits for its reply.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from ..engine.program import DeviceModel, Program
from ..host.client import Client, ClientError
from ..host.limits import DEFAULT_PIN
from ..host.results import EcapPoint, EcapReading, LogEntry
from .controller import BUILTIN_URL
from .link import ClientFactory, DeviceLink
from .model import AppModel, Link
from .records import transfer
from .records.transfer import Progress, TransferResult

log = logging.getLogger(__name__)

POLL_S = 0.25  #: STATUS period while idle: a silent device shows within 1 s
SLOW_POLL_S = 1.0  #: STATUS period while the device is not answering
SILENCE_S = 0.45  #: a request unanswered this long shows "not answering" before retries end
WATCHDOG_MS = 100

Job = Callable[[Client], None]


@dataclass(frozen=True)
class _Connect:
    url: str


@dataclass(frozen=True)
class _Disconnect:
    pass


@dataclass(frozen=True)
class _Quit:
    pass


@dataclass(frozen=True)
class _Action:
    """A user request; dropped when STOP is pressed before it ran."""

    name: str
    run: Job


@dataclass(frozen=True)
class _Transfer:
    """Files and records work (send or read a program set, read the audit log): never
    dropped by STOP, so its caller always hears how it ended."""

    name: str
    run: Callable[[Client | None], None]  #: given None when no stimulator is connected


@dataclass(frozen=True)
class _Setup:
    """Start-up work (loading programs): not a user action, never dropped by STOP."""

    name: str
    run: Job


@dataclass(frozen=True)
class _ViewWork:
    """A view's device work (the ECAP view's posture and stream): not a user action, never
    dropped by STOP, and not a start-up job (``setupFinished`` does not hear of it)."""

    name: str
    run: Job


class DeviceWorker(QObject):
    """Implements :class:`~stimsim.app.controller.Controller` on a real client."""

    _apply = Signal(object)  #: a function of the model, run on the GUI thread
    connectFinished = Signal(bool)  #: after each connect attempt (the screenshot path waits on it)
    setupFinished = Signal(str, str)  #: after a start-up job: its name, and what failed ("" if nothing)

    def __init__(self, model: AppModel, *, builtin_url: str = BUILTIN_URL,
                 client_factory: ClientFactory = Client.connect, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.builtin_url = builtin_url
        self._jobs: queue.Queue[object] = queue.Queue()
        self._busy_count = 0
        self._busy_lock = threading.Lock()
        self._connects_queued = 0  #: connections asked for and not yet made (under _busy_lock)
        self._apply.connect(self._run_on_gui, Qt.ConnectionType.QueuedConnection)
        self.link = DeviceLink(self._apply.emit, client_factory, on_connected=self.connectFinished.emit)

        self._watchdog = QTimer(self)
        self._watchdog.setInterval(WATCHDOG_MS)
        self._watchdog.timeout.connect(self._check_silence)
        self._watchdog.start()
        self._thread = threading.Thread(target=self._run, name="stimsim-device-worker", daemon=True)
        self._thread.start()

    def _run_on_gui(self, fn: Callable[[AppModel], None]) -> None:
        fn(self.model)

    # --- Controller: called on the GUI thread, return at once -----------------------
    def connect_device(self, url: str) -> None:
        url = url.strip() or self.builtin_url
        self._drop_actions()
        with self._busy_lock:
            self._connects_queued += 1
        self._jobs.put(_Connect(url))

    def disconnect_device(self) -> None:
        self._drop_actions()
        self._jobs.put(_Disconnect())

    def reconnect(self) -> None:
        self.connect_device(self.link.url or self.builtin_url)

    def step_amplitude(self, steps: int) -> None:
        self._action("amplitude", lambda c: self.link.amplitude(c, steps))

    def toggle_stimulation(self) -> None:
        self._action("stimulation", self.link.toggle)

    def select_relative(self, delta: int) -> None:
        self._action("program", lambda c: self.link.select(c, delta))

    def set_mri(self, on: bool) -> None:
        self._action("mri", lambda c: self.link.mri(c, on))

    def send_line(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        if text.split()[0].upper() == "STOP":
            self.stop()
            return
        self._action("console", lambda c: self.link.line(c, text))

    def load_programs(self, programs: Iterable[Program], pin: str = DEFAULT_PIN) -> None:
        """Write ``programs`` to their slots as a clinician (login, PROG + read-back, logout)."""
        progs = tuple(programs)
        self._jobs.put(_Setup("programs", lambda c: self.link.load(c, progs, pin)))

    def login_at_start(self, pin: str) -> None:
        """At start, after the programs: log in as clinician (``--login``)."""
        self._jobs.put(_Setup("login", lambda c: self.link.login_at_start(c, pin)))

    def start_state(self, slot: int | None, stim_on: bool, amp_ua: int | None = None) -> None:
        """At start, after the programs: make ``slot`` active, set its amplitude and turn
        stimulation on, if asked."""
        self._jobs.put(_Setup("start", lambda c: self.link.start_state(c, slot, stim_on, amp_ua)))

    def stop(self) -> None:
        """STOP at once: drop queued actions, write STOP from its own thread."""
        dropped = self._drop_actions()
        client = self.link.client
        self.link.note(f"STOP pressed{f'; {dropped} queued request(s) cancelled' if dropped else ''}")
        if client is None or client.closed:
            if self.model.link is Link.CONNECTING:
                self.model.set_notice("Still connecting: STOP could not be sent yet", "error")
            else:
                self.model.set_notice("No stimulator connected: nothing to stop", "warning")
            return
        self.model.set_stopping(True)
        threading.Thread(target=self._stop, args=(client,), name="stimsim-stop", daemon=True).start()

    def shutdown(self) -> None:
        """End the worker thread and close the link (the app is quitting)."""
        self._watchdog.stop()
        self._drop_actions()
        self._jobs.put(_Quit())
        self._thread.join(timeout=3.0)

    @property
    def client(self) -> Client | None:
        return self.link.client

    # --- queue -------------------------------------------------------------------
    def _action(self, name: str, run: Job) -> None:
        with self._busy_lock:
            connecting = self._connects_queued > 0  # an action asked for after a connect runs on it
        if self.link.client is None and not connecting:
            self.model.set_notice("No stimulator connected", "warning")
            return
        self._jobs.put(_Action(name, run))
        self._set_busy(+1)

    def _set_busy(self, delta: int) -> None:
        with self._busy_lock:
            self._busy_count = max(0, self._busy_count + delta)
            count = self._busy_count
        self._apply.emit(lambda m: m.set_busy(count))

    def _drop_actions(self) -> int:
        kept: list[object] = []
        dropped = 0
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if isinstance(job, _Action):
                dropped += 1
            else:
                kept.append(job)
        for job in kept:
            self._jobs.put(job)
        if dropped:
            self._set_busy(-dropped)
        return dropped

    def _run(self) -> None:
        next_poll = time.monotonic()
        while True:
            timeout = max(0.0, next_poll - time.monotonic())
            try:
                job = self._jobs.get(timeout=timeout)
            except queue.Empty:
                job = None
            if isinstance(job, _Quit):
                self.link.close()
                return
            try:
                self._run_one(job)
            except Exception as exc:  # a bug must not silence the device link for good
                log.exception("device worker: %r failed", job)
                self.link.note(f"internal error: {exc!r}")
                self.link.say("Internal error in the app: see the console", "error")
            if job is None or time.monotonic() >= next_poll:
                slow = self.link.state is Link.NOT_ANSWERING
                next_poll = time.monotonic() + (SLOW_POLL_S if slow else POLL_S)

    def _run_one(self, job: object) -> None:
        if isinstance(job, _Connect):
            try:
                self.link.open(job.url)
            finally:
                with self._busy_lock:
                    self._connects_queued -= 1
        elif isinstance(job, _Disconnect):
            self.link.disconnect()
        elif isinstance(job, _Action):
            self._set_busy(-1)
            self.link.guarded(job.run, job.name)
        elif isinstance(job, _Setup):
            failed: str | None = "not run"
            try:
                failed = self.link.guarded(job.run, job.name)
                if failed and job.name == "programs":
                    self.link.note(f"The programs were not written: {failed}")
            finally:
                self.setupFinished.emit(job.name, failed or "")
        elif isinstance(job, _ViewWork):
            self.link.guarded(job.run, job.name)
        elif isinstance(job, _Transfer):
            job.run(self.link.client)
        elif job is None and self.link.client is not None:
            self.link.guarded(self.link.poll, "poll")

    def _stop(self, client: Client) -> None:
        confirmed = self.link.stop(client)
        self._apply.emit(lambda m: m.set_stopping(False))
        if confirmed:
            self._jobs.put(_Setup("after-stop", self.link.poll))

    # --- the clinician's requests (Controller) -------------------------------------------
    def login(self, pin: str) -> None:
        self._clinician("login", lambda c: {"role": c.login(pin)})

    def logout(self) -> None:
        self._clinician("logout", lambda c: {"role": c.logout()})

    def write_program(self, program: Program, ack: bool = False) -> None:
        self._clinician("write", lambda c: self.link.clinician_write(c, program, ack))

    def test_program(self, program: Program, ack: bool = False) -> None:
        def run(c: Client) -> dict[str, object]:
            c.test(program, ack=ack)
            return {"program": program}
        self._clinician("test", run)

    def end_test(self) -> None:
        """TEST END as a set-up job: a STOP pressed meanwhile must not keep the test running."""
        if self.link.client is None:
            return
        self._jobs.put(_Setup("test-end", lambda c: self.link.clinician(c, "test_end", _end_test)))

    def erase_slot(self, slot: int) -> None:
        self._clinician("erase", lambda c: self.link.clinician_erase(c, slot))

    def measure_impedance(self) -> None:
        self._clinician("impedance", lambda c: {"values": c.impedance(), "when": time.time()})

    def _clinician(self, kind: str, run: Callable[[Client], dict[str, object]]) -> None:
        self._action(kind, lambda c: self.link.clinician(c, kind, run))

    def _check_silence(self) -> None:
        """GUI-thread watchdog: show "not answering" while the retries still run."""
        since = self.link.tap.inflight_since
        if since is None or self.link.state is not Link.CONNECTED:
            return
        if time.monotonic() - since > SILENCE_S:
            self.link.tripped = True
            self.model.set_link(Link.NOT_ANSWERING, "Waiting for the stimulator to answer…")

    # --- the battery view -----------------------------------------------------------
    def set_charging(self, on: bool) -> None:
        self._action("charging", lambda c: self.link.charge(c, on))

    def read_battery(self) -> None:
        if self.link.client is not None:
            self._action("battery", self.link.read_battery)

    # --- files and records (Controller) ---------------------------------------------------
    def send_programs(self, programs: tuple[Program, ...], pin: str | None, progress: Progress,
                      done: Callable[[TransferResult], None], cancel: threading.Event | None = None) -> None:
        def run(c: Client) -> TransferResult:
            return transfer.send_set(c, programs, pin, self._on_gui3(progress), cancel)
        self._transfer("send programs", run, done, reread=True)

    def read_programs(self, device: DeviceModel, progress: Progress, done: Callable[[TransferResult], None]) -> None:
        def run(c: Client) -> TransferResult:
            with self.link.tap.slot_sweep():
                return transfer.read_set(c, device, self._on_gui3(progress))
        self._transfer("read programs", run, done, reread=False)

    def read_log(self, from_: int | None, done: Callable[[list[LogEntry] | None], None]) -> None:
        def job(client: Client | None) -> None:
            entries: list[LogEntry] | None = None
            if client is not None:
                try:
                    entries = client.log(from_)
                except ClientError as exc:
                    self.link.note(f"audit log not read: {exc}")
            self._apply.emit(lambda m: done(entries))
        self._jobs.put(_Transfer("log", job))

    def _on_gui3(self, fn: Progress) -> Progress:
        return lambda a, b, text: self._apply.emit(lambda m: fn(a, b, text))

    def _transfer(self, name: str, run: Callable[[Client], TransferResult],
                  done: Callable[[TransferResult], None], *, reread: bool) -> None:
        """Run ``run`` on the worker thread through the link's error handling; ``done`` always hears."""
        def job(client: Client | None) -> None:
            out: list[TransferResult] = []
            failed = "No stimulator connected"
            if client is not None:
                failed = self.link.guarded(lambda c: out.append(run(c)), name) or ""
                if reread and self.link.client is not None:
                    self.link.guarded(self.link.reread_slots, "poll")
            result = out[0] if out else transfer.TransferResult(failed=failed or "not run")
            self._apply.emit(lambda m: done(result))
        self._jobs.put(_Transfer(name, job))

    # --- the ECAP view (the closed-loop family) ------------------------------------------------
    def sim_posture(self, posture: str) -> None:
        """Move the device's virtual nerve to ``posture`` (on SCS-CL; nothing on another family).
        Queued even before the link is up: a scenario's posture is sent once it is."""
        self._jobs.put(_ViewWork("posture", lambda c: self.link.sim_posture(c, posture)))

    def sim_cough(self) -> None:
        self._action("cough", self.link.sim_cough)

    def ecap_stream(self, on: bool) -> None:
        """Start or stop the ``!ECAP`` events (they reach ``model.ecapMeasured``)."""
        if self.link.client is not None:
            self._jobs.put(_ViewWork("ecap-stream", lambda c: self.link.ecap_stream(c, on)))

    def ecap_sweep(self, from_ua: int, to_ua: int, step_ua: int,
                   done: Callable[[list[EcapPoint] | None, str], None]) -> None:
        """ECAP SWEEP (clinician, stimulation on): ``done`` gets the growth curve, or None and why."""
        def job(client: Client | None) -> None:
            points: list[list[EcapPoint]] = []
            failed = "No stimulator connected"
            if client is not None:
                failed = self.link.guarded(
                    lambda c: points.append(c.ecap_sweep(from_ua, to_ua, step_ua)), "ECAP sweep") or ""
            result = points[0] if points else None
            self._apply.emit(lambda m: done(result, failed))
        self._jobs.put(_Transfer("ecap sweep", job))

    def read_ecap(self, done: Callable[[EcapReading | None], None]) -> None:
        """ECAP once: the nerve's threshold and slope, the loop's target; None if not read."""
        def job(client: Client | None) -> None:
            out: list[EcapReading] = []
            if client is not None:
                self.link.guarded(lambda c: out.append(c.ecap()), "ECAP")
            reading = out[0] if out else None
            self._apply.emit(lambda m: done(reading))
        self._jobs.put(_Transfer("ecap", job))

    # --- the patient view: a scenario's programs ---------------------------------------------
    def write_programs(self, programs: tuple[Program, ...], pin: str, select: int | None = None, *,
                       stim_off: bool = False, faults: Mapping[str, str] | None = None,
                       battery_permille: int | None = None, at_start: bool = False) -> None:
        """Write ``programs`` as a clinician (a user action: STOP drops it if still queued), then
        make slot ``select`` active; ``stim_off`` turns stimulation off first. What the device
        reads back reaches the model."""
        progs = tuple(programs)

        def run(client: Client) -> None:
            if stim_off and client.status().stim:
                client.stim(False)
            if faults is not None or battery_permille is not None:
                self.link.simulate_patient(client, dict(faults or {}), battery_permille)
            self.link.load(client, progs, pin)
            if select is not None:
                self.link.start_state(client, select, False)

        if at_start:  # queued behind the connection, as the other start-up jobs
            self._jobs.put(_Setup("scenario", run))
        else:
            self._action("programs", run)


def _end_test(client: Client) -> dict[str, object]:
    client.test_end()
    return {}
