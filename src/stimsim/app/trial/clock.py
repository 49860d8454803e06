"""The trial's clock: 3..10 simulated days, run faster than real time, an evening each day.

The trial starts on day 1 at 08:00; each day's evening is at 20:00, when the patient writes
that day's diary entry (``evening`` carries the day). After the last evening the clock stops
and says the trial is over. Real time comes from ``clock`` (seconds), so tests drive it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from ...patient import trial as T

START_HOUR = 8.0  #: the trial starts at 08:00 on day 1
EVENING_HOUR = 20.0  #: the diary is written at 20:00
TICK_MS = 100  #: the clock's step in real time
#: Simulated hours per real second, with their words.
SPEEDS: tuple[tuple[float, str], ...] = ((1.0, "1 h/s"), (4.0, "4 h/s"), (12.0, "12 h/s"), (24.0, "1 day/s"))
DEFAULT_SPEED = 2  #: index into SPEEDS: a week in 14 s


class TrialClock(QObject):
    """Hours since the trial started; ``evening(day)`` as each evening passes, ``finished`` after the last."""

    moved = Signal()
    evening = Signal(int)
    finished = Signal()

    def __init__(self, parent: QObject | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self._clock = clock
        self.days = T.DAYS_DEFAULT
        self.hours = 0.0  #: simulated hours since the start (day 1, 08:00)
        self.evenings = 0  #: evenings passed (diary entries written)
        self.speed = SPEEDS[DEFAULT_SPEED][0]
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self._last = 0.0

    @property
    def running(self) -> bool:
        return self.timer.isActive()

    @property
    def over(self) -> bool:
        return self.evenings >= self.days

    @property
    def total_hours(self) -> float:
        """Hours from the start to the last evening."""
        return evening_at(self.days)

    def reset(self, days: int) -> None:
        """A new trial of ``days`` days, stopped at its start."""
        T.check_days(days)
        self.timer.stop()
        self.days = days
        self.hours = 0.0
        self.evenings = 0
        self.moved.emit()

    def run(self, on: bool) -> None:
        if on and not self.over:
            self._last = self._clock()
            self.timer.start()
        else:
            self.timer.stop()
        self.moved.emit()

    def _tick(self) -> None:
        now = self._clock()
        dt, self._last = max(0.0, now - self._last), now
        self.advance(dt * self.speed)

    def advance(self, hours: float) -> None:
        """Let ``hours`` of trial time pass: every evening crossed is announced, in order."""
        if self.over:
            return
        self.hours = min(self.total_hours, self.hours + hours)
        while not self.over and self.hours >= evening_at(self.evenings + 1):
            self.evenings += 1
            self.evening.emit(self.evenings)
        if self.over:
            self.timer.stop()
            self.finished.emit()
        self.moved.emit()

    def words(self) -> str:
        """"Day 3 of 7, 14:00" (the trial's day and the time of day)."""
        hour_of_trial = START_HOUR + self.hours
        day = min(self.days, int(hour_of_trial // 24) + 1)
        clock = hour_of_trial - (day - 1) * 24
        hh, mm = int(clock), int(round((clock - int(clock)) * 60))
        if mm == 60:
            hh, mm = hh + 1, 0
        return f"Day {day} of {self.days}, {hh:02d}:{mm:02d}"


def evening_at(day: int) -> float:
    """Hours from the start (day 1, 08:00) to day ``day``'s evening."""
    return (day - 1) * 24.0 + EVENING_HOUR - START_HOUR
