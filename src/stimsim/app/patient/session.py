"""A rehearsal session with the virtual patient, fed by what the device reports it delivers.

The session listens to the app model (status, slots as read back, the device model) and
asks the patient model what the delivered program feels like; it never looks at what the
app merely asked for, so the same patient answers for the built-in generator, the
emulator, the C stub or a board. It keeps the conversation, steps relief through session
time, fills the ``SessionRecord`` and scores the session at the end. No widgets here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal

from ...engine import params as P
from ...engine.program import DeviceModel, Program
from ...host.limits import DEFAULT_PIN
from ...patient import POSTURES, EventKind, Relief, Response, Score, SessionRecord, delivered_ma, evaluate, score
from ...patient import regions as RG
from ...patient.model import UNCOMFORTABLE, intensity_word
from ...patient.scenario import Scenario
from ..model import AppModel

#: The ``what`` of the clinician view's charge-density confirmation (AppModel.record_action).
CONFIRM_CHARGE = "confirm_charge"
#: Session-clock speeds: factor and words, 1x up to a day per minute.
SPEEDS: tuple[tuple[float, str], ...] = (
    (1.0, "Real time"),
    (10.0, "10x"),
    (60.0, "An hour per minute"),
    (360.0, "6 hours per minute"),
    (1440.0, "A day per minute"),
)
TICK_MS = 100  #: the session clock's step in real time
PLOT_STEP_S = 60.0  #: a skip longer than this is plotted in pieces ...
PLOT_POINTS = 120  #: ... of at most this many points
#: The postures in the clinician's words (what they ask) and the patient's (what they say).
POSTURE_ASK = {"sitting": "Please sit up", "standing": "Please stand up", "supine": "Please lie down on your back",
               "prone": "Please lie on your front"}
POSTURE_SAY = {"sitting": "sitting", "standing": "standing", "supine": "lying on my back",
               "prone": "lying on my front"}
#: Under a closed loop the patient answers a posture change once the loop has answered it:
#: SIM POSTURE has gone out and a STATUS poll (``worker.POLL_S``) has brought the loop's amplitude.
LOOP_SETTLE_MS = 600
QUESTIONS = {"where": "Where do you feel it?", "strength": "How strong is it?", "pain": "Rate your pain, 0 to 10."}


@dataclass(frozen=True)
class Exchange:
    """One line of the conversation: who said it, the words, and when (session minutes)."""

    who: str  #: "clinician" or "patient"
    text: str
    at_minutes: float
    sim_minutes: float


def scenario_faults(device: DeviceModel) -> dict[str, str]:
    """The contacts of a scenario's implant that a stimulator reports as faults: OPEN above
    and SHORT below the table's impedance thresholds (an impedance check then finds them)."""
    out: dict[str, str] = {}
    for contact, ohm in device.impedance_overrides:
        if ohm > P.IMPEDANCE_OPEN_OHM:
            out[contact] = "OPEN"
        elif ohm < P.IMPEDANCE_SHORT_OHM:
            out[contact] = "SHORT"
    return out


class PatientSession(QObject):
    """The virtual patient of one rehearsal: response, dialogue, relief over time, record, score."""

    changed = Signal()  #: the response, posture or scenario changed
    spoke = Signal(object)  #: Exchange
    ticked = Signal()  #: the session clock moved
    scored = Signal(object)  #: Score

    def __init__(self, model: AppModel, parent: QObject | None = None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self.model = model
        self._clock = clock
        self.scenario: Scenario | None = None
        self.posture = "sitting"
        self.response: Response | None = None
        self.program: Program | None = None  #: the delivered program (None: stimulation off)
        self.problem = ""  #: why the patient cannot answer for the program (a contact on a missing lead)
        self.relief: Relief | None = None
        self.sim_s = 0.0  #: session time simulated so far
        self.ran_s = 0.0  #: simulated seconds the current program has run (wash-in for the score)
        self.history: tuple[list[float], list[float], list[float]] = ([], [], [])  #: hours, relief %, VAS
        self.dialogue: list[Exchange] = []
        self.record = SessionRecord()
        self.marks: set[str] = set()  #: regions the clinician marked as where the patient feels it
        self.result: Score | None = None
        self.changed_at = 0.0  #: perf_counter when the response last changed (the map's lag is measured from it)
        self._started = 0.0
        self._key: tuple[object, ...] | None = None
        self.speed = SPEEDS[2][0]
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self._last_tick = 0.0
        self._asking = False  #: the posture change came from ``ask`` (the clinician's line is said there)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(LOOP_SETTLE_MS)
        self._settle.timeout.connect(self._take_posture)
        model.postureChanged.connect(self._posture_moved)
        model.statusChanged.connect(self.refresh)
        model.slotsChanged.connect(self.refresh)
        model.linkChanged.connect(self.refresh)
        model.actionRecorded.connect(self._action)

    # --- the scenario ---------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self.scenario is not None and self.result is None

    def start(self, scenario: Scenario, write: Callable[[tuple[Program, ...], str], None],
              pin: str = DEFAULT_PIN) -> None:
        """Load ``scenario``'s patient, reset the session, and put its programs on the stimulator via ``write``."""
        self.scenario = scenario
        self._key = None
        self._settle.stop()
        self.posture = scenario.params.posture
        self.model.set_posture(self.posture)  # one posture for the app: the ECAP view's buttons too
        self.relief = Relief(scenario.params)
        self.sim_s = self.ran_s = 0.0
        self.history = ([0.0], [0.0], [scenario.params.baseline_vas])
        self.dialogue = []
        self.record = SessionRecord()
        self.marks = set()
        self.result = None
        self._started = self._clock()
        self._key = None
        self.model.record_action("clinician", "scenario_start", f"Scenario started: {scenario.title}",
                                 {"scenario": scenario.name, "title": scenario.title,
                                  "programs": len(scenario.programs), "posture": self.posture})
        self._say("patient", f"Hello. My pain is {scenario.params.baseline_vas:.0f} out of 10.")  # greeting first
        if scenario.programs:
            write(scenario.programs, pin)
        self.refresh()
        self.changed.emit()

    def minutes(self) -> float:
        """Real minutes since the scenario started."""
        return (self._clock() - self._started) / 60.0 if self.scenario is not None else 0.0

    # --- what the device delivers -------------------------------------------------------
    def delivered(self) -> tuple[Program | None, DeviceModel]:
        """The program the device reports it delivers now (None when off) and its device model."""
        return self.model.output_program(), self.model.device_model

    def refresh(self) -> None:
        """Re-evaluate the patient if what the device delivers (or the posture) changed."""
        if not self.active:
            return
        program, device = self.delivered()
        key = (program, device, self.posture)
        if key == self._key:
            return
        before_program = self._key[0] if self._key is not None else None
        before_response = self.response
        posture_only = self._key is not None and self._key[:2] == key[:2]
        loop_only = (not posture_only and self._key is not None and self._key[1:] == key[1:]
                     and _loop_moved(self.program, program))
        self._key = key
        self.program = program
        self.problem = ""
        response: Response | None = None
        if program is not None:
            assert self.scenario is not None
            try:
                response = evaluate(self.scenario.patient, program, delivered_ma(program, device), self.posture)
            except ValueError as exc:
                self.problem = str(exc)
        self.response = response
        self.changed_at = time.perf_counter()
        if loop_only:  # the loop's amplitude of the moment: the patient speaks when the feeling changes
            self._judge(response)
            if response is None or before_response is None or response.says != before_response.says:
                self._say("patient", self._reply_to_loop(before_response, response))
        elif not posture_only:
            if program != before_program:
                self.ran_s = 0.0
                if program is not None:
                    self.record.add(EventKind.CHANGE, self.minutes(), _program_words(program))
            self._judge(response)
            self._say("patient", self._reply_to_change(program, response))
        else:
            self._judge(response)
            self._say("patient", self._reply_to_posture(before_response, response))
        self.changed.emit()

    def _judge(self, response: Response | None) -> None:
        if response is None:
            return
        if response.sensation == UNCOMFORTABLE:
            self.record.add(EventKind.DISCOMFORT, self.minutes(), response.says)
        if response.paresthesia_in_subperception:
            self.record.add(EventKind.SUBPERCEPTION_PARESTHESIA, self.minutes(), response.says)

    def _reply_to_change(self, program: Program | None, response: Response | None) -> str:
        if program is None:
            return "The stimulation is off. I don't feel anything."
        if response is None:
            return f"I don't feel anything. ({self.problem})"
        return response.says

    def _reply_to_loop(self, before: Response | None, after: Response | None) -> str:
        if after is None:
            return "I don't feel anything."
        if before is not None and before.sensation == UNCOMFORTABLE and after.sensation != UNCOMFORTABLE:
            return f"That's better. {after.says}"
        return after.says

    def _posture_moved(self) -> None:
        """The app's posture moved (the Patient or the ECAP view): under a closed loop the patient
        answers once the loop has; otherwise at once."""
        if not self.active or self._key is None or self.model.posture == self.posture:
            return
        if not self._asking:
            self._say("clinician", POSTURE_ASK[self.model.posture] + ".")
        program = self.model.output_program()
        if program is not None and program.closed_loop is not None and program.closed_loop.closed:
            self._settle.start()
        else:
            self._take_posture()

    def _take_posture(self) -> None:
        self._settle.stop()
        if self.active and self.model.posture != self.posture:
            self.posture = self.model.posture
            self.refresh()

    def _reply_to_posture(self, before: Response | None, after: Response | None) -> str:
        now = f"Now I'm {POSTURE_SAY[self.posture]}."
        if after is None or before is None:
            return f"{now} I don't feel anything."
        if after.felt and not before.felt:
            change = "Now I feel it."
        elif before.felt and not after.felt:
            change = "It's gone, I don't feel it any more."
        elif after.sensation == UNCOMFORTABLE and before.sensation != UNCOMFORTABLE:
            change = "Ouch, it's much stronger."
        elif after.pt_ma < before.pt_ma:
            change = "It's stronger."
        elif after.pt_ma > before.pt_ma:
            change = "It's weaker."
        else:
            change = "It feels the same."
        return f"{now} {change} {after.says}"

    # --- the clinician asks ------------------------------------------------------------
    def ask(self, question: str) -> str:
        """Ask ``question`` (a key of QUESTIONS, or a posture); the patient's answer."""
        if not self.active:
            raise ValueError("start a scenario first")
        if question in POSTURES:
            self._say("clinician", POSTURE_ASK[question] + ".")
            if question == self.model.posture:
                self._say("patient", f"I'm already {POSTURE_SAY[question]}.")
            else:
                self._asking = True
                try:
                    self.model.set_posture(question)
                finally:
                    self._asking = False
            return self.dialogue[-1].text
        if question not in QUESTIONS:
            raise ValueError(f"{question!r} is not a question (ask one of {', '.join([*QUESTIONS, *POSTURES])})")
        self._say("clinician", QUESTIONS[question])
        self._say("patient", self._answer(question))
        return self.dialogue[-1].text

    def _answer(self, question: str) -> str:
        r = self.response
        if question == "pain":
            vas = self.relief.vas if self.relief is not None else 0.0
            return f"About {vas:.0f} out of 10."
        if r is None or not r.felt:
            return "I don't feel anything."
        if question == "where":
            where = RG.describe(r.regions)
            return f"In {where}." if where else "I can't tell where."
        if r.sensation == UNCOMFORTABLE:
            return "Too strong, it hurts."
        intensity = r.intensity or 0.0
        return f"It's {intensity_word(intensity)}, about {round(intensity * 10)} out of 10."

    def _say(self, who: str, text: str) -> None:
        ex = Exchange(who, text, self.minutes(), self.sim_s / 60.0)
        self.dialogue.append(ex)
        self.model.record_action(who, "say", text, {"scenario": self.scenario.name if self.scenario else "",
                                                    "sim_minutes": round(ex.sim_minutes, 2)})
        self.spoke.emit(ex)

    # --- marks ---------------------------------------------------------------------
    def toggle_mark(self, rid: str) -> None:
        if rid not in RG.BY_ID:
            raise ValueError(f"{rid!r} is not a region id")
        self.marks ^= {rid}
        self.changed.emit()

    def clear_marks(self) -> None:
        self.marks = set()
        self.changed.emit()

    # --- time ----------------------------------------------------------------------
    def set_speed(self, factor: float) -> None:
        self.speed = factor

    def run_clock(self, on: bool) -> None:
        if on and self.active:
            self._last_tick = self._clock()
            self.timer.start()
        else:
            self.timer.stop()

    def _tick(self) -> None:
        now = self._clock()
        dt, self._last_tick = now - self._last_tick, now
        self.advance(max(0.0, dt) * self.speed)

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of session time pass with what is delivered now."""
        if not self.active or self.relief is None:
            return
        on = self.response if self.program is not None else None
        hours, relief, vas = self.history
        # A long skip is stepped in pieces so the plot shows the wash-in's curve (the result is the same).
        pieces = 1 if seconds <= PLOT_STEP_S else min(PLOT_POINTS, math.ceil(seconds / PLOT_STEP_S))
        for _ in range(pieces):
            self.relief.advance(seconds / pieces, on)
            self.sim_s += seconds / pieces
            hours.append(self.sim_s / 3600.0)
            relief.append(100.0 * self.relief.value)
            vas.append(self.relief.vas)
        if self.program is not None:
            self.ran_s += seconds
        self.ticked.emit()

    # --- the end -------------------------------------------------------------------
    def _action(self, action: object) -> None:
        what = getattr(action, "what", "")
        if what == CONFIRM_CHARGE and self.active:
            self.record.add(EventKind.CHARGE_WARNING_CONFIRMED, self.minutes(), str(getattr(action, "text", "")))

    def finish(self) -> Score:
        """Score the session with the active program as the device reports it; ValueError if there is none."""
        if not self.active or self.scenario is None:
            raise ValueError("start a scenario first")
        final = self.model.active_program()
        if final is None:
            raise ValueError("the stimulator reports no active program to score")
        self.timer.stop()
        self.record.minutes_taken = self.minutes()
        self.record.simulated_minutes = self.ran_s / 60.0
        self.record.posture = self.posture
        result = score(self.scenario, final, self.record)
        self.result = result
        self.model.record_action("app", "score", f"Score {result.total:.0f}/100, {result.grade}", {
            "scenario": self.scenario.name, "total": round(result.total, 1), "grade": result.grade,
            "relief": round(result.relief, 3), "vas": round(result.vas, 2), "responder": result.responder,
            "remission": result.remission, "program": _program_words(final),
            "minutes_taken": round(self.record.minutes_taken, 1),
            "simulated_minutes": round(self.record.simulated_minutes, 1),
            "parts": [{"name": p.name, "points": round(p.points, 1), "max": p.max_points, "reason": p.reason}
                      for p in result.parts],
            "marks": sorted(self.marks),
            "events": [{"kind": e.kind.value, "at_minutes": round(e.at_minutes, 2), "detail": e.detail}
                       for e in self.record.events],
        })
        self.model.record_action("app", "dialogue", f"The conversation with the patient ({len(self.dialogue)} lines)",
                                 {"scenario": self.scenario.name,
                                  "lines": [{"who": e.who, "text": e.text, "at_minutes": round(e.at_minutes, 2),
                                             "sim_minutes": round(e.sim_minutes, 2)} for e in self.dialogue]})
        self.scored.emit(result)
        self.changed.emit()
        return result


def _loop_moved(before: Program | None, after: Program | None) -> bool:
    """The same closed-loop program at another amplitude: the loop moved it, not the clinician."""
    if before is None or after is None or after.closed_loop is None or not after.closed_loop.closed:
        return False
    return before.with_amplitude(after.amplitude_ua) == after


def _program_words(program: Program) -> str:
    return (f"slot {program.slot} {program.mode.value} {program.amplitude_ua / 1000:.2f} mA "
            f"{program.pulse_width_us} us {program.rate_hz} Hz {program.electrodes.to_wire()}")
