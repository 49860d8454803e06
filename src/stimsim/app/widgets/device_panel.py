"""The Device panel: which stimulator, the link, what it is, every line, its events.

For device engineers: the port picker lists serial ports and also takes a typed path or
URL; the console shows every line sent and received with its time and accepts typed
lines; the events list says in words what the device announced.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..controller import BUILTIN_LABEL, Controller
from ..model import AppModel, ConsoleLine, DeviceEvent, Link
from ..style import icon, repolish
from ..worker import POLL_S

CONSOLE_MAX_LINES = 5000
PORT_CHARS = 12  #: the port field's least width in characters (longer paths scroll in it)
PortLister = Callable[[], list[tuple[str, str]]]


def serial_ports() -> list[tuple[str, str]]:
    """(device, description) of the serial ports the system knows, by pyserial."""
    from serial.tools import list_ports

    return [(p.device, p.description or p.device) for p in sorted(list_ports.comports(), key=lambda p: p.device)]


def stamp(when: float) -> str:
    """``12:03:04.123`` local time."""
    t = time.localtime(when)
    return time.strftime("%H:%M:%S", t) + f".{int((when % 1) * 1000):03d}"


class DevicePanel(QWidget):
    """Connection, identity, console and events; collaborators are arguments."""

    def __init__(self, model: AppModel, controller: Controller, *, builtin_url: str,
                 ports: PortLister = serial_ports, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.controller = controller
        self.builtin_url = builtin_url
        self._ports = ports
        self.setAccessibleName("Device panel")
        self.setToolTip("The stimulator this app is connected to")

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(self._build_picker())
        self.banner = QLabel(self)
        self.banner.setObjectName("deviceBanner")
        self.banner.setWordWrap(True)
        self.banner.setAccessibleName("Connection state")
        self.banner.setToolTip("The state of the link to the stimulator")
        lay.addWidget(self.banner)
        lay.addLayout(self._build_identity())
        tabs = QTabWidget(self)
        tabs.setAccessibleName("Console and events")
        tabs.setToolTip("Every line on the wire, and the stimulator's events")
        tabs.addTab(self._build_console(), "Console")
        tabs.addTab(self._build_events(), "Events")
        self.tabs = tabs
        lay.addWidget(tabs, 1)

        model.linkChanged.connect(self._show_link)
        model.identityChanged.connect(self._show_identity)
        model.identityChanged.connect(self._show_link)
        model.statusChanged.connect(self._show_identity)
        model.consoleLine.connect(self.add_console_line)
        model.deviceEvent.connect(self.add_event)
        self.refresh_ports()
        self._show_link()
        self._show_identity()

    # --- picker ------------------------------------------------------------------
    def _build_picker(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.port_box = QComboBox(self)
        self.port_box.setEditable(True)
        self.port_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.port_box.setMinimumContentsLength(PORT_CHARS)
        self.port_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.port_box.setAccessibleName("Stimulator port")
        self.port_box.setToolTip("The built-in virtual generator, a serial port, or type a path or URL "
                                 "(/dev/pts/3, socket://127.0.0.1:5555)")
        edit = self.port_box.lineEdit()
        assert edit is not None  # the box is editable
        edit.setPlaceholderText("port, path or socket://host:port")
        edit.setAccessibleName("Port, path or URL")
        edit.setToolTip(self.port_box.toolTip())
        edit.returnPressed.connect(self._connect_clicked)
        self.port_box.currentTextChanged.connect(lambda _text: self._show_link())
        row.addWidget(self.port_box, 1)

        self.refresh_button = QToolButton(self)
        self.refresh_button.setIcon(icon("refresh"))
        self.refresh_button.setIconSize(QSize(18, 18))
        self.refresh_button.setAccessibleName("List ports again")
        self.refresh_button.setToolTip("Look for serial ports again (after plugging in a board)")
        self.refresh_button.clicked.connect(self.refresh_ports)
        row.addWidget(self.refresh_button)

        self.connect_button = QPushButton(icon("connect"), "Connect", self)
        self.connect_button.setAccessibleName("Connect")
        self.connect_button.setToolTip("Open the chosen port and read the stimulator")
        self.connect_button.clicked.connect(self._connect_clicked)
        row.addWidget(self.connect_button)

        self.disconnect_button = QPushButton(icon("disconnect"), "Disconnect", self)
        self.disconnect_button.setAccessibleName("Disconnect")
        self.disconnect_button.setToolTip("Close the link; the stimulator keeps its settings and goes on stimulating")
        self.disconnect_button.clicked.connect(self.controller.disconnect_device)
        row.addWidget(self.disconnect_button)
        return row

    def refresh_ports(self) -> None:
        current = self.chosen_url()
        self.port_box.clear()
        self.port_box.addItem(BUILTIN_LABEL, self.builtin_url)
        try:
            ports = self._ports()
        except OSError:
            ports = []
        for device, description in ports:
            text = device if description in ("", "n/a", device) else f"{device} — {description}"
            self.port_box.addItem(text, device)
        idx = self.port_box.findData(current)
        if idx >= 0:
            self.port_box.setCurrentIndex(idx)
        elif current and current != self.builtin_url:
            self.port_box.setEditText(current)

    def chosen_url(self) -> str:
        """The URL to open: the chosen item's, or the typed text."""
        text = self.port_box.currentText().strip()
        idx = self.port_box.currentIndex()
        if idx >= 0 and text == self.port_box.itemText(idx):
            return str(self.port_box.itemData(idx))
        return text

    def _connect_clicked(self) -> None:
        if not self.connect_button.isEnabled():
            return  # Enter in the port field while connected to that very stimulator
        if self.model.link in (Link.LOST, Link.NOT_ANSWERING) and self.chosen_url() == self.model.identity.url:
            self.controller.reconnect()
        else:
            self.controller.connect_device(self.chosen_url())

    # --- identity ------------------------------------------------------------------
    def _build_identity(self) -> QGridLayout:
        form = QGridLayout()
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(2)
        self.identity_labels: dict[str, QLabel] = {}
        for i, (key, title, tip) in enumerate((
            ("device", "Device", "Model and serial number"),
            ("firmware", "Firmware", "Firmware version and protocol"),
            ("boot", "Boot id", "Changes at every restart of the stimulator"),
            ("role", "Role", "Patient or clinician: what this session may change"),
        )):
            lab = QLabel("—", self)
            lab.setWordWrap(True)  # wraps on a narrow window rather than widen it
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            lab.setAccessibleName(title)
            lab.setToolTip(tip)
            head = QLabel(f"{title}:", self)
            head.setObjectName("identityHead")
            row, col = divmod(i, 2)
            form.addWidget(head, row, col * 2)
            form.addWidget(lab, row, col * 2 + 1)
            self.identity_labels[key] = lab
        form.setColumnStretch(1, 1)
        form.setColumnStretch(3, 1)
        return form

    def _show_identity(self) -> None:
        ident = self.model.identity
        known = bool(ident.model)
        labels = self.identity_labels
        labels["device"].setText(f"{ident.model} · serial {ident.serial}" if known else "—")
        labels["firmware"].setText(f"{ident.firmware} · protocol {ident.proto}"
                                   f"{' · strict' if ident.strict else ''}" if known else "—")
        labels["boot"].setText(ident.boot or "—")
        role = self.model.status.role
        labels["role"].setText(role.capitalize() if role and known else "—")

    def _show_link(self) -> None:
        m = self.model
        level = {Link.CONNECTED: "info", Link.CONNECTING: "warning", Link.DISCONNECTED: "warning"}.get(m.link, "error")
        self.banner.setText(m.link_detail or m.link.value.capitalize())
        self.banner.setProperty("level", level)
        repolish(self.banner)
        lost = m.link in (Link.LOST, Link.NOT_ANSWERING)
        here = m.link is Link.CONNECTED and self.chosen_url() == m.identity.url
        self.connect_button.setText("Reconnect" if lost else "Connect")
        if here:
            tip = "Connected to this stimulator (Device > Reconnect, Ctrl+R, reads it again)"
        elif lost:
            tip = "Open the port again and re-read the stimulator"
        elif m.link is Link.CONNECTED:
            tip = "Close the present link and connect to the chosen stimulator instead"
        else:
            tip = "Open the chosen port and read the stimulator"
        self.connect_button.setToolTip(tip)
        self.connect_button.setEnabled(m.link is not Link.CONNECTING and not here)
        self.disconnect_button.setEnabled(m.link is not Link.DISCONNECTED)

    # --- console ---------------------------------------------------------------------
    def _build_console(self) -> QWidget:
        page = QWidget(self)
        lay = QVBoxLayout(page)
        lay.setContentsMargins(4, 4, 4, 4)
        self.console = QPlainTextEdit(page)
        self.console.setObjectName("console")
        self.console.setReadOnly(True)
        self.console.setMaximumBlockCount(CONSOLE_MAX_LINES)
        self.console.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.console.setAccessibleName("Console")
        self.console.setToolTip("Every line sent (>) and received (<), with the time; ! marks the app's notes")
        lay.addWidget(self.console, 1)
        row = QHBoxLayout()
        self.show_polls = QCheckBox("Show status polls", page)
        self.show_polls.setAccessibleName("Show status polls")
        self.show_polls.setToolTip(f"Also list the requests the app sends on its own: STATUS every {POLL_S:g} s, "
                                   "BATT now and then, and the reads of empty slots")
        row.addWidget(self.show_polls)
        self.line_edit = QLineEdit(page)
        self.line_edit.setPlaceholderText("Type a request, e.g. STATUS or AMP STEP=+1, and press Enter")
        self.line_edit.setAccessibleName("Request to send")
        self.line_edit.setToolTip("A protocol line; the app adds the sequence number and CRC. STOP is sent at once")
        self.line_edit.returnPressed.connect(self._send_typed)
        row.addWidget(self.line_edit, 1)
        self.send_button = QPushButton(icon("send"), "Send", page)
        self.send_button.setAccessibleName("Send request")
        self.send_button.setToolTip("Send the typed line to the stimulator")
        self.send_button.clicked.connect(self._send_typed)
        row.addWidget(self.send_button)
        lay.addLayout(row)
        return page

    def _send_typed(self) -> None:
        text = self.line_edit.text().strip()
        if text:
            self.controller.send_line(text)
            self.line_edit.clear()

    def add_console_line(self, line: ConsoleLine) -> None:
        if line.poll and not self.show_polls.isChecked():
            return
        bar = self.console.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        self.console.appendPlainText(f"{stamp(line.when)} {line.direction} {line.text}")
        if at_end:  # follow new lines unless the user scrolled back to read
            bar.setValue(bar.maximum())

    # --- events ----------------------------------------------------------------------
    def _build_events(self) -> QWidget:
        self.events = QListWidget(self)
        self.events.setObjectName("events")
        self.events.setAccessibleName("Device events")
        self.events.setToolTip("What the stimulator announced on its own, newest last")
        return self.events

    def add_event(self, event: DeviceEvent) -> None:
        item = QListWidgetItem(f"{stamp(event.when)}  {event.text}")
        item.setToolTip(event.raw.strip())
        self.events.addItem(item)
        if self.events.count() > CONSOLE_MAX_LINES:
            self.events.takeItem(0)
        self.events.scrollToBottom()
