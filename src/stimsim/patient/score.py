"""Scoring a programming session: coverage, relief, safety, battery cost and time, each with its reason.

The app fills a ``SessionRecord`` as the session goes (each change, each charge-density
warning the clinician confirmed, each time the patient was hurt or felt a sub-perception
program); ``score`` judges the final program with the scenario's patient and implant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from ..engine import battery
from ..engine import params as EP
from ..engine.load import program_compliance
from ..engine.program import Program
from .model import delivered_ma, evaluate
from .regions import describe
from .relief import relief_after
from .scenario import Scenario

# Points of each part and the figures that earn them (this project's choice).
COVERAGE_POINTS = 30.0
RELIEF_POINTS = 30.0
SAFETY_POINTS = 20.0
BATTERY_POINTS = 10.0
TIME_POINTS = 10.0
RESPONDER_SHARE = 2.0 / 3.0  #: of the relief points for a responder; remission earns them all
PENALTY_DISCOMFORT = 5.0
PENALTY_CHARGE_WARNING = 5.0
PENALTY_SUBPERCEPTION = 10.0
PENALTY_BAD_CONTACT = 10.0
PENALTY_LIMITED = 5.0
PENALTY_UNCOMFORTABLE_FINAL = 20.0
LIION_DAYS_TARGET = 3.0  #: days per charge that earn every battery point
PRIMARY_DAYS_TARGET = 60.0  #: days to ERI that earn every battery point
PACK_DAYS_TARGET = 7.0  #: days per trial-stimulator pack that earn every battery point (a week's trial on one)
GOOD_TOTAL = 70.0
POOR_TOTAL = 50.0
_DAYS_PER_YEAR = 365.25


class EventKind(StrEnum):
    CHANGE = "change"  #: a program change sent to the device
    CHARGE_WARNING_CONFIRMED = "charge_warning_confirmed"
    DISCOMFORT = "discomfort"  #: the patient said it was uncomfortable
    SUBPERCEPTION_PARESTHESIA = "subperception_paresthesia"  #: felt a burst or hf program


@dataclass(frozen=True)
class Event:
    kind: EventKind
    at_minutes: float  #: session time
    detail: str = ""


@dataclass
class SessionRecord:
    """What happened in a session: events, the real minutes taken, the simulated minutes the
    final program ran (wash-in) and the posture the final program was judged in (None: the
    scenario's)."""

    events: list[Event] = field(default_factory=list)
    minutes_taken: float = 0.0
    simulated_minutes: float = 0.0
    posture: str | None = None

    def add(self, kind: EventKind, at_minutes: float, detail: str = "") -> None:
        self.events.append(Event(kind, at_minutes, detail))

    def count(self, kind: EventKind) -> int:
        return sum(1 for e in self.events if e.kind is kind)


@dataclass(frozen=True)
class Part:
    name: str
    points: float
    max_points: float
    reason: str

    @property
    def failed(self) -> bool:
        """Under a quarter of its points: the part failed."""
        return self.points < self.max_points / 4


@dataclass(frozen=True)
class Score:
    parts: tuple[Part, ...]
    relief: float
    vas: float
    responder: bool
    remission: bool

    @property
    def total(self) -> float:
        return sum(p.points for p in self.parts)

    @property
    def grade(self) -> str:
        """poor: not a responder, under 50 points, or a failed part other than time; good: a
        responder with 70 points or more and no part under half; fair otherwise."""
        critical = [p for p in self.parts if p.name != "time"]
        if not self.responder or self.total < POOR_TOTAL or any(p.failed for p in critical):
            return "poor"
        if self.total >= GOOD_TOTAL and all(p.points >= p.max_points / 2 for p in self.parts):
            return "good"
        return "fair"

    def part(self, name: str) -> Part:
        return next(p for p in self.parts if p.name == name)


def _pct(x: float) -> str:
    return f"{100.0 * x:.0f} %"


def score(scenario: Scenario, program: Program, record: SessionRecord) -> Score:
    """Judge ``program`` (the session's final one) for ``scenario`` after ``record``."""
    patient = scenario.patient
    params = patient.params
    posture = record.posture or params.posture
    amp = delivered_ma(program, scenario.device)
    response = evaluate(patient, program, amp, posture)
    state = relief_after(params, response, record.simulated_minutes * 60.0)
    parts = (
        _coverage_part(scenario, response.regions, response.coverage, response.felt),
        _relief_part(state.value, state.vas, state.responder, state.remission, record, params.baseline_vas,
                     params.responder_relief),
        _safety_part(scenario, program, record, response.sensation, response.paresthesia_in_subperception, amp),
        _battery_part(scenario, program),
        _time_part(scenario, record),
    )
    return Score(parts, state.value, state.vas, state.responder, state.remission)


def _coverage_part(scenario: Scenario, regions: tuple[str, ...], coverage: float, felt: bool) -> Part:
    goals = scenario.goals
    if goals.paresthesia_free:
        if felt:
            return Part("coverage", 0.0, COVERAGE_POINTS,
                        f"the goal was paresthesia-free, but the patient feels tingling in {describe(regions) or 'places'}")
        return Part("coverage", COVERAGE_POINTS, COVERAGE_POINTS, "paresthesia-free, as the goal asked")
    share = min(1.0, coverage / goals.coverage) if goals.coverage > 0 else 1.0
    if coverage >= goals.coverage:
        reason = f"paresthesia covers {_pct(coverage)} of the pain map (goal {_pct(goals.coverage)})"
    elif not felt:
        reason = "the patient feels nothing, so no pain is covered"
    else:
        reason = f"paresthesia covers only {_pct(coverage)} of the pain map (goal {_pct(goals.coverage)})"
    return Part("coverage", COVERAGE_POINTS * share, COVERAGE_POINTS, reason)


def _relief_part(relief: float, vas: float, responder: bool, remission: bool, record: SessionRecord,
                 baseline: float, responder_relief: float) -> Part:
    figures = f"relief {_pct(relief)} after {_duration(record.simulated_minutes)} (VAS {baseline:.1f} -> {vas:.1f})"
    if remission and responder:
        return Part("relief", RELIEF_POINTS, RELIEF_POINTS, f"{figures}: a responder in remission")
    if responder:
        return Part("relief", RELIEF_POINTS * RESPONDER_SHARE, RELIEF_POINTS, f"{figures}: a responder, not in remission")
    points = RELIEF_POINTS * RESPONDER_SHARE * 0.5 * relief / responder_relief if responder_relief > 0 else 0.0
    return Part("relief", points, RELIEF_POINTS, f"{figures}: not a responder ({_pct(responder_relief)} relief needed)")


def _duration(minutes: float) -> str:
    if minutes >= 2 * 24 * 60:
        return f"{minutes / 1440.0:.1f} days"
    if minutes >= 120:
        return f"{minutes / 60.0:.1f} hours"
    return f"{minutes:.0f} minutes"


def _safety_part(scenario: Scenario, program: Program, record: SessionRecord, sensation: str, felt_sub: bool,
                 amp: float) -> Part:
    reasons: list[str] = []
    penalty = 0.0
    counts = (
        (EventKind.DISCOMFORT, PENALTY_DISCOMFORT, "the patient was hurt"),
        (EventKind.CHARGE_WARNING_CONFIRMED, PENALTY_CHARGE_WARNING, "a charge-density warning was confirmed"),
        (EventKind.SUBPERCEPTION_PARESTHESIA, PENALTY_SUBPERCEPTION, "the patient felt a sub-perception program"),
    )
    for kind, each, words in counts:
        n = record.count(kind)
        if n:
            penalty += each * n
            reasons.append(f"{words} ({n} time{'s' if n > 1 else ''})")
    for contact, _ in program.electrodes.pairs:
        z = scenario.device.impedance(contact)
        if z > EP.IMPEDANCE_OPEN_OHM or z < EP.IMPEDANCE_SHORT_OHM:
            state = "open" if z > EP.IMPEDANCE_OPEN_OHM else "shorted"
            penalty += PENALTY_BAD_CONTACT
            reasons.append(f"the final program uses contact {contact}, which the impedance check found {state} "
                           f"({z:.0f} ohm)")
    if program_compliance(program, scenario.device).limited:
        penalty += PENALTY_LIMITED
        reasons.append(f"the final program is compliance-limited (only {amp:.2f} mA delivered)")
    if felt_sub:
        penalty += PENALTY_SUBPERCEPTION
        reasons.append(f"the final program is {program.mode.value}, a sub-perception mode, and the patient feels it")
    if sensation == "uncomfortable":
        penalty += PENALTY_UNCOMFORTABLE_FINAL
        reasons.append("the final program is uncomfortable")
    if not reasons:
        return Part("safety", SAFETY_POINTS, SAFETY_POINTS, "no discomfort, no warnings, no faulty contact")
    return Part("safety", max(0.0, SAFETY_POINTS - penalty), SAFETY_POINTS, "; ".join(reasons))


def _battery_part(scenario: Scenario, program: Program) -> Part:
    device = scenario.device
    figures = battery.battery_figures(program, device, device.chemistry)
    if device.chemistry == battery.LIION:
        days = float(figures["days_per_charge"])
        share = min(1.0, days / LIION_DAYS_TARGET)
        return Part("battery", BATTERY_POINTS * share, BATTERY_POINTS,
                    f"{days:.1f} days per charge (target {LIION_DAYS_TARGET:g})")
    if device.chemistry == battery.PACK:
        days = float(figures["days_per_pack"])
        share = min(1.0, days / PACK_DAYS_TARGET) if math.isfinite(days) else 1.0
        return Part("battery", BATTERY_POINTS * share, BATTERY_POINTS,
                    f"{days:.1f} days per pack (target {PACK_DAYS_TARGET:g})")
    c = battery.cell(device.chemistry)
    left = max(0.0, scenario.battery_pct - c.warn_percent) / (100.0 - c.warn_percent)
    days = float(figures["years_to_eri"]) * _DAYS_PER_YEAR * left
    share = min(1.0, days / PRIMARY_DAYS_TARGET) if math.isfinite(days) else 1.0
    return Part("battery", BATTERY_POINTS * share, BATTERY_POINTS,
                f"{days:.0f} days to ERI from {scenario.battery_pct:g} % (target {PRIMARY_DAYS_TARGET:g})")


def _time_part(scenario: Scenario, record: SessionRecord) -> Part:
    goal = scenario.goals.minutes
    taken = record.minutes_taken
    share = 1.0 if taken <= goal else max(0.0, 2.0 - taken / goal)
    word = "within" if taken <= goal else "over"
    return Part("time", TIME_POINTS * share, TIME_POINTS, f"{taken:.0f} minutes, {word} the {goal:g} minute goal")
