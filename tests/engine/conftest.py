"""Shared program builders for engine tests."""

from __future__ import annotations

from dataclasses import replace

import pytest

from stimsim.engine.params import Mode, Recharge
from stimsim.engine.program import Electrodes, Program

#: A valid base program per mode, roomy enough that any one parameter can be pushed to
#: its range limit without another rule (fit, contact current) getting in the way.
BASE = {
    Mode.TONIC: Program(Mode.TONIC, 1000, 100, 2, Electrodes.of({"4": -50, "5": -50, "case": 100})),
    Mode.BURST: Program(Mode.BURST, 1000, 100, 1, Electrodes.of({"4": -50, "5": -50, "case": 100}),
                        recharge=Recharge.PASSIVE, burst_pulses=2, intraburst_rate_hz=250),
    Mode.HF: Program(Mode.HF, 1000, 20, 1000, Electrodes.of({"4": -50, "5": -50, "case": 100})),
}


@pytest.fixture
def base() -> dict[Mode, Program]:
    return BASE


def tonic(**changes: object) -> Program:
    """3 mA, 300 us, 50 Hz active tonic on 4- 5+ unless changed."""
    prog = Program(Mode.TONIC, 3000, 300, 50, Electrodes.of({"4": -100, "5": 100}))
    return replace(prog, **changes)  # type: ignore[arg-type]
