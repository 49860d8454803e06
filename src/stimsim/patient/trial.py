"""The trial: days of stimulation on an external trial stimulator (ETS) and the patient's pain diary.

Before an implant, temporary leads are driven for 3..10 days by a stimulator on the belt; each
evening the patient writes a diary entry and at the end the trial says whether the patient is
a candidate for an implant (mean relief over the last 3 days at least 50 %, src: practice
parameters, >= 50 % relief with stable or reduced analgesics).

Day d's entry is the patient's state that evening, sitting, with the relief of patient.md
after d*H hours of stimulation in total (wash-in and tolerance count stimulation time; relief
does not decay between a day's sessions in this model). The diary's other figures are made
from that relief (this project's model, docs/trial.md):

- activity 0..10 = ``10 - VAS``: at baseline the activity pain leaves room for, and it rises
  with relief by the same steps as pain falls;
- medication = ``round(BASELINE_DOSES * (1 - relief))`` doses of rescue analgesic that day
  (half a dose rounds up): fewer as relief grows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..engine.params import Family
from ..engine.program import DeviceModel, Program
from ..engine.validate import check_program
from .model import Patient, Response, delivered_ma, evaluate
from .relief import relief_after

DAYS_MIN = 3
DAYS_MAX = 10
DAYS_DEFAULT = 7
HOURS_MIN = 1.0
HOURS_MAX = 24.0
HOURS_DEFAULT = 24.0
CANDIDATE_RELIEF = 0.5  #: mean relief over the last days that makes an implant candidate (src: practice parameters)
LAST_DAYS = 3  #: the verdict looks at this many last days
BASELINE_DOSES = 4  #: rescue-analgesic doses a day without stimulation (this project's default)
POSTURE = "sitting"  #: the diary is written sitting, in the evening
CANDIDATE = "candidate for an implant"
NOT_CANDIDATE = "not a candidate for an implant"


@dataclass(frozen=True)
class DiaryEntry:
    """One evening's diary: relief a fraction 0..1, VAS 0..10, hours of stimulation that day,
    activity 0..10 and doses of rescue analgesic taken."""

    day: int
    relief: float
    vas: float
    hours: float
    activity: float
    medication_doses: int

    def as_json(self) -> dict[str, Any]:
        return {"day": self.day, "relief": self.relief, "vas": self.vas, "hours": self.hours,
                "activity": self.activity, "medication_doses": self.medication_doses}


@dataclass(frozen=True)
class TrialReport:
    """The trial's outcome: baseline VAS, the diary, mean relief (all days and the last 3) and the verdict."""

    baseline_vas: float
    days: tuple[DiaryEntry, ...]
    mean_relief: float
    mean_relief_last3: float
    candidate: bool

    @property
    def verdict(self) -> str:
        return CANDIDATE if self.candidate else NOT_CANDIDATE

    def as_json(self) -> dict[str, Any]:
        return {"days": [e.as_json() for e in self.days], "mean_relief": self.mean_relief,
                "mean_relief_last3": self.mean_relief_last3, "candidate": self.candidate,
                "verdict": self.verdict, "baseline_vas": self.baseline_vas,
                "baseline_medication_doses": BASELINE_DOSES}


def check_days(days: int) -> None:
    """ValueError unless ``days`` is a trial's length."""
    if not DAYS_MIN <= days <= DAYS_MAX:
        raise ValueError(f"a trial lasts {DAYS_MIN}..{DAYS_MAX} days, not {days}")


def check_hours(hours: float) -> None:
    """ValueError unless ``hours`` of stimulation a day lie in 1..24."""
    if not HOURS_MIN <= hours <= HOURS_MAX:
        raise ValueError(f"stimulation runs {HOURS_MIN:g}..{HOURS_MAX:g} hours a day, not {hours:g}")


def ets_device(device: DeviceModel) -> DeviceModel:
    """The trial stimulator driving the patient's leads: ``device``'s contact impedances on the ETS."""
    return DeviceModel(family=Family.ETS).with_impedances(dict(device.impedance_overrides))


def ets_problems(program: Program, device: DeviceModel) -> list[str]:
    """Why ``program`` cannot run on the ETS (every rule of the family: no case anode, ...); empty if it can."""
    return [f"{p.key}: {p.message}" for p in check_program(program, ets_device(device))]


class Trial:
    """One trial: a patient, the program the ETS runs, and H hours of stimulation a day.

    ``entry(d)`` is day d's diary entry, computed afresh (no state), so the app's clock and
    the command line give the same numbers.
    """

    def __init__(self, patient: Patient, program: Program, device: DeviceModel,
                 hours: float = HOURS_DEFAULT) -> None:
        check_hours(hours)
        if device.family is Family.DRG:
            raise ValueError("the trial stimulator drives SCS leads; this patient has DRG leads")
        problems = ets_problems(program, device)
        if problems:
            raise ValueError(f"the program in slot {program.slot} cannot run on the ETS: " + "; ".join(problems))
        self.patient = patient
        self.program = program
        self.device = ets_device(device)
        self.hours = float(hours)
        self.response: Response = evaluate(patient, program, delivered_ma(program, self.device), POSTURE)

    @property
    def baseline_vas(self) -> float:
        return self.patient.params.baseline_vas

    def entry(self, day: int) -> DiaryEntry:
        """Day ``day``'s evening (1 = the first): the state after ``day * hours`` hours of stimulation."""
        if day < 1:
            raise ValueError(f"trial days count from 1, not {day}")
        state = relief_after(self.patient.params, self.response, day * self.hours * 3600.0)
        relief = state.value
        vas = state.vas
        activity = min(10.0, max(0.0, 10.0 - vas))
        doses = int(BASELINE_DOSES * (1.0 - relief) + 0.5)
        return DiaryEntry(day, relief, vas, self.hours, activity, doses)

    def play(self, days: int = DAYS_DEFAULT) -> TrialReport:
        """Every evening of a ``days``-day trial and the report."""
        check_days(days)
        return report(self.baseline_vas, [self.entry(d) for d in range(1, days + 1)])


def report(baseline_vas: float, entries: list[DiaryEntry] | tuple[DiaryEntry, ...]) -> TrialReport:
    """The report of the diary so far (the verdict needs at least ``LAST_DAYS`` entries; before that, no)."""
    diary = tuple(entries)
    mean = sum(e.relief for e in diary) / len(diary) if diary else 0.0
    last = diary[-LAST_DAYS:]
    mean_last = sum(e.relief for e in last) / len(last) if last else 0.0
    candidate = len(diary) >= LAST_DAYS and mean_last >= CANDIDATE_RELIEF
    return TrialReport(baseline_vas, diary, mean, mean_last, candidate)
