"""The patient programmer: a handheld remote with a small screen and a few big buttons.

It shows only what the device reports (through the model) and sends requests through the
controller; it never changes its own screen on a button press. STOP is always enabled and
bound to Esc for the whole application.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from ...engine import battery as B
from ...engine import params as P
from ...engine.describe import mode_line
from ...engine.params import AMP_PATIENT_STEP_UA
from ...engine.program import Program
from ..battery.words import PACK_EMPTY, state_words
from ..controller import Controller
from ..messages import faults_text, fmt_ma
from ..model import AppModel, Link
from ..style import icon, repolish

NOTICE_SECONDS = 8.0  #: a refusal stays on the screen this long (or until the next one)
MODE_LINES = 2  #: the mode line's height, reserved, so a long one never moves the buttons
NOTICE_LINES = 3  #: the message line's height, reserved likewise
STEP = fmt_ma(AMP_PATIENT_STEP_UA)  #: one patient step, as the buttons say it
_ICON_LIGHT = "#f2f5f8"


class PatientRemote(QWidget):
    """The remote: ``model`` to show, ``controller`` to act."""

    def __init__(self, model: AppModel, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.controller = controller
        self.setAccessibleName("Patient programmer")
        self.setToolTip("The patient's handheld remote: program, amplitude, on/off and STOP")

        body = QFrame(self)
        body.setObjectName("remoteBody")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(body)
        hint = QLabel("Keys: Up/Down amplitude · Left/Right program\nSpace on/off · Esc STOP", self)
        hint.setObjectName("remoteHint")
        hint.setWordWrap(True)
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setAccessibleName("Keyboard keys of the remote")
        hint.setToolTip("These keys work anywhere in the window; Esc stops stimulation from anywhere in the app")
        outer.addWidget(hint)
        outer.addStretch(1)
        lay = QVBoxLayout(body)
        lay.setContentsMargins(18, 14, 18, 18)
        lay.setSpacing(10)

        brand = QLabel("STIMSIM  REMOTE", body)
        brand.setObjectName("remoteBrand")
        brand.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(brand)
        lay.addWidget(self._build_screen(body))
        lay.addLayout(self._build_buttons(body))

        self._notice_timer = QTimer(self)
        self._notice_timer.setSingleShot(True)
        self._notice_timer.timeout.connect(self._clear_notice)
        self._install_shortcuts()
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

        model.statusChanged.connect(self.refresh)
        model.slotsChanged.connect(self.refresh)
        model.linkChanged.connect(self.refresh)
        model.noticeChanged.connect(self._show_notice)
        model.faultsChanged.connect(self.refresh)
        self.refresh()

    # --- construction ------------------------------------------------------------
    def _build_screen(self, parent: QWidget) -> QFrame:
        screen = QFrame(parent)
        screen.setObjectName("remoteScreen")
        screen.setAccessibleName("Remote screen")
        screen.setToolTip("What the stimulator reports now")
        grid = QVBoxLayout(screen)
        grid.setContentsMargins(12, 8, 12, 8)
        grid.setSpacing(2)

        def label(name: str, tip: str) -> QLabel:
            lab = QLabel(screen)
            lab.setObjectName(name)
            lab.setAccessibleName(tip)
            lab.setToolTip(tip)
            return lab

        self.program_label = label("screenProgram", "Active program")
        self.mode_label = label("screenMode", "Mode, rate and pulse width of the active program")
        self.mode_label.setWordWrap(True)
        self.amp_label = label("screenAmplitude", "Amplitude the stimulator reports")
        self.amp_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stim_label = label("screenStim", "Stimulation on or off")
        self.battery_label = label("screenBattery", "Stimulator battery")
        self.mri_label = label("screenMri", "MRI mode")
        self.fault_label = label("screenFault", "Lead contact faults the stimulator reported")
        self.notice_label = label("screenNotice", "Message from the stimulator")
        self.notice_label.setWordWrap(True)
        self.notice_label.setAccessibleDescription("Why the last change was refused, in plain words")
        for lab, lines in ((self.mode_label, MODE_LINES), (self.fault_label, 1), (self.notice_label, NOTICE_LINES)):
            lab.ensurePolished()
            lab.setFixedHeight(lab.fontMetrics().lineSpacing() * lines + 2)
            lab.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

        grid.addWidget(self.program_label)
        grid.addWidget(self.mode_label)
        self.unlocked_label = label("screenUnlocked", "What your clinician lets you change besides the amplitude")
        self.unlocked_label.ensurePolished()
        self.unlocked_label.setFixedHeight(self.unlocked_label.fontMetrics().lineSpacing() + 2)
        grid.addWidget(self.unlocked_label)
        grid.addWidget(self.amp_label)
        row = QHBoxLayout()
        row.addWidget(self.stim_label)
        row.addStretch(1)
        row.addWidget(self.mri_label)
        grid.addLayout(row)
        grid.addWidget(self.battery_label)
        row = QHBoxLayout()  # a line of its own, always there: a fault appearing moves nothing
        row.addWidget(self.fault_label)
        row.addStretch(1)
        grid.addLayout(row)
        grid.addWidget(self.notice_label)
        return screen

    def _button(self, parent: QWidget, name: str, text: str, icon_name: str, tip: str) -> QPushButton:
        btn = QPushButton(text, parent)
        btn.setObjectName(name)
        btn.setProperty("remote", True)
        btn.setIcon(icon(icon_name, _ICON_LIGHT))
        btn.setIconSize(QSize(20, 20))
        btn.setAccessibleName(tip.split(" (")[0])
        btn.setToolTip(tip)
        btn.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        btn.setAutoDefault(False)
        btn.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        return btn

    def _build_buttons(self, parent: QWidget) -> QGridLayout:
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(10)
        self.prev_button = self._button(parent, "remotePrevious", "Prog", "previous",
                                        "Previous program (Left arrow)")
        self.power_button = self._button(parent, "remotePower", "On/Off", "power",
                                         "Stimulation on or off (Space)")
        self.power_button.setText("Turn off")  # the longer of its two labels sets its width
        self.power_button.ensurePolished()
        self.power_button.setMinimumWidth(self.power_button.sizeHint().width())
        self.next_button = self._button(parent, "remoteNext", "Prog", "next", "Next program (Right arrow)")
        self.next_button.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        self.down_button = self._button(parent, "remoteDown", STEP, "minus",
                                        f"Amplitude down by {STEP} (Down arrow)")
        self.up_button = self._button(parent, "remoteUp", STEP, "plus", f"Amplitude up by {STEP} (Up arrow)")
        self.stop_button = QPushButton("STOP", parent)
        self.stop_button.setObjectName("remoteStop")
        self.stop_button.setIcon(icon("stop", "#ffffff"))
        self.stop_button.setIconSize(QSize(26, 26))
        self.stop_button.setAccessibleName("Stop stimulation")
        self.stop_button.setToolTip("Stop stimulation now, whatever else is going on (Esc)")
        self.stop_button.setAutoDefault(False)
        self.stop_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)

        grid.addWidget(self.prev_button, 0, 0)
        grid.addWidget(self.power_button, 0, 1)
        grid.addWidget(self.next_button, 0, 2)
        grid.addWidget(self.down_button, 1, 0)
        amp = QLabel("AMPLITUDE", parent)
        amp.setObjectName("remoteAmpLabel")
        amp.setAlignment(Qt.AlignmentFlag.AlignCenter)
        amp.setAccessibleName("Amplitude buttons")
        amp.setToolTip(f"Each press changes the amplitude by {STEP}, within your clinician's limits")
        grid.addWidget(amp, 1, 1)
        grid.addWidget(self.up_button, 1, 2)
        grid.addWidget(self.stop_button, 2, 0, 1, 3)

        self.prev_button.clicked.connect(lambda: self.controller.select_relative(-1))
        self.next_button.clicked.connect(lambda: self.controller.select_relative(+1))
        self.power_button.clicked.connect(self.controller.toggle_stimulation)
        self.down_button.clicked.connect(lambda: self.controller.step_amplitude(-1))
        self.up_button.clicked.connect(lambda: self.controller.step_amplitude(+1))
        self.stop_button.pressed.connect(self.controller.stop)  # on press, not release: at once
        return grid

    def _install_shortcuts(self) -> None:
        keys = (
            (Qt.Key.Key_Up, lambda: self.controller.step_amplitude(+1), self.up_button),
            (Qt.Key.Key_Down, lambda: self.controller.step_amplitude(-1), self.down_button),
            (Qt.Key.Key_Left, lambda: self.controller.select_relative(-1), self.prev_button),
            (Qt.Key.Key_Right, lambda: self.controller.select_relative(+1), self.next_button),
            (Qt.Key.Key_Space, self.controller.toggle_stimulation, self.power_button),
        )
        self.shortcuts: list[QShortcut] = []
        for key, action, button in keys:
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.activated.connect(lambda k=key, a=action, b=button: self._key(k, a, b))
            self.shortcuts.append(sc)
        stop = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        stop.setContext(Qt.ShortcutContext.ApplicationShortcut)
        stop.activated.connect(self.controller.stop)
        self.shortcuts.append(stop)

    def _key(self, key: Qt.Key, action: Callable[[], None], button: QPushButton) -> None:
        del key
        if button.isEnabled():
            action()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        """Keys typed into an editor or a list belong to it: claim them before the shortcuts.

        Without this, Up in the console or in a drop-down list would raise the amplitude.
        """
        if (event.type() == QEvent.Type.ShortcutOverride and isinstance(watched, _EDITORS)
                and isinstance(event, QKeyEvent) and event.key() in _REMOTE_KEYS
                and event.modifiers() == Qt.KeyboardModifier.NoModifier):
            event.accept()
            return True
        return False

    # --- showing the model -------------------------------------------------------
    def refresh(self) -> None:
        m = self.model
        st = m.status
        prog = m.active_program()
        connected = m.link is Link.CONNECTED
        if not connected:
            self.program_label.setText(_LINK_TITLE.get(m.link, "No stimulator"))
            self.mode_label.setText(_LINK_HINT.get(m.link, ""))
            self.unlocked_label.setText("")
            self.amp_label.setText("-- mA")
            self.stim_label.setText("")
            self.battery_label.setText("")
            self.mri_label.setText("")
            self.mri_label.setProperty("on", False)
            self.fault_label.setText("")
        else:
            name = prog.name if prog and prog.name else ""
            self.program_label.setText(f"P{st.slot}  {name}".rstrip() if st.slot else "No program")
            mode = mode_line(prog) if prog else f"Slot {st.slot} is empty: no program to run"
            if st.test:
                mode = "Clinician test settings · " + mode
            self.mode_label.setText(mode)
            self.mode_label.setToolTip(mode)
            self.unlocked_label.setText(unlocked_text(prog, self.model.device_model.family) if prog else "")
            self.amp_label.setText(fmt_ma(st.amplitude_ua) if prog else "-- mA")
            self.fault_label.setText(faults_text(m.faults))
            if m.stopping and st.stim_on:
                self.stim_label.setText("Stopping…")
            else:
                self.stim_label.setText("● Stimulation ON" if st.stim_on else "○ Stimulation OFF")
            self.stim_label.setProperty("on", st.stim_on)
            self.battery_label.setText(_battery_text(st.battery_percent, st.charging, st.battery_state,
                                                     st.chemistry))
            words = state_words(st.battery_state, st.chemistry)
            alarm = st.battery_state in _BATT_ALARMS and st.battery_percent is not None
            self.battery_label.setProperty("level", words.level if alarm else "")
            self.battery_label.setToolTip(words.meaning if alarm else "Stimulator battery")
            self.mri_label.setText("MRI MODE" if st.mri else "MRI off")
            self.mri_label.setProperty("on", st.mri)
        self.fault_label.setProperty("on", bool(self.fault_label.text()))
        for lab in (self.stim_label, self.mri_label, self.fault_label, self.battery_label):
            repolish(lab)
        self._show_steps(prog if connected else None)
        for btn in (self.prev_button, self.next_button, self.up_button, self.down_button, self.power_button):
            btn.setEnabled(connected)
        self.prev_button.setEnabled(connected and len(m.slots) > 1)
        self.next_button.setEnabled(connected and len(m.slots) > 1)
        self.power_button.setProperty("on", connected and st.stim_on)
        self.power_button.setText("Turn off" if connected and st.stim_on else "Turn on")
        self.power_button.setToolTip("Turn stimulation off (Space)" if st.stim_on else "Turn stimulation on (Space)")
        repolish(self.power_button)

    def _show_steps(self, prog: Program | None) -> None:
        """The amplitude buttons say the step they take from here: 0.1 mA, or on a family that
        steps grid point by grid point (DRG) the grid's spacing where the amplitude lies (25 µA)."""
        down = up = AMP_PATIENT_STEP_UA
        if prog is not None:
            family, amp = self.model.device_model.family, prog.amplitude_ua
            up = P.patient_step(family, prog.mode, "amplitude_ma", amp, 1) - amp
            down = amp - P.patient_step(family, prog.mode, "amplitude_ma", amp, -1) if amp > 0 else up
        for button, step, way in ((self.down_button, down, "down"), (self.up_button, up, "up")):
            text = fmt_ma(step) if step % AMP_PATIENT_STEP_UA == 0 else f"{step} µA"  # fits the button
            if button.text() != text:
                button.setText(text)
                key = "Down" if way == "down" else "Up"
                button.setAccessibleName(f"Amplitude {way} by {text}")
                button.setToolTip(f"Amplitude {way} by {text} ({key} arrow)")

    def _show_notice(self) -> None:
        notice = self.model.notice
        self.notice_label.setText(notice.text)
        self.notice_label.setToolTip(notice.text or "Message from the stimulator")
        self.notice_label.setProperty("level", notice.level)
        repolish(self.notice_label)
        if notice.text:
            self._notice_timer.start(int(NOTICE_SECONDS * 1000))

    def _clear_notice(self) -> None:
        self.notice_label.setText("")


#: Widgets whose arrow and space keys must never move the amplitude or the program.
_EDITORS = (QLineEdit, QAbstractSpinBox, QComboBox, QPlainTextEdit, QTextEdit, QAbstractItemView, QAbstractSlider)

_LINK_HINT = {
    Link.DISCONNECTED: "Choose a stimulator in the Device panel and press Connect",
    Link.CONNECTING: "Reading the stimulator…",
    Link.NOT_ANSWERING: "Check the connection, or press Reconnect",
    Link.LOST: "Press Reconnect when the stimulator is back",
}

_REMOTE_KEYS = (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Space)

_LINK_TITLE = {
    Link.DISCONNECTED: "No stimulator",
    Link.CONNECTING: "Connecting…",
    Link.NOT_ANSWERING: "Not answering",
    Link.LOST: "Connection lost",
}


def _battery_text(percent: int | None, charging: bool, state: str, chemistry: str = "") -> str:
    """``Battery 9 % · Replace soon``: the level, and the state as the remote says it (a primary
    cell's ERI and EOS as implant remotes word them, a trial pack's as a pack)."""
    if percent is None:
        return "Battery --"
    text = f"Battery {percent} %"
    if charging:
        text += " · charging"
    if state in _BATT_ALARMS:
        words = _PACK_WORDS if chemistry.lower() == B.PACK else _BATT_WORDS
        text += f" · {words[state]}"
    return text


_BATT_WORDS = {B.LOW: "low", B.EMPTY: "empty", B.ERI: "Replace soon", B.EOS: "End of service"}
_PACK_WORDS = {B.LOW: "Replace pack soon", B.EMPTY: PACK_EMPTY}
_BATT_ALARMS = frozenset(_BATT_WORDS)


def unlocked_text(prog: Program, family: P.Family = P.Family.SCS_R) -> str:
    """The ranges a clinician unlocked on the remote: ``You may change: Pulse width 200..400 µs``."""
    parts = []
    for param in P.TABLE:
        if param.limits is not P.LimitKind.UNLOCK or param.key not in P.MODES[prog.mode].ranges:
            continue
        if all(prog.limits.get(P.Limit(param, side).key) is None for side in ("min", "max")):
            continue
        lo, hi = prog.limits.range_of(param.key, prog.mode, family)
        parts.append(f"{param.label.lower()} {param.fmt(lo)}..{param.show(hi)}")
    return f"You may change: {', '.join(parts)}" if parts else ""
