"""``stimsim patient`` and ``stimsim scenario list``: the virtual patient from the command line.

Parsing and printing only; the model is in ``stimsim.patient``.
"""

from __future__ import annotations

import argparse
import math
import sys

from ..engine import files
from ..engine.program import Program
from ..patient import scenario as S
from ..patient.scenario import Scenario
from . import UsageError
from .arg_types import number
from .engine_commands import _print_json


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ..patient.defaults import POSTURES

    p = sub.add_parser(
        "patient", help="what the scenario's patient feels and how their pain changes, as JSON",
        description="Run a program continuously for M minutes from no relief and print what the scenario's "
        "patient feels, where, and their relief. SCENARIO is a shipped scenario's name "
        "('stimsim scenario list') or a path to a *.scenario.json file.")
    p.add_argument("scenario", metavar="SCENARIO", help="shipped scenario name or *.scenario.json path")
    p.add_argument("--program", metavar="FILE", help="program file (default: the scenario's programs)")
    p.add_argument("--slot", type=int, metavar="N", help="slot to use (default: the first program)")
    p.add_argument("--posture", choices=POSTURES, help="posture (default: the scenario's)")
    p.add_argument("--minutes", type=_minutes, default=0.0, metavar="M",
                   help="minutes the program runs, from no relief (default 0)")
    p.set_defaults(run=run_patient)

    s = sub.add_parser("scenario", help="the shipped scenarios",
                       description="Scenarios are patients to program: 'stimsim scenario list' names them.")
    ssub = s.add_subparsers(dest="scenario_command", metavar="ACTION", required=True,
                            parser_class=sub._parser_class)
    lst = ssub.add_parser("list", help="name and title of each shipped scenario, one a line")
    lst.set_defaults(run=run_scenario_list)


def _minutes(text: str) -> float:
    value = number(text)
    if not math.isfinite(value) or not 0 <= value <= 10 * 365.25 * 1440:
        raise argparse.ArgumentTypeError(f"{text} is not within 0..{10 * 365.25 * 1440:.0f} minutes (10 years)")
    return value


def _load_scenario(name: str) -> Scenario:
    try:
        return S.load(S.find(name))
    except files.FileError as exc:
        raise UsageError("\n".join(f"{exc.path}: {line}" for line in exc.lines)) from None


def _program(args: argparse.Namespace, programs: tuple[Program, ...], where: str) -> Program:
    if not programs:
        raise UsageError(f"{where}: no program to run (give --program FILE)")
    if args.slot is None:
        return programs[0]
    for prog in programs:
        if prog.slot == args.slot:
            return prog
    have = ", ".join(str(p.slot) for p in programs)
    raise UsageError(f"{where}: no program in slot {args.slot} (it has slots {have})")


def run_patient(args: argparse.Namespace) -> int:
    from ..patient.model import delivered_ma, evaluate
    from ..patient.relief import relief_after

    scenario = _load_scenario(args.scenario)
    if args.program:
        try:
            pf = files.load(args.program)
        except files.FileError as exc:
            raise UsageError("\n".join(f"{exc.path}: {line}" for line in exc.lines)) from None
        program = _program(args, pf.programs, args.program)
    else:
        program = _program(args, scenario.programs, f"scenario {scenario.name}")
    try:
        response = evaluate(scenario.patient, program, delivered_ma(program, scenario.device), args.posture)
    except ValueError as exc:
        raise UsageError(f"{args.program or scenario.name}: {exc}") from None
    state = relief_after(scenario.params, response, args.minutes * 60.0)
    _print_json({
        "posture": response.posture,
        "mode": response.mode,
        "amplitude_ma": response.amplitude_ma,
        "cathode_level": response.cathode_level,
        "cathode_offset_mm": response.cathode_offset_mm,
        "configuration": response.configuration,
        "csf_depth_mm": response.csf_depth_mm,
        "pt_ma": response.pt_ma,
        "dt_ma": response.dt_ma,
        "sensation": response.sensation,
        "intensity": response.intensity,
        "says": response.says,
        "regions": list(response.regions),
        "coverage": response.coverage,
        "relief": state.value,
        "vas": state.vas,
        "responder": state.responder,
        "remission": state.remission,
    })
    return 0


def run_scenario_list(args: argparse.Namespace) -> int:
    rows = []
    for path in S.shipped():
        try:
            rows.append((S.name_of(path), S.load(path).title))
        except files.FileError as exc:
            print(f"stimsim scenario: {exc.path}: {exc.lines[0]}", file=sys.stderr)
            return 1
    width = max((len(name) for name, _ in rows), default=0)
    for name, title in rows:
        print(f"{name:<{width}}  {title}")
    return 0
