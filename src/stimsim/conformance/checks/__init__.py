"""The checks, grouped by area, in the order the suite runs them (the device's own lines last)."""

from __future__ import annotations

from ..context import Check
from . import closed_loop, emulator, framing, hardening, reports, sequencing, sessions, slots, therapy, wire

CHECKS: list[Check] = [
    *framing.CHECKS,
    *sequencing.CHECKS,
    *sessions.CHECKS,
    *hardening.CHECKS,
    *slots.CHECKS,
    *therapy.CHECKS,
    *reports.CHECKS,
    *emulator.CHECKS,
    *closed_loop.CHECKS,
    *wire.CHECKS,
]
