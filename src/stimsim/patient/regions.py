"""The 30 body regions where stimulation can be felt: ids, key levels, words and where to draw them.

Each of 15 regions exists on the left and the right; its id is ``left_`` or ``right_`` and
its name (``left_back_thigh``). The key level K is where along the spine the region's
fibres enter the dorsal columns' reach; the words let the patient name it in a sentence,
one side (``"the back of my left thigh"``) or both (``"the backs of both thighs"``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SIDES = ("left", "right")


@dataclass(frozen=True)
class Region:
    """One region on one side. ``view`` is where it is seen on a body chart (front or back)."""

    id: str
    name: str
    side: str
    key_level: float
    one_side: str  #: ``{side}`` to fill: "my {side} buttock"
    both_sides: str  #: "both buttocks"
    view: str
    lateral_only: bool  #: reached only from a lateral cathode (chest, abdomen)

    @property
    def human(self) -> str:
        """The region in a sentence, one side: ``"my left buttock"``."""
        return self.one_side.format(side=self.side)

    @property
    def title(self) -> str:
        """A label for a chart: ``"Left buttock"``."""
        return f"{self.side.capitalize()} {self.name.replace('_', ' ')}"


# name, K, one side, both sides, view, lateral only
_NAMES: tuple[tuple[str, float, str, str, str, bool], ...] = (
    ("head", 2.0, "the {side} side of my head", "my head", "front", False),
    ("neck", 3.0, "the {side} side of my neck", "my neck", "back", False),
    ("shoulder", 3.5, "my {side} shoulder", "both shoulders", "back", False),
    ("arm", 4.5, "my {side} arm", "both arms", "front", False),
    ("hand", 5.5, "my {side} hand", "both hands", "front", False),
    ("chest", 7.5, "the {side} side of my chest", "my chest", "front", True),
    ("low_back", 15.0, "the {side} side of my low back", "my low back", "back", False),
    ("abdomen", 16.5, "the {side} side of my belly", "my belly", "front", True),
    ("buttock", 16.0, "my {side} buttock", "both buttocks", "back", False),
    ("back_thigh", 16.5, "the back of my {side} thigh", "the backs of both thighs", "back", False),
    ("front_thigh", 17.0, "the front of my {side} thigh", "the fronts of both thighs", "front", False),
    ("knee", 17.5, "my {side} knee", "both knees", "front", False),
    ("leg", 17.5, "my {side} lower leg", "both lower legs", "back", False),
    ("foot", 18.5, "my {side} foot", "both feet", "front", False),
    ("perineum", 19.5, "the {side} side of my groin", "my groin", "front", False),
)

#: Region names, head to perineum.
NAMES: tuple[str, ...] = tuple(n[0] for n in _NAMES)

#: Every region, left then right for each name, in the order above.
REGIONS: tuple[Region, ...] = tuple(
    Region(f"{side}_{name}", name, side, k, one, both, view, lateral)
    for name, k, one, both, view, lateral in _NAMES
    for side in SIDES
)

BY_ID = {r.id: r for r in REGIONS}
IDS: tuple[str, ...] = tuple(r.id for r in REGIONS)

# Arrays for the vectorised model, in REGIONS order.
KEY_LEVELS = np.array([r.key_level for r in REGIONS])
SIDE_SIGN = np.array([-1.0 if r.side == "left" else 1.0 for r in REGIONS])
LATERAL_ONLY = np.array([r.lateral_only for r in REGIONS])


def pain_vector(pain: dict[str, float] | tuple[tuple[str, float], ...]) -> np.ndarray:
    """A pain map (id to 0..10) as an array in REGIONS order."""
    items = dict(pain)
    return np.array([float(items.get(rid, 0.0)) for rid in IDS])


def describe(ids: list[str] | tuple[str, ...]) -> str:
    """The regions in words, head to foot (by key level), a pair named once: ``"my left buttock and both feet"``."""
    chosen = set(ids)
    parts: list[str] = []
    for name in sorted(NAMES, key=lambda n: BY_ID[f"left_{n}"].key_level):
        left, right = f"left_{name}", f"right_{name}"
        if left in chosen and right in chosen:
            parts.append(BY_ID[left].both_sides)
        elif left in chosen:
            parts.append(BY_ID[left].human)
        elif right in chosen:
            parts.append(BY_ID[right].human)
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]
