"""The projection: state of charge over days to years for a daily schedule and a charging habit.

The schedule is edited on the left (programs from the stimulator's slots with their start
and hours a day, the charging habit, the span, the starting level) and projected by
``app.battery.projection`` (the engine's ``simulate_schedule``) off the GUI thread: a
charging habit of every N days over ten years can take ~0.1 s. Edits are gathered for a
moment, and a result that an edit made stale is dropped.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, replace

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...engine import battery as B
from ...engine.program import DeviceModel, Program
from ..battery.projection import (
    DAYS_PER_YEAR,
    HOURS_PER_DAY,
    ChargingHabit,
    Figure,
    Plan,
    csv_text,
    figures,
    plan_for,
    project,
)
from ..model import AppModel
from ..style import icon
from .battery_compare import CELL_CHOICES
from .battery_plot import STOP, TRACE, WARN, battery_plot, show_thresholds, threshold_lines

DEBOUNCE_MS = 150  #: edits within this time make one projection
SPANS: tuple[tuple[int, str], ...] = ((7, "1 week"), (30, "30 days"), (90, "90 days"), (365, "1 year"),
                                      (730, "2 years"), (1826, "5 years"), (3652, "10 years"))
YEARS_FROM_DAYS = 400  #: spans longer than this are drawn in years
CHARGE_EVENING_H = 21.0  #: the default charging habit starts in the evening ...
CHARGE_STEP_MIN = 5  #: ... for whole steps of 5 minutes
MAX_ROWS = 8
FIGURES_MIN_HEIGHT = 40  #: ... and the figures at least this (they scroll)
PLOT_MIN_HEIGHT = 110  #: the projection plot keeps this much height; the figures below it scroll
EDITOR_WIDTH = 300  #: the schedule editor's first width, before the view is laid out
EDITOR_SHARE = 0.5  #: the editor takes at most this share of the width until the handle is dragged


@dataclass(frozen=True)
class Projected:
    """A finished projection: the plan, the engine's result and the figures shown."""

    generation: int
    plan: Plan | None
    result: B.ScheduleResult | None
    figures: tuple[Figure, ...]
    error: str
    seconds: float


def _spin(parent: QWidget, name: str, tip: str, lo: float, hi: float, step: float, suffix: str,
          decimals: int = 1) -> QDoubleSpinBox:
    box = QDoubleSpinBox(parent)
    box.setRange(lo, hi)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    box.setSuffix(suffix)
    box.setAccessibleName(name)
    box.setToolTip(tip)
    box.setKeyboardTracking(False)
    return box


class ScheduleRow(QWidget):
    """One program of the day: which slot, from what hour, for how many hours."""

    changed = Signal()
    removeRequested = Signal(object)

    def __init__(self, number: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.program_box = QComboBox(self)
        self.program_box.setAccessibleName(f"Program {number}")
        self.program_box.setToolTip("A program from the stimulator's slots")
        self.start_box = _spin(self, f"Program {number} starts at", "Hour of the day the program starts "
                               "(0 to 23.75; it may run past midnight)", 0.0, 23.75, 0.25, " h", 2)
        self.hours_box = _spin(self, f"Program {number} hours a day", "Hours a day the program runs",
                               0.25, 24.0, 0.5, " h/day", 2)
        self.remove_button = QToolButton(self)
        self.remove_button.setIcon(icon("minus"))
        self.remove_button.setText("Remove")
        self.remove_button.setAccessibleName(f"Remove program {number}")
        self.remove_button.setToolTip("Take this program out of the day")
        self.program_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.program_box.setMinimumContentsLength(12)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 4)
        column.setSpacing(2)
        column.addWidget(self.program_box)
        row = QHBoxLayout()
        row.addWidget(self.start_box)
        row.addWidget(self.hours_box)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        column.addLayout(row)
        self.program_box.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.start_box.valueChanged.connect(lambda _v: self.changed.emit())
        self.hours_box.valueChanged.connect(lambda _v: self.changed.emit())
        self.remove_button.clicked.connect(lambda: self.removeRequested.emit(self))

    def set_programs(self, items: list[tuple[int, str]]) -> None:
        slot = self.slot
        self.program_box.blockSignals(True)
        self.program_box.clear()
        for number, label in items:
            self.program_box.addItem(label, number)
        index = self.program_box.findData(slot)
        self.program_box.setCurrentIndex(index if index >= 0 else 0)
        self.program_box.blockSignals(False)

    @property
    def slot(self) -> int | None:
        data = self.program_box.currentData()
        return int(data) if data is not None else None


class _Runner(QObject):
    """Runs projections on a thread of its own; the newest request wins."""

    done = Signal(object)  #: Projected, delivered on the GUI thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._pending: tuple[int, Plan | None, str] | None = None
        self._busy = False

    def submit(self, generation: int, plan: Plan | None, error: str) -> None:
        with self._lock:
            self._pending = (generation, plan, error)
            if self._busy:
                return
            self._busy = True
        threading.Thread(target=self._work, name="stimsim-projection", daemon=True).start()

    def _work(self) -> None:
        while True:
            with self._lock:
                job, self._pending = self._pending, None
                if job is None:
                    self._busy = False
                    return
            projected = compute(*job)
            try:
                self.done.emit(projected)
            except RuntimeError:  # the view was deleted while this ran (the app is closing)
                return


def compute(generation: int, plan: Plan | None, error: str) -> Projected:
    """Project ``plan`` (a plan that could not be made carries its ``error``)."""
    if plan is None:
        return Projected(generation, None, None, (), error, 0.0)
    started = time.perf_counter()
    try:
        result = project(plan)
        shown = tuple(figures(plan, result))
    except ValueError as exc:
        return Projected(generation, plan, None, (), str(exc), time.perf_counter() - started)
    return Projected(generation, plan, result, shown, "", time.perf_counter() - started)


class ProjectionView(QWidget):
    """The schedule editor, the projected state of charge and its figures."""

    projected = Signal()  #: a projection is shown (tests wait on it)

    def __init__(self, model: AppModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.rows: list[ScheduleRow] = []
        self.touched = False  #: the user edited the schedule: new slots no longer reset it
        self.generation = 0
        self.last: Projected | None = None
        self._runner = _Runner(self)
        self._runner.done.connect(self._show)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.recompute)

        editor = QWidget()
        form = QVBoxLayout(editor)
        form.setContentsMargins(4, 4, 4, 4)
        day = QGroupBox("Programs a day", editor)
        self.rows_box = QVBoxLayout(day)
        self.add_button = QPushButton("&Add a program", day)
        self.add_button.setAccessibleName("Add a program to the day")
        self.add_button.setToolTip("Another program in the day (programs may not overlap)")
        self.add_button.clicked.connect(self._add_clicked)
        self.reset_button = QPushButton("&Reset to the active program", day)
        self.reset_button.setAccessibleName("Reset the schedule to the active program")
        self.reset_button.setToolTip("The active program all day, and a charging habit that keeps up with it")
        self.reset_button.clicked.connect(self.reset_to_active)
        self.rows_box.addWidget(self.add_button)
        self.rows_box.addWidget(self.reset_button)
        form.addWidget(day)

        habit = QGroupBox("Charging habit", editor)
        habit_form = QFormLayout(habit)
        self.charges_box = QCheckBox("The patient charges", habit)
        self.charges_box.setAccessibleName("The patient charges")
        self.charges_box.setToolTip("Charging sessions in the projection (Li-ion only)")
        self.charges_box.setChecked(True)
        self.charge_start = _spin(habit, "Charging starts at", "Hour of the day charging starts",
                                  0.0, 23.75, 0.25, " h", 2)
        self.charge_minutes = _spin(habit, "Charging minutes", "How long each charging session lasts",
                                    1.0, 24 * 60.0, 5.0, " min", 0)
        self.charge_every = QSpinBox(habit)
        self.charge_every.setRange(1, 30)
        self.charge_every.setSuffix(" day(s)")
        self.charge_every.setAccessibleName("Charge every N days")
        self.charge_every.setToolTip("1: every day; 7: once a week")
        self.charge_every.setKeyboardTracking(False)
        habit_form.addRow(self.charges_box)
        habit_form.addRow("Starts at", self.charge_start)
        habit_form.addRow("For", self.charge_minutes)
        habit_form.addRow("Every", self.charge_every)
        form.addWidget(habit)

        run = QGroupBox("Projection", editor)
        run_form = QFormLayout(run)
        self.span_box = QComboBox(run)
        for days, label in SPANS:
            self.span_box.addItem(label, days)
        self.span_box.setAccessibleName("Days to show")
        self.span_box.setToolTip("How far ahead to project")
        self.start_level = _spin(run, "Starting level", "The battery level the projection starts at, at midnight",
                                 0.0, 100.0, 5.0, " %", 1)
        self.start_level.setValue(100.0)
        self.now_button = QPushButton("&Now", run)
        self.now_button.setAccessibleName("Start from the present level")
        self.now_button.setToolTip("Start the projection at the level the stimulator reports now")
        self.now_button.clicked.connect(self._from_now)
        level_row = QHBoxLayout()
        level_row.addWidget(self.start_level, 1)
        level_row.addWidget(self.now_button)
        self.chemistry_box = QComboBox(run)
        for label, chemistry in CELL_CHOICES:
            self.chemistry_box.addItem(label, chemistry)
        self.chemistry_box.setAccessibleName("Battery cell")
        self.chemistry_box.setToolTip("The cell to project; it follows the stimulator's until you choose one")
        run_form.addRow("Show", self.span_box)
        run_form.addRow("Start at", level_row)
        run_form.addRow("Cell", self.chemistry_box)
        form.addWidget(run)
        form.addStretch(1)

        scroll = QScrollArea(self)
        scroll.setWidget(editor)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.editor = editor
        scroll.setAccessibleName("Schedule")

        self.plot = battery_plot(self, "Projected battery level",
                                 "The state of charge the schedule gives, day after day; wheel to zoom in time",
                                 "Days")
        self.plot.getPlotItem().setDownsampling(auto=True, mode="peak")
        self.plot.getPlotItem().setClipToView(True)
        self.curve = self.plot.getPlotItem().plot(pen={"color": TRACE, "width": 2})
        self.lines = threshold_lines(self.plot)
        self.marks: dict[str, pg.InfiniteLine] = {}
        for state, color in ((B.LOW, WARN), (B.EMPTY, STOP), (B.ERI, WARN), (B.EOS, STOP)):
            mark = pg.InfiniteLine(0.0, angle=90, pen=pg.mkPen(color, width=1), label=state,
                                   labelOpts={"position": 0.9, "color": color})
            mark.setVisible(False)
            self.plot.getPlotItem().addItem(mark, ignoreBounds=True)
            self.marks[state] = mark
        self.figures_label = QLabel(self)
        self.figures_label.setObjectName("projectionFigures")
        self.figures_label.setAccessibleName("Projection figures")
        self.figures_label.setWordWrap(True)
        self.figures_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.figures_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        figures_scroll = QScrollArea(self)
        figures_scroll.setWidget(self.figures_label)
        figures_scroll.setWidgetResizable(True)
        figures_scroll.setFrameShape(QFrame.Shape.NoFrame)
        figures_scroll.setAccessibleName("Projection figures")
        figures_scroll.setMinimumHeight(FIGURES_MIN_HEIGHT)
        self.plot.setMinimumHeight(PLOT_MIN_HEIGHT)
        right = QSplitter(Qt.Orientation.Vertical, self)
        right.addWidget(self.plot)
        right.addWidget(figures_scroll)
        right.setStretchFactor(0, 3)
        right.setSizes([3 * PLOT_MIN_HEIGHT, 2 * PLOT_MIN_HEIGHT])
        right.setStretchFactor(1, 2)
        right.setChildrenCollapsible(False)

        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(scroll)
        split.addWidget(right)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        split.setSizes([EDITOR_WIDTH, 2 * EDITOR_WIDTH])
        self.splitter = split
        self._handle_moved = False
        split.splitterMoved.connect(self._moved)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

        for box in (self.charge_start, self.charge_minutes, self.start_level):
            box.valueChanged.connect(self._edited)
        self.charge_every.valueChanged.connect(self._edited)
        self.charges_box.toggled.connect(self._edited)
        self.span_box.currentIndexChanged.connect(lambda _i: self.schedule_changed())
        self.chemistry_box.activated.connect(self._chemistry_chosen)
        self._chemistry_chosen_by_user = False
        self._running: tuple[int, int] = (0, 0)  #: the active slot and amplitude last projected with
        model.slotsChanged.connect(self._slots_changed)
        model.statusChanged.connect(self._status_changed)
        self._slots_changed()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        """Until the user drags the handle: the editor as wide as it needs (at most
        ``EDITOR_SHARE`` of the width; it scrolls when narrower), the plot the rest."""
        super().resizeEvent(event)
        if self._handle_moved:
            return
        total = sum(self.splitter.sizes()) or event.size().width()
        need = self.editor.minimumSizeHint().width() + self.style().pixelMetric(
            QStyle.PixelMetric.PM_ScrollBarExtent) + 4
        left = min(need, int(total * EDITOR_SHARE))
        self.splitter.setSizes([left, max(0, total - left)])

    def _moved(self, *_args: object) -> None:
        self._handle_moved = True

    # --- the schedule ---------------------------------------------------------------
    def program_items(self) -> list[tuple[int, str]]:
        return [(n, f"Slot {n}: {p.name or p.mode.value}") for n, p in sorted(self.model.slots.items())]

    def program_of(self, slot: int) -> Program | None:
        if slot == self.model.status.slot:
            return self.model.active_program()  # at the amplitude the device reports now
        return self.model.slots.get(slot)

    @property
    def chemistry(self) -> str:
        return str(self.chemistry_box.currentData())

    @property
    def device(self) -> DeviceModel:
        """The stimulator's device (its family and impedances) with the cell chosen here."""
        return replace(self.model.device_model, chemistry=self.chemistry)

    def add_row(self, slot: int | None = None, start_h: float = 0.0, hours: float = 24.0) -> ScheduleRow:
        row = ScheduleRow(len(self.rows) + 1, self)
        row.set_programs(self.program_items())
        if slot is not None:
            index = row.program_box.findData(slot)
            if index >= 0:
                row.program_box.setCurrentIndex(index)
        row.start_box.setValue(start_h)
        row.hours_box.setValue(hours)
        row.changed.connect(self._edited)
        row.removeRequested.connect(self._remove_row)
        self.rows.append(row)
        self.rows_box.insertWidget(len(self.rows) - 1, row)
        self.add_button.setEnabled(len(self.rows) < MAX_ROWS)
        return row

    def _add_clicked(self) -> None:
        self.touched = True
        if not self.rows:
            self.add_row(self.model.status.slot or None)
        else:  # after the last one, for the rest of the day
            last = self.rows[-1]
            start = (last.start_box.value() + last.hours_box.value()) % HOURS_PER_DAY
            used = sum(r.hours_box.value() for r in self.rows)
            self.add_row(None, start, max(0.25, min(8.0, HOURS_PER_DAY - used)))
        self.schedule_changed()

    def _remove_row(self, row: object) -> None:
        assert isinstance(row, ScheduleRow)
        self.touched = True
        self.rows.remove(row)
        row.setParent(None)
        row.deleteLater()
        self.add_button.setEnabled(len(self.rows) < MAX_ROWS)
        self.schedule_changed()

    def clear_rows(self) -> None:
        for row in self.rows:
            row.setParent(None)
            row.deleteLater()
        self.rows = []

    def set_habit(self, habit: ChargingHabit | None) -> None:
        for box in (self.charges_box, self.charge_start, self.charge_minutes, self.charge_every):
            box.blockSignals(True)
        self.charges_box.setChecked(habit is not None)
        if habit is not None:
            self.charge_start.setValue(habit.start_h)
            self.charge_minutes.setValue(habit.minutes)
            self.charge_every.setValue(habit.every_days)
        for box in (self.charges_box, self.charge_start, self.charge_minutes, self.charge_every):
            box.blockSignals(False)
        self.schedule_changed()

    def set_span(self, days: int) -> None:
        index = self.span_box.findData(days)
        if index < 0:
            self.span_box.addItem(f"{days} days", days)
            index = self.span_box.count() - 1
        self.span_box.setCurrentIndex(index)

    def reset_to_active(self) -> None:
        """The active program all day; a habit that keeps up with it (Li-ion); a span that shows it."""
        self.touched = False
        self.clear_rows()
        active = self.model.status.slot if self.model.status.slot in self.model.slots else None
        if active is None and self.model.slots:
            active = min(self.model.slots)
        if active is not None:
            self.add_row(active, 0.0, HOURS_PER_DAY)
        program = self.program_of(active) if active is not None else None
        cell = B.cell(self.chemistry)
        if cell.rechargeable and program is not None:
            self.set_habit(default_habit(program, self.device))
            self.set_span(30)
        elif cell.replaceable:  # a trial stimulator's pack lasts days to weeks
            self.set_habit(None)
            self.set_span(30)
        else:
            self.set_habit(None)
            self.set_span(3652)
        self.schedule_changed()

    def _slots_changed(self) -> None:
        if not self._chemistry_chosen_by_user:
            self._select_chemistry(self.model.device_model.chemistry)
        items = self.program_items()
        if not self.touched or not self.rows:
            self.reset_to_active()
            return
        for row in self.rows:
            row.set_programs(items)
        self.schedule_changed()

    def _status_changed(self) -> None:
        active = self.model.status.slot
        running = (active, self.model.status.amplitude_ua)
        if running != self._running and active in [r.slot for r in self.rows]:
            self.schedule_changed()  # the active program runs at the amplitude the device reports now
        self._running = running
        if not self.touched and active in self.model.slots and [r.slot for r in self.rows] != [active]:
            self.reset_to_active()  # the default follows the active program until the user edits
        chem = self.model.status.chemistry.lower()
        if chem and not self._chemistry_chosen_by_user and chem != self.chemistry:
            self._select_chemistry(chem)
            if not self.touched:
                self.reset_to_active()

    def _select_chemistry(self, chemistry: str) -> None:
        index = self.chemistry_box.findData(chemistry.lower())
        if index >= 0 and index != self.chemistry_box.currentIndex():
            self.chemistry_box.setCurrentIndex(index)

    def _chemistry_chosen(self, _index: int) -> None:
        self._chemistry_chosen_by_user = True
        if self.touched:
            self.schedule_changed()
        else:
            self.reset_to_active()

    def _from_now(self) -> None:
        permille = self.model.status.battery_permille
        if permille is not None:
            self.start_level.setValue(permille / 10.0)

    def _edited(self, *_args: object) -> None:
        self.touched = True
        self.schedule_changed()

    def schedule_changed(self) -> None:
        primary = not B.cell(self.chemistry).rechargeable
        for box in (self.charges_box, self.charge_start, self.charge_minutes, self.charge_every):
            box.setEnabled(not primary)
        self._debounce.start()

    def plan(self) -> Plan:
        """The plan the editor shows (ValueError in words when it is not one)."""
        runs: list[tuple[Program, float, float]] = []
        for i, row in enumerate(self.rows, 1):
            program = self.program_of(row.slot) if row.slot is not None else None
            if program is None:
                raise ValueError(f"program {i}: choose a program from the stimulator's slots")
            runs.append((program, row.start_box.value(), row.hours_box.value()))
        habit = None
        if self.charges_box.isChecked() and B.cell(self.chemistry).rechargeable:
            habit = ChargingHabit(self.charge_start.value(), self.charge_minutes.value(), self.charge_every.value())
        return plan_for(runs, self.device, self.chemistry, habit, int(self.span_box.currentData()),
                        self.start_level.value())

    def recompute(self) -> None:
        """Project what the editor shows, off the GUI thread."""
        self._debounce.stop()
        self.generation += 1
        try:
            plan: Plan | None = self.plan()
            error = ""
        except ValueError as exc:
            plan, error = None, str(exc)
        self._runner.submit(self.generation, plan, error)

    # --- showing ------------------------------------------------------------------
    def _show(self, done: object) -> None:
        assert isinstance(done, Projected)
        if done.generation != self.generation:
            return  # an edit came after this one was asked for
        self.last = done
        result, plan = done.result, done.plan
        if result is None or plan is None:
            self.curve.setData([], [])
            for mark in self.marks.values():
                mark.setVisible(False)
            self.figures_label.setText(f"<b>Cannot project:</b> {done.error}")
            self.projected.emit()
            return
        years = plan.days > YEARS_FROM_DAYS
        scale = HOURS_PER_DAY * (DAYS_PER_YEAR if years else 1.0)
        x = result.t_h / scale
        self.curve.setData(x, result.soc)
        self.plot.getPlotItem().setLabel("bottom", "Years" if years else "Days")
        vb = self.plot.getPlotItem().getViewBox()
        vb.setXRange(0.0, plan.days * HOURS_PER_DAY / scale, padding=0.01)
        vb.setLimits(xMin=-0.05 * plan.days * HOURS_PER_DAY / scale, xMax=1.05 * plan.days * HOURS_PER_DAY / scale)
        show_thresholds(self.lines, plan.chemistry)
        for state, mark in self.marks.items():
            at = result.crossings.get(state)
            mark.setVisible(at is not None)
            if at is not None:
                mark.setValue(at / scale)
        self.figures_label.setText(figures_html(done.figures))
        self.projected.emit()

    def csv(self) -> str:
        if self.last is None or self.last.result is None or self.last.plan is None:
            raise ValueError("there is no projection to export")
        return csv_text(self.last.plan, self.last.result)


def figures_html(shown: tuple[Figure, ...] | list[Figure]) -> str:
    rows = "".join(f"<tr><td>{f.label}&nbsp;&nbsp;</td><td><b>{f.text}</b></td></tr>" for f in shown)
    return f"<table>{rows}</table>"


def default_habit(program: Program, device: DeviceModel) -> ChargingHabit:
    """Charge in the evening, every few days (at most a week, at most half a full charge
    apart), long enough to put back what the days between used (whole 5 minutes)."""
    fig = B.battery_figures(program, device, device.chemistry)
    need = float(fig["charge_minutes_per_day"])
    every = max(1, min(7, math.floor(float(fig["days_per_charge"]) / 2)))
    minutes = max(2 * CHARGE_STEP_MIN, CHARGE_STEP_MIN * math.ceil(need * every / CHARGE_STEP_MIN))
    return ChargingHabit(CHARGE_EVENING_H, float(minutes), every)

