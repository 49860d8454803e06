"""The virtual patient's costs against their targets (docs/patient.md).

One evaluation (all 30 regions, thresholds, words) with a relief step must take at most
1 ms; 10,000 patients with their own threshold factors and postures evaluated together at
most 100 ms. ``run()`` returns (figure, value, unit and target) rows; every figure is the
best of several repeats, so a busy machine inflates it less.
"""

from __future__ import annotations

import numpy as np
from timing import best_ms

from stimsim.patient import POSTURES, Relief, delivered_ma, evaluate, evaluate_many, score
from stimsim.patient import scenario as S
from stimsim.patient.score import SessionRecord

N_PATIENTS = 10_000


def _met(value: float, target: float) -> str:
    return f"ms (target <= {target:g} ms: {'met' if value <= target else 'NOT met'})"


def run() -> list[tuple[str, float, str]]:
    scenario = S.load(S.find("low-back-left-leg-t8"))
    patient = scenario.patient
    program = scenario.programs[0].with_amplitude(6000)
    amp = delivered_ma(program, scenario.device)
    relief = Relief(patient.params)

    def one() -> None:
        relief.advance(1.0, evaluate(patient, program, amp))

    rng = np.random.default_rng(7)
    eps = rng.uniform(0.5, 2.0, N_PATIENTS)
    dd = np.array([patient.params.posture_shift_mm(p) for p in POSTURES])[rng.integers(0, len(POSTURES), N_PATIENTS)]

    rows: list[tuple[str, float, str]] = []
    single = best_ms(one, number=200)
    rows.append(("one evaluation: 30 regions, thresholds, words, relief step", single, _met(single, 1.0)))
    many = best_ms(lambda: evaluate_many(patient, program, amp, eps, dd))
    rows.append((f"{N_PATIENTS} patients (own eps and posture) together", many, _met(many, 100.0)))
    batch = evaluate_many(patient, program, amp, eps, dd)
    rows.append(("  share of them feeling the program", float(np.mean(batch.sensation > 0)), "fraction"))
    record = SessionRecord(minutes_taken=20, simulated_minutes=30)
    rows.append(("score of a session (battery figures included)",
                 best_ms(lambda: score(scenario, program, record), number=50), "ms"))
    loading = best_ms(lambda: S.load(S.find("primary-cell-near-eri")), number=20)
    rows.append(("scenario file read and validated", loading, "ms"))
    return rows


if __name__ == "__main__":
    for figure, value, unit in run():
        print(f"{figure:<62} {value:>12.4g}  {unit}")
