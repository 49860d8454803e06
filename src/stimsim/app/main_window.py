"""The main window: the remote on the left, the scope and the device panel on the right."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QMainWindow, QMessageBox, QSplitter, QWidget

from .. import __version__
from .controller import Controller
from .model import AppModel, Link
from .timeline import DisplayClock, EnvelopeFn
from .widgets.annotations import PulseStartsFn
from .widgets.device_panel import DevicePanel, PortLister, serial_ports
from .widgets.remote import PatientRemote
from .widgets.scope import LiveScope
from .widgets.statusbar import StatusBar

KEYS_HELP = """<table>
<tr><td><b>Up / Down</b></td><td>amplitude up / down by 0.1 mA</td></tr>
<tr><td><b>Left / Right</b></td><td>previous / next program</td></tr>
<tr><td><b>Space</b></td><td>stimulation on / off</td></tr>
<tr><td><b>Esc</b></td><td>STOP, at once, from anywhere in the app</td></tr>
</table>"""


class MainWindow(QMainWindow):
    """Assembles the widgets; every collaborator comes in as an argument."""

    def __init__(self, model: AppModel, controller: Controller, envelope: EnvelopeFn, *,
                 pulse_starts: PulseStartsFn | None, builtin_url: str, ports: PortLister = serial_ports,
                 clock: DisplayClock | None = None, on_close: object = None) -> None:
        super().__init__()
        self.model = model
        self.controller = controller
        self._on_close = on_close
        self.setWindowTitle("stimsim — patient programmer and live scope")
        self.setAccessibleName("stimsim main window")

        central = QWidget(self)
        central.setObjectName("centralArea")
        row = QHBoxLayout(central)
        row.setContentsMargins(10, 10, 10, 6)
        row.setSpacing(10)
        self.remote = PatientRemote(model, controller, central)
        self.remote.ensurePolished()  # sizes from the style sheet's fonts (larger in presentation mode)
        self.remote.setFixedWidth(max(330, self.remote.sizeHint().width() + 20))
        row.addWidget(self.remote, 0)

        split = QSplitter(Qt.Orientation.Vertical, central)
        split.setChildrenCollapsible(False)
        split.setAccessibleName("Scope and device")
        split.setToolTip("Drag the handle to share the space between the scope and the device panel")
        self.scope = LiveScope(model, envelope, pulse_starts=pulse_starts, clock=clock, parent=split)
        self.device_panel = DevicePanel(model, controller, builtin_url=builtin_url, ports=ports, parent=split)
        split.addWidget(self.scope)
        split.addWidget(self.device_panel)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([500, 400])
        self.splitter = split
        row.addWidget(split, 1)
        self.setCentralWidget(central)

        self.status_bar = StatusBar(model, self)
        self.setStatusBar(self.status_bar)
        self._build_menus()
        model.linkChanged.connect(self._title)
        model.identityChanged.connect(self._title)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        device = bar.addMenu("&Device")
        self.reconnect_action = QAction("&Reconnect", self)
        self.reconnect_action.setShortcut(QKeySequence("Ctrl+R"))
        self.reconnect_action.setToolTip("Open the port again and re-read the stimulator")
        self.reconnect_action.triggered.connect(self.controller.reconnect)
        device.addAction(self.reconnect_action)
        disconnect = QAction("&Disconnect", self)
        disconnect.setToolTip("Close the link to the stimulator")
        disconnect.triggered.connect(self.controller.disconnect_device)
        device.addAction(disconnect)
        device.addSeparator()
        self.mri_action = QAction("&MRI mode", self)
        self.mri_action.setCheckable(True)
        self.mri_action.setToolTip("Turn MRI mode on (stimulation off, cannot be turned on) or off")
        self.mri_action.triggered.connect(lambda on: self.controller.set_mri(bool(on)))
        self.model.statusChanged.connect(lambda: self.mri_action.setChecked(self.model.status.mri))
        device.addAction(self.mri_action)
        device.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        device.addAction(quit_action)

        help_menu = bar.addMenu("&Help")
        keys = QAction("&Keyboard", self)
        keys.triggered.connect(lambda: QMessageBox.information(self, "Keyboard", KEYS_HELP))
        help_menu.addAction(keys)
        about = QAction("&About stimsim", self)
        about.triggered.connect(lambda: QMessageBox.about(
            self, "About stimsim",
            f"<b>stimsim {__version__}</b><p>A simulator of a spinal cord stimulation programming system, "
            "for training and development. Not a medical device: never use it with a patient.</p>"))
        help_menu.addAction(about)

    def _title(self) -> None:
        ident = self.model.identity
        where = ident.label if self.model.link is Link.CONNECTED and ident.label else "not connected"
        self.setWindowTitle(f"stimsim — {where}")

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.scope.stop_timers()
        if callable(self._on_close):
            self._on_close()
        super().closeEvent(event)
