"""The clinician programmer: a view of the main window.

Locked until the clinician logs in (the device's challenge-response; the PIN is never
kept). Then: the 16 slots, the editor built from the parameter table, the electrode
diagram, patient limits, live safety figures, TEST then Save, and the impedance check.
Every rule is the device's; the view says it in words before anything is sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...engine import params as P
from ...engine.describe import mode_line
from ...engine.program import DeviceModel, Electrodes, Program
from ...engine.validate import UNSAFE, Problem, check_program
from ...host.client import differences
from ...host.limits import PIN_MAX_DIGITS, PIN_MIN_DIGITS, TEST_LEASE_S
from ..battery.cost import battery_cost
from ..controller import Controller
from ..launch import example_slot_programs
from ..model import AppModel, ClinicianReply, Link
from .draft import Draft
from .electrodes import ElectrodeDiagram, contact_state
from .fields import ParamControl, make_control
from .response_label import ResponseLabel, ask_label, needs_label
from .safety import figures, k_text, limits_text, measured_device

Confirm = Callable[[str, str], bool]  #: (title, question) -> yes; tests replace it
LOGIN_TEXT = "Log in to program"
WIDE_PX = 860
LOCKED_STYLE = "font-weight: bold; padding: 6px; background: #fff3c4; border: 1px solid #d9b84a; border-radius: 4px;"
UNLOCKED_STYLE = "padding: 6px;"  #: narrower than this (at 96 dpi), the electrodes column goes below the editor
_NEXT = {0: -1, -1: 1, 1: 0}  #: a lead contact cycles off -> cathode -> anode -> off
_NEXT_CASE = {False: 1, True: 0}  #: the case: off -> anode -> off


def ask(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def new_program(slot: int, family: P.Family = P.Family.SCS_R) -> Program:
    """A new slot's first draft: the family's first example program (slot 1's), amplitude 0,
    named for its slot."""
    return replace(example_slot_programs(family)[0], slot=slot, amplitude_ua=0, name=f"Program {slot}")


class LoginDialog(QDialog):
    """Asks the PIN; the view sends it to the worker and forgets it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Clinician login")
        self.setAccessibleName("Clinician login")
        form = QFormLayout(self)
        self.pin = QLineEdit(self)
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(PIN_MAX_DIGITS)
        self.pin.setAccessibleName("PIN")
        self.pin.setToolTip(f"The stimulator's clinician PIN, {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits; "
                            "it is never sent nor kept (the app answers the device's challenge)")
        form.addRow("PIN:", self.pin)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def take_pin(self) -> str:
        pin = self.pin.text()
        self.pin.clear()
        return pin


class ClinicianView(QWidget):
    """The clinician programmer; ``confirm`` asks yes/no questions (a dialog; tests replace it)."""

    def __init__(self, model: AppModel, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("clinicianView")
        self.setAccessibleName("Clinician programmer")
        self.model = model
        self.controller = controller
        self.draft = Draft(self)
        self.confirm: Confirm = lambda title, text: ask(self, title, text)
        self.ask_text: Callable[[str, str, str], str | None] = self._ask_text
        #: asks the stimulus-response label a DRG program is saved with (a dialog; tests replace it)
        self.ask_label: Callable[[Program], ResponseLabel | None] = lambda prog: ask_label(self, mode_line(prog))
        self.family = P.Family.SCS_R
        self._pending_label: ResponseLabel | None = None
        self._fields_mode: P.Mode | None = None
        self.testing = False
        self.impedances: dict[str, int | str] = {}
        self.measured_at: float | None = None
        self.lock_until = 0.0
        self.last_refresh_ms = 0.0
        self.notice = ""
        self._controls: dict[str, ParamControl] = {}
        self._errors: dict[str, QLabel] = {}
        self._limit_rows: dict[str, tuple[QCheckBox, ParamControl]] = {}
        self._pending_save: Program | None = None
        self._pending_before: Program | None = None
        self._pending_kind = ""
        self._lock_timer = QTimer(self)
        self._lock_timer.setInterval(1000)
        self._lock_timer.timeout.connect(self._show_login_state)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.addLayout(self._build_banner())
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setAccessibleName("Clinician programmer controls")
        self.body = QWidget(scroll)
        self.grid = QGridLayout(self.body)
        self.grid.addWidget(self._build_slots(), 0, 0)
        self.grid.addWidget(self._build_editor(), 0, 1)
        self.electrodes_column = self._build_electrodes()
        self.grid.addWidget(self.electrodes_column, 0, 2)
        self.grid.setColumnStretch(1, 1)
        self.grid.setColumnStretch(2, 1)
        self.wide = True
        scroll.setWidget(self.body)
        outer.addWidget(scroll, 1)

        self.draft.changed.connect(self._draft_changed)
        model.slotsChanged.connect(self._family_changed)
        model.slotsChanged.connect(self._show_slots)
        model.statusChanged.connect(self._show_login_state)
        model.linkChanged.connect(self._link_changed)
        model.clinicianReplied.connect(self._replied)
        self._family_changed()
        self._show_slots()
        self._show_login_state()
        self._draft_changed()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        """Three columns where they fit; on a narrow window the electrodes go below the editor."""
        super().resizeEvent(event)
        wide = event.size().width() >= WIDE_PX * max(1.0, self.logicalDpiX() / 96.0)
        if wide != self.wide:
            self.wide = wide
            self.grid.removeWidget(self.electrodes_column)
            if wide:
                self.grid.addWidget(self.electrodes_column, 0, 2)
            else:
                self.grid.addWidget(self.electrodes_column, 1, 0, 1, 2)
            self.grid.setColumnStretch(2, 1 if wide else 0)

    # --- building ---------------------------------------------------------------------------
    def _build_banner(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.banner = QLabel(LOGIN_TEXT, self)
        self.banner.setObjectName("clinicianBanner")
        self.banner.setAccessibleName("Clinician login state")
        self.banner.setWordWrap(True)
        self.login_button = QPushButton("Log in…", self)
        self.login_button.setAccessibleName("Log in or out")
        self.login_button.setToolTip("Log in with the clinician PIN (challenge-response) or log out")
        self.login_button.clicked.connect(self._login_clicked)
        self.notice_label = QLabel("", self)
        self.notice_label.setObjectName("clinicianNotice")
        self.notice_label.setAccessibleName("Clinician notice")
        self.notice_label.setWordWrap(True)
        row.addWidget(self.banner, 1)
        row.addWidget(self.login_button)
        box = QVBoxLayout()
        box.addLayout(row)
        box.addWidget(self.notice_label)
        wrap = QHBoxLayout()
        wrap.addLayout(box)
        return wrap

    def _build_slots(self) -> QGroupBox:
        box = QGroupBox("Slots", self)
        lay = QVBoxLayout(box)
        self.slot_list = QListWidget(box)
        self.slot_list.setAccessibleName("Program slots")
        self.slot_list.setToolTip("The stimulator's program slots: pick one to edit it")
        self.slot_list.currentRowChanged.connect(self._slot_chosen)
        lay.addWidget(self.slot_list, 1)
        buttons = QGridLayout()
        self.new_button = self._button(box, "New", "Start a new program in this empty slot", self.new_in_slot)
        self.copy_button = self._button(box, "Copy", "Copy this slot's program to the next empty slot", self.copy_slot)
        self.rename_button = self._button(box, "Rename…", "Give this slot's program a new name", self.rename_slot)
        self.erase_button = self._button(box, "Erase…", "Erase this slot (asks first)", self.erase_slot)
        for i, b in enumerate((self.new_button, self.copy_button, self.rename_button, self.erase_button)):
            buttons.addWidget(b, i // 2, i % 2)
        lay.addLayout(buttons)
        return box

    def _button(self, parent: QWidget, text: str, tip: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text, parent)
        button.setAccessibleName(text.rstrip("…"))
        button.setToolTip(tip)
        button.clicked.connect(lambda: slot())
        return button

    def _build_editor(self) -> QGroupBox:
        box = QGroupBox("Program", self)
        lay = QVBoxLayout(box)
        head = QFormLayout()
        self.name_edit = QLineEdit(box)
        self.name_edit.setAccessibleName("Program name")
        self.name_edit.setMaxLength(P.NAME_MAX)
        self.name_edit.setToolTip(f"The program's name, at most {P.NAME_MAX} characters")
        self.name_edit.editingFinished.connect(lambda: self.draft.set_name(self.name_edit.text()))
        head.addRow("Name:", self.name_edit)
        self._errors["name"] = self._error_label(box)
        head.addRow(self._errors["name"])
        self.mode_box = QComboBox(box)
        self.mode_box.setAccessibleName("Mode")
        self.mode_box.setToolTip("The stimulation mode: the fields below are the ones it takes")
        self._fill_modes()
        self.mode_box.activated.connect(lambda i: self.draft.set_mode(P.Mode(self.mode_box.itemData(i)),
                                                                      self.family))
        head.addRow("Mode:", self.mode_box)
        self.recharge_box = QComboBox(box)
        self.recharge_box.setAccessibleName("Recharge")
        self.recharge_box.setToolTip("How the charge of each pulse is recovered (the mode's choices)")
        self.recharge_box.activated.connect(lambda i: self.draft.set_recharge(P.Recharge(self.recharge_box.itemData(i))))
        head.addRow("Recharge:", self.recharge_box)
        self._errors["recharge"] = self._error_label(box)
        head.addRow(self._errors["recharge"])
        lay.addLayout(head)
        self.fields_box = QWidget(box)
        self.fields = QFormLayout(self.fields_box)
        self.fields.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.fields_box)
        self.limits_box = QGroupBox("Patient limits", box)
        self.limits_box.setToolTip("Amplitude range of the patient remote; a pulse width or rate range "
                                   "unlocks that control on the remote")
        self.limits_form = QFormLayout(self.limits_box)
        lay.addWidget(self.limits_box)
        self.summary = QLabel("", box)
        self.summary.setAccessibleName("Program summary")
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)
        self.problems_label = self._error_label(box)
        self.problems_label.setAccessibleName("Problems of the program")
        lay.addWidget(self.problems_label)
        row = QHBoxLayout()
        self.test_button = self._button(box, "Test live", f"TEST: try the draft on the active slot without saving; "
                                        f"the app keeps the device's {TEST_LEASE_S} s lease alive",
                                        self.start_test)
        self.end_test_button = self._button(box, "End test", "TEST END: the saved program is back", self.end_test)
        self.save_button = self._button(box, "Save to slot", "PROG: write the draft to the slot, read it back "
                                        "and compare every field", self.save)
        self.revert_button = self._button(box, "Revert", "Go back to the saved program", self.revert)
        for b in (self.test_button, self.end_test_button, self.save_button, self.revert_button):
            row.addWidget(b)
        lay.addLayout(row)
        lay.addStretch(1)
        return box

    def _error_label(self, parent: QWidget) -> QLabel:
        label = QLabel("", parent)
        label.setObjectName("fieldProblem")
        label.setStyleSheet("color: #b00020;")
        label.setWordWrap(True)
        label.hide()
        return label

    def _build_electrodes(self) -> QWidget:
        side = QWidget(self)
        lay = QVBoxLayout(side)
        lay.setContentsMargins(0, 0, 0, 0)
        box = QGroupBox("Electrodes", side)
        inner = QVBoxLayout(box)
        self.diagram = ElectrodeDiagram(box)
        self.diagram.cycleRequested.connect(self.cycle_contact)
        self.diagram.selected.connect(lambda _c: self._show_fraction())
        inner.addWidget(self.diagram, 1)
        frac = QHBoxLayout()
        self.fraction_label = QLabel("Share of contact 1:", box)
        self.fraction = QSpinBox(box)
        self.fraction.setRange(-P.PERCENT_TOTAL, P.PERCENT_TOTAL)
        self.fraction.setSuffix(" %")
        self.fraction.setKeyboardTracking(False)
        self.fraction.setAccessibleName("Share of the selected contact")
        self.fraction.setToolTip(f"Signed share of the current: cathodes negative, anodes positive; each side "
                                 f"sums to {P.PERCENT_TOTAL} %. 0 turns the contact off")
        self.fraction.valueChanged.connect(self._fraction_changed)
        self.fraction_label.setBuddy(self.fraction)
        frac.addWidget(self.fraction_label)
        frac.addWidget(self.fraction)
        inner.addLayout(frac)
        self._errors["electrodes"] = self._error_label(box)
        inner.addWidget(self._errors["electrodes"])
        lay.addWidget(box, 1)

        safety = QGroupBox("Safety (live)", side)
        slay = QVBoxLayout(safety)
        self.safety_table = QTableWidget(0, 5, safety)
        self.safety_table.setHorizontalHeaderLabels(["Contact", "Share", "Charge µC", "Density µC/cm²", "k"])
        self.safety_table.setAccessibleName("Charge per contact")
        self.safety_table.setToolTip(f"Charge per phase at each active contact; warning zone beyond {limits_text()}")
        self.safety_table.verticalHeader().hide()
        self.safety_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        slay.addWidget(self.safety_table)
        self.compliance_label = QLabel("", safety)
        self.compliance_label.setAccessibleName("Compliance")
        self.compliance_label.setWordWrap(True)
        self.power_label = QLabel("", safety)
        self.power_label.setAccessibleName("Battery power")
        slay.addWidget(self.compliance_label)
        slay.addWidget(self.power_label)
        lay.addWidget(safety)

        imp = QGroupBox("Impedance", side)
        ilay = QVBoxLayout(imp)
        self.impedance_button = self._button(imp, "Check impedances", "IMPEDANCE: measure every contact "
                                             "(OPEN and SHORT contacts cannot carry current)", self.check_impedance)
        self.impedance_table = QTableWidget(0, 3, imp)
        self.impedance_table.setHorizontalHeaderLabels(["Contact", "Impedance", "Measured"])
        self.impedance_table.setAccessibleName("Impedance results")
        self.impedance_table.setToolTip("The last impedance measured at each contact")
        self.impedance_table.verticalHeader().hide()
        self.impedance_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        ilay.addWidget(self.impedance_button)
        ilay.addWidget(self.impedance_table)
        lay.addWidget(imp)
        return side

    # --- the family ---------------------------------------------------------------------------
    def _fill_modes(self) -> None:
        blocked = self.mode_box.blockSignals(True)
        self.mode_box.clear()
        for mode in P.family_modes(self.family):
            self.mode_box.addItem(P.MODES[mode].label, mode)
        self.mode_box.blockSignals(blocked)

    def _family_changed(self) -> None:
        """The stimulator's family (from HELLO) sets the modes, fields, ranges and leads on offer."""
        family = self.model.device_model.family
        if family is self.family:
            return
        self.family = self.draft.family = family
        self._fill_modes()
        self.diagram.set_family(family)
        self._fields_mode = None  # the ranges and grids are the family's: build the fields again
        self._rebuild_fields(None)
        self._draft_changed()

    # --- login ----------------------------------------------------------------------------
    @property
    def logged_in(self) -> bool:
        return self.model.link is Link.CONNECTED and self.model.status.role == "CLINICIAN"

    def _login_clicked(self) -> None:
        if self.logged_in:
            self.log_out()
            return
        dialog = LoginDialog(self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.log_in(dialog.take_pin())

    def log_in(self, pin: str) -> None:
        """Send the PIN to the worker's login (the client answers the challenge); not kept here."""
        self.controller.login(pin)

    def log_out(self) -> None:
        if self.testing:
            self._say("Logged out: the test ended and the saved program is back", "warning")
            self.testing = False
        self.controller.logout()

    def _show_login_state(self) -> None:
        left = self.lock_until - time.monotonic()
        if self.logged_in:
            self._lock_timer.stop()
            self.banner.setText("Logged in as clinician")
            self.login_button.setText("Log out")
        elif left > 0:
            self.banner.setText(f"Too many wrong PINs: login locked, try again in {int(left + 0.999)} s")
            self.login_button.setText("Log in…")
        else:
            self._lock_timer.stop()
            connected = self.model.link is Link.CONNECTED
            self.banner.setText(LOGIN_TEXT if connected else f"{LOGIN_TEXT} (no stimulator connected)")
            self.login_button.setText("Log in…")
        self.login_button.setEnabled(self.logged_in or (left <= 0 and self.model.link is Link.CONNECTED))
        self.body.setEnabled(self.logged_in)
        self.banner.setStyleSheet(UNLOCKED_STYLE if self.logged_in else LOCKED_STYLE)
        self._show_buttons()

    # --- slots ------------------------------------------------------------------------------
    def _show_slots(self) -> None:
        row = self.slot_list.currentRow()
        blocked = self.slot_list.blockSignals(True)
        self.slot_list.clear()
        for n in range(1, P.N_SLOTS + 1):
            prog = self.model.slots.get(n)
            text = f"{n:2d}  (empty)" if prog is None else f"{n:2d}  {prog.name or '(no name)'}\n    {mode_line(prog)}"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, n)
            item.setToolTip(text)
            self.slot_list.addItem(item)
        self.slot_list.setCurrentRow(max(row, 0))
        self.slot_list.blockSignals(blocked)
        saved = self.model.slots.get(self.draft.slot)
        if row < 0 or (saved != self.draft.saved and not self.draft.dirty):
            self.draft.load(self.draft.slot, saved)
        self._show_buttons()

    def _slot_chosen(self, row: int) -> None:
        slot = row + 1
        if slot == self.draft.slot or row < 0:
            return
        if self.draft.dirty and self.draft.program is not None and not self.confirm(
                "Leave the slot", f"Slot {self.draft.slot} has changes that are not saved. Leave them?"):
            blocked = self.slot_list.blockSignals(True)
            self.slot_list.setCurrentRow(self.draft.slot - 1)
            self.slot_list.blockSignals(blocked)
            return
        self._end_test_if_running("You left the slot")
        self.draft.load(slot, self.model.slots.get(slot))

    def select_slot(self, slot: int) -> None:
        self.slot_list.setCurrentRow(slot - 1)

    def restore_draft(self, slot: int, program: Program) -> None:
        """Put an autosaved, unsaved program back in the editor for ``slot`` (not sent)."""
        self.select_slot(slot)
        if self.draft.program is None:
            self.draft.load(slot, self.draft.saved, program)
        else:
            self.draft.edit(replace(program, slot=slot), "restore the unsaved program")
        self._say(f"The unsaved program for slot {slot} is back in the editor; Test and Save as usual")

    def new_in_slot(self) -> None:
        if self.draft.saved is None:
            self.draft.load(self.draft.slot, None, new_program(self.draft.slot, self.family))
            self._say(f"New program in slot {self.draft.slot}: amplitude 0 mA; Save writes it")

    def copy_slot(self) -> None:
        saved = self.draft.saved
        free = [n for n in range(1, P.N_SLOTS + 1) if n not in self.model.slots]
        if saved is None or not free:
            self._say("No empty slot to copy to" if saved else "This slot is empty: nothing to copy", "warning")
            return
        self._send("copy", replace(saved, slot=free[0]))

    def rename_slot(self) -> None:
        saved = self.draft.saved
        if saved is None:
            return
        name = self.ask_text("Rename", f"New name of slot {saved.slot}:", saved.name)
        if name is not None and name != saved.name:
            self._send("rename", replace(saved, name=name))

    def _ask_text(self, title: str, label: str, text: str) -> str | None:
        value, ok = QInputDialog.getText(self, title, label, QLineEdit.EchoMode.Normal, text)
        return value if ok else None

    def erase_slot(self) -> None:
        saved = self.draft.saved
        if saved is None:
            return
        if self.confirm("Erase", f"Erase slot {saved.slot} ({saved.name or mode_line(saved)})? "
                                 "The program cannot be read back afterwards."):
            self.controller.erase_slot(saved.slot)

    # --- the editor -------------------------------------------------------------------------
    def device(self) -> DeviceModel:
        return measured_device(self.model.device_model, self.impedances)

    def _draft_changed(self) -> None:
        started = time.perf_counter()
        prog = self.draft.program
        self._rebuild_fields(prog)
        if prog is not None:
            self.name_edit.setText(prog.name)
            self.mode_box.setCurrentIndex(self.mode_box.findData(prog.mode))
            blocked = self.recharge_box.blockSignals(True)
            self.recharge_box.clear()
            for r in P.RECHARGE[prog.mode]:
                self.recharge_box.addItem(r.value, r)
            self.recharge_box.setCurrentIndex(P.RECHARGE[prog.mode].index(prog.recharge)
                                              if prog.recharge in P.RECHARGE[prog.mode] else 0)
            self.recharge_box.blockSignals(blocked)
            for key, control in self._controls.items():
                control.set_canonical(prog.canonical(key))
            for key, (check, control) in self._limit_rows.items():
                value = prog.limits.get(key)
                check.blockSignals(True)
                check.setChecked(value is not None)
                check.blockSignals(False)
                control.setEnabled(value is not None)
                control.set_canonical(value if value is not None else prog.canonical(P.LIMITS[key].param.key))
        self._show_problems()
        self._show_safety()
        self._show_electrodes()
        self._show_differences()
        self._show_buttons()
        self.last_refresh_ms = (time.perf_counter() - started) * 1000.0

    def _rebuild_fields(self, prog: Program | None) -> None:
        mode = prog.mode if prog is not None else None
        if mode is not None and self._fields_mode is mode:
            return
        self._fields_mode = mode
        for form in (self.fields, self.limits_form):
            while form.rowCount():
                form.removeRow(0)
        self._controls.clear()
        self._limit_rows.clear()
        for key in list(self._errors):
            if key not in ("name", "recharge", "electrodes"):
                del self._errors[key]
        if mode is None:
            return
        specs = P.family_params(self.family, mode)
        for key, spec in specs.items():
            control = make_control(spec, self.fields_box)
            control.valueChanged.connect(lambda _v, k=key, c=control: self._value_edited(k, c))
            self._controls[key] = control
            label = QLabel(f"{spec.label}:", self.fields_box)
            label.setBuddy(control)
            self.fields.addRow(label, control)
            error = self._error_label(self.fields_box)
            self._errors[key] = error
            self.fields.addRow(error)
        for key, limit in P.LIMITS.items():
            limit_spec = specs.get(limit.param.key)
            if limit_spec is None:
                continue
            what = f"{limit.param.label} {limit.side}"
            check = QCheckBox(f"{what}:", self.limits_box)
            check.setAccessibleName(f"Set {what}")
            unlock = limit.param.limits is P.LimitKind.UNLOCK
            check.setToolTip(f"Set the patient's {what}" + ("; a range unlocks this control on the remote"
                                                            if unlock else "; unset: the mode's range"))
            control = make_control(limit_spec, self.limits_box, what=what)
            check.toggled.connect(lambda on, k=key, c=control: self.draft.set_limit(k, c.canonical() if on else None))
            control.valueChanged.connect(lambda _v, k=key, c=control, b=check:
                                         self.draft.set_limit(k, c.canonical()) if b.isChecked() else None)
            self._limit_rows[key] = (check, control)
            self.limits_form.addRow(check, control)
            error = self._error_label(self.limits_box)
            self._errors[f"limits.{key}"] = error
            self.limits_form.addRow(error)

    def _value_edited(self, key: str, control: ParamControl) -> None:
        """A control's value to the draft, snapped to the family's grid (and shown snapped)."""
        value = control.canonical()
        self.draft.set_value(key, value)
        control.set_canonical(value)

    def problems(self) -> list[Problem]:
        """The draft's problems as the device would see them (charge density not acknowledged)."""
        return self.draft.problems(self.device(), acknowledged=False)

    def _show_problems(self) -> None:
        problems = self.problems() if self.draft.program is not None else []
        by_label: dict[str, list[str]] = {}
        general: list[str] = []
        for p in problems:
            where = p.key
            if where.startswith("electrodes"):
                where = "electrodes"
            if where in self._errors:
                by_label.setdefault(where, []).append(self._problem_text(p))
            else:
                general.append(self._problem_text(p))
        for key, label in self._errors.items():
            texts = by_label.get(key, [])
            label.setText("\n".join(texts))
            label.setVisible(bool(texts))
        density = next((p for p in problems if p.rule == "CHARGE_DENSITY"), None)
        if density is not None:
            general.append(f"Charge-density warning at contact {dict(density.extra)['CONTACT']}: Test and Save "
                           "ask for your confirmation")
        self.problems_label.setText("\n".join(general))
        self.problems_label.setVisible(bool(general))

    @staticmethod
    def _problem_text(p: Problem) -> str:
        label = P.BY_KEY[p.key].label if p.key in P.BY_KEY else ""
        return f"{label} {p.message}".strip() if label else p.message

    def _show_safety(self) -> None:
        prog = self.draft.program
        figs = figures(prog, self.device()) if prog is not None else None
        table = self.safety_table
        if figs is None:
            table.setRowCount(0)
            self.compliance_label.setText("No figures: the electrodes need a cathode and an anode")
            self.power_label.setText("")
            return
        table.setRowCount(len(figs.charges))
        for row, c in enumerate(figs.charges):
            cells = ("Case" if c.contact == P.CASE else c.contact, f"{c.fraction * 100:+.0f} %",
                     f"{c.charge_uc:.3f}", f"{c.density_uc_cm2:.1f}", k_text(c.shannon_k))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c.warning:
                    item.setBackground(QColor("#ffd7a8"))
                    item.setToolTip(f"Warning zone: beyond {limits_text()}")
                table.setItem(row, col, item)
        table.resizeColumnsToContents()
        self.compliance_label.setText(figs.compliance_text())
        self.power_label.setText(figs.battery_text())

    def _show_electrodes(self) -> None:
        prog = self.draft.program
        self.diagram.show_state(prog.electrodes.as_dict() if prog is not None else {}, self.impedances)
        self._show_fraction()

    def _show_fraction(self) -> None:
        contact = self.diagram.current
        prog = self.draft.program
        share = prog.electrodes.as_dict().get(contact, 0) if prog is not None else 0
        self.fraction_label.setText(f"Share of {'the case' if contact == P.CASE else 'contact ' + contact}:")
        blocked = self.fraction.blockSignals(True)
        self.fraction.setValue(share)
        self.fraction.blockSignals(blocked)

    def _show_differences(self) -> None:
        differing = self.draft.differing()
        for key, control in self._controls.items():
            changed = P.BY_KEY[key].attr in differing
            font = control.font()
            font.setBold(changed)
            control.setFont(font)
            control.setToolTip(control.toolTip().split(" — ")[0] + (" — changed: not saved" if changed else ""))
        prog, saved = self.draft.program, self.draft.saved
        if prog is None:
            self.summary.setText(f"Slot {self.draft.slot} is empty: press New to start a program")
        else:
            what = mode_line(prog)
            if saved is None:
                state = "new, not saved"
            elif differing:
                state = "changed (not saved): " + ", ".join(sorted({_field_label(d) for d in differing}))
            else:
                state = "as saved"
            self.summary.setText(f"Slot {self.draft.slot}: {what} — {state}")

    def _show_buttons(self) -> None:
        on = self.logged_in
        prog, saved = self.draft.program, self.draft.saved
        hard = [p for p in self.problems() if p.rule != "CHARGE_DENSITY"] if prog is not None else []
        self.new_button.setEnabled(on and saved is None and prog is None)
        self.copy_button.setEnabled(on and saved is not None)
        self.rename_button.setEnabled(on and saved is not None)
        self.erase_button.setEnabled(on and saved is not None)
        self.test_button.setEnabled(on and prog is not None and not hard)
        self.end_test_button.setEnabled(on and self.testing)
        self.save_button.setEnabled(on and prog is not None and not hard and self.draft.dirty)
        self.revert_button.setEnabled(on and self.draft.dirty and saved is not None)
        self.impedance_button.setEnabled(on)

    def revert(self) -> None:
        if self.draft.saved is not None and self.draft.program is not None:
            self.draft.edit(self.draft.saved, "Revert to the saved program")

    # --- electrodes -------------------------------------------------------------------------
    def cycle_contact(self, contact: str) -> None:
        """off -> cathode -> anode -> off (the case: off -> anode -> off); the amplitude goes to 0."""
        prog = self.draft.program
        if prog is None:
            return
        shares = prog.electrodes.as_dict()
        now = shares.get(contact, 0)
        target = _NEXT_CASE[now > 0] if contact == P.CASE else _NEXT[(now > 0) - (now < 0)]
        if target and not self._may_carry(contact):
            return
        shares.pop(contact, None)
        if target:
            shares[contact] = target
        self._set_shares(shares, f"Contact {contact} {contact_state(target)}", balance=True)

    def _may_carry(self, contact: str) -> bool:
        z = self.impedances.get(contact)
        if z in ("OPEN", "SHORT"):
            what = "open circuit" if z == "OPEN" else "short circuit"
            self._say(f"Contact {contact} is {z} ({what} at the last impedance check): no current may be put on "
                      "it", "warning")
            return False
        if self.model.faults.get(contact):
            self._say(f"Contact {contact} has a fault the stimulator reported: no current may be put on it",
                      "warning")
            return False
        return True

    def _fraction_changed(self, value: int) -> None:
        prog = self.draft.program
        contact = self.diagram.current
        if prog is None:
            return
        shares = prog.electrodes.as_dict()
        if value and not self._may_carry(contact):
            self._show_fraction()
            return
        shares.pop(contact, None)
        if value:
            shares[contact] = value
        self._set_shares(shares, f"Contact {contact} {value:+d} %", balance=False)

    def _set_shares(self, shares: dict[str, int], text: str, *, balance: bool) -> None:
        prog = self.draft.program
        assert prog is not None
        if balance:
            shares = balanced(shares)
        new = Electrodes.of(shares)
        old_polarity = {c: contact_state(v) for c, v in prog.electrodes.pairs}
        new_polarity = {c: contact_state(v) for c, v in new.pairs}
        polarity = old_polarity != new_polarity
        zero = polarity and prog.amplitude_ua != 0
        self.draft.set_electrodes(new, text, zero_amplitude=polarity)
        if zero:
            self._say("The polarity changed: the amplitude was set to 0 mA. Raise it again step by step")

    # --- test and save ----------------------------------------------------------------------
    def _refused_here(self, program: Program) -> list[Problem] | None:
        """The program's problems, or None (said in words) when one cannot be acknowledged."""
        problems = check_program(program, self.device(), acknowledged=False)
        hard = [p for p in problems if p.rule != "CHARGE_DENSITY"]
        if hard:
            self._say("Not sent: " + self._problem_text(hard[0])
                      + (" (a hard limit: it cannot be acknowledged)" if hard[0].code == UNSAFE else ""), "warning")
            return None
        return problems

    def _send(self, kind: str, program: Program) -> bool:
        """Check, confirm the charge-density zone if needed, then send; False when nothing was sent."""
        problems = self._refused_here(program)
        if problems is None:
            return False
        ack = False
        density = next((p for p in problems if p.rule == "CHARGE_DENSITY"), None)
        if density is not None:
            extra = dict(density.extra)
            question = (f"Contact {extra['CONTACT']} would be in the charge-density warning zone: k = {extra['K']}, "
                        f"{extra['D']} µC/cm² (limits: {limits_text()}). Send it anyway, acknowledged (ACK=CHARGE)?")
            if not self.confirm("Charge density", question):
                self._say("Not sent: the charge-density warning was not acknowledged")
                return False
            ack = True
            self.model.record_action("clinician", "confirm_charge",
                                     f"Charge density acknowledged at contact {extra['CONTACT']}",
                                     {"contact": extra["CONTACT"], "k": float(extra["K"]), "density": float(extra["D"]),
                                      "k_limit": P.SHANNON_K_LIMIT, "density_limit": P.DENSITY_LIMIT_UC_CM2})
        self._pending_kind = kind
        self._pending_save = program
        self._pending_before = self.model.slots.get(program.slot)
        if kind == "test":
            self.controller.test_program(program, ack)
        else:
            self.controller.write_program(program, ack)
        return True

    def start_test(self) -> None:
        if self.draft.program is not None:
            self._send("test", self.draft.program)

    def end_test(self) -> None:
        self.controller.end_test()

    def _end_test_if_running(self, why: str, *, say: bool = True) -> bool:
        """End a running test (TEST END); True if there was one."""
        if self.testing or (self.model.status.test and self.model.link is Link.CONNECTED):
            self.testing = False
            self.controller.end_test()
            if say:
                self._say(f"{why}: the test ended and the saved program is back", "warning")
            self.model.record_action("clinician", "test_end", f"{why}: test ended", {"slot": self.draft.slot})
            return True
        return False

    def save(self) -> None:
        prog = self.draft.program
        if prog is None or self._refused_here(prog) is None:
            return
        cost = battery_cost(prog, self.draft.saved, self.model.device_model)
        if cost.hungrier and not self.confirm("Battery", f"{cost.text}. Save it?"):
            self._say("Not saved")
            return
        label = None
        if needs_label(self.family):
            label = self.ask_label(prog)
            if label is None:
                self._say(f"Not saved: a {self.family.value} program is saved with the stimulus response "
                          "the patient reports (body region and sensation)", "warning")
                return
            prog = replace(prog, name=label.text)
        if self._send("write", prog):
            self._pending_label = label

    def check_impedance(self) -> None:
        self.impedance_button.setEnabled(False)
        self.impedance_button.setText("Measuring…")
        self.controller.measure_impedance()

    # --- answers -------------------------------------------------------------------------------
    def _replied(self, reply: ClinicianReply) -> None:
        handler = getattr(self, f"_on_{reply.kind}", None)
        if handler is not None:
            handler(reply)
        self._show_login_state()

    def _on_login(self, reply: ClinicianReply) -> None:
        if reply.ok:
            self._say("Clinician session open: edit a program, test it live, then save it")
            self.model.record_action("clinician", "login", "Clinician logged in", {"result": "success"})
            return
        if reply.data.get("code") == "LOCKED":
            retry = int(str(reply.data.get("RETRY_S", "60")))
            self.lock_until = time.monotonic() + retry
            self._lock_timer.start()
            self.model.record_action("clinician", "login", f"Login locked for {retry} s",
                                     {"result": "lockout", "retry_s": retry})
        else:
            self.model.record_action("clinician", "login", "Wrong PIN", {"result": "failure"})
        self._say(reply.text, "warning")

    def _on_logout(self, reply: ClinicianReply) -> None:
        if reply.ok:
            self.testing = False
            if not self.notice.startswith("Logged out"):  # a test's end was said already
                self._say("Logged out")
            self.model.record_action("clinician", "logout", "Clinician logged out")

    def _on_test(self, reply: ClinicianReply) -> None:
        if reply.ok:
            self.testing = True
            self._say(f"Testing the draft live on the active slot (the app renews the device's {TEST_LEASE_S} s "
                      "lease); Save writes it, End test restores the saved program")
            prog = reply.data.get("program")
            self.model.record_action("clinician", "test_start", "Test started",
                                     {"program": _as_data(prog) if isinstance(prog, Program) else {}})
        else:
            self._say(f"Test not started: {reply.text}", "warning")

    def _on_test_end(self, reply: ClinicianReply) -> None:
        was = self.testing
        self.testing = False
        if reply.ok and was:  # else the view ended it itself and has said so
            self.model.record_action("clinician", "test_end", "Test ended", {"slot": self.draft.slot})
            self._say("Test ended: the saved program is back")

    def _on_write(self, reply: ClinicianReply) -> None:
        sent, kind = self._pending_save, self._pending_kind
        if not reply.ok:
            self._pending_label = None
            self._say(f"Not saved: {reply.text}", "warning")
            return
        back = reply.data.get("program")
        assert isinstance(back, Program)
        diffs = differences(sent, back, self.model.device_model.family) if sent is not None else []
        before = self._pending_before
        ended = False
        if kind == "write":
            self.draft.mark_saved(back)
            ended = self._end_test_if_running("Saved", say=False)
        verb = {"copy": "Copied to", "rename": "Renamed in"}.get(kind, "Saved to")
        self._say(f"{verb} slot {back.slot} and read back: "
                  + ("every field matches" if not diffs else f"{len(diffs)} field(s) differ: {diffs}")
                  + ("; the test ended and the saved program runs" if ended else ""))
        data: dict[str, object] = {"slot": back.slot, "kind": kind, "before": _as_data(before),
                                   "after": _as_data(back), "differences": [list(map(str, d)) for d in diffs]}
        label, self._pending_label = self._pending_label, None
        if label is not None and kind == "write":
            data["response"] = label.data()
            self.model.record_action("clinician", "stimulus_response",
                                     f"Stimulus response of slot {back.slot}: {label.text}",
                                     {"slot": back.slot, **label.data(), "amplitude_ma": back.amplitude_ma})
        self.model.record_action("clinician", "save", f"{verb} slot {back.slot}", data)

    def _on_erase(self, reply: ClinicianReply) -> None:
        if reply.ok:
            slot = int(str(reply.data.get("slot")))
            self._say(f"Slot {slot} erased")
            self.model.record_action("clinician", "erase", f"Slot {slot} erased", {"slot": slot})
            if slot == self.draft.slot:
                self.draft.load(slot, None)
        else:
            self._say(f"Not erased: {reply.text}", "warning")

    def _on_impedance(self, reply: ClinicianReply) -> None:
        self.impedance_button.setText("Check impedances")
        self._show_buttons()
        if not reply.ok:
            self._say(f"Impedance check failed: {reply.text}", "warning")
            return
        values = reply.data.get("values")
        assert isinstance(values, dict)
        self.impedances = {str(c): v for c, v in values.items()}
        self.measured_at = float(str(reply.data.get("when")))
        when = datetime.fromtimestamp(self.measured_at).strftime("%Y-%m-%d %H:%M:%S")
        contacts = P.FAMILIES[self.family].contacts
        self.impedance_table.setRowCount(len(contacts))
        for row, contact in enumerate(contacts):
            z = self.impedances.get(contact, "?")
            cells = ("Case" if contact == P.CASE else contact, f"{z}" if isinstance(z, str) else f"{z} Ω", when)
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if z in ("OPEN", "SHORT"):
                    item.setBackground(QColor("#ffb3b3"))
                self.impedance_table.setItem(row, col, item)
        self.impedance_table.resizeColumnsToContents()
        faulted = [c for c, z in self.impedances.items() if z in ("OPEN", "SHORT")]
        self._say("Impedances measured" + (f": {', '.join(f'{c} {self.impedances[c]}' for c in faulted)}"
                                            if faulted else ": every contact in range"))
        self.model.record_action("clinician", "impedance", "Impedances measured",
                                 {"values": dict(self.impedances), "when": when})
        self._draft_changed()

    # --- the link ----------------------------------------------------------------------------
    def _link_changed(self) -> None:
        if self.model.link is not Link.CONNECTED and self.testing:
            self.testing = False
            self._say(f"The link was lost during the test: the stimulator goes back to the saved program by itself "
                      f"(its {TEST_LEASE_S} s test lease ends, or the next connection ends the test)", "error")
            self.model.record_action("clinician", "test_end", "Link lost during the test", {"slot": self.draft.slot})
        self._show_login_state()

    def leave(self, why: str) -> None:
        """The app closes: end a running test so the saved program is back."""
        self._end_test_if_running(why)

    def _say(self, text: str, level: str = "info") -> None:
        self.notice = text
        self.notice_label.setText(text)
        self.model.set_notice(text, level)


def balanced(shares: dict[str, int]) -> dict[str, int]:
    """Cathodes share -100 % and anodes +100 % equally (the first ones take the remainder)."""
    out: dict[str, int] = {}
    for sign in (-1, 1):
        side = [c for c in P.CONTACTS if shares.get(c, 0) * sign > 0]
        if not side:
            continue
        each, extra = divmod(P.PERCENT_TOTAL, len(side))
        for i, contact in enumerate(side):
            out[contact] = sign * (each + (1 if i < extra else 0))
    return out


def _as_data(program: object) -> dict[str, object]:
    if not isinstance(program, Program):
        return {}
    out: dict[str, object] = {"slot": program.slot, "name": program.name, "mode": str(program.mode),
                              "recharge": program.recharge.value, "electrodes": program.electrodes.to_wire()}
    out.update({k: v for k, v in program.values().items() if v is not None})
    out.update({f"limits.{k}": v for k, v in program.limits.set_values().items()})
    return out


def _field_label(name: str) -> str:
    """A field of ``differences`` as people read it: ``pulse_width_us`` -> ``pulse width``."""
    if name.startswith("limits."):
        return "patient limits"
    param = next((p for p in P.TABLE if p.attr == name), None)
    return param.label.lower() if param is not None else name
