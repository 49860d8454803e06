"""Every default of the closed loop, once: the virtual nerve's figures and the loop's pace.

Each row names a figure (docs/closed-loop.md), its unit, its meaning and where it comes
from (a published figure, or this project's choice). The nerve, the loop and the command
line read their numbers from here, so a default is written down in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Default:
    """One row of the closed loop's defaults."""

    key: str
    value: float
    unit: str
    meaning: str
    source: str = "this project's default"


_ROWS: tuple[Default, ...] = (
    Default("slope_uv_per_ma", 40.0, "uV/mA", "ECAP growth slope S above the ECAP threshold",
            "this project's default (no published value found)"),
    Default("threshold_ratio", 0.95, "PT", "ECAP threshold T over the perception threshold",
            "Pilitsis 2021: ECAP threshold predicts PT to 0.5 dB"),
    Default("noise_uv", 3.0, "uV", "sigma of the Gaussian noise added to every measurement"),
    Default("cough_depth_mm", 1.5, "mm", "CSF depth behind the cord taken away by a cough"),
    Default("cough_s", 1.0, "s", "how long a cough lasts (coughs do not stack)"),
    Default("max_update_hz", 100.0, "Hz",
            "the loop updates once per pulse up to this rate, above it on the first pulse of each 1/rate s"),
)

#: The table by key.
TABLE = MappingProxyType({row.key: row for row in _ROWS})

SLOPE_UV_PER_MA: float = TABLE["slope_uv_per_ma"].value
THRESHOLD_RATIO: float = TABLE["threshold_ratio"].value
NOISE_UV: float = TABLE["noise_uv"].value
COUGH_DEPTH_MM: float = TABLE["cough_depth_mm"].value
COUGH_S: float = TABLE["cough_s"].value
MAX_UPDATE_HZ: int = int(TABLE["max_update_hz"].value)


def markdown_table() -> str:
    """The table as docs/closed-loop.md shows it (a test keeps the two in step)."""
    lines = ["| key | default | unit | meaning | source |", "|---|---|---|---|---|"]
    for row in _ROWS:
        lines.append(f"| `{row.key}` | {row.value:g} | {row.unit} | {row.meaning} | {row.source} |")
    return "\n".join(lines)
