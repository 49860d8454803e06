"""The generator's cell and charger over time, driven by the engine's battery model.

The engine integrates the state of charge exactly for a constant power; this class steps
from event to event (a threshold crossed downward, the charger reaching full), so the
generator can stop stimulation at EMPTY/EOS at the exact moment and change the power for
the rest of an interval, however long the interval (SIM SPEED up to 100000).
"""

from __future__ import annotations

import math

from ..engine import battery
from ..engine import params as P

BattEvent = tuple[str, str]  #: ("BATT", "LOW") or ("CHARGE", "FULL")
IDLE_MW = P.QUIESCENT_MW  #: power drawn while not stimulating (the quiescent draw never stops)


class BatterySim:
    """State of charge (percent), the state last reported, the charger and its faults."""

    def __init__(self, chemistry: str = battery.LIION, soc_percent: float = 100.0, eos: bool = False) -> None:
        self.cell = battery.cell(chemistry)
        self.soc = min(100.0, max(0.0, soc_percent))
        self._states = (battery.OK, self.cell.warn_state, self.cell.stop_state)
        self.eos_latched = eos and self.cell.stop_state == battery.EOS
        self.reported = self.state
        self.on_charger = False
        self.hot = False
        self.full = False

    @property
    def chemistry(self) -> str:
        return self.cell.chemistry

    @property
    def state(self) -> str:
        """OK / LOW / EMPTY or OK / ERI / EOS (EOS, once reached, is for good)."""
        if self.eos_latched:
            return battery.EOS
        return battery.battery_state(self.soc, self.cell.chemistry)

    @property
    def permille(self) -> int:
        return int(math.floor(self.soc * 10.0 + 1e-9))

    @property
    def charging(self) -> bool:
        return self.on_charger and not self.hot and not self.full

    @property
    def stopped(self) -> bool:
        """At the stop level: stimulation is refused (EMPTY until charged, EOS for good)."""
        return self.state == self.cell.stop_state

    def vbat_mv(self) -> int:
        return round(battery.ocv_volts(self.soc, self.cell.chemistry) * 1000.0)

    def est_hours(self, power_mw: float) -> float:
        """Hours of battery time to the stop level at ``power_mw`` (the present draw)."""
        if self.stopped or self.soc <= self.cell.stop_percent:
            return 0.0
        secs = battery.seconds_until(self.soc, self.cell.stop_percent, self.cell.chemistry, power_mw)
        return 0.0 if secs is None else secs / 3600.0

    def set_level(self, soc_percent: float) -> None:
        """SIM BATT: jump to a level; crossings are reported by the next ``step``."""
        self.soc = min(100.0, max(0.0, soc_percent))
        if self.soc < 100.0:
            self.full = False

    def step(self, power_mw: float, seconds: float) -> tuple[float, list[BattEvent]]:
        """Advance at most ``seconds`` of battery time, stopping at the first event.

        Returns the seconds used and the events at that moment (empty when none was due
        within ``seconds``). Call again with the remainder after handling the events.
        """
        due = self._due()
        if due:
            return 0.0, due
        candidates: list[tuple[float, float]] = []  # (seconds, soc snapped to)
        lower = self._next_lower()
        if lower is not None:
            t = battery.seconds_until(self.soc, lower, self.cell.chemistry, power_mw, self.charging)
            if t is not None:
                candidates.append((t, lower))
        if self.charging:
            t = battery.seconds_until(self.soc, 100.0, self.cell.chemistry, power_mw, True)
            if t is not None:
                candidates.append((t, 100.0))
        if not candidates or min(candidates)[0] > seconds:
            self._advance(power_mw, seconds)
            return seconds, []
        t, snap = min(candidates)
        self._advance(power_mw, t)
        self.soc = snap  # exactly on the threshold, so the crossing is seen despite rounding
        return t, self._due()

    def _advance(self, power_mw: float, seconds: float) -> None:
        if seconds <= 0.0 or (self.on_charger and self.full):
            return  # a full cell on the charger is held full
        self.soc = battery.advance_soc(self.soc, self.cell.chemistry, power_mw, seconds, self.charging)

    def _rank(self, state: str) -> int:
        return self._states.index(state)

    def _next_lower(self) -> float | None:
        rank = self._rank(self.reported)
        if rank + 1 >= len(self._states):
            return None
        return (self.cell.warn_percent, self.cell.stop_percent)[rank]

    def _due(self) -> list[BattEvent]:
        now = self._rank(self.state)
        seen = self._rank(self.reported)
        if now > seen:  # one threshold at a time, so a jump reports every one crossed
            self.reported = self._states[seen + 1]
            if self.reported == battery.EOS:
                self.eos_latched = True
            return [("BATT", self.reported)]
        if now < seen:
            self.reported = self.state  # rising (charging): no event
        if self.charging and self.soc >= 100.0:
            self.full = True
            return [("CHARGE", "FULL")]
        return []
