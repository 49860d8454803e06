"""The growth curve's fit: the ECAP threshold and slope from an ``ECAP SWEEP``.

Above its threshold the ECAP grows in a straight line with the amplitude (docs/closed-loop.md:
``E = S * max(0, I - T) + noise``). Below it the sweep reads only noise, so the line is fitted
by least squares to the points above the noise floor, and T is where the line meets zero.
Pure Python: no Qt, no device.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ...host.results import EcapPoint

NOISE_FLOOR_UV = 10.0  #: points at or below this ECAP are noise (about three sigma of the 3 uV noise)
MIN_POINTS = 2


@dataclass(frozen=True)
class GrowthFit:
    """The fitted line: ECAP threshold (uA), slope (uV per mA) and how many points it rests on."""

    threshold_ua: float
    slope_uv_per_ma: float
    points: int

    def ecap_uv(self, amp_ua: float) -> float:
        """The fitted ECAP of an amplitude (0 below the threshold)."""
        return self.slope_uv_per_ma * max(0.0, amp_ua - self.threshold_ua) / 1000.0

    def amp_ua(self, ecap_uv: float) -> float:
        """The amplitude the fitted line gives ``ecap_uv`` at."""
        return self.threshold_ua + 1000.0 * ecap_uv / self.slope_uv_per_ma


def fit_growth(points: Sequence[EcapPoint], noise_floor_uv: float = NOISE_FLOOR_UV) -> GrowthFit:
    """Least squares on the points above ``noise_floor_uv``; ValueError says what is missing."""
    above = [p for p in points if p.ecap_uv > noise_floor_uv]
    if len(above) < MIN_POINTS or len({p.amp_ua for p in above}) < MIN_POINTS:
        raise ValueError(f"{len(above)} point(s) of {len(points)} lie above the noise floor of "
                         f"{noise_floor_uv:g} uV: sweep to a higher amplitude to fit the growth curve")
    n = len(above)
    mx = sum(p.amp_ua for p in above) / n
    my = sum(p.ecap_uv for p in above) / n
    sxx = sum((p.amp_ua - mx) ** 2 for p in above)
    sxy = sum((p.amp_ua - mx) * (p.ecap_uv - my) for p in above)
    slope = sxy / sxx  # uV per uA
    if slope <= 0:
        raise ValueError(f"the ECAP does not grow with the amplitude over the {n} points above the noise floor")
    return GrowthFit(threshold_ua=mx - my / slope, slope_uv_per_ma=1000.0 * slope, points=n)
