"""Posture schedules with coughs: ``sitting:10,supine:10,cough@15,standing:10``.

Postures follow each other for the seconds given; a cough at s covers [s, s + cough_s)
(coughs do not stack: overlapping coughs take the CSF depth away once). A pulse exactly on
a change takes the new posture. Times are kept as exact fractions, so which update falls
on which side of a change does not depend on float rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..patient.defaults import POSTURES
from . import defaults as D
from .loop import first_update_at

MAX_SECONDS = 86_400  #: the longest schedule: one day

#: A day as the benchmark and the docs live it: 7 h asleep on the back, the day sitting and
#: standing, half an hour lying on the front, an hour on the back in the evening, and 50
#: coughs spread over the day.
A_DAY = ("supine:25200,sitting:3600,standing:7200,sitting:14400,standing:3600,prone:1800,sitting:19800,"
         "standing:7200,supine:3600," + ",".join(f"cough@{600 + 1700 * i}" for i in range(50)))


@dataclass(frozen=True)
class Schedule:
    """Postures with their seconds, in order, and the coughs' start times (s)."""

    postures: tuple[tuple[str, Fraction], ...]
    coughs: tuple[Fraction, ...] = ()
    cough_s: Fraction = Fraction(D.COUGH_S).limit_denominator()

    @property
    def duration_s(self) -> Fraction:
        return sum((s for _, s in self.postures), Fraction(0))

    def state_at(self, t_s: Fraction) -> tuple[str, bool]:
        """The posture and cough at time ``t_s`` (a change at exactly t takes effect)."""
        start = Fraction(0)
        posture = self.postures[-1][0]
        for name, seconds in self.postures:
            if t_s < start + seconds:
                posture = name
                break
            start += seconds
        return posture, any(c <= t_s < c + self.cough_s for c in self.coughs)

    def update_count(self, rate_hz: int, max_update_hz: int = D.MAX_UPDATE_HZ) -> int:
        """How many loop updates fall before the schedule's end."""
        return first_update_at(self.duration_s, rate_hz, max_update_hz)

    def states(self, rate_hz: int, max_update_hz: int = D.MAX_UPDATE_HZ) -> tuple[np.ndarray, np.ndarray]:
        """Per update: the posture's index in ``POSTURES`` (int8) and whether a cough is on (bool)."""
        count = self.update_count(rate_hz, max_update_hz)
        posture = np.empty(count, dtype=np.int8)
        start = Fraction(0)
        for name, seconds in self.postures:
            a = first_update_at(start, rate_hz, max_update_hz)
            start += seconds
            b = first_update_at(start, rate_hz, max_update_hz)
            posture[a:b] = POSTURES.index(name)
        cough = np.zeros(count, dtype=bool)
        for c in self.coughs:
            a = first_update_at(c, rate_hz, max_update_hz)
            b = min(first_update_at(c + self.cough_s, rate_hz, max_update_hz), count)
            cough[a:b] = True
        return posture, cough


def _seconds(text: str, item: str) -> Fraction:
    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"'{item}': '{text}' is not a number of seconds") from None
    return value


def parse(spec: str) -> Schedule:
    """A SPEC as ``stimsim loop --postures`` takes it; ValueError says what is wrong and where."""
    postures: list[tuple[str, Fraction]] = []
    coughs: list[Fraction] = []
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            raise ValueError(f"'{spec}': an empty item (items are posture:seconds or cough@second, comma separated)")
        if item.startswith("cough@"):
            at = _seconds(item[len("cough@"):], item)
            if at < 0:
                raise ValueError(f"'{item}': a cough cannot start before 0 s")
            coughs.append(at)
            continue
        name, sep, seconds = item.partition(":")
        name = name.strip().lower()
        if not sep:
            raise ValueError(f"'{item}' is neither posture:seconds nor cough@second")
        if name not in POSTURES:
            raise ValueError(f"'{item}': '{name}' is not a posture (allowed: {', '.join(POSTURES)})")
        value = _seconds(seconds, item)
        if value <= 0:
            raise ValueError(f"'{item}': a posture lasts more than 0 s")
        postures.append((name, value))
    if not postures:
        raise ValueError(f"'{spec}' names no posture (give at least one posture:seconds)")
    schedule = Schedule(tuple(postures), tuple(sorted(coughs)))
    total = schedule.duration_s
    if total > MAX_SECONDS:
        raise ValueError(f"'{spec}' lasts {float(total):g} s, more than one day ({MAX_SECONDS} s)")
    late = [c for c in schedule.coughs if c >= total]
    if late:
        raise ValueError(f"'cough@{float(late[0]):g}' starts at or after the schedule's end ({float(total):g} s)")
    return schedule
