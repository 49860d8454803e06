"""Positions along the spine: level ordinals, labels such as ``"T9.5"``, millimetres, CSF depth.

A level ordinal counts vertebrae from C1 = 1 (T1 = 8, L1 = 20, S1 = 25); a whole ordinal is
the vertebra's upper endplate and a fraction goes down into it. Cervical vertebrae are
20 mm tall, the rest 30 mm, so millimetres convert vertebra by vertebra.
"""

from __future__ import annotations

import re

import numpy as np

from .defaults import Params

#: (letter, first ordinal, count) of each spine region.
_REGIONS = (("C", 1, 7), ("T", 8, 12), ("L", 20, 5), ("S", 25, 1))
FIRST_LEVEL = 1.0
LAST_LEVEL = 25.0  #: S1's upper endplate; a label may go a fraction below it
CERVICAL_MM = 20.0
OTHER_MM = 30.0
_CERVICAL_END = 8.0  #: T1's ordinal: the first 30 mm vertebra
_LABEL = re.compile(r"([CTLS])([0-9]{1,2})(\.[0-9]{1,3})?")

#: Where the CSF depth is given: C5, T6, T11 (ordinals) and the matching ``Params`` fields.
CSF_LEVELS = (5.0, 13.0, 18.0)


def parse_label(text: str) -> float:
    """``"T8"`` -> 15.0, ``"T9.5"`` -> 16.5; ValueError says what a label is."""
    found = _LABEL.fullmatch(text.strip()) if isinstance(text, str) else None
    if found is not None:
        letter, number, fraction = found.group(1), int(found.group(2)), found.group(3) or ""
        for name, first, count in _REGIONS:
            if name == letter and 1 <= number <= count:
                return first + number - 1 + (float(fraction) if fraction else 0.0)
    raise ValueError(f"{text!r} is not a spine level (C1..C7, T1..T12, L1..L5 or S1, with an optional "
                     "fraction such as T9.5)")


def label(level: float) -> str:
    """The label of an ordinal, to 0.01 of a vertebra: 16.5 -> ``"T9.5"``, 15.0 -> ``"T8"``."""
    whole = int(np.floor(level + 1e-9))
    fraction = round(level - whole, 2)
    if fraction >= 1.0:
        whole, fraction = whole + 1, 0.0
    for name, first, count in _REGIONS:
        if first <= whole < first + count:
            base = f"{name}{whole - first + 1}"
            return base if fraction == 0 else f"{base}{f'{fraction:.2f}'.rstrip('0')[1:]}"
    return f"{level:.2f}"


def level_to_mm(level: float | np.ndarray) -> np.ndarray:
    """Millimetres below C1's upper endplate."""
    lv = np.asarray(level, dtype=np.float64)
    return np.where(lv <= _CERVICAL_END, (lv - 1.0) * CERVICAL_MM,
                    (_CERVICAL_END - 1.0) * CERVICAL_MM + (lv - _CERVICAL_END) * OTHER_MM)


def mm_to_level(mm: float | np.ndarray) -> np.ndarray:
    """The inverse of ``level_to_mm``."""
    m = np.asarray(mm, dtype=np.float64)
    cervical_mm = (_CERVICAL_END - 1.0) * CERVICAL_MM
    return np.where(m <= cervical_mm, 1.0 + m / CERVICAL_MM, _CERVICAL_END + (m - cervical_mm) / OTHER_MM)


def csf_depth_mm(level: float | np.ndarray, params: Params) -> np.ndarray:
    """Dorsal CSF depth at a level (no posture): linear between C5, T6 and T11, flat beyond."""
    depths = (params.csf_c5_mm, params.csf_t6_mm, params.csf_t11_mm)
    return np.interp(np.asarray(level, dtype=np.float64), CSF_LEVELS, depths)
