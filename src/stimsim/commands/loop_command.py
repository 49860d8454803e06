"""``stimsim loop``: closed-loop (or open-loop) stimulation of a scenario's patient over a
posture schedule, as figures in JSON and, with ``--out``, a trace.

Parsing and printing only; the nerve and the loop are in ``stimsim.closedloop``.
"""

from __future__ import annotations

import argparse
import math
import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ..engine import files
from ..engine import params as P
from ..engine.params import Mode
from ..engine.program import ClosedLoop, DeviceModel, Program
from . import UsageError
from .arg_types import number, whole
from .engine_commands import _print_json
from .patient_commands import _load_scenario, _program

if TYPE_CHECKING:
    from ..closedloop.runner import Trace

OPEN, ECAP = P.LoopMode.OPEN.value, P.LoopMode.ECAP.value
TARGET = P.LOOP_BY_KEY["target_uv"]
GAIN = P.LOOP_BY_KEY["gain_ua_per_uv"]
NOISE_MAX_UV = 100.0
CSV_CHUNK = 100_000


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "loop", help="closed-loop stimulation over a posture schedule: ECAP figures as JSON",
        description="Run a tonic program on the scenario's patient through a schedule of postures and coughs, "
        "with the ECAP loop holding the evoked response at its target (--loop ecap) or the amplitude held "
        "(--loop open), and print the figures: updates, mean |E - target|, time in the therapeutic window, "
        "largest ECAP and the amplitude range.")
    p.add_argument("scenario", metavar="SCENARIO", help="shipped scenario name or *.scenario.json path")
    p.add_argument("--program", required=True, metavar="FILE", help="program file")
    p.add_argument("--slot", type=int, metavar="N", help="slot to use (default: the file's first program)")
    p.add_argument("--postures", required=True, metavar="SPEC",
                   help="posture:seconds and cough@second items, comma separated "
                        "(sitting:10,supine:10,cough@15,standing:10)")
    p.add_argument("--loop", choices=(OPEN, ECAP), help="open: amplitude held; ecap: the loop (default: the "
                   "program's loop key, open when it has none)")
    p.add_argument("--noise", type=_noise, metavar="UV", help="measurement noise sigma in uV (default 3)")
    p.add_argument("--seed", type=_seed, default=0, metavar="N", help="noise seed (default 0)")
    p.add_argument("--out", metavar="TRACE.csv", help="write one row per update: t_s,posture,amplitude_ma,ecap_uv")
    p.add_argument("--target", type=_whole(TARGET), metavar="UV",
                   help=f"ECAP target, {TARGET.fmt_range()} (default: the program's {TARGET.key}, else {TARGET.default})")
    p.add_argument("--gain", type=_whole(GAIN), metavar="UA_PER_UV",
                   help=f"loop gain, {GAIN.fmt_range()} (default: the program's {GAIN.key}, else {GAIN.default})")
    p.set_defaults(run=run_loop)


def _noise(text: str) -> float:
    value = number(text)
    if not math.isfinite(value) or not 0.0 <= value <= NOISE_MAX_UV:
        raise argparse.ArgumentTypeError(f"{text} is not within 0..{NOISE_MAX_UV:g} uV")
    return value


def _seed(text: str) -> int:
    value = whole(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative (a seed is 0 or more)")
    return value


def _whole(row: P.LoopParam) -> Any:
    """A whole number within the table's range of a closed-loop key."""
    assert row.range is not None

    def parse(text: str) -> int:
        value = whole(text)
        assert row.range is not None
        if not row.range.minimum <= value <= row.range.maximum:
            raise argparse.ArgumentTypeError(f"{text} is not within {row.fmt_range()}")
        return value
    return parse


def loop_device(device: DeviceModel) -> DeviceModel:
    """The scenario's implant as the closed-loop family (its impedances, the family's battery)."""
    return replace(device, family=P.Family.SCS_CL, chemistry="")


def loop_program(args: argparse.Namespace, program: Program) -> Program:
    """The program as ``stimsim loop`` runs it: --loop, --target and --gain in place of the
    program's own closed-loop keys (the table's defaults where it gives none)."""
    keys = program.closed_loop or ClosedLoop()
    changes: dict[str, Any] = {}
    if args.loop is not None:
        changes["loop"] = P.LoopMode(args.loop)
    if args.target is not None:
        changes["target_uv"] = args.target
    if args.gain is not None:
        changes["gain_ua_per_uv"] = args.gain
    return replace(program, closed_loop=replace(keys, **changes))


def _check_out(out: str) -> Path:
    path = Path(out)
    if path.suffix.lower() != ".csv":
        raise UsageError(f"--out {out}: the file name must end in .csv")
    if path.is_dir():
        raise UsageError(f"--out {out}: is a folder; give a file name ending in .csv")
    if not path.parent.is_dir():
        raise UsageError(f"--out {out}: folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):
        raise UsageError(f"--out {out}: folder {path.parent} is not writable")
    return path


def run_loop(args: argparse.Namespace) -> int:
    from ..closedloop import defaults as D
    from ..closedloop import runner as R
    from ..closedloop import schedule as SC
    from ..engine.validate import check_program

    try:
        schedule = SC.parse(args.postures)
    except ValueError as exc:
        raise UsageError(f"--postures {exc}") from None
    out = _check_out(args.out) if args.out else None
    scenario = _load_scenario(args.scenario)
    try:
        pf = files.load(args.program)
    except files.FileError as exc:
        raise UsageError("\n".join(f"{exc.path}: {line}" for line in exc.lines)) from None
    program = _program(args, pf.programs, args.program)
    where = f"{args.program} slot {program.slot}"
    if program.mode != Mode.TONIC:
        raise UsageError(f"{where}: the loop runs tonic programs (this one is {program.mode.value})")
    program = loop_program(args, program)
    keys = program.closed_loop or ClosedLoop()
    device = loop_device(scenario.device)
    problems = check_program(program, device, acknowledged=False)
    if problems:
        first = problems[0]
        if first.rule == "CHARGE_DENSITY":
            raise UsageError(f"{where}: starts inside the charge-density zone, which the loop never enters "
                             f"without ACK=CHARGE ({first.key}: {first.message})")
        raise UsageError(f"{where}: {first.key}: {first.message} (run as on the {device.family.value} with "
                         "the scenario's implant)")
    noise = D.NOISE_UV if args.noise is None else args.noise
    setup = R.Loop(scenario.patient, program, device, float(keys.target_uv), float(keys.gain_ua_per_uv),
                   closed=keys.closed, noise_uv=noise, seed=args.seed)
    try:
        trace = R.run(setup, schedule)
    except ValueError as exc:  # the patient lacks a lead the program uses
        raise UsageError(f"{where}: {exc}") from None
    if out is not None:
        try:
            files.atomic_write(out, lambda fh: write_trace(fh, trace))
        except OSError as exc:
            raise UsageError(f"--out {args.out}: cannot write: {exc.strerror or exc}") from None
    _print_json(trace.figures(setup.target_uv).as_dict())
    return 0


def write_trace(fh: BinaryIO, trace: Trace) -> None:
    """``t_s,posture,amplitude_ma,ecap_uv``, one row per update; amplitude to the microampere."""
    from ..patient.defaults import POSTURES

    fh.write(b"t_s,posture,amplitude_ma,ecap_uv\n")
    times = trace.times_s()
    for start in range(0, times.size, CSV_CHUNK):
        stop = start + CSV_CHUNK
        rows = zip(times[start:stop].tolist(), trace.posture[start:stop].tolist(),
                   trace.amplitude_ua[start:stop].tolist(), trace.ecap_uv[start:stop].tolist(), strict=True)
        text = "".join(f"{t:.15g},{POSTURES[p]},{a // 1000}.{a % 1000:03d},{e:.3f}\n" for t, p, a, e in rows)
        fh.write(text.encode("ascii"))
