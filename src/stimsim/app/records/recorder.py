"""The session recorder: everything that happens in an app session, appended to a hash-chained record.

The record (``record.chain.Record``, one ``*.jsonl`` under the data folder) opens when the
app first connects. It keeps the app's actions (``AppModel.actionRecorded``), the device's
events, connection changes, the programs on the device (at connect and after every change)
and the device's own audit log, read at connect and after changes; each audit entry is
written once. The PDF report is built from these entries alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from ...engine import files
from ...host.results import LogEntry
from ...record import chain
from ..controller import Controller
from ..model import Action, AppModel, DeviceEvent, Link

LOG_READ_DELAY_MS = 800  #: after a change, the audit log is read once things settle
EVENTS_NOT_RECORDED = frozenset({"LOG"})  #: audit entries come from the LOG request, once each

#: What the record calls each kind of entry the report looks for.
DEVICE = "device"  #: identity at connect: model, serial, firmware
PROGRAMS = "programs"  #: the program set on the device (a program file's data), active slot
LINK = "link"
AUDIT = "audit"  #: one entry of the device's audit log
NOTE = "note"


def who_of(role: str) -> str:
    """A device role (CLINICIAN, PATIENT...) or an action's who, as the record's who."""
    who = role.lower()
    return who if who in chain.WHO else "app"


class SessionRecorder(QObject):
    """Writes one record per app session into ``folder``, from the first connection on."""

    entryWritten = Signal(object)  #: the entry as written (dict)
    recordOpened = Signal(object)  #: Path of the new record

    def __init__(self, model: AppModel, controller: Controller, folder: Path,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.controller = controller
        self.folder = folder
        self.record: chain.Record | None = None
        self.entries: list[dict[str, Any]] = []
        self.error = ""  #: why the record could not be written ("" while all is well)
        self._pending: list[tuple[str, str, str, dict[str, Any], str]] = []
        self._log_boot = ""
        self._log_seen: set[int] = set()
        self._last_programs: dict[str, Any] | None = None
        self._log_timer = QTimer(self)
        self._log_timer.setSingleShot(True)
        self._log_timer.setInterval(LOG_READ_DELAY_MS)
        self._log_timer.timeout.connect(self.read_log)
        model.actionRecorded.connect(self._on_action)
        model.deviceEvent.connect(self._on_event)
        model.linkChanged.connect(self._on_link)
        model.slotsChanged.connect(self._on_slots)
        model.identityChanged.connect(self._on_identity)

    @property
    def path(self) -> Path | None:
        return self.record.path if self.record is not None else None

    # --- writing ------------------------------------------------------------------
    def write(self, who: str, what: str, text: str, data: Mapping[str, Any] | None = None,
              source: str = "app") -> None:
        """Append one entry (kept until the record opens at the first connection)."""
        item = (who_of(who), what, text, dict(data or {}), source if source in chain.SOURCES else "app")
        if self.record is None:
            self._pending.append(item)
            return
        self._append(*item)

    def _append(self, who: str, what: str, text: str, data: dict[str, Any], source: str) -> None:
        assert self.record is not None
        if self.record.closed or self.error:
            return
        try:
            entry = self.record.append(who, what, text, _jsonable(data), source=source)
        except (OSError, ValueError) as exc:
            self.error = f"The session record cannot be written ({self.record.path}): {exc}"
            self.model.set_notice(self.error, "error")
            return
        self.entries.append(entry)
        self.entryWritten.emit(entry)

    def open(self) -> None:
        """Start this session's record (at the first connection) and write what waited for it."""
        if self.record is not None:
            return
        try:
            self.record = chain.Record(chain.new_path(self.folder))
        except (OSError, ValueError) as exc:
            self.error = f"The session record cannot be started in {self.folder}: {exc}"
            self.model.set_notice(self.error, "error")
            return
        self.recordOpened.emit(self.record.path)
        pending, self._pending = self._pending, []
        for item in pending:
            self._append(*item)

    def close(self) -> None:
        """End the record (the app is closing): a closing entry seals its length."""
        self._log_timer.stop()
        if self.record is not None and not self.record.closed and not self.error:
            try:
                self.record.close()
            except OSError as exc:
                self.error = f"The session record was not closed: {exc}"

    # --- sources ------------------------------------------------------------------
    def _on_action(self, action: Action) -> None:
        data = dict(action.data)
        if who_of(action.who) != action.who.lower():
            data.setdefault("who", action.who)
        self.write(action.who, action.what, action.text, data, action.source)
        if action.source == "app" and self.model.connected:
            self._log_timer.start()

    def _on_event(self, event: DeviceEvent) -> None:
        if event.name in EVENTS_NOT_RECORDED:
            return
        self.write("device", event.name.lower(), event.text, {"raw": event.raw, **dict(event.args)},
                   "device" if not event.source else "app")
        if self.model.connected:
            self._log_timer.start()

    def _on_link(self) -> None:
        link = self.model.link
        if link is Link.CONNECTED:
            self.open()
        if link is Link.CONNECTING:
            return
        self.write("app", LINK, self.model.link_detail or f"Link {link.value}",
                   {"state": link.value, "url": self.model.identity.url})
        if link is Link.CONNECTED:
            self._write_identity()
            self._write_programs()
            self.read_log()

    def _on_identity(self) -> None:
        if self.model.connected:
            self._write_identity()

    def _write_identity(self) -> None:
        ident = self.model.identity
        if not ident.model:
            return
        data = {"model": ident.model, "serial": ident.serial, "firmware": ident.firmware, "boot": ident.boot,
                "protocol": ident.proto, "slots": ident.slots, "url": ident.url, "label": ident.label}
        if any(e["what"] == DEVICE and e["data"] == data for e in self.entries[-50:]):
            return
        self.write("device", DEVICE, f"{ident.model}, serial {ident.serial}, firmware {ident.firmware}", data)

    def _on_slots(self) -> None:
        if self.model.connected:
            self._write_programs()

    def _write_programs(self) -> None:
        slots = self.model.slots
        pf = files.ProgramFile(self.model.device_model, tuple(slots[n] for n in sorted(slots)))
        data = {"set": files.to_data(pf), "active": self.model.status.slot}
        if self._last_programs is not None and self._last_programs["set"] == data["set"]:
            return
        first = self._last_programs is None
        self._last_programs = data
        names = ", ".join(f"{p.slot}: {p.name or p.mode.value}" for p in pf.programs) or "none"
        when = "at connection" if first else "now"
        self.write("device", PROGRAMS, f"Programs on the stimulator {when}: {names}", data)

    # --- the device's audit log -------------------------------------------------------
    def read_log(self) -> None:
        """Ask the device for its audit entries not yet in the record."""
        if not self.model.connected:
            return
        boot = self.model.identity.boot
        if boot != self._log_boot:
            self._log_boot, self._log_seen = boot, set()
        start = max(self._log_seen) + 1 if self._log_seen else None
        self.controller.read_log(start, lambda entries: self._got_log(boot, entries))

    def _got_log(self, boot: str, entries: list[LogEntry] | None) -> None:
        if entries is None or boot != self._log_boot:
            return
        for e in entries:
            if e.i in self._log_seen:
                continue
            self._log_seen.add(e.i)
            self.write(who_of(e.role), AUDIT, e.what,
                       {"i": e.i, "t_ms": e.t_ms, "role": e.role, "boot": boot}, "log")


def _jsonable(value: Any) -> Any:
    """Data as JSON can hold it: tuples become lists, unknown objects their text."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
