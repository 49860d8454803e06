"""The battery view on a stimulator with a primary cell: ERI and EOS in words, no charger."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from stimsim.app.battery.words import PRIMARY_NO_CHARGE
from stimsim.app.launch import StimsimApp
from stimsim.generator import urlhandler
from stimsim.generator.virtual_generator import VirtualGenerator

from .conftest import wait_device


@pytest.fixture
def gen() -> VirtualGenerator:
    return urlhandler.new_generator(rng_seed=11, chemistry="primary")


def test_eri_and_eos_in_words_and_no_charger(qtbot: QtBot, stim: StimsimApp) -> None:
    battery = stim.window.battery
    gauge = battery.gauge
    wait_device(qtbot, lambda: stim.model.status.chemistry == "PRIMARY")
    assert not gauge.start_button.isEnabled() and not gauge.stop_button.isEnabled()
    assert "primary" in gauge.charger_label.text()
    stim.worker.send_line("SIM BATT=80")
    wait_device(qtbot, lambda: gauge.headline.text() == "Replace soon")
    stim.worker.send_line("SIM BATT=10")
    wait_device(qtbot, lambda: gauge.headline.text() == "End of service")
    gauge.set_charging(True)
    assert stim.model.notice.text == PRIMARY_NO_CHARGE
    projection = battery.projection
    wait_device(qtbot, lambda: projection.chemistry == "primary")
    assert not projection.charges_box.isEnabled()
    with qtbot.waitSignal(projection.projected, timeout=3_000):
        projection.recompute()
    assert projection.last is not None and projection.last.plan is not None
    assert projection.last.plan.charging is None
    keys = {f.key for f in projection.last.figures}
    assert {"years_to_eri", "years_to_eos"} <= keys
