"""The battery's states, chemistry and charger in words a patient and a clinician read.

The thresholds in the sentences come from the engine's cells (``engine.battery.CELLS``),
so the words follow the parameter table.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...engine import battery as B


@dataclass(frozen=True)
class StateWords:
    """A state as the view shows it: a headline, what it means, and how loud (info/warning/error)."""

    headline: str
    meaning: str
    level: str


def _pct(value: float) -> str:
    return f"{value:g} %"


#: The trial stimulator's pack, when it runs low and when it is empty (the remote shows these too).
PACK_LOW = "Replace the battery pack soon"
PACK_EMPTY = "Replace the battery pack"


def state_words(state: str, chemistry: str) -> StateWords:
    """The device's battery STATE in words; an unknown state is named as it is."""
    key = chemistry.lower()
    c = B.cell(key) if key in B.CELLS else None
    warn = _pct(c.warn_percent) if c else "its warning level"
    stop = _pct(c.stop_percent) if c else "its stop level"
    if key == B.PACK and state == B.LOW:
        return StateWords(PACK_LOW, f"The battery pack is at {warn} or less. Stimulation continues: have a fresh "
                          "pack at hand.", "warning")
    if key == B.PACK and state == B.EMPTY:
        return StateWords(f"Stimulation stopped: {PACK_EMPTY[0].lower()}{PACK_EMPTY[1:]}",
                          f"The battery pack is at {stop} or less. The trial stimulator stopped stimulation "
                          "and cannot restart it until a fresh pack is in.", "error")
    if state == B.OK:
        return StateWords("Battery OK", "Nothing to do.", "info")
    if state == B.LOW:
        return StateWords("Charge soon", f"The battery is at {warn} or less. Stimulation continues: charge today.",
                          "warning")
    if state == B.EMPTY:
        return StateWords("Stimulation stopped: charge now",
                          f"The battery is at {stop} or less. The stimulator stopped stimulation and "
                          f"cannot restart it until it is charged above {stop}.", "error")
    if state == B.ERI:
        return StateWords("Replace soon",
                          f"Elective replacement indicator: the battery is at {warn} or less. Stimulation "
                          "continues; the clinic plans a replacement.", "warning")
    if state == B.EOS:
        return StateWords("End of service",
                          f"The battery is at {stop} or less: stimulation has stopped for good. The "
                          "stimulator must be replaced.", "error")
    if not state:
        return StateWords("Battery not read yet", "The stimulator has not reported its battery.", "info")
    return StateWords(f"Battery state {state}", "The stimulator reported a state this app does not know.",
                      "warning")


def chemistry_words(chemistry: str) -> str:
    key = chemistry.lower()
    if key == B.LIION:
        return "Li-ion, rechargeable"
    if key == B.PRIMARY:
        return "primary cell, not rechargeable"
    if key == B.PACK:
        return "replaceable battery pack, no charger"
    return chemistry or "unknown cell"


def has_charger(chemistry: str) -> bool:
    """Whether the cell is charged (Li-ion); an unknown or unreported cell is taken to be."""
    key = chemistry.lower()
    return B.cell(key).rechargeable if key in B.CELLS else True


def no_charger_words(chemistry: str) -> str:
    """Why a cell without a charger has none, in words."""
    if chemistry.lower() == B.PACK:
        return "No charger: the trial stimulator's battery pack is replaced, not charged"
    return "No charger: a primary cell is replaced, not charged"


#: The charger's last reported state (``!CHARGE STATE=``) in words, with its level.
CHARGER_WORDS: dict[str, tuple[str, str]] = {
    "ON": ("Charging", "info"),
    "OFF": ("Not charging", "info"),
    "HOT": ("Charger too hot: charging paused until it cools. Take the charger off the skin "
            "and let it cool", "warning"),
    "FULL": ("Fully charged: the charger can be taken off", "info"),
}

NO_CHARGER = "This stimulator has no simulated charger (it does not accept SIM): charge it with its own charger"
PRIMARY_NO_CHARGE = "This stimulator has a primary cell: it cannot be charged"
PACK_NO_CHARGE = "This trial stimulator runs on a battery pack: it is replaced, not charged"


def hours_left_words(hours: float | None) -> str:
    """``EST_H`` in words: the time left to the stop level at the present draw."""
    if hours is None:
        return ""
    if hours <= 0:
        return "No stimulation time left"
    if hours < 48:
        return f"About {hours:.0f} h of battery time left at the present draw"
    days = hours / 24.0
    if days < 730:
        return f"About {days:.0f} days of battery time left at the present draw"
    return f"About {days / 365.25:.1f} years of battery time left at the present draw"
