"""The Trial view: a trial on the external trial stimulator (ETS), day by day, with the pain diary.

The clinician picks a trial scenario and its program, the trial's length and hours of
stimulation a day, and runs the trial's clock faster than real time. Each simulated evening
the patient's diary entry (``patient.trial``: the same numbers as ``stimsim trial``) fills a
row of the table and a point of the plots; after the last evening the report gives the
verdict. Diary, report and transfer go into the session record, so the PDF report carries
them. "Transfer to the implant…" writes the trial's programs to an implant's slots.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...engine.params import Family
from ...engine.program import Program
from ...host.transfer import TransferReport
from ...patient import scenario as S
from ...patient import trial as T
from ...patient.scenario import Scenario
from ..model import AppModel
from ..records.report import TRIAL_DIARY, TRIAL_REPORT, TRIAL_START, TRIAL_TRANSFER
from .clock import SPEEDS, TrialClock
from .transfer_dialog import TransferDialog

COLUMNS = ("Day", "VAS", "Relief", "Stim.", "Activity", "Doses")
GOOD = "#1b7f3b"
RELIEF_COLOR = "#1f77b4"
VAS_COLOR = "#d62728"
PLOT_MIN_WIDTH = 300  #: narrower than this beside the diary, the plot goes below it
BAD = "#b3261e"


def trial_scenarios() -> list[Scenario]:
    """The shipped scenarios of an ETS trial, by name."""
    out = []
    for path in S.shipped():
        scenario = S.load(path)
        if scenario.family is Family.ETS:
            out.append(scenario)
    return out


class TrialView(QWidget):
    """Scenario and program, the trial's clock, the diary (table and plot), the report, the transfer."""

    reported = Signal(object)  #: TrialReport, after the last evening

    def __init__(self, model: AppModel, parent: QWidget | None = None, *, implant_url: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("trialView")
        self.setAccessibleName("Trial")
        self.model = model
        self.implant_url = implant_url  #: the built-in SCS-R implant the transfer offers (set by the launcher)
        self.scenarios = {s.name: s for s in trial_scenarios()}
        self.scenario: Scenario | None = None
        self.trial: T.Trial | None = None
        self.diary: list[T.DiaryEntry] = []
        self.result: T.TrialReport | None = None
        self.transfer_dialog: TransferDialog | None = None
        self.clock = TrialClock(self)
        self.clock.evening.connect(self._evening)
        self.clock.finished.connect(self._finished)
        self.clock.moved.connect(self._show_clock)

        col = QVBoxLayout(self)
        col.setContentsMargins(6, 4, 6, 4)
        col.setSpacing(4)
        col.addWidget(self._build_setup())
        col.addLayout(self._build_clock_row())
        split = self.split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self._build_table())
        split.addWidget(self._build_plots())
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        col.addWidget(split, 1)
        col.addWidget(self._build_report())
        if self.scenarios:
            self.select(next(iter(self.scenarios)))
        self._show_clock()

    # --- building -------------------------------------------------------------------
    def _build_setup(self) -> QWidget:
        box = QWidget()
        box.setAccessibleName("Trial on the external trial stimulator (ETS)")
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(2)
        self.scenario_box = QComboBox()
        self.scenario_box.setAccessibleName("Trial scenario")
        self.scenario_box.setToolTip("The patient on trial: a shipped scenario of an ETS trial")
        for s in self.scenarios.values():
            self.scenario_box.addItem(s.title, s.name)
            self.scenario_box.setItemData(self.scenario_box.count() - 1, s.title, Qt.ItemDataRole.ToolTipRole)
        self.scenario_box.activated.connect(lambda i: self.select(str(self.scenario_box.itemData(i))))
        self.program_box = QComboBox()
        self.program_box.setAccessibleName("Trial program")
        self.program_box.setToolTip("The program the trial stimulator runs (no case anode on the ETS)")
        self.program_box.activated.connect(lambda _i: self.new_trial())
        self.days_box = QSpinBox()
        self.days_box.setRange(T.DAYS_MIN, T.DAYS_MAX)
        self.days_box.setValue(T.DAYS_DEFAULT)
        self.days_box.setSuffix(" days")
        self.days_box.setAccessibleName("Trial length")
        self.days_box.setToolTip(f"How many days the trial lasts ({T.DAYS_MIN}..{T.DAYS_MAX})")
        self.days_box.valueChanged.connect(lambda _v: self.new_trial())
        self.hours_box = QSpinBox()
        self.hours_box.setRange(int(T.HOURS_MIN), int(T.HOURS_MAX))
        self.hours_box.setValue(int(T.HOURS_DEFAULT))
        self.hours_box.setSuffix(" h/day")
        self.hours_box.setAccessibleName("Hours of stimulation a day")
        self.hours_box.setToolTip("How many hours a day the trial stimulator runs the program")
        self.hours_box.valueChanged.connect(lambda _v: self.new_trial())
        self.brief = QLabel()
        self.brief.setWordWrap(True)
        self.brief.setObjectName("trialBrief")
        for combo in (self.scenario_box, self.program_box):  # long titles must not widen the window
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)
        grid.addWidget(self.scenario_box, 0, 0)
        grid.addWidget(self.program_box, 0, 1)
        grid.addWidget(self.days_box, 0, 2)
        grid.addWidget(self.hours_box, 0, 3)
        grid.addWidget(self.brief, 1, 0, 1, 4)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        return box

    def _build_clock_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.run_button = QPushButton("Start")
        self.run_button.setCheckable(True)
        self.run_button.setToolTip("Start or pause the trial's clock")
        self.run_button.setAccessibleName("Start or pause the trial")
        self.run_button.toggled.connect(self._run)
        self.speed_box = QComboBox()
        self.speed_box.setAccessibleName("Trial clock speed")
        self.speed_box.setToolTip("How fast the trial's clock runs: simulated hours per real second")
        for factor, words in SPEEDS:
            self.speed_box.addItem(words, factor)
        self.speed_box.setCurrentIndex([f for f, _ in SPEEDS].index(self.clock.speed))
        self.speed_box.currentIndexChanged.connect(
            lambda i: setattr(self.clock, "speed", float(self.speed_box.itemData(i))))
        self.end_button = QPushButton("Play all")
        self.end_button.setToolTip("Play the rest of the trial at once")
        self.end_button.setAccessibleName("Play the trial to the end")
        self.end_button.clicked.connect(self.play_to_end)
        self.restart_button = QPushButton("Restart")
        self.restart_button.setToolTip("A new trial with the settings above (the diary starts again)")
        self.restart_button.setAccessibleName("Restart the trial")
        self.restart_button.clicked.connect(self.new_trial)
        self.progress = QProgressBar()  # the trial's clock: its words on its progress
        self.progress.setObjectName("trialClock")
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setAccessibleName("Trial clock")
        self.progress.setToolTip("The trial's day and time of day; the diary is written at 20:00")
        self.progress.setMinimumWidth(self.progress.fontMetrics().horizontalAdvance("Day 10 of 10, 20:00") // 2)
        for w in (self.run_button, self.speed_box, self.end_button, self.restart_button):
            row.addWidget(w)
        row.addWidget(self.progress, 1)
        return row

    def _build_table(self) -> QWidget:
        self.table = QTableWidget(0, len(COLUMNS))
        tips = ("Trial day", "Pain 0-10 that evening", "Pain relief that evening", "Hours of stimulation that day",
                "Activity 0-10 (10 - VAS)", "Doses of rescue analgesic that day")
        for c, (title, tip) in enumerate(zip(COLUMNS, tips, strict=True)):
            head = QTableWidgetItem(title)
            head.setToolTip(tip)
            self.table.setHorizontalHeaderItem(c, head)
        self.table.setAccessibleName("Pain diary")
        self.table.setToolTip("The patient's diary, written each evening of the trial")
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        widest = ("10", "10.0", "100 %", "24 h", "10.0", "4")
        metrics = self.table.fontMetrics()
        for c, text in enumerate(widest):
            header.resizeSection(c, max(header.sectionSize(c), metrics.horizontalAdvance(text) + 24))
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.setMinimumWidth(header.length() + self.table.verticalScrollBar().sizeHint().width() + 6)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        return self.table

    def _build_plots(self) -> QWidget:
        self.plot = pg.PlotWidget(background="w")
        self.plot.setAccessibleName("Diary plot: VAS and relief by day")
        self.plot.setToolTip("Relief (%, blue circles, left axis) and VAS (0-10, red squares, right axis) each "
                             "evening; the dashed line is 50 % relief")
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("left", "relief", units="%", color=RELIEF_COLOR)
        self.plot.setLabel("bottom", "trial day")
        self.plot.showAxis("right")
        self.plot.setLabel("right", "VAS (0-10)", color=VAS_COLOR)
        for axis in ("left", "bottom", "right"):
            self.plot.getAxis(axis).enableAutoSIPrefix(False)
        self.plot.setYRange(0, 100, padding=0.02)
        self.plot.addLine(y=100 * T.CANDIDATE_RELIEF, pen=pg.mkPen("#999", width=1, style=Qt.PenStyle.DashLine))
        self.relief_curve = self.plot.plot(pen=pg.mkPen(RELIEF_COLOR, width=2), symbol="o", symbolSize=7,
                                           symbolBrush=RELIEF_COLOR)
        # VAS on the right axis: a second view box sharing the x axis
        self.vas_box = pg.ViewBox()
        item = self.plot.getPlotItem()
        item.scene().addItem(self.vas_box)
        item.getAxis("right").linkToView(self.vas_box)
        self.vas_box.setXLink(item)
        self.vas_box.setYRange(0, 10, padding=0.02)
        self.vas_box.setMouseEnabled(x=False, y=False)
        self.vas_curve = pg.PlotDataItem(pen=pg.mkPen(VAS_COLOR, width=2), symbol="s", symbolSize=7,
                                         symbolBrush=VAS_COLOR, name="VAS")
        self.vas_box.addItem(self.vas_curve)
        item.vb.sigResized.connect(lambda *_: self.vas_box.setGeometry(item.vb.sceneBoundingRect()))
        widget: QWidget = self.plot
        return widget

    def _build_report(self) -> QWidget:
        box = QWidget()
        box.setAccessibleName("Trial report")
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.report_label = QLabel()
        self.report_label.setObjectName("trialReport")
        self.report_label.setWordWrap(True)
        self.report_label.setTextFormat(Qt.TextFormat.RichText)
        self.report_label.setAccessibleName("Trial report")
        row.addWidget(self.report_label, 1)
        self.transfer_button = QPushButton("Transfer to the implant…")
        self.transfer_button.setToolTip("Write the trial's programs to an implant's slots, read each back and "
                                        "compare (after the trial)")
        self.transfer_button.setAccessibleName("Transfer to the implant")
        self.transfer_button.clicked.connect(self.open_transfer)
        row.addWidget(self.transfer_button, 0, Qt.AlignmentFlag.AlignBottom)
        return box

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        """Diary beside the plot when there is room for both, above it when not (a projector, large type)."""
        super().resizeEvent(event)
        wide = self.width() >= self.table.minimumWidth() + PLOT_MIN_WIDTH
        self.split.setOrientation(Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical)

    # --- the trial ------------------------------------------------------------------
    def select(self, name: str) -> None:
        """Load the trial scenario ``name`` (KeyError names the trial scenarios) and start a new trial."""
        if name not in self.scenarios:
            raise KeyError(f"no trial scenario {name!r} (trial scenarios: {', '.join(self.scenarios)})")
        self.scenario = self.scenarios[name]
        self.scenario_box.setCurrentIndex(self.scenario_box.findData(name))
        self.brief.setText(self.scenario.brief)
        self.program_box.blockSignals(True)
        self.program_box.clear()
        for prog in self.scenario.programs:
            self.program_box.addItem(f"Slot {prog.slot}: {prog.name or prog.mode.value}", prog.slot)
        self.program_box.blockSignals(False)
        self.new_trial()

    def set_program(self, slot: int) -> None:
        self.program_box.setCurrentIndex(self.program_box.findData(slot))
        self.new_trial()

    @property
    def program(self) -> Program | None:
        if self.scenario is None or self.program_box.currentIndex() < 0:
            return None
        slot = self.program_box.currentData()
        return next((p for p in self.scenario.programs if p.slot == slot), None)

    @property
    def programs(self) -> tuple[Program, ...]:
        """The trial's programs that can run on the ETS: what the transfer writes to the implant."""
        if self.scenario is None:
            return ()
        return tuple(p for p in self.scenario.programs if not T.ets_problems(p, self.scenario.device))

    def new_trial(self) -> None:
        """A fresh trial with the chosen scenario, program, length and hours (the clock at its start)."""
        self.run_button.setChecked(False)
        self.diary = []
        self.result = None
        self.trial = None
        self.clock.reset(self.days_box.value())
        program = self.program
        problem = ""
        if self.scenario is not None and program is not None:
            try:
                self.trial = T.Trial(self.scenario.patient, program, self.scenario.device,
                                     float(self.hours_box.value()))
            except ValueError as exc:
                problem = str(exc)
        elif self.scenario is not None:
            problem = "this scenario has no program for the trial"
        self.run_button.setEnabled(self.trial is not None)
        self.end_button.setEnabled(self.trial is not None)
        self._refresh(problem)

    def _run(self, on: bool) -> None:
        if on and self.trial is not None and self.clock.hours == 0.0 and not self.diary:
            self._record_start()
        self.clock.run(on and self.trial is not None)
        self.run_button.setText("Pause" if self.clock.running else ("Resume" if self.clock.hours else "Start"))

    def play_to_end(self) -> None:
        """Run the rest of the trial at once (every evening is still written, in order)."""
        if self.trial is None:
            return
        if self.clock.hours == 0.0 and not self.diary:
            self._record_start()
        self.clock.advance(self.clock.total_hours)

    def _record_start(self) -> None:
        assert self.trial is not None and self.scenario is not None
        prog = self.trial.program
        self.model.record_action(
            "clinician", TRIAL_START,
            f"Trial started: {self.scenario.title}; slot {prog.slot} ({prog.name or prog.mode.value}) "
            f"{self.trial.hours:g} h a day for {self.clock.days} days on the ETS",
            {"scenario": self.scenario.name, "slot": prog.slot, "days": self.clock.days, "hours": self.trial.hours})

    def _evening(self, day: int) -> None:
        if self.trial is None:
            return
        entry = self.trial.entry(day)
        self.diary.append(entry)
        self.model.record_action("patient", TRIAL_DIARY, diary_words(entry), entry.as_json())
        self._refresh()

    def _finished(self) -> None:
        if self.trial is None or self.scenario is None:
            return
        self.result = T.report(self.trial.baseline_vas, self.diary)
        self.run_button.setChecked(False)
        data = dict(self.result.as_json())
        data.update({"scenario": self.scenario.name, "title": self.scenario.title, "slot": self.trial.program.slot,
                     "program": self.trial.program.name or self.trial.program.mode.value})
        self.model.record_action("app", TRIAL_REPORT, report_words(self.result), data)
        self._refresh()
        self.reported.emit(self.result)

    # --- the transfer ----------------------------------------------------------------
    def open_transfer(self) -> TransferDialog:
        """Show the transfer dialog for the trial's programs (returned, so tests can drive it)."""
        dialog = TransferDialog(self.programs, self.implant_url, self)
        dialog.finished_report.connect(self._transferred)
        self.transfer_dialog = dialog
        dialog.setModal(True)
        dialog.show()
        return dialog

    def _transferred(self, report: TransferReport) -> None:
        good = sum(s.ok for s in report.slots)
        target = f"{report.target_model} SN {report.target_sn}" if report.target_sn else "the implant"
        text = f"Trial programs transferred to {target}: {good} of {len(self.programs)} written and verified"
        self.model.record_action("clinician", TRIAL_TRANSFER, text, {
            "target_model": report.target_model, "target_sn": report.target_sn,
            "target_family": report.target_family, "lines": report.lines(), "failed": report.failed})

    # --- showing ----------------------------------------------------------------------
    def _show_clock(self) -> None:
        self.progress.setFormat(self.clock.words() + (" (over)" if self.clock.over else ""))
        total = self.clock.total_hours
        self.progress.setValue(int(1000 * self.clock.hours / total) if total else 0)
        if not self.clock.running and self.run_button.isChecked():
            self.run_button.setChecked(False)

    def _refresh(self, problem: str = "") -> None:
        self.table.setRowCount(len(self.diary))
        for row, entry in enumerate(self.diary):
            for c, text in enumerate(diary_cells(entry)):
                cell = QTableWidgetItem(text)
                cell.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(row, c, cell)
        if self.diary:
            self.table.scrollToBottom()
        days = [float(e.day) for e in self.diary]
        base = self.trial.baseline_vas if self.trial else (self.scenario.params.baseline_vas if self.scenario else 0)
        self.relief_curve.setData([0.0, *days], [0.0, *(100 * e.relief for e in self.diary)])
        self.vas_curve.setData([0.0, *days], [base, *(e.vas for e in self.diary)])
        self.plot.setXRange(0, self.clock.days, padding=0.03)
        self.report_label.setText(self._report_html(problem, base))
        self.transfer_button.setEnabled(self.result is not None and bool(self.programs))

    def _report_html(self, problem: str, base: float) -> str:
        if problem:
            return f"<span style='color:{BAD}'>The trial cannot run: {problem}</span>"
        lines = [f"Baseline VAS <b>{base:.1f}</b>"]
        if self.diary:
            current = T.report(base, self.diary)
            last = min(T.LAST_DAYS, len(self.diary))
            lines[0] += (f" · VAS by day {', '.join(f'{e.vas:.1f}' for e in self.diary)} · mean relief "
                         f"<b>{100 * current.mean_relief:.0f} %</b> (last {last} {'day' if last == 1 else 'days'}: "
                         f"<b>{100 * current.mean_relief_last3:.0f} %</b>)")
        if self.result is not None:
            color = GOOD if self.result.candidate else BAD
            lines.append(f"Verdict: <b style='color:{color}'>{self.result.verdict}</b> (mean relief over the last "
                         f"{T.LAST_DAYS} days {'at least' if self.result.candidate else 'below'} "
                         f"{100 * T.CANDIDATE_RELIEF:.0f} %)")
        else:
            lines.append(f"Verdict after the last evening: '{T.CANDIDATE}' when mean relief over the last "
                         f"{T.LAST_DAYS} days is at least {100 * T.CANDIDATE_RELIEF:.0f} %")
        return "<br>".join(lines)


def diary_cells(entry: T.DiaryEntry) -> tuple[str, ...]:
    """One diary row as the table shows it (the order of ``COLUMNS``)."""
    return (str(entry.day), f"{entry.vas:.1f}", f"{100 * entry.relief:.0f} %", f"{entry.hours:g} h",
            f"{entry.activity:.1f}", str(entry.medication_doses))


def diary_words(entry: T.DiaryEntry) -> str:
    return (f"Trial day {entry.day} diary: VAS {entry.vas:.1f}, relief {100 * entry.relief:.0f} %, "
            f"{entry.hours:g} h of stimulation, activity {entry.activity:.1f}, "
            f"{entry.medication_doses} dose(s) of medication")


def report_words(report: T.TrialReport) -> str:
    return (f"Trial report: {report.verdict}; baseline VAS {report.baseline_vas:.1f}, mean relief "
            f"{100 * report.mean_relief:.0f} %, last {T.LAST_DAYS} days {100 * report.mean_relief_last3:.0f} %")
