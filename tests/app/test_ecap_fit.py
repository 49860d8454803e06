"""The growth curve's fit: threshold and slope from the points above the noise floor."""

from __future__ import annotations

import random

import pytest

from stimsim.app.ecap.fit import GrowthFit, fit_growth
from stimsim.host.results import EcapPoint


def _curve(t_ua: float, slope: float, noise: float = 0.0, seed: int = 1) -> list[EcapPoint]:
    rng = random.Random(seed)
    return [EcapPoint(a, slope * max(0.0, a - t_ua) / 1000.0 + rng.gauss(0.0, noise) if noise else
                      slope * max(0.0, a - t_ua) / 1000.0) for a in range(2000, 9001, 250)]


def test_an_exact_curve_gives_its_threshold_and_slope() -> None:
    fit = fit_growth(_curve(5062.0, 40.0))
    assert fit.threshold_ua == pytest.approx(5062.0)
    assert fit.slope_uv_per_ma == pytest.approx(40.0)
    assert fit.points == sum(1 for a in range(2000, 9001, 250) if 40.0 * (a - 5062) / 1000 > 10)


def test_the_points_under_the_noise_floor_do_not_bend_the_line() -> None:
    fit = fit_growth(_curve(5062.0, 40.0, noise=3.0))
    assert fit.threshold_ua == pytest.approx(5062.0, abs=150)
    assert fit.slope_uv_per_ma == pytest.approx(40.0, rel=0.05)
    naive = fit_growth(_curve(5062.0, 40.0, noise=3.0), noise_floor_uv=-100.0)  # every point
    assert abs(naive.threshold_ua - 5062.0) > 500  # the flat part drags a line through all of them


def test_too_few_points_above_the_floor_say_so() -> None:
    with pytest.raises(ValueError, match="1 point\\(s\\) of 3 lie above the noise floor of 10 uV"):
        fit_growth([EcapPoint(1000, 0.5), EcapPoint(2000, 2.0), EcapPoint(3000, 20.0)])
    with pytest.raises(ValueError, match="does not grow"):
        fit_growth([EcapPoint(1000, 30.0), EcapPoint(2000, 20.0)])


def test_the_fitted_line_both_ways() -> None:
    fit = GrowthFit(4000.0, 40.0, 5)
    assert fit.ecap_uv(3000) == 0.0 and fit.ecap_uv(5000) == pytest.approx(40.0)
    assert fit.amp_ua(40.0) == pytest.approx(5000.0)
