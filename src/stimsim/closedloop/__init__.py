"""Closed-loop stimulation: the virtual nerve's ECAP and the loop that holds it at a target.

Numpy only, built on the engine and the virtual patient (docs/closed-loop.md). The per-update
API: ``VirtualNerve`` (``measure`` one pulse's ECAP in the posture and cough of the moment)
and ``step`` (one loop update); ``clamp_for`` gives the loop's bounds for a program.
"""

from __future__ import annotations

from .defaults import TABLE
from .loop import Clamp, clamp_for, loop_gain, round_half_away, step, update_pulse, update_time_s
from .nerve import Thresholds, VirtualNerve, reference_patient, thresholds

__all__ = [
    "TABLE", "Clamp", "Thresholds", "VirtualNerve", "clamp_for", "loop_gain", "reference_patient", "round_half_away",
    "step", "thresholds", "update_pulse", "update_time_s",
]
