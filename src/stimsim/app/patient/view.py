"""The Patient view: pick a rehearsal scenario, program the virtual patient, talk to them, score it.

Everything the patient feels comes from what the device reports it delivers (the session
listens to the app model), so the view works the same on every stimulator. Programs go
to the device through the Controller, never directly.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ...engine.files import FileError
from ...engine.params import Family
from ...host.limits import DEFAULT_PIN
from ...patient import POSTURES, Score, spine
from ...patient import regions as RG
from ...patient import scenario as S
from ...patient.drg_leads import DrgLeads
from ..controller import Controller
from ..model import AppModel
from .body_map import BodyMap
from .lead_view import LeadView
from .session import POSTURE_ASK, QUESTIONS, SPEEDS, Exchange, PatientSession, scenario_faults

SKIPS = ((3600.0, "+1 h&our", "Let one hour of session time pass at once"),
         (86400.0, "+1 d&ay", "Let one day of session time pass at once"))
TIME_TAB = 2  #: the Time tab's index (its plots are built when it first shows)
POSTURE_BUTTONS = {"sitting": "Sit", "standing": "Stand", "supine": "Lie down", "prone": "Lie on front"}


def _pct(x: float) -> str:
    return f"{100.0 * x:.0f} %"


def duration(seconds: float) -> str:
    """Session time in words: "45 s", "12 min", "3 h 05 min", "2 d 04 h"."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = seconds / 60.0
    if minutes < 60:
        return f"{minutes:.0f} min"
    hours = int(minutes // 60)
    if hours < 48:
        return f"{hours} h {int(minutes % 60):02d} min"
    return f"{hours // 24} d {hours % 24:02d} h"


@cache
def shipped_titles() -> tuple[tuple[str, Path, str], ...]:
    """The shipped scenarios that load: name, path and title (read once per process)."""
    out: list[tuple[str, Path, str]] = []
    for path in S.shipped():
        try:
            out.append((S.name_of(path), path, S.load(path).title))
        except FileError:
            continue
    return tuple(out)


def _button(text: str, name: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setAccessibleName(name)
    button.setToolTip(tip)
    return button


class PatientView(QWidget):
    """Scenario, body map, lead placement, dialogue, session clock and score."""

    def __init__(self, model: AppModel, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.controller = controller
        self.pin = DEFAULT_PIN  #: the clinician PIN the scenario's programs are written with
        #: The built-in generator of a family to switch to, or None when the app is on a
        #: stimulator of its own (a board, an emulator): given by whoever starts the app.
        self.implant_for: Callable[[Family], str | None] = lambda _family: None
        self.session = PatientSession(model, self)
        self.setAccessibleName("Patient view")
        self.scenarios = {name: path for name, path, _ in shipped_titles()}

        top = QHBoxLayout()
        pick_label = QLabel("Sce&nario:")
        self.scenario_box = QComboBox()
        self.scenario_box.setAccessibleName("Scenario")
        self.scenario_box.setToolTip("A rehearsal scenario that comes with stimsim: its patient, leads and goals")
        pick_label.setBuddy(self.scenario_box)
        for name, _, title in shipped_titles():
            self.scenario_box.addItem(title, name)
        self.start_button = _button("S&tart", "Start scenario",
                                    "Load this patient and write the scenario's programs to the stimulator "
                                    "(as a clinician)")
        self.finish_button = _button("F&inish", "Finish and score",
                                     "Score the session with the active program as the stimulator reports it")
        self.finish_button.setEnabled(False)
        self.state_label = QLabel("Pick a scenario and press Start.")
        self.state_label.setAccessibleName("Session state")
        self.state_label.setWordWrap(True)
        top.addWidget(pick_label)
        top.addWidget(self.scenario_box, 1)
        top.addWidget(self.start_button)
        top.addWidget(self.finish_button)

        self.body = BodyMap(self.session)
        self.coverage_label = QLabel()
        self.coverage_label.setAccessibleName("Coverage")
        self.coverage_label.setWordWrap(True)
        self.marks_label = QLabel()
        self.marks_label.setAccessibleName("Paresthesia mapping")
        self.marks_label.setWordWrap(True)
        self.clear_marks = _button("&Clear marks", "Clear marks", "Forget the regions you marked on the body map")
        legend = QLabel("<span style='color:#d62728'>■</span> pain "
                        "<span style='color:#1f77b4'>▨</span> felt ┅ marked")
        legend.setToolTip("Red: pain (darker is stronger); blue hatching: paresthesia now; dashed outline: "
                          "your marks")
        legend.setAccessibleName("Body map legend")
        left = QWidget()
        left_col = QVBoxLayout(left)
        left_col.setContentsMargins(0, 0, 0, 0)
        left_col.addWidget(self.body, 1)
        left_col.addWidget(legend)
        left_col.addWidget(self.coverage_label)
        left_col.addWidget(self.marks_label)
        left_col.addWidget(self.clear_marks, 0, Qt.AlignmentFlag.AlignLeft)

        self.leads = LeadView(model, self.session)
        self.trainer_box = QCheckBox("Trainer mar&ks")
        self.trainer_box.setChecked(True)
        self.trainer_box.setAccessibleName("Show trainer marks")
        self.trainer_box.setToolTip("Mark the cathode centre, the best level and the patient's thresholds "
                                    "(hide them to rehearse without hints)")
        self.trainer_label = QLabel()
        self.trainer_label.setAccessibleName("Trainer figures")
        self.trainer_label.setWordWrap(True)
        middle = QWidget()
        mid_col = QVBoxLayout(middle)
        mid_col.setContentsMargins(0, 0, 0, 0)
        mid_col.addWidget(self.leads, 1)
        mid_col.addWidget(self.trainer_box)
        mid_col.addWidget(self.trainer_label)

        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Patient session")
        self.brief = QTextBrowser()
        self.brief.setAccessibleName("Scenario brief")
        self.brief.setToolTip("The scenario's brief and goals")
        self.tabs.addTab(self.brief, "Brief")
        self.tabs.addTab(self._dialogue_tab(), "Dialogue")
        self.tabs.addTab(self._time_tab(), "Time")
        self.score_text = QTextBrowser()
        self.score_text.setAccessibleName("Score")
        self.score_text.setToolTip("Each part of the score with its points and the reason")
        self.tabs.addTab(self.score_text, "Score")
        for i, tip in enumerate(("The scenario's brief, pain map, leads and goals",
                                 "Talk to the patient: what they feel after each change, questions, posture",
                                 "The session clock and relief and VAS over session time",
                                 "The score of the finished session, part by part")):
            self.tabs.setTabToolTip(i, tip)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.setAccessibleName("Patient panes")
        split.addWidget(left)
        split.addWidget(middle)
        split.addWidget(self.tabs)
        left.setMinimumWidth(150)
        middle.setMinimumWidth(135)
        self.tabs.setMinimumWidth(215)
        for label in (self.coverage_label, self.marks_label, self.trainer_label, self.state_label):
            label.setMinimumWidth(60)
        self.scenario_box.setMinimumContentsLength(12)
        self.scenario_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setStretchFactor(2, 3)
        self.splitter = split

        col = QVBoxLayout(self)
        col.setContentsMargins(6, 6, 6, 6)
        col.addLayout(top)
        col.addWidget(self.state_label)
        # On a small screen (1024x768 with the device panel open) the panes scroll rather than
        # force the window taller than the screen.
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setAccessibleName("Patient panes area")
        scroll.setWidget(split)
        scroll.setMinimumHeight(120)
        col.addWidget(scroll, 1)

        self.start_button.clicked.connect(self.start)
        self.finish_button.clicked.connect(self.finish)
        self.clear_marks.clicked.connect(self.session.clear_marks)
        self.trainer_box.toggled.connect(self._trainer_marks)
        self.scenario_box.currentIndexChanged.connect(self._show_brief)
        self.tabs.currentChanged.connect(lambda i: self._ensure_plots() if i == TIME_TAB else None)
        self.session.changed.connect(self._refresh)
        self.session.spoke.connect(self._add_line)
        self.session.ticked.connect(self._plot)
        self.session.scored.connect(self._show_score)
        self._show_brief()
        self._refresh()

    # --- building -----------------------------------------------------------------
    def _dialogue_tab(self) -> QWidget:
        tab = QWidget()
        col = QVBoxLayout(tab)
        self.conversation = QListWidget()
        self.conversation.setAccessibleName("Conversation")
        self.conversation.setToolTip("What you asked and what the patient answered, newest at the bottom")
        self.conversation.setWordWrap(True)
        col.addWidget(self.conversation, 1)
        grid = QGridLayout()
        self.ask_buttons: dict[str, QPushButton] = {}
        labels = {"where": "&Where?", "strength": "How str&ong?", "pain": "Rate &pain"}
        for i, (key, question) in enumerate(QUESTIONS.items()):
            button = _button(labels[key], question, f'Ask the patient: "{question}"')
            button.clicked.connect(lambda _=False, k=key: self.ask(k))
            grid.addWidget(button, i // 2, i % 2)
            self.ask_buttons[key] = button
        for i, posture in enumerate(POSTURES):
            button = _button(POSTURE_BUTTONS[posture], POSTURE_ASK[posture],
                             f'"{POSTURE_ASK[posture]}": posture changes the thresholds at once')
            button.clicked.connect(lambda _=False, k=posture: self.ask(k))
            grid.addWidget(button, 2 + i // 2, i % 2)
            self.ask_buttons[posture] = button
        col.addLayout(grid)
        self.posture_label = QLabel()
        self.posture_label.setAccessibleName("Posture")
        col.addWidget(self.posture_label)
        return tab

    def _time_tab(self) -> QWidget:
        tab = QWidget()
        col = QVBoxLayout(tab)
        row = QHBoxLayout()
        self.run_button = _button("&Run clock", "Run the session clock",
                                  "Run or pause the session clock; relief washes in and out with it")
        self.run_button.setCheckable(True)
        self.speed_box = QComboBox()
        self.speed_box.setAccessibleName("Clock speed")
        self.speed_box.setToolTip("How fast session time runs: real time up to a day per minute")
        for factor, words in SPEEDS:
            self.speed_box.addItem(words, factor)
        self.speed_box.setCurrentIndex(2)
        row.addWidget(self.run_button)
        row.addWidget(self.speed_box, 1)
        col.addLayout(row)
        skips = QHBoxLayout()
        self.skip_buttons: list[QPushButton] = []
        for seconds, text, tip in SKIPS:
            button = _button(text, tip.split(" at once")[0], tip)
            button.clicked.connect(lambda _=False, s=seconds: self.session.advance(s))
            skips.addWidget(button)
            self.skip_buttons.append(button)
        col.addLayout(skips)
        self.clock_label = QLabel()
        self.clock_label.setAccessibleName("Session clock")
        self.clock_label.setWordWrap(True)
        col.addWidget(self.clock_label)
        self.relief_plot: pg.PlotWidget | None = None  # built when the Time tab is first shown
        self.vas_plot: pg.PlotWidget | None = None
        self.relief_curve: pg.PlotDataItem | None = None
        self.vas_curve: pg.PlotDataItem | None = None
        self._plots = QVBoxLayout()
        col.addLayout(self._plots, 1)
        self.run_button.toggled.connect(self._run_clock)
        self.speed_box.currentIndexChanged.connect(
            lambda _i: self.session.set_speed(float(self.speed_box.currentData())))
        return tab


    def _ensure_plots(self) -> None:
        """Build the relief and VAS plots the first time the Time tab shows (keeps the app's start quick)."""
        if self.relief_plot is not None:
            return
        relief_plot = self.relief_plot = pg.PlotWidget(background="w")
        relief_plot.setAccessibleName("Relief over session time")
        relief_plot.setToolTip("Pain relief (%) over session time (hours)")
        relief_plot.setLabel("left", "relief", units="%")
        relief_plot.setYRange(0, 100)
        relief_plot.setMouseEnabled(x=False, y=False)
        vas_plot = self.vas_plot = pg.PlotWidget(background="w")
        vas_plot.setAccessibleName("VAS over session time")
        vas_plot.setToolTip("Pain (VAS 0-10) over session time (hours)")
        vas_plot.setLabel("left", "VAS")
        vas_plot.setLabel("bottom", "session time", units="h")
        vas_plot.setYRange(0, 10)
        vas_plot.setMouseEnabled(x=False, y=False)
        vas_plot.setXLink(relief_plot)
        for plot in (relief_plot, vas_plot):
            for axis in ("left", "bottom"):
                plot.getAxis(axis).enableAutoSIPrefix(False)
        self.relief_curve = relief_plot.plot(pen=pg.mkPen("#1f77b4", width=2))
        self.vas_curve = vas_plot.plot(pen=pg.mkPen("#d62728", width=2))
        self._plots.addWidget(self.relief_plot, 1)
        self._plots.addWidget(self.vas_plot, 1)
        self._plot()

    # --- actions ------------------------------------------------------------------
    def selected(self) -> str:
        return str(self.scenario_box.currentData() or "")

    def select(self, name: str) -> None:
        """Choose a shipped scenario by name (KeyError names them)."""
        index = self.scenario_box.findData(name)
        if index < 0:
            raise KeyError(f"no shipped scenario {name!r} (shipped: {', '.join(self.scenarios)})")
        self.scenario_box.setCurrentIndex(index)

    def start(self, *, at_start: bool = False) -> None:
        """Start the chosen scenario (``at_start``: as a start-up job, before the link is up)."""
        name = self.selected()
        try:
            scenario = S.load(self.scenarios[name])
        except (KeyError, FileError) as exc:
            self.state_label.setText(f"Cannot start the scenario: {exc}")
            return
        have = self.model.device_model.family
        if not at_start and scenario.family != have:
            url = self.implant_for(scenario.family)
            if url is None:
                self.state_label.setText(
                    f"{scenario.title} is played on a {scenario.family} implant; the stimulator connected is "
                    f"{have}. Connect one of that family (stimsim emulate --family {scenario.family}) "
                    "or the built-in generator.")
                return
            self.controller.connect_device(url)  # the built-in generator of the scenario's family
        self.conversation.clear()
        self.score_text.clear()
        first = scenario.programs[0].slot if scenario.programs else None
        faults = scenario_faults(scenario.device)
        permille = round(scenario.battery_pct * 10)
        self.session.start(scenario, lambda progs, pin: self.controller.write_programs(
            progs, pin, first, stim_off=True, faults=faults, battery_permille=permille, at_start=at_start), self.pin)
        self._plot()
        self.tabs.setCurrentIndex(1)

    def finish(self) -> None:
        try:
            self.session.finish()
        except ValueError as exc:
            self.state_label.setText(f"Cannot score yet: {exc}")
            return
        self.run_button.setChecked(False)
        self.tabs.setCurrentIndex(3)

    def ask(self, question: str) -> None:
        if not self.session.active:
            self.state_label.setText("Start a scenario first.")
            return
        self.session.ask(question)

    def _run_clock(self, on: bool) -> None:
        self.session.run_clock(on)
        self.run_button.setText("&Pause clock" if on else "&Run clock")

    def _trainer_marks(self, shown: bool) -> None:
        self.leads.set_trainer_marks(shown)
        self._refresh()

    # --- showing ------------------------------------------------------------------
    def _show_brief(self) -> None:
        name = self.selected()
        if not name:
            self.brief.setPlainText("No scenarios are installed.")
            return
        try:
            sc = S.load(self.scenarios[name])
        except FileError as exc:
            self.brief.setPlainText(str(exc))
            return
        g = sc.goals
        goals = ["Paresthesia-free relief (a sub-perception program)" if g.paresthesia_free
                 else f"Paresthesia over at least {_pct(g.coverage)} of the pain map",
                 f"A responder: at least {_pct(sc.params.responder_relief)} relief; remission at VAS "
                 f"{sc.params.remission_vas:g} or below",
                 f"Within {g.minutes:g} minutes"]
        pain = ", ".join(f"{RG.BY_ID[rid].title} {v:g}" for rid, v in sc.patient.pain)
        placed = sc.patient.leads
        leads = ("; ".join(f"lead {lead.name} at the {lead.side} {lead.root} root" for lead in placed.leads)
                 if isinstance(placed, DrgLeads) else
                 "; ".join(f"lead {lead.name} from {spine.label(lead.top)}, {lead.offset_mm:+g} mm"
                           for lead in placed.leads))
        self.brief.setHtml(
            f"<h3>{html.escape(sc.title)}</h3><p>{html.escape(sc.brief).replace(chr(10), '<br>')}</p>"
            f"<p><b>Goals</b></p><ul>{''.join(f'<li>{html.escape(x)}</li>' for x in goals)}</ul>"
            f"<p><b>Pain</b> (0-10): {html.escape(pain)}<br><b>Leads</b>: {html.escape(leads)}<br>"
            f"<b>Posture</b>: {html.escape(sc.params.posture)}; baseline VAS {sc.params.baseline_vas:g}</p>")

    def _add_line(self, ex: Exchange) -> None:
        who = "You" if ex.who == "clinician" else "Patient"
        last = self.conversation.item(self.conversation.count() - 1) if self.conversation.count() else None
        if last is not None and last.data(Qt.ItemDataRole.UserRole) == (ex.who, ex.text):
            # The same words again (one amplitude step after another): count them on one line.
            n = int(last.data(Qt.ItemDataRole.UserRole + 1)) + 1
            last.setData(Qt.ItemDataRole.UserRole + 1, n)
            last.setText(f"{who}: {ex.text} (×{n})")
            self.conversation.scrollToBottom()
            return
        item = QListWidgetItem(f"{who}: {ex.text}")
        item.setData(Qt.ItemDataRole.UserRole, (ex.who, ex.text))
        item.setData(Qt.ItemDataRole.UserRole + 1, 1)
        item.setToolTip(f"{ex.at_minutes:.1f} min into the session, {duration(ex.sim_minutes * 60)} session time")
        if ex.who == "clinician":
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight)
            item.setForeground(Qt.GlobalColor.darkBlue)
        self.conversation.addItem(item)
        self.conversation.scrollToBottom()

    def _refresh(self) -> None:
        s = self.session
        started = s.scenario is not None
        self.finish_button.setEnabled(s.active)
        for button in (*self.ask_buttons.values(), *self.skip_buttons, self.run_button):
            button.setEnabled(s.active)
        if not started:
            self.coverage_label.setText("Coverage: start a scenario.")
            self.marks_label.setText("")
            self.trainer_label.setText("")
            self.posture_label.setText("")
            return
        assert s.scenario is not None
        r = s.response
        if s.result is not None:
            self.state_label.setText(f"{s.scenario.title}: finished, {s.result.total:.0f} points, {s.result.grade}.")
        elif s.program is None:
            self.state_label.setText(f"{s.scenario.title}: stimulation is off (turn it on with the remote).")
        else:
            self.state_label.setText(f"{s.scenario.title}: delivering slot {s.program.slot}, "
                                     f"{s.program.amplitude_ua / 1000:.2f} mA, {s.program.mode.value}.")
        goal = _pct(s.scenario.goals.coverage)
        if r is None:
            self.coverage_label.setText(f"Coverage 0 % (goal {goal})")
            detail = s.problem or "nothing felt"
        else:
            self.coverage_label.setText(f"Coverage {_pct(r.coverage)} (goal {goal})")
            detail = f"paresthesia: {RG.describe(r.regions) or 'nowhere'}"
        self.coverage_label.setToolTip(f"Share of the pain map the paresthesia covers; {detail}")
        self.coverage_label.setAccessibleDescription(detail)
        self.marks_label.setText(self.mapping_short())
        self.marks_label.setToolTip(self.mapping_words())
        self.marks_label.setAccessibleDescription(self.mapping_words())
        self.posture_label.setText(f"Posture: {s.posture}")
        if self.trainer_box.isChecked() and r is not None:
            where = (f"Most cathodic lead at {spine.label(r.cathode_level)} ◆"
                     if isinstance(s.scenario.patient.leads, DrgLeads) else
                     f"Cathode {spine.label(r.cathode_level)} ◆, best "
                     f"{spine.label(s.scenario.params.best_level)} (green)")
            self.trainer_label.setText(f"{where}\n"
                                       f"PT {r.pt_ma:.2f} · DT {r.dt_ma:.2f} · now {r.amplitude_ma:.2f} mA")
            self.trainer_label.setToolTip(f"{r.configuration} cathode; perception (PT) and discomfort (DT) "
                                          f"thresholds {s.posture}, and the delivered amplitude")
        else:
            self.trainer_label.setText("")
        self._clock_words()

    def mapping_short(self) -> str:
        """The mapping in a few words: marks, regions felt, agreeing."""
        s = self.session
        model = set(s.response.regions) if s.response is not None else set()
        return f"Marks {len(s.marks)} · felt {len(model)} · agree {len(s.marks & model)}"

    def mapping_words(self) -> str:
        """The clinician's marks against the regions the model says the patient feels."""
        s = self.session
        if not s.marks:
            return "Mark on the body map where the patient says they feel it."
        model = set(s.response.regions) if s.response is not None else set()
        agree = s.marks & model
        missed = model - s.marks
        extra = s.marks - model
        words = [f"Your marks: {len(s.marks)}, the patient's: {len(model)}, agreeing: {len(agree)}"]
        if missed:
            words.append(f"not marked: {RG.describe(sorted(missed))}")
        if extra:
            words.append(f"marked but not felt: {RG.describe(sorted(extra))}")
        return "; ".join(words) + "."

    def _clock_words(self) -> None:
        s = self.session
        if s.relief is None:
            self.clock_label.setText("")
            return
        self.clock_label.setText(f"Session time {duration(s.sim_s)}; this program has run {duration(s.ran_s)}; "
                                 f"relief {_pct(s.relief.value)}, VAS {s.relief.vas:.1f}")

    def _plot(self) -> None:
        hours, relief, vas = self.session.history
        if self.relief_curve is not None and self.vas_curve is not None:
            self.relief_curve.setData(hours, relief)
            self.vas_curve.setData(hours, vas)
        self._clock_words()

    def _show_score(self, result: Score) -> None:
        rows = "".join(f"<tr><td><b>{html.escape(p.name)}</b></td><td align='right'>{p.points:.0f} / "
                       f"{p.max_points:.0f}</td><td>{html.escape(p.reason)}</td></tr>" for p in result.parts)
        verdict = ("a responder in remission" if result.remission and result.responder else
                   "a responder" if result.responder else "not a responder")
        self.score_text.setHtml(
            f"<h3>{result.total:.0f} / 100: {result.grade}</h3>"
            f"<p>Relief {_pct(result.relief)}, VAS {result.vas:.1f}: {verdict}.</p>"
            f"<table cellspacing='6'>{rows}</table><p>{html.escape(self.mapping_words())}</p>")
