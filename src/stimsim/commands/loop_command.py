"""``stimsim loop``: closed-loop (or open-loop) stimulation of a scenario's patient over a
posture schedule, as figures in JSON and, with ``--out``, a trace.

Parsing and printing only; the nerve and the loop are in ``stimsim.closedloop``.
"""

from __future__ import annotations

import argparse
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ..engine import files
from ..engine import params as P
from ..engine.params import Mode
from ..engine.program import DeviceModel, Program
from . import UsageError
from .engine_commands import _print_json
from .patient_commands import _load_scenario, _program

if TYPE_CHECKING:
    from ..closedloop.runner import Trace

OPEN, ECAP = "open", "ecap"
#: The ranges of the loop's program keys on the wire (TARGET_UV=, GAIN=), for --target and
#: --gain while a program file may not carry them.
TARGET_RANGE_UV = (10, 500)
GAIN_RANGE = (1, 100)
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
                   "program's loop key, else open)")
    p.add_argument("--noise", type=_noise, metavar="UV", help="measurement noise sigma in uV (default 3)")
    p.add_argument("--seed", type=_seed, default=0, metavar="N", help="noise seed (default 0)")
    p.add_argument("--out", metavar="TRACE.csv", help="write one row per update: t_s,posture,amplitude_ma,ecap_uv")
    p.add_argument("--target", type=_whole(TARGET_RANGE_UV, "uV"), metavar="UV",
                   help="ECAP target in uV (default: the program's target_uv)")
    p.add_argument("--gain", type=_whole(GAIN_RANGE, "uA per uV"), metavar="UA_PER_UV",
                   help="loop gain in uA per uV (default: the program's gain_ua_per_uv)")
    p.set_defaults(run=run_loop)


def _noise(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not math.isfinite(value) or not 0.0 <= value <= NOISE_MAX_UV:
        raise argparse.ArgumentTypeError(f"{text} is not within 0..{NOISE_MAX_UV:g} uV")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative (a seed is 0 or more)")
    return value


def _whole(bounds: tuple[int, int], unit: str) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
        if not bounds[0] <= value <= bounds[1]:
            raise argparse.ArgumentTypeError(f"{text} is not within {bounds[0]}..{bounds[1]} {unit}")
        return value
    return parse


def program_key(program: Program, key: str) -> Any:
    """A loop key of the program (``loop``, ``target_uv``, ``gain_ua_per_uv``, ``sense``) as
    the program file gives it, None when the program does not carry it."""
    if key in P.BY_KEY:
        return program.canonical(key)
    return getattr(program, key, None)


def loop_device(device: DeviceModel) -> DeviceModel:
    """The scenario's implant as the closed-loop family runs it (the table's SCS-CL when it
    has one; the scenario's own family otherwise)."""
    try:
        return replace(device, family=P.Family("SCS-CL"), chemistry="")
    except ValueError:
        return device


@dataclass(frozen=True)
class _Settings:
    closed: bool
    target_uv: float
    gain_ua_per_uv: float


def _settings(args: argparse.Namespace, program: Program, where: str) -> _Settings:
    kind = program_key(program, "loop")
    kind_text = str(getattr(kind, "value", kind)).lower() if kind is not None else None
    mode = args.loop or (ECAP if kind_text == ECAP else OPEN)
    target = args.target if args.target is not None else program_key(program, "target_uv")
    gain = args.gain if args.gain is not None else program_key(program, "gain_ua_per_uv")
    if target is None:
        raise UsageError(f"{where}: the program has no target_uv; give --target UV")
    if mode == ECAP:
        if gain is None:
            raise UsageError(f"{where}: the program has no gain_ua_per_uv; give --gain UA_PER_UV")
        if hasattr(program, "sense") and not program_key(program, "sense"):
            raise UsageError(f"{where}: --loop ecap needs the program's sense contacts")
    return _Settings(mode == ECAP, float(target), float(gain if gain is not None else 0))


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
    settings = _settings(args, program, where)
    device = loop_device(scenario.device)
    problems = check_program(program, device, acknowledged=False)
    if problems:
        first = problems[0]
        if first.rule == "CHARGE_DENSITY":
            raise UsageError(f"{where}: starts inside the charge-density zone, which the loop never enters "
                             f"without ACK=CHARGE ({first.key}: {first.message})")
        raise UsageError(f"{where}: {first.key}: {first.message} (on the scenario's implant)")
    noise = D.NOISE_UV if args.noise is None else args.noise
    setup = R.Loop(scenario.patient, program, device, settings.target_uv, settings.gain_ua_per_uv,
                   closed=settings.closed, noise_uv=noise, seed=args.seed)
    try:
        trace = R.run(setup, schedule)
    except ValueError as exc:  # the patient lacks a lead the program uses
        raise UsageError(f"{where}: {exc}") from None
    if out is not None:
        try:
            files.atomic_write(out, lambda fh: write_trace(fh, trace))
        except OSError as exc:
            raise UsageError(f"--out {args.out}: cannot write: {exc.strerror or exc}") from None
    _print_json(trace.figures(settings.target_uv).as_dict())
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
