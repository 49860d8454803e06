"""The device worker: the one place the app touches the device client.

A Python thread owns the :class:`~stimsim.host.client.Client` and runs the user's
requests one at a time from a queue, polling STATUS when idle. Results reach the
:class:`~stimsim.app.model.AppModel` through queued Qt signals, so a silent device never
blocks the window. STOP does not queue: it clears what is queued (a STOP must never be
followed by a stale "amplitude up") and is written at once from its own thread, which the
client allows while another request is waiting for its reply.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from ..engine.program import DeviceModel, Program
from ..host import lines as codec
from ..host.client import (
    Battery,
    Client,
    ClientError,
    DeviceError,
    DeviceRestarted,
    DeviceTimeout,
    HelloInfo,
    LinkLost,
    ProtocolMismatch,
    StateError,
    TransportError,
)
from ..host.client import Status as WireStatus
from .controller import BUILTIN_LABEL, BUILTIN_URL
from .messages import event_text, fmt_ma, refusal_text, restart_text
from .model import AppModel, ConsoleLine, DeviceEvent, Identity, Link, Status

log = logging.getLogger(__name__)

POLL_S = 0.25  #: STATUS period while idle: a silent device shows within 1 s
SLOW_POLL_S = 1.0  #: STATUS period while the device is not answering
BATT_POLL_S = 5.0
SILENCE_S = 0.45  #: a request unanswered this long shows "not answering" before retries end
DEFAULT_PIN = "0000"  #: the PIN the built-in generator and the emulators start with

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
class _Setup:
    """Start-up work (loading programs): not a user action, never dropped by STOP."""

    name: str
    run: Job


def device_label(url: str) -> str:
    return BUILTIN_LABEL if url == BUILTIN_URL else url


class DeviceWorker(QObject):
    """Implements :class:`~stimsim.app.controller.Controller` on a real client."""

    _link = Signal(object, str)
    _identity = Signal(object)
    _status = Signal(object)
    _slots = Signal(object)
    _device_model = Signal(object)
    _notice = Signal(str, str)
    _console = Signal(object)
    _event = Signal(object)
    _stopping = Signal(bool)
    _turned_on = Signal()
    _busy = Signal(int)
    connectFinished = Signal(bool)  #: after each connect attempt (the screenshot path waits on it)
    setupFinished = Signal(str)  #: after a start-up job, with its name

    def __init__(self, model: AppModel, *, builtin_url: str = BUILTIN_URL,
                 client_factory: Callable[..., Client] = Client.connect, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.builtin_url = builtin_url
        self._factory = client_factory
        self._jobs: queue.Queue[object] = queue.Queue()
        self._client: Client | None = None
        self._url = ""
        self._link_state = Link.DISCONNECTED
        self._wire: WireStatus | None = None
        self._slot_programs: dict[int, Program] = {}
        self._poll_seqs: set[int] = set()
        self._polling = False
        self._inflight_since: float | None = None
        self._rx = codec.LineReader(codec.MAX_REPLY)
        self._rx_lock = threading.Lock()
        self._last_batt = 0.0
        self._busy_count = 0
        self._busy_lock = threading.Lock()
        self._direction = 0  #: sign of the amplitude change in flight, for "Maximum/Minimum reached"
        self._battery: Battery | None = None
        self._boots: dict[str, str] = {}  #: last BOOT id seen per URL: a restart between sessions shows
        self._tripped = False  #: the watchdog showed "not answering" for the request in flight

        q = Qt.ConnectionType.QueuedConnection
        self._link.connect(model.set_link, q)
        self._identity.connect(model.set_identity, q)
        self._status.connect(model.set_status, q)
        self._slots.connect(model.set_slots, q)
        self._device_model.connect(model.set_device_model, q)
        self._notice.connect(model.set_notice, q)
        self._console.connect(model.add_console, q)
        self._event.connect(model.add_event, q)
        self._stopping.connect(model.set_stopping, q)
        self._turned_on.connect(model.stimTurnedOn, q)
        self._busy.connect(model.set_busy, q)

        self._watchdog = QTimer(self)
        self._watchdog.setInterval(100)
        self._watchdog.timeout.connect(self._check_silence)
        self._watchdog.start()
        self._thread = threading.Thread(target=self._run, name="stimsim-device-worker", daemon=True)
        self._thread.start()

    # --- Controller: called on the GUI thread, return at once -----------------------
    def connect_device(self, url: str) -> None:
        url = url.strip() or self.builtin_url
        self._drop_actions()
        self._jobs.put(_Connect(url))

    def disconnect_device(self) -> None:
        self._drop_actions()
        self._jobs.put(_Disconnect())

    def reconnect(self) -> None:
        self.connect_device(self._url or self.builtin_url)

    def step_amplitude(self, steps: int) -> None:
        self._action("amplitude", lambda c: self._do_amp(c, steps))

    def toggle_stimulation(self) -> None:
        self._action("stimulation", self._do_toggle)

    def select_relative(self, delta: int) -> None:
        self._action("program", lambda c: self._do_select(c, delta))

    def set_mri(self, on: bool) -> None:
        self._action("mri", lambda c: self._do_mri(c, on))

    def send_line(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        if text.split()[0].upper() == "STOP":
            self.stop()
            return
        self._action("console", lambda c: self._do_line(c, text))

    def load_programs(self, programs: Iterable[Program], pin: str = DEFAULT_PIN) -> None:
        """Write ``programs`` to their slots as a clinician (login, PROG + read-back, logout)."""
        progs = tuple(programs)
        self._jobs.put(_Setup("programs", lambda c: self._do_load(c, progs, pin)))

    def stop(self) -> None:
        """STOP at once: drop queued actions, write STOP from its own thread."""
        dropped = self._drop_actions()
        client = self._client
        self._note(f"STOP pressed{f'; {dropped} queued request(s) cancelled' if dropped else ''}")
        if client is None or client.closed:
            if self.model.link is Link.CONNECTING:
                self.model.set_notice("Still connecting: STOP could not be sent yet", "error")
            else:
                self.model.set_notice("No stimulator connected: nothing to stop", "warning")
            return
        self.model.set_stopping(True)
        threading.Thread(target=self._do_stop, args=(client,), name="stimsim-stop", daemon=True).start()

    def shutdown(self) -> None:
        """End the worker thread and close the link (the app is quitting)."""
        self._watchdog.stop()
        self._drop_actions()
        self._jobs.put(_Quit())
        self._thread.join(timeout=3.0)

    @property
    def client(self) -> Client | None:
        return self._client

    # --- queue -------------------------------------------------------------------
    def _action(self, name: str, run: Job) -> None:
        if self._client is None:
            self.model.set_notice("No stimulator connected", "warning")
            return
        self._jobs.put(_Action(name, run))
        self._set_busy(+1)

    def _set_busy(self, delta: int) -> None:
        with self._busy_lock:
            self._busy_count = max(0, self._busy_count + delta)
            count = self._busy_count
        self._busy.emit(count)

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
                self._close()
                return
            try:
                self._run_one(job)
            except Exception as exc:  # a bug must not silence the device link for good
                log.exception("device worker: %r failed", job)
                self._note(f"internal error: {exc!r}")
                self._notice.emit("Internal error in the app: see the console", "error")
            if job is None or time.monotonic() >= next_poll:
                slow = self._link_state is Link.NOT_ANSWERING
                next_poll = time.monotonic() + (SLOW_POLL_S if slow else POLL_S)

    def _run_one(self, job: object) -> None:
        if isinstance(job, _Connect):
            self._open(job.url)
        elif isinstance(job, _Disconnect):
            self._close()
            self._emit_link(Link.DISCONNECTED, "Disconnected")
            self._status.emit(Status())
            self._identity.emit(Identity())
            self._slots.emit({})
        elif isinstance(job, _Action | _Setup):
            if isinstance(job, _Action):
                self._set_busy(-1)
            try:
                self._guarded(job.run, job.name)
            finally:
                if isinstance(job, _Setup):
                    self.setupFinished.emit(job.name)
        elif job is None and self._client is not None:
            self._guarded(self._poll, "poll")

    def _guarded(self, run: Job, name: str) -> None:
        """Run one job; turn every client failure into the model's words."""
        client = self._client
        if client is None:
            return
        try:
            run(client)
            if self._tripped and self._link_state is Link.CONNECTED:
                self._tripped = False
                self._emit_link(Link.CONNECTED, f"Connected to {device_label(self._url)}")
            if self._link_state is Link.NOT_ANSWERING:
                self._emit_link(Link.CONNECTED, "The stimulator answers again")
                self._notice.emit("The stimulator answers again", "info")
        except DeviceRestarted as exc:
            self._boots[self._url] = exc.new_boot
            self._restarted(client, exc, name)
        except DeviceError as exc:
            self._refused(exc, name)
        except DeviceTimeout:
            self._inflight_since = None
            if self._link_state is not Link.NOT_ANSWERING:
                self._note(f"No valid answer after {1 + client.retries} attempts")
            self._emit_link(Link.NOT_ANSWERING, "The stimulator is not answering. Check the connection, "
                            "then press Reconnect")
            if name != "poll":
                self._notice.emit("The stimulator did not answer: the change was not confirmed", "error")
        except LinkLost as exc:
            self._lost(str(exc))
        except ClientError as exc:
            self._note(f"{name}: {exc}")
            self._notice.emit(f"Unexpected answer from the stimulator ({exc})", "error")

    # --- link ----------------------------------------------------------------------
    def _emit_link(self, link: Link, detail: str) -> None:
        self._link_state = link
        self._link.emit(link, detail)

    def _open(self, url: str) -> None:
        self._close()
        self._url = url
        label = device_label(url)
        self._emit_link(Link.CONNECTING, f"Connecting to {label}…")
        self._note(f"Opening {label}")
        try:
            client = self._factory(url, on_event=self._on_event, on_line=self._on_line)
        except TransportError as exc:
            self._fail_connect(Link.DISCONNECTED, f"Cannot open {label}: {_reason(exc)}")
            return
        except DeviceTimeout:
            self._fail_connect(Link.NOT_ANSWERING, f"No answer from {label}: is a stimulator connected there?")
            return
        except ProtocolMismatch as exc:
            self._fail_connect(Link.DISCONNECTED, f"{label} speaks another protocol version: {exc}")
            return
        except (ClientError, OSError) as exc:
            self._fail_connect(Link.DISCONNECTED, f"{label}: {exc}")
            return
        self._client = client
        try:
            assert client.info is not None
            self._read_all(client, client.info)
        except ClientError as exc:
            self._client = None
            client.close()
            self._fail_connect(Link.NOT_ANSWERING, f"{label} stopped answering while being read: {exc}")
            return
        boot = client.info.boot if client.info else ""
        before = self._boots.get(url)
        self._boots[url] = boot
        if before is not None and before != boot:
            text = restart_text(before, boot).replace("restarted", "restarted since the last connection", 1)
            self._note(text)
            self._notice.emit(text, "warning")
            self._emit_link(Link.CONNECTED, text)
        else:
            self._emit_link(Link.CONNECTED, f"Connected to {label}")
        self.connectFinished.emit(True)

    def _fail_connect(self, link: Link, text: str) -> None:
        self._note(text)
        self._emit_link(link, text)
        self._notice.emit(text, "error")
        self.connectFinished.emit(False)

    def _close(self) -> None:
        client, self._client = self._client, None
        self._wire = None
        self._inflight_since = None
        if client is not None:
            client.close()
            self._note("Link closed")

    def _lost(self, detail: str) -> None:
        self._close()
        text = "Connection lost: the stimulator's port closed. Press Reconnect when it is back"
        self._note(detail)
        self._emit_link(Link.LOST, text)
        self._notice.emit(text, "error")

    def _check_silence(self) -> None:
        """GUI-thread watchdog: show "not answering" while the retries still run."""
        since = self._inflight_since
        if since is None or self._link_state is not Link.CONNECTED:
            return
        if time.monotonic() - since > SILENCE_S:
            self._tripped = True
            self.model.set_link(Link.NOT_ANSWERING, "Waiting for the stimulator to answer…")

    # --- reading the device ----------------------------------------------------------
    def _read_all(self, client: Client, hello: HelloInfo) -> None:
        """Everything the app shows: identity, status, battery, every slot."""
        self._emit_identity(hello)
        if hello.state_defaults:
            self._notice.emit("The stimulator lost its stored settings and started from defaults", "warning")
        self._read_battery(client)
        self._read_slots(client)
        self._publish(client.status())

    def _emit_identity(self, hello: HelloInfo) -> None:
        self._identity.emit(Identity(
            url=self._url, label=device_label(self._url), model=hello.model, firmware=hello.fw, serial=hello.sn,
            boot=hello.boot, proto=hello.proto, slots=hello.slots, strict=hello.strict,
            state_defaults=hello.state_defaults,
        ))

    def _read_slots(self, client: Client) -> None:
        slots: dict[int, Program] = {}
        count = client.info.slots if client.info else 16
        for n in range(1, count + 1):
            try:
                slots[n] = client.read(n)
            except StateError:
                continue
        self._slot_programs = slots
        self._slots.emit(dict(slots))

    def _read_battery(self, client: Client) -> None:
        batt = client.batt()
        self._battery = batt
        self._last_batt = time.monotonic()
        self._device_model.emit(DeviceModel(chemistry=batt.chemistry.lower()))

    def _publish(self, wire: WireStatus) -> None:
        old = self._wire
        self._wire = wire
        batt = self._battery
        self._status.emit(Status(
            stim_on=wire.stim, slot=wire.slot, amplitude_ua=wire.amp_ua, battery_permille=wire.batt_permille,
            charging=wire.charging, role=wire.role, compliance_limited=wire.compliance_limited, mri=wire.mri,
            test=wire.test, chemistry=batt.chemistry if batt else "", battery_state=batt.state if batt else "",
            battery_mv=batt.vbat_mv if batt else None, hours_left=batt.est_h if batt else None,
        ))
        if wire.stim and (old is None or not old.stim):
            self._turned_on.emit()

    def _poll(self, client: Client) -> None:
        self._polling = True
        try:
            if time.monotonic() - self._last_batt > BATT_POLL_S:
                self._read_battery(client)
            wire = client.status()
        finally:
            self._polling = False
        if self._wire is not None and wire.slot != self._wire.slot and wire.slot not in self._slot_programs:
            self._read_slots(client)
        self._publish(wire)

    def _restarted(self, client: Client, exc: DeviceRestarted, name: str) -> None:
        old = exc.old_boot or "?"
        text = restart_text(old, exc.new_boot)
        if name not in ("poll", "programs"):
            text += ". Your last request was not sent: press again if you still want it"
        self._note(f"Device restarted: BOOT {old} -> {exc.new_boot}")
        try:
            hello = exc.hello or client.info
            if hello is not None:
                self._read_all(client, hello)
        except ClientError as err:
            self._note(f"re-reading after the restart failed: {err}")
        self._notice.emit(text, "warning")
        self._emit_link(Link.CONNECTED, text)

    def _refused(self, exc: DeviceError, name: str) -> None:
        text = refusal_text(exc.code, exc.reply.as_dict(), verb=exc.verb, direction=self._direction)
        self._notice.emit(text, "warning")

    # --- the actions (worker thread) ---------------------------------------------------
    def _do_amp(self, client: Client, steps: int) -> None:
        self._direction = 1 if steps > 0 else -1
        amp = client.amp_step(steps)
        self._note(f"Amplitude now {fmt_ma(amp)}")
        self._publish(client.status())

    def _do_toggle(self, client: Client) -> None:
        self._direction = 0
        on = not (self._wire.stim if self._wire is not None else False)
        client.stim(on)
        self._publish(client.status())

    def _do_select(self, client: Client, delta: int) -> None:
        self._direction = 0
        current = self._wire.slot if self._wire else 0
        slots = sorted(self._slot_programs)
        if not slots:
            self._notice.emit("No programs on this stimulator", "warning")
            return
        if delta > 0:
            target = next((s for s in slots if s > current), slots[0])
        else:
            target = next((s for s in reversed(slots) if s < current), slots[-1])
        if target == current:
            return
        client.select(target)
        program = client.read(target)
        self._slot_programs[target] = program
        self._slots.emit(dict(self._slot_programs))
        self._publish(client.status())

    def _do_mri(self, client: Client, on: bool) -> None:
        self._direction = 0
        client.mri(on)
        self._publish(client.status())

    def _do_line(self, client: Client, text: str) -> None:
        self._direction = 0
        reply = client.send_text(text)
        if not reply.ok:
            self._note(refusal_text(reply.code or "?", reply.as_dict(), verb=text.split()[0].upper()))
        verb = text.split()[0].upper()
        if verb in ("PROG", "ERASE", "SELECT", "HELLO"):
            self._read_slots(client)
        if verb == "HELLO" and client.info is not None:
            self._emit_identity(client.info)
        self._publish(client.status())

    def _do_load(self, client: Client, programs: tuple[Program, ...], pin: str) -> None:
        role = client.login(pin)
        self._note(f"Logged in as {role.lower()} to write {len(programs)} program(s)")
        try:
            for prog in programs:
                client.prog(prog, ack=True)
                self._note(f"Slot {prog.slot} written and read back: {prog.name or prog.mode.value}")
        finally:
            client.logout()
        self._read_slots(client)
        self._publish(client.status())

    def _do_stop(self, client: Client) -> None:
        try:
            client.stop()
        except (DeviceTimeout, LinkLost) as exc:
            self._stopping.emit(False)
            self._notice.emit("STOP was not confirmed: the stimulator is not answering. "
                              "Use the magnet or the charger's STOP if you have one", "error")
            self._note(f"STOP not confirmed: {exc}")
            return
        except ClientError as exc:
            self._stopping.emit(False)
            self._notice.emit(f"STOP answer not understood: {exc}", "error")
            return
        wire = self._wire
        if wire is not None:
            self._publish(replace(wire, stim=False))
        self._stopping.emit(False)
        self._notice.emit("Stimulation stopped", "info")
        self._jobs.put(_Setup("after-stop", self._poll))

    # --- callbacks from the client's reader thread ------------------------------------
    def _on_event(self, event: codec.Event) -> None:
        args = tuple((k, v) for k, v in event.args if k is not None)
        self._event.emit(DeviceEvent(time.time(), event.name, args, event_text(event.name, dict(args))))
        if event.name in ("STIM", "BATT", "CHARGE", "FAULT", "TEST"):
            self._last_batt = 0.0  # re-read the battery with the next poll
            if event.name == "STIM" and event.get("STIM") == "OFF" and self._wire is not None:
                self._publish(replace(self._wire, stim=False))
            self._notice.emit(event_text(event.name, dict(args)), "warning" if event.name != "CHARGE" else "info")

    def _on_line(self, direction: str, data: bytes) -> None:
        now = time.time()
        if direction == ">":
            text = data.decode("ascii", "replace").rstrip("\r\n")
            seq = _seq_of(text)
            if self._polling and seq is not None:
                self._poll_seqs.add(seq)
                if len(self._poll_seqs) > 64:
                    self._poll_seqs = set(sorted(self._poll_seqs)[-32:])
            if seq is not None and self._inflight_since is None:
                self._inflight_since = time.monotonic()
            self._console.emit(ConsoleLine(now, ">", text, poll=seq in self._poll_seqs))
            return
        with self._rx_lock:
            lines = self._rx.feed(data)
        for line in lines:
            if isinstance(line, codec.Overlong):
                self._console.emit(ConsoleLine(now, "<", f"(a {line.length}-byte line, too long: skipped)"))
                continue
            text = line.decode("ascii", "replace")
            seq = _seq_of(text)
            if seq is not None:
                self._inflight_since = None
            self._console.emit(ConsoleLine(now, "<", text, poll=seq in self._poll_seqs))

    def _note(self, text: str) -> None:
        self._console.emit(ConsoleLine(time.time(), "!", text))


def _seq_of(text: str) -> int | None:
    if not text.startswith("#"):
        return None
    head = text[1:].split(" ", 1)[0]
    return int(head) if head.isdigit() else None


def _reason(exc: Exception) -> str:
    text = str(exc)
    if "No such file" in text or "could not open port" in text:
        return "no such port (is the cable plugged in, or the emulator running?)"
    if "Permission denied" in text:
        return "permission denied (on Linux, add yourself to the dialout group)"
    if "Connection refused" in text:
        return "connection refused (nothing listens on that address)"
    return text
