"""``stimsim trial``: a trial on the external trial stimulator played headless, its diary and verdict as JSON.

Parsing and printing only; the model is ``stimsim.patient.trial``.
"""

from __future__ import annotations

import argparse
import math

from ..engine import files
from ..patient import trial as T
from . import UsageError
from .arg_types import number, whole
from .engine_commands import _print_json
from .patient_commands import _load_scenario, _program


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "trial", help="play a trial on the external trial stimulator: the pain diary and the verdict, as JSON",
        description=f"Run a program on the ETS (no case anode) H hours a day for N days and print the "
        f"patient's diary (each evening, sitting: relief, VAS, hours, activity, medication) and the verdict: "
        f"'{T.CANDIDATE}' when mean relief over the last {T.LAST_DAYS} days is at least "
        f"{T.CANDIDATE_RELIEF:.0%}. SCENARIO is a shipped scenario's name or a *.scenario.json path.")
    p.add_argument("scenario", metavar="SCENARIO", help="shipped scenario name or *.scenario.json path")
    p.add_argument("--program", metavar="FILE", help="program file (default: the scenario's programs)")
    p.add_argument("--slot", type=int, metavar="N", help="slot to use (default: the first program)")
    p.add_argument("--days", type=_days, default=T.DAYS_DEFAULT, metavar="N",
                   help=f"days the trial lasts, {T.DAYS_MIN}..{T.DAYS_MAX} (default {T.DAYS_DEFAULT})")
    p.add_argument("--hours", type=_hours, default=T.HOURS_DEFAULT, metavar="H",
                   help=f"hours of stimulation a day, {T.HOURS_MIN:g}..{T.HOURS_MAX:g} (default {T.HOURS_DEFAULT:g})")
    p.set_defaults(run=run_trial)


def _days(text: str) -> int:
    value = whole(text, 'whole number of days')
    try:
        T.check_days(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def _hours(text: str) -> float:
    value = number(text, 'number of hours')
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of hours")
    try:
        T.check_hours(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def run_trial(args: argparse.Namespace) -> int:
    scenario = _load_scenario(args.scenario)
    if args.program:
        try:
            pf = files.load(args.program)
        except files.FileError as exc:
            raise UsageError("\n".join(f"{exc.path}: {line}" for line in exc.lines)) from None
        where = args.program
        program = _program(args, pf.programs, where)
    else:
        where = f"scenario {scenario.name}"
        program = _program(args, scenario.programs, where)
    try:
        trial = T.Trial(scenario.patient, program, scenario.device, args.hours)
    except ValueError as exc:
        raise UsageError(f"{where}: {exc}") from None
    _print_json(trial.play(args.days).as_json())
    return 0
