"""The app model: what the device last reported, with a change signal per area.

The device is the single source of truth. Nothing here is set from what the app merely
asked for: the worker fills the model from replies and events only, on the GUI thread
(through queued signals), and widgets redraw from the model's signals.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from PySide6.QtCore import QObject, Signal

from ..engine.params import N_SLOTS
from ..engine.program import DeviceModel, Program
from ..host.results import EcapPoint
from ..patient.defaults import POSTURES
from .messages import battery_percent


class Link(StrEnum):
    """The state of the connection as the user sees it."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    NOT_ANSWERING = "not answering"  #: requests time out; the port is still open
    LOST = "lost"  #: the port failed or closed under us


@dataclass(frozen=True)
class Identity:
    """What the device is, from its HELLO reply."""

    url: str = ""
    label: str = ""
    model: str = ""
    firmware: str = ""
    serial: str = ""
    boot: str = ""
    proto: str = ""
    slots: int = N_SLOTS
    strict: bool = False
    state_defaults: bool = False


@dataclass(frozen=True)
class Status:
    """The device's STATUS (and BATT) reply, in app units."""

    stim_on: bool = False
    slot: int = 0
    amplitude_ua: int = 0
    battery_permille: int | None = None
    charging: bool = False
    role: str = ""
    compliance_limited: bool = False
    mri: bool = False
    test: bool = False
    chemistry: str = ""
    battery_state: str = ""
    battery_mv: int | None = None
    hours_left: float | None = None

    @property
    def battery_percent(self) -> int | None:
        return None if self.battery_permille is None else battery_percent(self.battery_permille)


@dataclass(frozen=True)
class Notice:
    """A sentence for the user; ``level`` is info, warning or error.

    A notice about a request belongs to the state it was about: ``slot`` (and
    ``amplitude_ua``) name it, and the model drops the notice once that state is gone.
    """

    text: str
    level: str = "info"
    when: float = field(default_factory=time.time)
    slot: int | None = None
    amplitude_ua: int | None = None

    def outlived_by(self, status: Status) -> bool:
        return ((self.slot is not None and status.slot != self.slot)
                or (self.amplitude_ua is not None and status.amplitude_ua != self.amplitude_ua))


@dataclass(frozen=True)
class ConsoleLine:
    """One line on the wire: ``direction`` is ``>`` sent, ``<`` received, ``!`` app note."""

    when: float
    direction: str
    text: str
    poll: bool = False  #: part of the app's periodic polling (the console can hide these)


@dataclass(frozen=True)
class DeviceEvent:
    """An event for the Events list: announced by the device (``!NAME``) or seen by the app."""

    when: float
    name: str
    args: tuple[tuple[str, str], ...]
    text: str
    source: str = ""  #: where the app saw it, when the device did not announce it

    @property
    def raw(self) -> str:
        if self.source:
            return self.source
        return f"!{self.name} " + " ".join(f"{k}={v}" for k, v in self.args)


@dataclass(frozen=True)
class Action:
    """One thing that happened in the session, for the session record and the report.

    ``who`` is clinician, patient, device or app; ``what`` a short event name (``login``,
    ``save``, ``confirm_charge``, ``impedance``...); ``text`` the sentence a person reads;
    ``data`` the details (JSON-able). Widgets and the link announce actions through
    ``AppModel.record_action``; the session recorder writes them.
    """

    who: str
    what: str
    text: str
    data: Mapping[str, object] = field(default_factory=dict)
    source: str = "app"


@dataclass(frozen=True)
class ClinicianReply:
    """The outcome of one clinician request (login, write, test, erase, impedance...).

    ``kind`` names the request, ``ok`` whether the device accepted it, ``text`` the words
    for a refusal, ``data`` what came back (the program read back, impedances, RETRY_S...).
    """

    kind: str
    ok: bool
    text: str = ""
    data: Mapping[str, object] = field(default_factory=dict)


class AppModel(QObject):
    """One model for the whole window. Setters emit only on real changes."""

    linkChanged = Signal()
    identityChanged = Signal()
    statusChanged = Signal()
    slotsChanged = Signal()
    noticeChanged = Signal()  #: a new sentence for the remote's screen and the status bar
    consoleLine = Signal(object)  #: ConsoleLine
    deviceEvent = Signal(object)  #: DeviceEvent
    clinicianReplied = Signal(object)  #: ClinicianReply, after each clinician request
    stimTurnedOn = Signal()  #: the device reported stimulation turning on (ramp restarts)
    busyChanged = Signal()  #: requests in flight (the remote shows a wait mark)
    faultsChanged = Signal()  #: lead contact faults the app learned of
    actionRecorded = Signal(object)  #: Action: something the session record keeps
    postureChanged = Signal()  #: the virtual patient's posture (one for the whole app)
    ecapMeasured = Signal(object)  #: EcapPoint: an ``!ECAP`` event of the device's stream

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.link = Link.DISCONNECTED
        self.link_detail = ""
        self.identity = Identity()
        self.status = Status()
        self.slots: dict[int, Program] = {}
        self.device_model = DeviceModel()
        self.notice = Notice("")
        self.stopping = False
        self.busy = 0
        self.faults: dict[str, str] = {}  #: contact -> OPEN, SHORT or "" (kind not said)
        self.posture = "sitting"  #: the virtual patient's posture: the Patient and ECAP views' buttons share it

    # --- derived views -------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self.link is Link.CONNECTED

    def active_program(self) -> Program | None:
        """The active slot's program at the amplitude the device reports now."""
        prog = self.slots.get(self.status.slot)
        if prog is None:
            return None
        if self.status.amplitude_ua != prog.amplitude_ua:
            prog = prog.with_amplitude(self.status.amplitude_ua)
        return prog

    def output_program(self) -> Program | None:
        """What is being delivered now: the active program while stimulation is on, else None."""
        if not self.status.stim_on or self.link is not Link.CONNECTED:
            return None
        return self.active_program()

    # --- setters (called on the GUI thread by the worker bridge) -------------------
    def set_link(self, link: Link, detail: str = "") -> None:
        """A new link state ends every notice about the old one (and the faults known then)."""
        if link is not self.link:
            self.set_notice("")
            if link is not Link.CONNECTED:
                self.set_faults({})
        if (link, detail) != (self.link, self.link_detail):
            self.link, self.link_detail = link, detail
            self.linkChanged.emit()

    def set_identity(self, identity: Identity) -> None:
        if identity != self.identity:
            self.identity = identity
            self.identityChanged.emit()

    def set_status(self, status: Status) -> None:
        if status == self.status:
            return
        turned_on = status.stim_on and not self.status.stim_on
        self.status = status
        if not status.stim_on:
            self.set_stopping(False)
        if turned_on:
            self.stimTurnedOn.emit()
        if self.notice.outlived_by(status):
            self.set_notice("")
        self.statusChanged.emit()

    def set_slots(self, slots: dict[int, Program]) -> None:
        if slots != self.slots:
            self.slots = dict(slots)
            self.slotsChanged.emit()

    def set_device_model(self, device: DeviceModel) -> None:
        if device != self.device_model:
            self.device_model = device
            self.slotsChanged.emit()

    def set_notice(self, text: str, level: str = "info", *, slot: int | None = None,
                   amplitude_ua: int | None = None) -> None:
        """Show ``text``; with ``slot``/``amplitude_ua``, only while the device reports those."""
        if not text and not self.notice.text:
            return
        self.notice = Notice(text, level, slot=slot, amplitude_ua=amplitude_ua)
        self.noticeChanged.emit()

    def set_faults(self, faults: dict[str, str]) -> None:
        if faults != self.faults:
            self.faults = dict(faults)
            self.faultsChanged.emit()

    def note_fault(self, contact: str, kind: str, event: DeviceEvent | None = None) -> None:
        """A lead contact fault the app learned of; ``event`` goes to the Events list if it is news."""
        if self.faults.get(contact) == kind or (not kind and contact in self.faults):
            return
        self.set_faults({**self.faults, contact: kind})
        if event is not None:
            self.add_event(event)

    def set_stopping(self, stopping: bool) -> None:
        if stopping != self.stopping:
            self.stopping = stopping
            self.statusChanged.emit()

    def set_posture(self, posture: str) -> None:
        """The virtual patient's posture (one of ``patient.POSTURES``); ValueError for another."""
        if posture not in POSTURES:
            raise ValueError(f"{posture!r} is not a posture (allowed: {', '.join(POSTURES)})")
        if posture != self.posture:
            self.posture = posture
            self.postureChanged.emit()

    def add_ecap(self, point: EcapPoint) -> None:
        self.ecapMeasured.emit(point)

    def add_console(self, line: ConsoleLine) -> None:
        self.consoleLine.emit(line)

    def add_event(self, event: DeviceEvent) -> None:
        self.deviceEvent.emit(event)

    def record_action(self, who: str, what: str, text: str, data: Mapping[str, object] | None = None, *,
                      source: str = "app") -> None:
        """Announce something the session record keeps (see ``Action``)."""
        self.actionRecorded.emit(Action(who, what, text, dict(data or {}), source))

    def set_busy(self, busy: int) -> None:
        if busy != self.busy:
            self.busy = busy
            self.busyChanged.emit()

    # --- the clinician's requests -----------------------------------------------------
    def clinician_reply(self, reply: ClinicianReply) -> None:
        """A clinician request finished (posted by the link on the GUI thread)."""
        self.clinicianReplied.emit(reply)
