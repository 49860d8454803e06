"""The ECAP view: a closed-loop clinician screen for an SCS-CL stimulator.

The ECAP bar against the target and window, a rolling plot of the ECAP and the current from
the device's ``!ECAP`` stream, the growth curve from ``ECAP SWEEP`` with its fitted threshold
and slope, "set up closed loop" (sense contacts, target, gain) written through the clinician's
write path, the posture and cough buttons (one posture for the app, ``AppModel.posture``), and
open against closed loop side by side for trainers. Every device request goes through the
controller (the worker); what the device reports comes back through the model.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...closedloop.nerve import Thresholds, reference_patient, thresholds
from ...engine import params as P
from ...engine.program import Program
from ...host.results import EcapPoint
from ...patient.defaults import POSTURES
from ...patient.model import Patient
from ..controller import Controller
from ..model import AppModel, ClinicianReply
from . import plots
from .bar import EcapBar
from .compare import SCHEDULE, Comparison, Side, compare
from .fit import GrowthFit, fit_growth
from .setup import GAIN, TARGET, closed_loop_program, default_sense, gain_words, sense_choices, suggested_target

COMPARE_PAGE = 2  #: the page index of open against closed
ROLLING_S = 10.0  #: the rolling plot's span
POSTURE_WORDS = {"sitting": "Sit up", "standing": "Stand up", "supine": "Lie on back", "prone": "Lie on front"}
SWEEP_DEFAULT_MA = (2.0, 9.0, 0.25)
NEEDS_FAMILY = ("The ECAP view needs a closed-loop stimulator (SCS-CL); the one connected is {family}. "
                "Start one with: stimsim gui --family SCS-CL (or a closed-loop scenario).")
LOGIN_WORDS = "Log in as clinician (Clinician view) to write the loop."
NOT_CONNECTED = "No stimulator connected: the ECAP view needs a closed-loop stimulator (SCS-CL)."


class EcapView(QWidget):
    """The closed-loop clinician screen; ``patient`` gives the virtual patient of the moment
    (a closed-loop scenario's, else the device's own reference nerve)."""

    screenshot_settle_ms = 3000  #: a screenshot of this view waits for 3 s of the ECAP stream

    def __init__(self, model: AppModel, controller: Controller, parent: QWidget | None = None, *,
                 patient: Callable[[], Patient | None] = lambda: None) -> None:
        super().__init__(parent)
        self.model = model
        self.controller = controller
        self._patient = patient
        self.setAccessibleName("ECAP view")
        self.fit: GrowthFit | None = None
        self.sweep: list[EcapPoint] = []
        self.comparison: Comparison | None = None
        self.live: deque[tuple[float, float, float]] = deque(maxlen=int(ROLLING_S * 10) + 20)
        self._t0 = time.monotonic()
        self._thresholds_key: tuple[object, ...] | None = None
        self._thresholds: Thresholds | None = None
        self._streaming = False
        self._writing = False  #: a closed-loop write is in flight (its reply is shown)
        self._posture_sent_to: tuple[str, str] | None = None  #: the closed-loop device told the posture

        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        self.need_label = QLabel()
        self.need_label.setWordWrap(True)
        self.need_label.setAccessibleName("What the ECAP view needs")
        self.need_label.setStyleSheet("color: #b00020;")
        outer.addWidget(self.need_label)
        self.pages = QTabWidget(self)
        self.pages.setDocumentMode(True)
        outer.addWidget(self.pages, 1)
        self.pages.addTab(_scrolled(self._live_page()), "Live")
        self.pages.addTab(_scrolled(self._setup_page()), "Growth curve and set-up")
        self.pages.addTab(_scrolled(self._compare_page()), "Open vs closed")
        self.pages.currentChanged.connect(lambda i: self.run_comparison() if i == COMPARE_PAGE else None)

        model.ecapMeasured.connect(self._ecap)
        model.statusChanged.connect(self._refresh)
        model.slotsChanged.connect(self._program_changed)
        model.linkChanged.connect(self._link_changed)
        model.postureChanged.connect(self._posture_changed)
        model.clinicianReplied.connect(self._replied)
        self._program_changed()
        self._link_changed()
        self._draw_growth()

    # --- building ------------------------------------------------------------------------
    def _live_page(self) -> QWidget:
        page = QWidget(self)
        row = QHBoxLayout(page)
        row.setContentsMargins(0, 4, 0, 0)
        left_box = QWidget(page)
        left_box.setMaximumWidth(200)
        left = QVBoxLayout(left_box)
        left.setContentsMargins(0, 0, 0, 0)
        self.bar = EcapBar(page)
        left.addWidget(self.bar, 1)
        self.readout = QLabel()
        self.readout.setAccessibleName("ECAP reading")
        self.readout.setWordWrap(True)
        left.addWidget(self.readout)
        posture_box = QGroupBox("Patient", page)
        grid = QGridLayout(posture_box)
        self.posture_buttons: dict[str, QPushButton] = {}
        self._posture_group = QButtonGroup(self)
        for i, posture in enumerate(POSTURES):
            button = QPushButton(POSTURE_WORDS[posture], posture_box)
            button.setCheckable(True)
            button.setAccessibleName(f"Posture: {posture}")
            button.setToolTip(f"Move the virtual patient ({posture}); on a closed-loop stimulator its virtual "
                              "nerve moves with them (SIM POSTURE)")
            button.clicked.connect(lambda _=False, k=posture: self.set_posture(k))
            self._posture_group.addButton(button)
            self.posture_buttons[posture] = button
            grid.addWidget(button, i, 0)
        self.cough_button = QPushButton("Cough", posture_box)
        self.cough_button.setAccessibleName("Cough")
        self.cough_button.setToolTip("The patient coughs: the cord comes 1.5 mm closer for a second (SIM COUGH)")
        self.cough_button.clicked.connect(self.cough)
        grid.addWidget(self.cough_button, len(POSTURES), 0)
        grid.setRowStretch(len(POSTURES) + 1, 1)
        self.posture_buttons[self.model.posture].setChecked(True)
        row.addWidget(left_box, 0)

        middle = QVBoxLayout()
        self.live_plot = plots.plot(page, "Rolling ECAP and current", "The last 10 s of the device's ECAP stream: "
                                    "the ECAP (blue, left) and the amplitude the loop set (orange, right)",
                                    "ECAP (uV)", "Time (s, 0 = now)")
        self.live_plot.getPlotItem().getViewBox().setMouseEnabled(x=False, y=False)
        self.window_band = pg.LinearRegionItem((0, 0), orientation="horizontal", movable=False,
                                               brush=pg.mkBrush(*plots.WINDOW_BRUSH), pen=pg.mkPen(None))
        self.live_plot.addItem(self.window_band, ignoreBounds=True)
        self.target_line = pg.InfiniteLine(0, angle=0, pen=plots.pen(plots.ECAP, 1, dashed=True), label="target",
                                           labelOpts={"position": 0.92, "color": plots.ECAP})
        self.live_plot.addItem(self.target_line, ignoreBounds=True)
        self.ecap_curve = self.live_plot.plot(pen=plots.pen(plots.ECAP))
        self.amp_box = plots.amplitude_axis(self.live_plot)
        self.amp_curve = pg.PlotDataItem(pen=plots.pen(plots.AMP))
        self.amp_box.addItem(self.amp_curve)
        middle.addWidget(self.live_plot, 1)
        row.addLayout(middle, 1)
        row.addWidget(posture_box, 0)
        return page

    def _setup_page(self) -> QWidget:
        page = QWidget(self)
        row = QHBoxLayout(page)
        row.setContentsMargins(0, 4, 0, 0)
        middle = QVBoxLayout()

        self.growth_plot = plots.plot(page, "Growth curve", "ECAP against amplitude from the sweep, the line fitted "
                                      "to the points above the noise floor, perception and discomfort marked",
                                      "ECAP (uV)", "Amplitude (mA)")
        self.growth_points = pg.ScatterPlotItem(size=6, brush=pg.mkBrush(plots.ECAP), pen=pg.mkPen(None))
        self.growth_plot.addItem(self.growth_points)
        self.growth_line = self.growth_plot.plot(pen=plots.pen(plots.FIT))
        self.pt_line = pg.InfiniteLine(0, angle=90, pen=plots.pen("#2e7d32", 1, dashed=True), label="perception",
                                       labelOpts={"position": 0.9, "color": "#2e7d32"})
        self.dt_line = pg.InfiniteLine(0, angle=90, pen=plots.pen("#b00020", 1, dashed=True), label="discomfort",
                                       labelOpts={"position": 0.9, "color": "#b00020"})
        self.growth_target = pg.InfiniteLine(0, angle=0, pen=plots.pen(plots.ECAP, 1, dashed=True), label="target",
                                             labelOpts={"position": 0.92, "color": plots.ECAP})
        for item in (self.pt_line, self.dt_line, self.growth_target):
            self.growth_plot.addItem(item, ignoreBounds=True)
        middle.addWidget(self.growth_plot, 1)
        self.fit_label = QLabel("No growth curve yet: Sweep (clinician, stimulation on).")
        self.fit_label.setAccessibleName("Growth curve fit")
        self.fit_label.setWordWrap(True)
        middle.addWidget(self.fit_label)
        row.addLayout(middle, 1)

        right_box = QWidget(page)
        right_box.setMaximumWidth(240)
        right = QVBoxLayout(right_box)
        right.setContentsMargins(0, 0, 0, 0)
        self.sweep_box = self._sweep_box(page)
        right.addWidget(self.sweep_box)
        self.setup_box = self._setup_box(page)
        right.addWidget(self.setup_box)
        right.addStretch(1)
        row.addWidget(right_box, 0)
        return page

    def _sweep_box(self, parent: QWidget) -> QGroupBox:
        box = QGroupBox("Growth curve (mA)", parent)
        grid = QGridLayout(box)
        self.sweep_from = self._ma_spin(SWEEP_DEFAULT_MA[0], "Sweep from (mA)")
        self.sweep_to = self._ma_spin(SWEEP_DEFAULT_MA[1], "Sweep to (mA)")
        self.sweep_step = self._ma_spin(SWEEP_DEFAULT_MA[2], "Sweep step (mA)")
        for i, (label, spin) in enumerate((("From", self.sweep_from), ("to", self.sweep_to),
                                           ("step", self.sweep_step))):
            grid.addWidget(QLabel(label), i // 2, 2 * (i % 2))
            grid.addWidget(spin, i // 2, 2 * (i % 2) + 1)
        self.sweep_button = QPushButton("Sweep", box)
        self.sweep_button.setAccessibleName("Sweep the growth curve")
        self.sweep_button.setToolTip("ECAP SWEEP: the ECAP at each amplitude (clinician, stimulation on); the "
                                     "amplitude returns to where it was")
        self.sweep_button.clicked.connect(self.run_sweep)
        grid.addWidget(self.sweep_button, 1, 2, 1, 2)
        return box

    def _ma_spin(self, value: float, name: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setDecimals(2)
        spin.setRange(0.0, 25.5)
        spin.setSingleStep(0.25)
        spin.setValue(value)
        spin.setAccessibleName(name)
        return spin

    def _setup_box(self, parent: QWidget) -> QGroupBox:
        box = QGroupBox("Set up closed loop", parent)
        form = QFormLayout(box)
        self.sense_a = QComboBox(box)
        self.sense_b = QComboBox(box)
        for combo, which in ((self.sense_a, "first"), (self.sense_b, "second")):
            combo.setAccessibleName(f"Sense contact, {which}")
            combo.setToolTip("Two contacts of the cathode's lead, neither in the configuration")
        sense = QHBoxLayout()
        sense.addWidget(self.sense_a)
        sense.addWidget(self.sense_b)
        form.addRow("Sense", sense)
        assert TARGET.range is not None and GAIN.range is not None
        self.target_spin = QSpinBox(box)
        self.target_spin.setRange(TARGET.range.minimum, TARGET.range.maximum)
        self.target_spin.setSuffix(f" {TARGET.unit}")
        self.target_spin.setAccessibleName(TARGET.label)
        self.target_spin.setValue(int(TARGET.default or TARGET.range.minimum))
        self.target_spin.valueChanged.connect(self._setup_changed)
        form.addRow(TARGET.label, self.target_spin)
        self.from_curve = QPushButton("Target from the curve", box)
        self.from_curve.setAccessibleName("Target from the curve")
        self.from_curve.setToolTip("A target a quarter of the way from the ECAP at perception to that at "
                                   "discomfort, on the fitted growth curve")
        self.from_curve.clicked.connect(self.target_from_curve)
        form.addRow(self.from_curve)
        self.gain_spin = QSpinBox(box)
        self.gain_spin.setRange(GAIN.range.minimum, GAIN.range.maximum)
        self.gain_spin.setSuffix(f" {GAIN.unit}")
        self.gain_spin.setAccessibleName(GAIN.label)
        self.gain_spin.setValue(int(GAIN.default or GAIN.range.minimum))
        self.gain_spin.valueChanged.connect(self._setup_changed)
        form.addRow(GAIN.label, self.gain_spin)
        self.gain_label = QLabel(box)
        self.gain_label.setWordWrap(True)
        self.gain_label.setAccessibleName("What the gain does")
        form.addRow(self.gain_label)
        self.write_button = QPushButton("Write closed loop", box)
        self.write_button.setAccessibleName("Write closed loop")
        self.write_button.setToolTip("Write the active program with LOOP=ECAP, these sense contacts, target and "
                                     "gain (clinician login needed), read it back and compare")
        self.write_button.clicked.connect(self.write_loop)
        form.addRow(self.write_button)
        self.setup_label = QLabel(box)
        self.setup_label.setWordWrap(True)
        self.setup_label.setAccessibleName("Closed-loop set-up state")
        form.addRow(self.setup_label)
        return box

    def _compare_page(self) -> QWidget:
        page = QWidget(self)
        col = QVBoxLayout(page)
        top = QHBoxLayout()
        top.addWidget(QLabel("Postures"))
        self.schedule_edit = QLineEdit(SCHEDULE, page)
        self.schedule_edit.setAccessibleName("Posture schedule")
        self.schedule_edit.setToolTip("posture:seconds items and cough@second, comma separated (as stimsim loop)")
        top.addWidget(self.schedule_edit, 1)
        self.run_button = QPushButton("Run open and closed", page)
        self.run_button.setAccessibleName("Run open and closed loop")
        self.run_button.setToolTip("Run the active program on the virtual patient over the postures, with the loop "
                                   "open and closed (the target and gain of the set-up page)")
        self.run_button.clicked.connect(self.run_comparison)
        top.addWidget(self.run_button)
        col.addLayout(top)
        self.compare_label = QLabel()
        self.compare_label.setWordWrap(True)
        self.compare_label.setAccessibleName("Comparison state")
        col.addWidget(self.compare_label)
        sides = QHBoxLayout()
        self.side_plots: list[pg.PlotWidget] = []
        self.side_figures: list[QLabel] = []
        self.side_boxes: list[pg.ViewBox] = []
        for title in ("Open loop", "Closed loop"):
            box = QVBoxLayout()
            pw = plots.plot(page, title, f"{title}: the ECAP (blue) against the therapeutic window (shaded) and the "
                            "target (dashed), the amplitude (orange, right)", "ECAP (uV)", "Time (s)")
            pw.getPlotItem().setTitle(title)
            amp_box = plots.amplitude_axis(pw)
            self.side_boxes.append(amp_box)
            box.addWidget(pw, 1)
            figures = QLabel()
            figures.setAccessibleName(f"{title} figures")
            figures.setWordWrap(True)
            box.addWidget(figures)
            sides.addLayout(box, 1)
            self.side_plots.append(pw)
            self.side_figures.append(figures)
        col.addLayout(sides, 1)
        return page

    # --- state ------------------------------------------------------------------------
    @property
    def closed_loop_device(self) -> bool:
        return self.model.connected and self.model.device_model.family is P.Family.SCS_CL

    def patient(self) -> Patient:
        return self._patient() or reference_patient()

    def slot_program(self) -> Program | None:
        """The active slot's program as written (its own amplitude)."""
        return self.model.slots.get(self.model.status.slot)

    def _link_changed(self) -> None:
        family = self.model.device_model.family
        if not self.model.connected:
            text = NOT_CONNECTED
        elif family is not P.Family.SCS_CL:
            text = NEEDS_FAMILY.format(family=family.value)
        else:
            text = ""
        self.need_label.setText(text)
        self.need_label.setVisible(bool(text))
        self.pages.setEnabled(not text)
        device = (self.model.identity.url, self.model.identity.boot) if self.closed_loop_device else None
        if device != self._posture_sent_to:  # another device, or this one restarted
            self._posture_sent_to = device
            self._streaming = False  # a new device streams nothing until asked
            if device is not None:
                self.controller.sim_posture(self.model.posture)  # the device's nerve where the patient is
        self._stream(self.isVisible())
        self._refresh()

    def _program_changed(self) -> None:
        self._link_changed()
        prog = self.slot_program()
        family = self.model.device_model.family
        for combo in (self.sense_a, self.sense_b):
            combo.clear()
        if prog is not None:
            choices = sense_choices(prog, family)
            for combo in (self.sense_a, self.sense_b):
                combo.addItems(list(choices))
            pair = default_sense(prog, family)
            if pair is not None:
                self.sense_a.setCurrentText(pair[0])
                self.sense_b.setCurrentText(pair[1])
            loop = prog.closed_loop
            if loop is not None:
                self.target_spin.setValue(loop.target_uv)
                self.gain_spin.setValue(loop.gain_ua_per_uv)
        self._setup_changed()
        if self.pages.currentIndex() == COMPARE_PAGE:
            self.run_comparison()

    def nerve(self) -> Thresholds | None:
        """The virtual patient's thresholds and window for the active program in the app's posture."""
        prog = self.slot_program()
        if prog is None or prog.mode is not P.Mode.TONIC:
            return None
        patient = self.patient()
        key = (prog.with_amplitude(0), self.model.posture, id(patient))
        if key != self._thresholds_key:
            self._thresholds_key = key
            try:
                self._thresholds = thresholds(patient, prog, self.model.posture, False)
            except ValueError:
                self._thresholds = None
        return self._thresholds

    def target_uv(self) -> float:
        prog = self.slot_program()
        if prog is not None and prog.closed_loop is not None and prog.closed_loop.closed:
            return float(prog.closed_loop.target_uv)
        return float(self.target_spin.value())

    def _refresh(self) -> None:
        th = self.nerve()
        window = (th.window_low_uv, th.window_high_uv) if th is not None else None
        last = self.live[-1] if self.live else None
        ecap = last[1] if last is not None and self.model.status.stim_on else None
        self.bar.set_values(ecap, self.target_uv(), window)
        if window is not None:
            self.window_band.setRegion(window)
        self.target_line.setValue(self.target_uv())
        prog = self.slot_program()
        loop = "closed loop (ECAP)" if prog is not None and prog.closed_loop is not None and \
            prog.closed_loop.closed else "open loop"
        parts = [f"<b>{loop}</b>, {self.model.posture}"]
        if ecap is not None:
            state = "in the window" if self.bar.inside else "OUTSIDE the window"
            parts.append(f"ECAP {ecap:.0f} uV ({state})")
        elif not self.model.status.stim_on:
            parts.append("stimulation off")
        parts.append(f"target {self.target_uv():.0f} uV")
        if window is not None:
            parts.append(f"window {window[0]:.0f}..{window[1]:.0f} uV")
        parts.append(f"amplitude {self.model.status.amplitude_ua / 1000:.3f} mA")
        self.readout.setText("<br>".join(parts))

    # --- the stream --------------------------------------------------------------------
    def _stream(self, on: bool) -> None:
        want = on and self.closed_loop_device
        if want != self._streaming:
            self._streaming = want
            self.controller.ecap_stream(want)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        self._stream(True)

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802
        super().hideEvent(event)
        self._stream(False)

    def _ecap(self, point: EcapPoint) -> None:
        self.live.append((time.monotonic() - self._t0, point.ecap_uv, point.amp_ua / 1000.0))
        now = self.live[-1][0]
        while self.live and self.live[0][0] < now - ROLLING_S:
            self.live.popleft()
        data = np.array(self.live)
        ago = data[:, 0] - now
        self.ecap_curve.setData(ago, data[:, 1])
        self.amp_curve.setData(ago, data[:, 2])
        self.live_plot.getPlotItem().setXRange(-ROLLING_S, 0.0, padding=0)
        self.live_plot.getPlotItem().setYRange(0.0, self.bar.top_uv(), padding=0)
        self.amp_box.setYRange(0.0, max(1.0, 1.25 * float(data[:, 2].max())), padding=0)
        self._refresh()

    # --- posture and cough ----------------------------------------------------------------
    def set_posture(self, posture: str) -> None:
        """Move the app's virtual patient (the Patient view's too); the device's nerve follows."""
        if posture != self.model.posture:
            self.model.record_action("clinician", "posture", f"Posture: {posture}", {"posture": posture})
        self.model.set_posture(posture)

    def _posture_changed(self) -> None:
        self.posture_buttons[self.model.posture].setChecked(True)
        if self.closed_loop_device:
            self.controller.sim_posture(self.model.posture)
        self._refresh()
        self._draw_growth()

    def cough(self) -> None:
        self.model.record_action("clinician", "cough", "The patient coughed")
        if self.closed_loop_device:
            self.controller.sim_cough()

    # --- the growth curve -----------------------------------------------------------------
    def run_sweep(self) -> None:
        if not self.closed_loop_device:
            return
        if self.model.status.role != "CLINICIAN":
            self.fit_label.setText("The sweep is a clinician's request: log in on the Clinician view first.")
            return
        if not self.model.status.stim_on:
            self.fit_label.setText("Turn stimulation on first: the sweep measures the nerve's answer to pulses.")
            return
        lo, hi = round(self.sweep_from.value() * 1000), round(self.sweep_to.value() * 1000)
        step = max(1, round(self.sweep_step.value() * 1000))
        self.fit_label.setText("Sweeping…")
        self.sweep_button.setEnabled(False)
        self.controller.ecap_sweep(lo, hi, step, self._swept)

    def _swept(self, points: list[EcapPoint] | None, failed: str) -> None:
        self.sweep_button.setEnabled(True)
        if points is None:
            self.fit_label.setText(f"The sweep was not done: {failed}")
            return
        self.show_growth(points)

    def show_growth(self, points: list[EcapPoint]) -> None:
        """Plot a growth curve and fit its threshold and slope."""
        self.sweep = list(points)
        try:
            self.fit = fit_growth(self.sweep)
        except ValueError as exc:
            self.fit = None
            self.fit_label.setText(f"{len(points)} points; no fit: {exc}")
        else:
            self.fit_label.setText(
                f"{len(points)} points ({self.model.posture}): ECAP threshold {self.fit.threshold_ua / 1000:.2f} mA, "
                f"slope {self.fit.slope_uv_per_ma:.1f} uV/mA (least squares on the {self.fit.points} points above "
                "the noise floor)")
        self.model.record_action("clinician", "ecap_sweep", f"Growth curve: {len(points)} points", {
            "points": [[p.amp_ua, round(p.ecap_uv, 2)] for p in points],
            "threshold_ua": round(self.fit.threshold_ua) if self.fit else None,
            "slope_uv_per_ma": round(self.fit.slope_uv_per_ma, 2) if self.fit else None})
        self._draw_growth()
        self._setup_changed()

    def _draw_growth(self) -> None:
        amps = np.array([p.amp_ua / 1000.0 for p in self.sweep])
        self.growth_points.setData(amps, [p.ecap_uv for p in self.sweep])
        if self.fit is not None and amps.size:
            xs = np.linspace(float(amps.min()), float(amps.max()), 200)
            self.growth_line.setData(xs, [self.fit.ecap_uv(x * 1000.0) for x in xs])
        else:
            self.growth_line.setData([], [])
        if not amps.size:
            self.growth_plot.getPlotItem().setXRange(self.sweep_from.value(), self.sweep_to.value())
            self.growth_plot.getPlotItem().setYRange(0.0, 150.0)
        th = self.nerve()
        for line, value in ((self.pt_line, th.pt_ma if th else None), (self.dt_line, th.dt_ma if th else None)):
            line.setVisible(value is not None)
            if value is not None:
                line.setValue(value)
        self.growth_target.setValue(self.target_spin.value())

    # --- set up closed loop -----------------------------------------------------------------
    def target_from_curve(self) -> None:
        th = self.nerve()
        if self.fit is None or th is None:
            self.setup_label.setText("Sweep a growth curve first: the target is chosen on it.")
            return
        self.target_spin.setValue(suggested_target(self.fit, th.pt_ma * 1000.0, th.dt_ma * 1000.0))

    def _setup_changed(self) -> None:
        slope = self.fit.slope_uv_per_ma if self.fit is not None else None
        g, words = gain_words(self.gain_spin.value(), slope) if slope else gain_words(self.gain_spin.value())
        source = "the fitted slope" if slope else "the default slope"
        self.gain_label.setText(f"g = {g:.2f} per update: {words}.")
        self.gain_label.setToolTip(f"The loop gain per update, GAIN x S / 1000, with {source}")
        self.gain_label.setStyleSheet("color: #b00020;" if g >= 2.0 else "")
        self.growth_target.setValue(self.target_spin.value())
        if self.pages.currentIndex() == COMPARE_PAGE:  # a trainer turning the gain up sees it at once
            self.run_comparison()
        if self.model.status.role != "CLINICIAN":
            self.setup_label.setText(LOGIN_WORDS)
        elif not self._writing and not self.setup_label.text().startswith(("Written", "Not written")):
            self.setup_label.setText("")
        self._refresh()

    def write_loop(self) -> None:
        prog = self.slot_program()
        if self.model.status.role != "CLINICIAN":
            self.setup_label.setText(LOGIN_WORDS)
            return
        if prog is None:
            self.setup_label.setText("No active program to close the loop on.")
            return
        pair = (self.sense_a.currentText(), self.sense_b.currentText())
        if not all(pair):
            self.setup_label.setText("Choose two sense contacts.")
            return
        program = closed_loop_program(prog, self.target_spin.value(), self.gain_spin.value(), pair)
        self.setup_label.setText("Writing…")
        self._writing = True
        self.model.record_action("clinician", "closed_loop_setup", f"Closed loop: slot {prog.slot}, sense "
                                 f"{pair[0]},{pair[1]}, target {self.target_spin.value()} uV, gain "
                                 f"{self.gain_spin.value()} uA/uV", {"slot": prog.slot, "sense": list(pair),
                                                                      "target_uv": self.target_spin.value(),
                                                                      "gain_ua_per_uv": self.gain_spin.value()})
        self.controller.write_program(program)

    def _replied(self, reply: ClinicianReply) -> None:
        if reply.kind != "write" or not self._writing:
            return
        self._writing = False
        if reply.ok:
            self.setup_label.setText("Written and read back: the loop runs on the active slot.")
        else:
            self.setup_label.setText(f"Not written: {reply.text}")

    # --- open against closed ---------------------------------------------------------------
    def run_comparison(self) -> None:
        prog = self.slot_program()
        if prog is None:
            self.compare_label.setText("No active program to run.")
            return
        try:
            result = compare(self.patient(), prog, self.model.device_model, schedule=self.schedule_edit.text(),
                             target_uv=self.target_spin.value(), gain_ua_per_uv=self.gain_spin.value())
        except ValueError as exc:
            self.compare_label.setText(f"Cannot run: {exc}")
            return
        self.comparison = result
        self.compare_label.setText(
            f"Slot {prog.slot} at {prog.amplitude_ua / 1000:.3f} mA on the virtual patient, target "
            f"{result.target_uv:g} uV, gain {result.gain_ua_per_uv:g} uA/uV, 3 uV noise: {result.schedule}")
        for pw, box, figures, side in zip(self.side_plots, self.side_boxes, self.side_figures,
                                          (result.open, result.closed), strict=True):
            self._draw_side(pw, box, side, result.target_uv)
            f = side.figures
            figures.setText(f"mean |E - target| <b>{f.mean_abs_dev_uv:.1f} uV</b>, time in window "
                            f"<b>{100 * f.time_in_window:.1f} %</b>, largest ECAP {f.max_ecap_uv:.0f} uV, amplitude "
                            f"{f.amp_min_ma:.2f}..{f.amp_max_ma:.2f} mA")

    def _draw_side(self, pw: pg.PlotWidget, box: pg.ViewBox, side: Side, target_uv: float) -> None:
        item = pw.getPlotItem()
        item.clear()
        t = side.times_s
        low = pg.PlotDataItem(t, side.window_low_uv, pen=pg.mkPen(None))
        high = pg.PlotDataItem(t, side.window_high_uv, pen=pg.mkPen(None))
        item.addItem(low)
        item.addItem(high)
        item.addItem(pg.FillBetweenItem(low, high, brush=pg.mkBrush(*plots.WINDOW_BRUSH)))
        item.addItem(pg.InfiniteLine(target_uv, angle=0, pen=plots.pen(plots.ECAP, 1, dashed=True)))
        item.plot(t, side.ecap_uv, pen=plots.pen(plots.ECAP, 1.5))
        box.clear()
        box.addItem(pg.PlotDataItem(t, side.amplitude_ma, pen=plots.pen(plots.AMP, 1.5)))
        box.setYRange(0.0, max(1.0, float(side.amplitude_ma.max()) * 1.2), padding=0)

    # --- presentation mode ---------------------------------------------------------------
    def set_presentation(self, on: bool) -> None:
        """In a room the set-up and the sweep (a clinician's controls) are hidden."""
        self.setup_box.setVisible(not on)
        self.sweep_box.setVisible(not on)


def _scrolled(page: QWidget) -> QScrollArea:
    """A page that scrolls rather than asking the window for its height (a 1024x768 projector)."""
    area = QScrollArea()
    area.setWidget(page)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setAccessibleName(f"{page.accessibleName() or 'ECAP page'} (scrolls)")
    return area
