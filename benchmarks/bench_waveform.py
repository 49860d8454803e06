"""Waveform engine costs against their targets (model section 3).

Run alone with ``python benchmarks/bench_waveform.py``; ``run()`` returns the rows
(figure name, value, unit and target text) for a collecting script. Every figure is the
best of several repeats, so a busy machine inflates it less.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
from timing import best_s

from stimsim.engine import files, waveform
from stimsim.engine.program import DeviceModel, Program
from stimsim.resources import programs_dir

PIXELS = 2000
Row = tuple[str, float, str]


def _hf() -> tuple[Program, DeviceModel]:
    pf = files.load(programs_dir() / "hf-10khz.stimsim.json")
    return pf.program(), pf.device


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def run() -> list[Row]:
    prog, dev = _hf()
    rows: list[Row] = []

    # Envelope: a 60 s window costs what a 1 s window does (O(pixels) once pulses are dense).
    t0 = 100.0
    env_1 = best_s(lambda: waveform.envelope(prog, dev, t0, t0 + 1.0, PIXELS), 200)
    env_60 = best_s(lambda: waveform.envelope(prog, dev, t0, t0 + 60.0, PIXELS), 200)
    ratio = env_60 / env_1
    rows.append(("envelope 1 s window, 10 kHz hf, 2000 px", env_1 * 1e3, "ms"))
    rows.append(("envelope 60 s window, 10 kHz hf, 2000 px", env_60 * 1e3, "ms"))
    rows.append(("envelope 60 s / 1 s", ratio, f"x (target <= 2: {_met(ratio <= 2)})"))

    # For information: the general route (cycling defeats the dense-steady shortcut).
    cycled = replace(prog, cycle_on_ms=20_000, cycle_off_ms=10_000)
    env_gen = best_s(lambda: waveform.envelope(cycled, dev, t0, t0 + 60.0, PIXELS), 50)
    rows.append(("envelope 60 s window, 10 kHz hf cycled 20 s/10 s (general route)", env_gen * 1e3,
                 "ms (for information)"))

    # Envelope against the dense route over the same 60 s window: 60 M box-averaged samples
    # at 1 MS/s, then min/max per pixel (what a scope without the envelope would have to do).
    def dense(seconds: float, fs: float) -> Callable[[], None]:
        def go() -> None:
            x = waveform.sample(prog, dev, seconds, fs, t0=t0)
            x = x[: x.size - x.size % PIXELS].reshape(PIXELS, -1)
            x.min(axis=1), x.max(axis=1)

        return go

    dense_60 = best_s(dense(60.0, 1e6), 3)
    speedup = dense_60 / env_60
    rows.append(("dense route, 60 s at 1 MS/s + min/max per pixel", dense_60 * 1e3, "ms"))
    rows.append(("envelope speed-up over the dense route (60 s window)", speedup,
                 f"x (target >= 1000: {_met(speedup >= 1000)})"))
    # For information: the 1 s window, and a sample rate with no short repeat of the pattern.
    dense_1 = best_s(dense(1.0, 1e6), 10)
    rows.append(("dense route, 1 s at 1 MS/s + min/max per pixel", dense_1 * 1e3, "ms"))
    rows.append(("envelope speed-up over the dense route (1 s window)", dense_1 / env_1, "x (for information)"))
    dense_odd = best_s(dense(1.0, 1_000_007.0), 3)
    rows.append(("dense route, 1 s at 1 000 007 S/s (no repeating pattern)", dense_odd * 1e3, "ms"))
    rows.append(("envelope speed-up over that dense route", dense_odd / env_1, "x (for information)"))

    # Dense sampling: 10 M samples (10 s at 1 MS/s) against one write pass of that size.
    n = 10_000_000
    arr = np.empty(n)
    arr[:] = 0.0
    write = best_s(lambda: arr.__setitem__(slice(None), 1.0), 10)
    fresh = best_s(lambda: np.empty(n).__setitem__(slice(None), 1.0), 5)
    samp = best_s(lambda: waveform.sample(prog, dev, 10.0, 1e6), 5)
    rows.append(("write pass over 10 M float64 (preallocated)", write * 1e3, "ms"))
    rows.append(("allocate + write 10 M float64 (the floor for a new array)", fresh * 1e3, "ms"))
    rows.append(("sample 10 M of 10 kHz hf at 1 MS/s", samp * 1e3, "ms"))
    rows.append(("sample / write pass", samp / write, f"x (target <= 5: {_met(samp / write <= 5)})"))
    return rows


def main() -> None:
    for name, value, unit in run():
        print(f"{name:55s} {value:12.4g} {unit}")


if __name__ == "__main__":
    main()
