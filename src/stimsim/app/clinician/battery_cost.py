"""What a program costs the battery compared with the saved one, in words (no Qt).

The clinician view asks before a save; the battery view can show the same sentence.
"""

from __future__ import annotations

from ...engine.battery import battery_figures
from ...engine.program import DeviceModel, Program

NOTABLE_RATIO = 1.5  #: a new program needing this many times the saved one's charging is worth a word
NOTABLE_MINUTES = 5.0  #: ... and at least this many minutes of charging a day (rechargeable)
NOTABLE_YEARS_LOST = 0.5  #: primary cell: ... or this many fewer years to the replacement indicator


def battery_cost_warning(program: Program, saved: Program | None, device: DeviceModel) -> str | None:
    """A sentence when ``program`` needs notably more battery than ``saved``, else None.

    Rechargeable: minutes of charging a day; primary: years to the replacement indicator (ERI).
    """
    new = battery_figures(program, device, device.chemistry)
    old = battery_figures(saved, device, device.chemistry) if saved is not None else None
    if "charge_minutes_per_day" in new:
        minutes = float(new["charge_minutes_per_day"])
        before = float(old["charge_minutes_per_day"]) if old is not None else 0.0
        if minutes > NOTABLE_MINUTES and minutes > NOTABLE_RATIO * before:
            was = f", the saved one {before:.0f}" if old is not None else ""
            return f"This program needs {minutes:.0f} min of charging a day{was}"
        return None
    years = float(new["years_to_eri"])
    if old is None:
        return None
    before = float(old["years_to_eri"])
    if before > NOTABLE_RATIO * years and before - years > NOTABLE_YEARS_LOST:
        return f"With this program the battery reaches its replacement indicator in {years:.1f} years, " \
               f"with the saved one in {before:.1f}"
    return None
