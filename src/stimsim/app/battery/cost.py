"""What a program costs in battery, compared with another: said before a hungry change is saved.

"This program needs 44 min of charging a day, the saved one 9 min" (Li-ion) or "This
program reaches ERI in 3.1 years, the saved one in 9.8 years" (primary). Every number is
``engine.battery.battery_figures``; this module only picks the figure that matters for
the cell, compares, and words it. No Qt: the clinician's save dialog and the battery
view's comparison both call :func:`battery_cost`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ...engine import battery as B
from ...engine.program import DeviceModel, Program

HUNGRY_RATIO = 1.2  #: a program is "hungrier" from 20 % more energy a day ...
HUNGRY_MINUTES = 5.0  #: ... and (Li-ion) at least this many more minutes of charging a day
HUNGRY_YEARS = 0.5  #: ... or (primary) at least this many years less to ERI
HUNGRY_PACK_DAYS = 0.5  #: ... or (a trial's battery pack) at least this many days less per pack


@dataclass(frozen=True)
class BatteryCost:
    """One program's battery cost against another's (``saved`` None: nothing to compare)."""

    chemistry: str
    hours_per_day: float
    figure: str  #: the battery_figures key compared: charge_minutes_per_day, days_per_pack or years_to_eri
    new: dict[str, str | float]  #: battery_figures of the new program
    saved: dict[str, str | float] | None  #: ... of the saved one
    ratio: float | None  #: the new program's battery power over the saved one's (None without saved)
    hungrier: bool  #: worth saying before the save (see HUNGRY_*)
    text: str  #: the sentence

    @property
    def new_value(self) -> float:
        return float(self.new[self.figure])

    @property
    def saved_value(self) -> float | None:
        return None if self.saved is None else float(self.saved[self.figure])


def fmt_minutes(minutes: float) -> str:
    """Charging minutes a day: ``44 min``, ``2.7 min``."""
    return f"{minutes:.0f} min" if minutes >= 9.5 else f"{minutes:.1f} min"


def fmt_years(years: float) -> str:
    return f"{years:.1f} years" if math.isfinite(years) else "never"


def battery_cost(new: Program, saved: Program | None, device: DeviceModel, *, hours_per_day: float = 24.0,
                 chemistry: str | None = None) -> BatteryCost:
    """Compare ``new`` with ``saved`` on ``device`` (its chemistry unless ``chemistry``),
    each running ``hours_per_day``; ValueError for an unknown chemistry or hours outside 0..24."""
    chem = (chemistry or device.chemistry).lower()
    cell = B.cell(chem)
    fig_new = B.battery_figures(new, device, chem, hours_per_day)
    fig_saved = B.battery_figures(saved, device, chem, hours_per_day) if saved is not None else None
    pack = getattr(cell, "replaceable", False)
    key = "charge_minutes_per_day" if cell.rechargeable else "days_per_pack" if pack else "years_to_eri"
    value = float(fig_new[key])
    ratio = None
    hungrier = False
    if fig_saved is not None:
        before = float(fig_saved[key])
        p_new, p_saved = float(fig_new["battery_power_mw"]), float(fig_saved["battery_power_mw"])
        ratio = p_new / p_saved if p_saved > 0 else math.inf
        if cell.rechargeable:
            hungrier = ratio >= HUNGRY_RATIO and value - before >= HUNGRY_MINUTES
        elif pack:
            hungrier = ratio >= HUNGRY_RATIO and before - value >= HUNGRY_PACK_DAYS
        else:
            hungrier = ratio >= HUNGRY_RATIO and before - value >= HUNGRY_YEARS
    hours = "" if hours_per_day == 24.0 else f" (running {hours_per_day:g} h a day)"
    if cell.rechargeable:
        text = f"This program needs {fmt_minutes(value)} of charging a day{hours}"
        if fig_saved is not None:
            text += f", the saved one {fmt_minutes(float(fig_saved[key]))}"
    elif pack:
        text = f"This program empties a battery pack in {value:.1f} days{hours}"
        if fig_saved is not None:
            text += f", the saved one in {float(fig_saved[key]):.1f}"
    else:
        text = f"This program reaches ERI in {fmt_years(value)}{hours}"
        if fig_saved is not None:
            text += f", the saved one in {fmt_years(float(fig_saved[key]))}"
    return BatteryCost(chem, float(hours_per_day), key, fig_new, fig_saved, ratio, hungrier, text)
