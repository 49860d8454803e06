"""The closed loop's costs and figures against their targets (docs/closed-loop.md).

A day-long schedule (8.64 M loop updates at 100 Hz, 3 uV noise) must run in at most 2 s
with the fast runner; the plain per-update loop's pace is shown beside it. The published
anchors follow: open- over closed-loop deviation after sitting to supine (22.1x, within
15 %) and time in the therapeutic window over the day (at least 90 %). ``run()`` returns
(figure, value, unit and target) rows; timings are the best of several repeats.
"""

from __future__ import annotations

import numpy as np
from timing import best_s

from stimsim.closedloop import runner as R
from stimsim.closedloop import schedule as SC
from stimsim.engine import files
from stimsim.engine.program import Program
from stimsim.patient import scenario as S
from stimsim.resources import programs_dir


def run() -> list[tuple[str, float, str]]:
    scenario = S.load(S.find("low-back-left-leg-t8"))
    program = files.load(programs_dir() / "closed-loop" / "ecap-loop-t8.stimsim.json").program()
    keys = program.closed_loop
    assert keys is not None
    target, gain = float(keys.target_uv), float(keys.gain_ua_per_uv)
    at_100 = program.with_values({"rate_hz": 100})

    def loop(prog: Program = program, closed: bool = True, noise: float = 3.0) -> R.Loop:
        return R.Loop(scenario.patient, prog, scenario.device, target, gain, closed=closed, noise_uv=noise)

    rows: list[tuple[str, float, str]] = []
    day = SC.parse(SC.A_DAY)
    day_loop = loop(at_100)
    took = best_s(lambda: R.run(day_loop, day))
    rows.append(("a day at 100 Hz (8.64 M updates, 3 uV noise), fast runner", took,
                 f"s (target <= 2 s: {'met' if took <= 2.0 else 'NOT met'})"))
    quiet = best_s(lambda: R.run(loop(at_100, noise=0.0), day))
    rows.append(("  the same without noise", quiet, "s"))
    short = SC.parse("sitting:30,supine:30")
    plain = best_s(lambda: R.run_reference(day_loop, short), repeats=1)
    rows.append(("plain per-update loop, updates per second", 6000 / plain, "updates/s (for comparison)"))
    figures = R.run(day_loop, day).figures(target)
    rows.append(("  time in the therapeutic window over the day", figures.time_in_window,
                 f"fraction (target >= 0.9: {'met' if figures.time_in_window >= 0.9 else 'NOT met'})"))
    change = SC.parse("sitting:10,supine:600")
    closed, opened = R.run(loop(), change), R.run(loop(closed=False), change)
    supine = closed.posture == 0
    dev_closed = float(np.mean(np.abs(closed.ecap_uv[supine] - target)))
    dev_open = float(np.mean(np.abs(opened.ecap_uv[supine] - target)))
    rows.append(("sitting to supine: open-loop mean |E - target|", dev_open, "uV (published 66.4)"))
    rows.append(("sitting to supine: closed-loop mean |E - target|", dev_closed, "uV (published 3.0)"))
    ratio = dev_open / dev_closed
    met = abs(ratio / 22.1 - 1.0) <= 0.15
    rows.append(("  open over closed", ratio, f"x (target 22.1 within 15 %: {'met' if met else 'NOT met'})"))
    return rows


if __name__ == "__main__":
    for figure, value, unit in run():
        print(f"{figure:<62} {value:>12.4g}  {unit}")
