"""battery_cost: the sentence before a hungry save, and its numbers equal the engine's."""

from __future__ import annotations

import dataclasses

import pytest

from stimsim.app.battery.cost import HUNGRY_MINUTES, battery_cost, fmt_minutes
from stimsim.app.battery.words import state_words
from stimsim.app.launch import example_slot_programs
from stimsim.engine import battery as B
from stimsim.engine.program import DeviceModel

PROGRAMS = example_slot_programs()
TONIC, HF = PROGRAMS[0], PROGRAMS[2]


def test_liion_cost_in_charging_minutes_a_day() -> None:
    device = DeviceModel("liion")
    cost = battery_cost(HF, TONIC, device)
    hf = B.battery_figures(HF, device, "liion")
    tonic = B.battery_figures(TONIC, device, "liion")
    assert cost.figure == "charge_minutes_per_day"
    assert cost.new == hf and cost.saved == tonic
    assert cost.new_value == hf["charge_minutes_per_day"] and cost.saved_value == tonic["charge_minutes_per_day"]
    assert cost.text == (f"This program needs {fmt_minutes(float(hf['charge_minutes_per_day']))} of charging a day, "
                         f"the saved one {fmt_minutes(float(tonic['charge_minutes_per_day']))}")
    assert cost.text == "This program needs 34 min of charging a day, the saved one 2.7 min"
    assert cost.hungrier and cost.ratio == pytest.approx(float(hf["battery_power_mw"]) / float(tonic["battery_power_mw"]))
    assert not battery_cost(TONIC, HF, device).hungrier  # a thriftier program is not worth a word


def test_a_small_rise_is_not_hungry() -> None:
    device = DeviceModel("liion")
    louder = TONIC.with_amplitude(TONIC.amplitude_ua + 500)
    cost = battery_cost(louder, TONIC, device)
    assert cost.ratio is not None and cost.ratio > 1.0
    assert cost.new_value - (cost.saved_value or 0.0) < HUNGRY_MINUTES and not cost.hungrier


def test_primary_cost_in_years_to_eri_and_hours_a_day() -> None:
    device = DeviceModel("primary")
    cost = battery_cost(HF, TONIC, device, hours_per_day=12.0)
    hf = B.battery_figures(HF, device, "primary", 12.0)
    assert cost.figure == "years_to_eri" and cost.new_value == hf["years_to_eri"]
    assert cost.text.startswith(f"This program reaches ERI in {float(hf['years_to_eri']):.1f} years (running 12 h a day)")
    assert cost.hungrier


def test_without_a_saved_program_and_bad_input() -> None:
    cost = battery_cost(HF, None, DeviceModel("liion"), chemistry="primary")
    assert cost.saved is None and cost.ratio is None and not cost.hungrier
    assert cost.chemistry == "primary" and cost.text.startswith("This program reaches ERI in")
    with pytest.raises(ValueError, match="hours per day"):
        battery_cost(HF, TONIC, DeviceModel(), hours_per_day=25.0)
    with pytest.raises(ValueError, match="chemistry"):
        battery_cost(HF, TONIC, dataclasses.replace(DeviceModel(), chemistry="nicd"))


@pytest.mark.parametrize(("state", "chem", "headline", "level"), [
    ("OK", "liion", "Battery OK", "info"),
    ("LOW", "liion", "Charge soon", "warning"),
    ("EMPTY", "liion", "Stimulation stopped: charge now", "error"),
    ("ERI", "primary", "Replace soon", "warning"),
    ("EOS", "primary", "End of service", "error"),
])
def test_states_in_words(state: str, chem: str, headline: str, level: str) -> None:
    words = state_words(state, chem)
    assert (words.headline, words.level) == (headline, level)
    cell = B.cell(chem)
    assert f"{cell.warn_percent:g} %" in words.meaning or f"{cell.stop_percent:g} %" in words.meaning or state == "OK"


def test_a_trial_battery_pack_is_compared_in_days_per_pack() -> None:
    from stimsim.engine.params import Family

    device = DeviceModel(family=Family.ETS)
    cost = battery_cost(HF, TONIC, device)
    assert cost.figure == "days_per_pack" and cost.hungrier
    assert cost.text.startswith("This program empties a battery pack in ")
