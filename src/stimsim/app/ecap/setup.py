"""Setting up the closed loop: the sense contacts a program may take, the target between
perception and discomfort on the growth curve, the gain in words, and the program written.
Pure Python: no Qt, no device; the ranges come from ``params.LOOP_TABLE``.
"""

from __future__ import annotations

from dataclasses import replace

from ...closedloop.defaults import SLOPE_UV_PER_MA
from ...closedloop.loop import loop_gain
from ...engine import params as P
from ...engine.program import ClosedLoop, Program
from ...engine.validate import cathode_lead
from .fit import GrowthFit

TARGET = P.LOOP_BY_KEY["target_uv"]
GAIN = P.LOOP_BY_KEY["gain_ua_per_uv"]
TARGET_SHARE = 0.25  #: the suggested target: this share of the way from the ECAP at perception to that at discomfort


def sense_choices(program: Program, family: P.Family) -> tuple[str, ...]:
    """The contacts the loop may sense on: the cathode's lead's, none of the configuration's."""
    lead = cathode_lead(program.electrodes, P.FAMILIES[family])
    if lead is None:
        return ()
    used = {c for c, _ in program.electrodes.pairs}
    return tuple(c for c in lead.contacts if c not in used)


def default_sense(program: Program, family: P.Family) -> tuple[str, str] | None:
    """The two free contacts nearest the cathode (the program's own pair when it has one)."""
    if program.closed_loop is not None and program.closed_loop.sense is not None:
        return program.closed_loop.sense
    free = sense_choices(program, family)
    lead = cathode_lead(program.electrodes, P.FAMILIES[family])
    if lead is None or len(free) < 2:
        return None
    cathode = max(program.electrodes.cathodes, key=lambda cv: -cv[1])[0]
    at = lead.contacts.index(cathode) if cathode in lead.contacts else 0
    near = sorted(free, key=lambda c: (abs(lead.contacts.index(c) - at), lead.contacts.index(c)))
    pair = sorted(near[:2], key=lead.contacts.index)
    return pair[0], pair[1]


def suggested_target(fit: GrowthFit, pt_ua: float, dt_ua: float) -> int:
    """A target on the fitted curve between the ECAP at perception and at discomfort."""
    low, high = fit.ecap_uv(pt_ua), fit.ecap_uv(dt_ua)
    value = round(low + TARGET_SHARE * (high - low))
    assert TARGET.range is not None
    return max(TARGET.range.minimum, min(TARGET.range.maximum, value))


def gain_words(gain_ua_per_uv: float, slope_uv_per_ma: float = SLOPE_UV_PER_MA) -> tuple[float, str]:
    """The loop gain per update and what it does (docs/closed-loop.md, "Loop gain")."""
    g = loop_gain(gain_ua_per_uv, slope_uv_per_ma)
    if g < 1.0:
        words = "settles smoothly, never overshooting"
    elif g < 2.0:
        words = "overshoots, rings and settles"
    elif g == 2.0:
        words = "oscillates without decay"
    else:
        words = "oscillates, the swing growing until the clamps hold it: too high"
    return g, words


def closed_loop_program(program: Program, target_uv: int, gain_ua_per_uv: int, sense: tuple[str, str]) -> Program:
    """``program`` with LOOP=ECAP, its sense contacts, target and gain (the device judges them)."""
    loop = ClosedLoop(P.LoopMode.ECAP, target_uv, gain_ua_per_uv, sense)
    return replace(program, closed_loop=loop)
