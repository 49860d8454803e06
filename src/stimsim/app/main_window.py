"""The main window: the remote on the left, the scope and the device panel on the right."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QWidget,
)

from .. import __version__
from ..engine.params import AMP_PATIENT_STEP_UA, Family
from ..patient.model import Patient
from .clinician.view import ClinicianView
from .controller import Controller
from .ecap.view import EcapView
from .messages import fmt_ma
from .model import AppModel, Link
from .patient.view import PatientView
from .records.keys import KEYS as RECORDS_KEYS
from .style import apply_style
from .timeline import DisplayClock, EnvelopeFn
from .trial.view import TrialView
from .widgets.annotations import PulseStartsFn
from .widgets.battery_view import BatteryView
from .widgets.device_panel import DevicePanel, PortLister, serial_ports
from .widgets.remote import PatientRemote
from .widgets.scope import LiveScope
from .widgets.statusbar import StatusBar

RECONNECT_KEY = "Ctrl+R"
QUIT_KEY = "Ctrl+Q"
DEVICE_PANEL_KEY = "Ctrl+D"
EXPORT_IMAGE_KEY = "Ctrl+E"
EXPORT_CSV_KEY = "Ctrl+Shift+E"
UNDO_KEY = "Ctrl+Z"
REDO_KEY = "Ctrl+Shift+Z"
CHARGING_KEY = "Ctrl+Alt+C"
BATTERY_IMAGE_KEY = "Ctrl+Alt+E"
BATTERY_CSV_KEY = "Ctrl+Alt+Shift+E"

#: Every key of the app and what it does: Help > Keyboard shows this table.
KEYS: tuple[tuple[str, str], ...] = (
    ("Up / Down", f"amplitude up / down by one patient step ({fmt_ma(AMP_PATIENT_STEP_UA)}; on a DRG one point "
                  "of its grid: the remote's buttons show the step)"),
    ("Left / Right", "previous / next program"),
    ("Space", "stimulation on / off"),
    ("Esc", "STOP, at once, from anywhere in the app"),
    (RECONNECT_KEY, "reconnect: open the port again and re-read the stimulator"),
    (DEVICE_PANEL_KEY, "show or hide the device panel"),
    (EXPORT_IMAGE_KEY, "export the scope's view as a PNG or SVG image"),
    (EXPORT_CSV_KEY, "export the scope's data as CSV"),
    (CHARGING_KEY, "battery view: start or stop charging (the simulated charger)"),
    (BATTERY_IMAGE_KEY, "battery view: export the level or projection plot as a PNG or SVG image"),
    (BATTERY_CSV_KEY, "battery view: export the data of the tab in front (level, projection, comparison) as CSV"),
    (QUIT_KEY, "quit"),
    *RECORDS_KEYS,
    (f"{UNDO_KEY} / {REDO_KEY}", "undo / redo a change of the clinician's program"),
)


def keys_help(views: tuple[str, ...] = ()) -> str:
    """Every key of the app; ``views`` are the titles of the views Ctrl+1, Ctrl+2, ... bring forward."""
    keys = [*KEYS, *((f"Ctrl+{i}", f"the {title} view") for i, title in enumerate(views, start=1))]
    rows = "".join(f"<tr><td><b>{key}</b>&nbsp;&nbsp;</td><td>{what}</td></tr>" for key, what in keys)
    return f"<table>{rows}</table>"


REMOTE_SLACK_PX = 12  #: beyond the remote's own size hint, so no button is ever at its very minimum
DEVICE_PANEL_HEIGHT = 300  #: the device panel's first height at most; the scope takes the rest
DEVICE_PANEL_SHARE = 0.4  #: ... and at most this share of the height (a 720-pixel projector)


class MainWindow(QMainWindow):
    """Assembles the widgets; every collaborator comes in as an argument."""

    def __init__(self, model: AppModel, controller: Controller, envelope: EnvelopeFn, *,
                 pulse_starts: PulseStartsFn | None, builtin_url: str, ports: PortLister = serial_ports,
                 clock: DisplayClock | None = None, on_close: object = None, presentation: bool = False) -> None:
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
        self.remote.setFixedWidth(self.remote.sizeHint().width() + REMOTE_SLACK_PX)
        row.addWidget(self.remote, 0)

        split = QSplitter(Qt.Orientation.Vertical, central)
        split.setAccessibleName("Scope and device")
        split.setToolTip(f"Drag the handle to share the space between the scope and the device panel; "
                         f"{DEVICE_PANEL_KEY} hides the device panel")
        self.faces = QTabWidget(split)
        self.faces.setObjectName("faces")
        self.faces.setAccessibleName("Views")
        self.faces.setDocumentMode(True)
        self._face_names: list[str] = []
        self.scope = LiveScope(model, envelope, pulse_starts=pulse_starts, clock=clock, parent=self.faces,
                               presentation=presentation)
        self.add_face("scope", self.scope, "Scope", "The live scope of the stimulation current")
        self._add_clinician()
        self.battery = BatteryView(model, controller, self.faces)
        self.add_face("battery", self.battery, "Battery", "The battery: level and charger, projection over "
                      "days to years, programs compared")
        self.device_panel = DevicePanel(model, controller, builtin_url=builtin_url, ports=ports, parent=split)
        split.addWidget(self.faces)
        split.addWidget(self.device_panel)
        split.setCollapsible(0, False)
        split.setCollapsible(1, True)
        split.setStretchFactor(0, 1)  # a taller window gives the scope the height, not the console
        split.setStretchFactor(1, 0)
        split.setSizes([DEVICE_PANEL_HEIGHT * 2, DEVICE_PANEL_HEIGHT])
        split.splitterMoved.connect(lambda *_: self._panel_shown_or_not())
        self.splitter = split
        row.addWidget(split, 1)
        self.setCentralWidget(central)

        self.status_bar = StatusBar(model, self)
        self.setStatusBar(self.status_bar)
        self._build_menus()
        # --- the patient view (virtual patient rehearsals) ---
        self.patient_view = PatientView(model, controller, self.faces)
        self.add_face("patient", self.patient_view, "Patient",
                      "Rehearse a programming session with the virtual patient: scenario, body map, leads, "
                      "dialogue, time and score")
        self.trial_view = TrialView(model, self.faces)
        self.add_face("trial", self.trial_view, "Trial", "A trial on the external trial stimulator: the trial's "
                      "clock, the pain diary, the verdict and the transfer to the implant")
        self._add_ecap()
        model.linkChanged.connect(self._title)
        model.identityChanged.connect(self._title)
        self._add_edit_menu()

    def _build_menus(self) -> None:
        bar = self.menuBar()
        device = bar.addMenu("&Device")
        self.reconnect_action = QAction("&Reconnect", self)
        self.reconnect_action.setShortcut(QKeySequence(RECONNECT_KEY))
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
        quit_action.setShortcut(QKeySequence(QUIT_KEY))
        quit_action.setToolTip("Close the window; the stimulator keeps its settings")
        quit_action.triggered.connect(self.close)
        device.addAction(quit_action)

        scope = bar.addMenu("&Scope")
        self.export_image_action = QAction("Export view as &image (PNG, SVG)…", self)
        self.export_image_action.setShortcut(QKeySequence(EXPORT_IMAGE_KEY))
        self.export_image_action.setToolTip("Save what the scope shows as a PNG or SVG picture")
        self.export_image_action.triggered.connect(self.scope.export_image_dialog)
        scope.addAction(self.export_image_action)
        self.export_csv_action = QAction("Export &data as CSV…", self)
        self.export_csv_action.setShortcut(QKeySequence(EXPORT_CSV_KEY))
        self.export_csv_action.setToolTip("Save the current in view (min and max per pixel column) as CSV")
        self.export_csv_action.triggered.connect(self.scope.export_csv_dialog)
        scope.addAction(self.export_csv_action)

        view = bar.addMenu("&View")
        self.views_menu = view
        for action in self.actions():
            view.addAction(action)
        view.addSeparator()
        self.device_panel_action = QAction("&Device panel", self)
        self.device_panel_action.setCheckable(True)
        self.device_panel_action.setChecked(True)
        self.device_panel_action.setShortcut(QKeySequence(DEVICE_PANEL_KEY))
        self.device_panel_action.setToolTip("Show or hide the port, console and events below the scope")
        self.device_panel_action.toggled.connect(self.show_device_panel)
        view.addAction(self.device_panel_action)

        self._build_battery_menu()

        help_menu = bar.addMenu("&Help")
        keys = QAction("&Keyboard", self)
        keys.setToolTip("Every key of the app")
        keys.triggered.connect(lambda: QMessageBox.information(self, "Keyboard", keys_help(self.face_titles())))
        help_menu.addAction(keys)
        about = QAction("&About stimsim", self)
        about.triggered.connect(lambda: QMessageBox.about(
            self, "About stimsim",
            f"<b>stimsim {__version__}</b><p>A simulator of a spinal cord stimulation programming system, "
            "for training and development. Not a medical device: never use it with a patient.</p>"))
        help_menu.addAction(about)

    def share_height(self) -> None:
        """Give the device panel its first height and the scope the rest (after the first resize)."""
        central = self.centralWidget()
        layout = central.layout() if central is not None else None
        if layout is not None:
            layout.activate()
        total = sum(self.splitter.sizes()) or self.splitter.height()
        if self.splitter.sizes()[1] == 0 or total <= 0:
            return
        panel = max(self.device_panel.minimumSizeHint().height(),
                    min(DEVICE_PANEL_HEIGHT, int(total * DEVICE_PANEL_SHARE)))
        self.splitter.setSizes([total - panel, panel])

    def add_face(self, name: str, widget: QWidget, title: str, tooltip: str) -> None:
        """Add a view beside the scope (the clinician programmer, the battery, the record);
        Ctrl+1, Ctrl+2, ... bring the views forward in the order they were added."""
        index = self.faces.addTab(widget, title)
        self.faces.setTabToolTip(index, tooltip)
        self._face_names.append(name)
        action = QAction(f"&{index + 1} {title}", self)
        action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
        action.setToolTip(tooltip)
        action.triggered.connect(lambda: self.show_face(name))
        self.addAction(action)
        if hasattr(self, "views_menu"):
            self.views_menu.addAction(action)

    def show_face(self, name: str) -> None:
        """Bring the named view forward (``scope``, ``clinician``, ...); KeyError names the views."""
        if name not in self._face_names:
            raise KeyError(f"no view {name!r} (views: {', '.join(self._face_names)})")
        self.faces.setCurrentIndex(self._face_names.index(name))

    def face_names(self) -> tuple[str, ...]:
        return tuple(self._face_names)

    def face_titles(self) -> tuple[str, ...]:
        return tuple(self.faces.tabText(i).replace("&", "") for i in range(self.faces.count()))

    def show_device_panel(self, shown: bool) -> None:
        """Show the device panel, or collapse it so the scope has the whole height."""
        sizes = self.splitter.sizes()
        total = sum(sizes)
        if shown and sizes[1] == 0:
            panel = min(DEVICE_PANEL_HEIGHT, total // 2)
            self.splitter.setSizes([total - panel, panel])
        elif not shown and sizes[1] > 0:
            self.splitter.setSizes([total, 0])
        self._panel_shown_or_not()

    def _panel_shown_or_not(self) -> None:
        shown = self.splitter.sizes()[1] > 0
        if self.device_panel_action.isChecked() != shown:
            self.device_panel_action.setChecked(shown)

    def _title(self) -> None:
        ident = self.model.identity
        where = ident.label if self.model.link is Link.CONNECTED and ident.label else "not connected"
        self.setWindowTitle(f"stimsim — {where}")

    def _build_battery_menu(self) -> None:
        """The Battery menu: the charger, and exports of the battery view's plots and data."""
        menu = self.menuBar().addMenu("&Battery")
        self.battery_menu = menu

        def add(text: str, tip: str, run: object, key: str = "") -> QAction:
            action = QAction(text, self)
            action.setToolTip(tip)
            if key:
                action.setShortcut(QKeySequence(key))
            assert callable(run)
            action.triggered.connect(lambda: run())
            menu.addAction(action)
            return action

        self.charging_action = add("Start or stop &charging", "Put the simulated charger on, or take it off",
                                   self.battery.gauge.toggle_charging, CHARGING_KEY)
        menu.addSeparator()
        self.battery_image_action = add("Export battery &plot as image (PNG, SVG)…",
                                        "Save the level or projection plot of the battery view as a picture",
                                        self._battery_export_image, BATTERY_IMAGE_KEY)
        self.battery_csv_action = add("Export battery &data as CSV…",
                                      "Save the data of the battery view's tab in front as CSV",
                                      self._battery_export_csv, BATTERY_CSV_KEY)

    def _battery_export_image(self) -> None:
        self.show_face("battery")
        self.battery.export_image_dialog()

    def _battery_export_csv(self) -> None:
        self.show_face("battery")
        self.battery.export_csv_dialog()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.clinician.leave("The app closed")
        self.scope.stop_timers()
        if callable(self._on_close):
            self._on_close()
        super().closeEvent(event)

    # --- presentation mode (for trainers) -------------------------------------------------
    def set_presentation(self, on: bool, *, full_screen: bool = True) -> None:
        """Large type, the device panel collapsed, the Clinician view and the Edit menu hidden,
        and each view's own clinician controls hidden (a view with a ``set_presentation(on)``
        method hides its own); full screen unless told not to."""
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_style(app, presentation=on)
        self.presentation = on
        self.remote.setMinimumWidth(0)
        self.remote.setMaximumWidth(16_777_215)
        self.remote.ensurePolished()
        self.remote.setFixedWidth(self.remote.sizeHint().width() + REMOTE_SLACK_PX)
        self.show_device_panel(not on)  # Ctrl+D still brings it back for a moment
        # The clinician's controls are not for a room: the Clinician view and its Edit menu go.
        clinician = self._face_names.index("clinician")
        if on and self.faces.currentIndex() == clinician:
            self.show_face("scope")
        self.faces.setTabVisible(clinician, not on)
        self.edit_menu.menuAction().setVisible(not on)
        for index in range(self.faces.count()):
            hook = getattr(self.faces.widget(index), "set_presentation", None)
            if callable(hook):
                hook(on)
        if on and full_screen:
            self.showFullScreen()
        elif not on and self.isFullScreen():
            self.showNormal()

    # --- the clinician programmer ------------------------------------------------------
    def _add_clinician(self) -> None:
        """The clinician view, right after the scope (Ctrl+2)."""
        self.clinician = ClinicianView(self.model, self.controller, self.faces)
        self.add_face("clinician", self.clinician, "Clinician",
                      "The clinician programmer: log in, edit, test and save programs")

    def _add_ecap(self) -> None:
        """The ECAP view: the closed-loop clinician screen (an SCS-CL stimulator); its patient is a
        closed-loop scenario's, else the device's own reference nerve."""
        session = self.patient_view.session

        def patient() -> Patient | None:
            sc = session.scenario
            return sc.patient if sc is not None and sc.family is Family.SCS_CL else None

        self.ecap_view = EcapView(self.model, self.controller, self.faces, patient=patient)
        self.add_face("ecap", self.ecap_view, "ECAP", "The closed loop (SCS-CL): the ECAP against its target and "
                      "window, the growth curve, setting up the loop, posture and cough, open against closed")

    def _add_edit_menu(self) -> None:
        """The Edit menu with the clinician's undo and redo (before the View menu)."""
        edit = QMenu("&Edit", self)
        self.undo_action = self.clinician.draft.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(QKeySequence(UNDO_KEY))
        self.undo_action.setToolTip("Undo the last change of the program being edited")
        self.redo_action = self.clinician.draft.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcut(QKeySequence(REDO_KEY))
        self.redo_action.setToolTip("Redo the change just undone")
        edit.addAction(self.undo_action)
        edit.addAction(self.redo_action)
        self.menuBar().insertMenu(self.views_menu.menuAction(), edit)
        self.edit_menu = edit
