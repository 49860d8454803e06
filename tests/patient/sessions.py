"""Scripted sessions for every shipped scenario: one a good clinician would run, one that goes wrong.

A session titrates like a clinician: the amplitude is set a share of the way from the
patient's perception threshold to their discomfort threshold (what the patient reports),
so the scripts follow the model rather than hard-coding its numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from stimsim.closedloop import thresholds
from stimsim.engine.params import Mode, Recharge, family_params
from stimsim.engine.program import Electrodes, Program
from stimsim.patient import EventKind, Score, SessionRecord, evaluate, score
from stimsim.patient import scenario as S


@dataclass(frozen=True)
class Session:
    program: Program
    share: float | None  #: amplitude as a share of PT..DT (None: the program's own)
    simulated_minutes: float
    minutes_taken: float = 20.0
    events: tuple[tuple[EventKind, float], ...] = ()
    titrate_posture: str | None = None  #: the posture the amplitude was found in (None: the scenario's)


def tonic(electrodes: dict[str, int], pw: int = 300, rate: int = 50) -> Program:
    return Program(Mode.TONIC, 1000, pw, rate, Electrodes.of(electrodes))


def hf(electrodes: dict[str, int], amp_ua: int, rate: int = 10_000, pw: int = 30) -> Program:
    return Program(Mode.HF, amp_ua, pw, rate, Electrodes.of(electrodes))


def burst(electrodes: dict[str, int], amp_ua: int) -> Program:
    return Program(Mode.BURST, amp_ua, 1000, 40, Electrodes.of(electrodes), recharge=Recharge.PASSIVE,
                   burst_pulses=5, intraburst_rate_hz=500)


BOTH_2 = {"2": -50, "10": -50, "case": 100}
DRG_L4_L5 = {"2": -50, "3": 50, "6": -50, "7": 50}  #: a bipole on lead A (L4) and one on lead B (L5)
DRG_L4 = {"2": -100, "3": 100}  #: lead A (L4) only: the foot's root, L5, left out
DISCOMFORT = ((EventKind.DISCOMFORT, 5.0), (EventKind.DISCOMFORT, 9.0))


def closed_loop_scenario_program(slot: int) -> Program:
    """A program of the closed-loop scenario; the closed one at the amplitude its loop settles
    to lying on the back (E at the target: T + TARGET / S, to the microampere)."""
    scenario = S.load(S.find("closed-loop-lying-down"))
    program = next(p for p in scenario.programs if p.slot == slot)
    loop = program.closed_loop
    if loop is None or not loop.closed:
        return program
    th = thresholds(scenario.patient, program, "supine", False)
    return replace(program, amplitude_ua=round(1000 * (th.threshold_ma + loop.target_uv / th.slope_uv_per_ma)))



GOOD: dict[str, Session] = {
    "low-back-left-leg-t8": Session(tonic(BOTH_2, pw=450), 0.7, 30),
    "bilateral-legs-t9-t10": Session(tonic({"4": -50, "12": -50, "3": 25, "5": 25, "11": 25, "13": 25}), 0.7, 30),
    "foot-pain-low-cathode": Session(tonic({"8": -50, "16": -50, "case": 100}), 0.7, 30),
    "open-contact": Session(tonic(BOTH_2, pw=450), 0.7, 30),
    "posture-lateral-lying-down": Session(tonic({"2": -100, "case": 100}), 0.7, 30),
    "hf-10khz-paresthesia-free": Session(hf({"7": -50, "15": -50, "8": 50, "16": 50}, 3000), None, 7 * 1440),
    "burst-wash-in": Session(burst({"7": -100, "case": 100}, 800), None, 2 * 1440),
    "primary-cell-near-eri": Session(tonic({"6": -50, "14": -50, "case": 100}, rate=40), 0.6, 30),
    "drg-knee-foot-l4-l5": Session(tonic(DRG_L4_L5, rate=20), 0.6, 30),
    # the trial scenarios run on the ETS: no case anode
    "trial-lasting-relief": Session(hf({"7": -100, "8": 100}, 2000), None, 7 * 1440),
    # the closed loop holds the ECAP at 40 uV lying down: comfortable
    "closed-loop-lying-down": Session(closed_loop_scenario_program(2), None, 30),
    "trial-relief-fades": Session(tonic({"6": -50, "14": -50, "5": 25, "7": 25, "13": 25, "15": 25}, pw=450), 0.7,
                                  30),
}

#: The bad session of each scenario and the part whose reason must say what went wrong.
BAD: dict[str, tuple[Session, str, str]] = {
    "low-back-left-leg-t8": (Session(tonic({"8": -50, "16": -50, "case": 100}), 0.7, 30), "coverage",
                             "covers only"),
    "bilateral-legs-t9-t10": (Session(tonic({"8": -50, "16": -50, "7": 50, "15": 50}), 0.7, 30), "coverage",
                              "covers only"),
    "foot-pain-low-cathode": (Session(tonic({"1": -50, "9": -50, "case": 100}), 0.7, 30), "coverage",
                              "covers only"),
    "open-contact": (Session(replace(tonic({"4": -100, "case": 100}), amplitude_ua=6000), None, 30), "safety",
                     "contact 4, which the impedance check found open"),
    "posture-lateral-lying-down": (Session(tonic({"2": -100, "case": 100}), 0.7, 30, events=DISCOMFORT,
                                           titrate_posture="sitting"), "safety", "uncomfortable"),
    "hf-10khz-paresthesia-free": (Session(hf({"8": -50, "16": -50, "case": 100}, 5000), None, 3 * 1440,
                                          events=((EventKind.SUBPERCEPTION_PARESTHESIA, 12.0),)),
                                  "coverage", "the goal was paresthesia-free"),
    "burst-wash-in": (Session(burst({"7": -100, "case": 100}, 800), None, 30), "relief", "not a responder"),
    "primary-cell-near-eri": (Session(tonic({"6": -50, "14": -50, "5": 25, "7": 25, "13": 25, "15": 25},
                                            pw=450, rate=200), 0.7, 30), "battery", "days to ERI"),
    "drg-knee-foot-l4-l5": (Session(tonic(DRG_L4, rate=20), 0.6, 30), "coverage", "covers only"),
    "trial-lasting-relief": (Session(hf({"7": -100, "8": 100}, 2000), None, 30), "relief", "not a responder"),
    # the open loop keeps the amplitude set sitting: too strong lying down
    "closed-loop-lying-down": (Session(closed_loop_scenario_program(1), None, 30, events=DISCOMFORT), "safety",
                               "uncomfortable"),
    "trial-relief-fades": (Session(tonic({"1": -50, "9": -50, "2": 50, "10": 50}), 0.7, 30), "coverage",
                           "covers only"),
}


def play(name: str, session: Session) -> tuple[Score, Program]:
    """Titrate the session's program for the scenario's patient, then score it."""
    scenario = S.load(S.find(name))
    program = session.program
    if session.share is not None:
        probe = evaluate(scenario.patient, program, 0.0, session.titrate_posture)
        amp = probe.pt_ma + session.share * (probe.dt_ma - probe.pt_ma)
        grid = family_params(scenario.family, program.mode)["amplitude_ma"].grid
        amp_ua = round(amp * 100) * 10
        program = replace(program, amplitude_ua=grid.snap(amp_ua) if grid is not None else amp_ua)
    record = SessionRecord(minutes_taken=session.minutes_taken, simulated_minutes=session.simulated_minutes)
    for kind, at in session.events:
        record.add(kind, at)
    return score(scenario, program, record), program
