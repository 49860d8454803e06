"""``stimsim simulate``, ``metrics`` and ``battery``: the engine from the command line.

Output a program reads (JSON, CSV, NPY) goes to stdout or the named file; messages for
people go to stderr. A bad file prints one line per problem and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..engine import files
from ..engine.program import DeviceModel, Program
from . import UsageError
from .arg_types import number

#: The most samples one ``simulate`` run produces (16 bytes each in memory).
MAX_SAMPLES = 50_000_000

def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "simulate",
        help="write a slot's stimulation current, box-averaged per sample, to CSV or NPY",
        description="The slot's stimulation current (mA, cathodic negative), each sample the exact mean "
        "over its interval, from stimulation on at t = 0.",
    )
    _file_and_slot(p)
    p.add_argument("--duration", type=_positive, required=True, metavar="S", help="simulated seconds")
    p.add_argument("--sample-rate", type=_positive, required=True, metavar="HZ", help="samples per second")
    p.add_argument("--out", required=True, metavar="OUT", help="output file, .csv or .npy")
    p.set_defaults(run=run_simulate)

    p = sub.add_parser("metrics", help="print a slot's metrics as JSON")
    _file_and_slot(p)
    p.set_defaults(run=run_metrics)

    p = sub.add_parser("battery", help="print a slot's battery figures as JSON")
    _file_and_slot(p)
    p.add_argument("--chemistry", choices=files.CHEMISTRIES, help="override the file's chemistry")
    p.add_argument("--hours-per-day", type=_hours, default=24.0, metavar="H",
                   help="hours of stimulation a day, 0..24 (default 24)")
    p.set_defaults(run=run_battery)


def _file_and_slot(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="program file (*.stimsim.json)")
    p.add_argument("--slot", type=int, metavar="N", help="slot to use (default: the file's first program)")


def _positive(text: str) -> float:
    value = number(text)
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be a number above 0")
    return value


def _hours(text: str) -> float:
    value = number(text)
    if not 0 <= value <= 24:
        raise argparse.ArgumentTypeError(f"{text} is not within 0..24 hours")
    return value


def load_slot(path: str, slot: int | None) -> tuple[Program, DeviceModel]:
    """The program of ``slot`` in the file at ``path``; a bad file or slot is a UsageError."""
    try:
        pf = files.load(path)
    except files.FileError as exc:
        raise UsageError("\n".join(f"{exc.path}: {line}" for line in exc.lines)) from None
    try:
        return pf.program(slot), pf.device
    except KeyError as exc:
        raise UsageError(f"{path}: {exc.args[0]}") from None


def _tidy(value: Any) -> Any:
    """Round floats to 12 significant digits: far below any figure's meaning, and no 2.3754999999999997."""
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, dict):
        return {k: _tidy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tidy(v) for v in value]
    return value


def _print_json(data: Any) -> None:
    json.dump(_tidy(data), sys.stdout, indent=2, allow_nan=False)
    sys.stdout.write("\n")


def run_metrics(args: argparse.Namespace) -> int:
    from ..engine.metrics import program_metrics

    program, device = load_slot(args.file, args.slot)
    _print_json(program_metrics(program, device))
    return 0


def run_battery(args: argparse.Namespace) -> int:
    from ..engine.battery import battery_figures

    program, device = load_slot(args.file, args.slot)
    chemistry = args.chemistry or device.chemistry
    _print_json(battery_figures(program, device, chemistry, args.hours_per_day))
    return 0


def run_simulate(args: argparse.Namespace) -> int:
    from ..engine.waveform import sample, sample_count

    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".npy"):
        raise UsageError(f"--out {args.out}: the file name must end in .csv or .npy")
    if out.is_dir():
        raise UsageError(f"--out {args.out}: is a folder; give a file name ending in .csv or .npy")
    if not out.parent.is_dir():
        raise UsageError(f"--out {args.out}: folder {out.parent} does not exist")
    if not os.access(out.parent, os.W_OK):
        raise UsageError(f"--out {args.out}: folder {out.parent} is not writable")
    wanted = args.duration * args.sample_rate
    if not math.isfinite(wanted) or wanted > MAX_SAMPLES:
        figure = f"{wanted:.3g}" if math.isfinite(wanted) else "more than 1e308"
        raise UsageError(f"--duration {args.duration:g} s at --sample-rate {args.sample_rate:g} Hz is {figure} "
                         f"samples; at most {MAX_SAMPLES} per run (shorten --duration or lower --sample-rate)")
    n = sample_count(args.duration, args.sample_rate)
    if n < 1:
        raise UsageError(f"--duration {args.duration:g} s at --sample-rate {args.sample_rate:g} Hz gives no sample")
    if n > MAX_SAMPLES:
        raise UsageError(f"{n} samples requested; at most {MAX_SAMPLES} per run (shorten --duration or lower "
                         "--sample-rate)")
    program, device = load_slot(args.file, args.slot)
    current = sample(program, device, args.duration, args.sample_rate)
    times = np.arange(current.size, dtype=np.float64) / args.sample_rate
    try:
        _write_atomic(out, times, current)
    except OSError as exc:
        raise UsageError(f"--out {args.out}: cannot write: {exc.strerror or exc}") from None
    print(f"wrote {current.size} samples to {out}", file=sys.stderr)
    return 0


def _write_atomic(out: Path, times: np.ndarray, current: np.ndarray) -> None:
    """Write the two columns to ``out`` whole or not at all."""

    def write(fh: BinaryIO) -> None:
        if out.suffix.lower() == ".npy":
            np.save(fh, np.column_stack((times, current)))
        else:
            fh.write(b"t_s,current_ma\n")
            _write_csv_rows(fh, times, current)

    files.atomic_write(out, write)


def _write_csv_rows(fh: Any, times: np.ndarray, current: np.ndarray, chunk: int = 200_000) -> None:
    # 15 significant digits: every figure to double precision, without binary noise (1e-05, not 1.0000000000000001e-05).
    for start in range(0, times.size, chunk):
        block = np.column_stack((times[start : start + chunk], current[start : start + chunk]))
        np.savetxt(fh, block, delimiter=",", fmt="%.15g")
