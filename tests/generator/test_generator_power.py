"""Battery drain through the engine's model, SIM SPEED, thresholds, charger and over-temperature."""

from __future__ import annotations

import pytest

from stimsim.engine import params as P
from stimsim.engine.metrics import battery_power_mw
from stimsim.engine.params import Mode
from stimsim.engine.program import DeviceModel, Electrodes, Program
from stimsim.generator.virtual_generator import VirtualGenerator

from .conftest import FakeClock, login, program_slot, send, transcript

SPEED = 100_000.0
TONIC_PROGRAM = Program(Mode.TONIC, 3000, 300, 50, Electrodes.of({"4": -100, "5": 100}))


def real_seconds(percent: float, power_mw: float, capacity_mwh: float = P.LIION_CAPACITY_MWH) -> float:
    """Real seconds for ``percent`` of the cell at ``power_mw`` when time runs at SPEED."""
    return percent / 100.0 * capacity_mwh / power_mw * 3600.0 / SPEED


@pytest.fixture
def fast(clock: FakeClock) -> VirtualGenerator:
    gen = VirtualGenerator(clock, rng_seed=5, speed=SPEED)
    login(gen)
    program_slot(gen)
    return gen


def test_stimulation_drains_to_low_then_empty_and_stops(fast: VirtualGenerator, clock: FakeClock) -> None:
    power = battery_power_mw(TONIC_PROGRAM, DeviceModel())
    assert send(fast, "STIM ON") == ["OK STIM=ON"]
    start = clock.t
    to_low, to_empty = real_seconds(80.0, power), real_seconds(95.0, power)
    clock.t = start + to_low * 0.999
    assert fast.poll() == b""
    clock.t = start + to_low * 1.001
    transcript(fast, [(None, "!BATT STATE=LOW BATT=200")])
    clock.t = start + to_empty * 0.999
    assert fast.poll() == b""
    clock.t = start + to_empty * 1.001
    transcript(fast, [
        ("STATUS", ["!BATT STATE=EMPTY BATT=50", "!STIM STIM=OFF REASON=BATTERY",
                    "OK STIM=OFF SLOT=1 AMP=3000 BATT=49 CHG=0 ROLE=CLINICIAN COMPLIANCE=OK MRI=0 TEST=0"]),
        ("STIM ON", "ERR STATE REASON=BATTERY"),
        ("BATT", "OK BATT=49 VBAT_MV=3449 CHEM=LIION CHG=0 STATE=EMPTY EST_H=0.0"),
    ])


def test_a_long_silence_reports_both_thresholds_and_drains_only_quiescently_after(
    fast: VirtualGenerator, clock: FakeClock
) -> None:
    power = battery_power_mw(TONIC_PROGRAM, DeviceModel())
    send(fast, "STIM ON")
    to_empty = real_seconds(95.0, power)
    after = 10.0  # real seconds past the stop
    clock.advance(to_empty + after)
    transcript(fast, [(None, ["!BATT STATE=LOW BATT=200", "!BATT STATE=EMPTY BATT=50",
                              "!STIM STIM=OFF REASON=BATTERY"])])
    drained = P.QUIESCENT_MW * after * SPEED / 3600.0 / P.LIION_CAPACITY_MWH * 100.0
    assert fast.battery.soc == pytest.approx(P.LIION_STOP_PERCENT - drained, rel=1e-9)


def test_est_h_is_the_time_to_the_stop_level_at_the_present_draw(fast: VirtualGenerator) -> None:
    power = battery_power_mw(TONIC_PROGRAM, DeviceModel())
    send(fast, "SIM BATT=500")
    idle = (50.0 - 5.0) / 100.0 * P.LIION_CAPACITY_MWH / P.QUIESCENT_MW
    assert send(fast, "BATT") == [f"OK BATT=500 VBAT_MV=3700 CHEM=LIION CHG=0 STATE=OK EST_H={idle:.1f}"]
    send(fast, "STIM ON")
    est = (50.0 - 5.0) / 100.0 * P.LIION_CAPACITY_MWH / power
    assert send(fast, "BATT") == [f"OK BATT=500 VBAT_MV=3700 CHEM=LIION CHG=0 STATE=OK EST_H={est:.1f}"]


def test_sim_batt_reports_every_threshold_crossed(fast: VirtualGenerator) -> None:
    transcript(fast, [
        ("SIM BATT=150", ["OK BATT=150", "!BATT STATE=LOW BATT=150"]),
        ("SIM BATT=900", "OK BATT=900"),  # rising: no event
        ("SIM BATT=0", ["OK BATT=0", "!BATT STATE=LOW BATT=0", "!BATT STATE=EMPTY BATT=0"]),
        ("SIM BATT=1001", "ERR OUT_OF_RANGE KEY=BATT MIN=0 MAX=1000"),
        ("SIM BATT=half", "ERR BAD_ARG KEY=BATT"),
        ("SIM BATT=60", "OK BATT=60"),  # above 5 %: EMPTY clears
        ("STIM ON", "OK STIM=ON"),
    ])


def test_charger_on_full_off(fast: VirtualGenerator, clock: FakeClock) -> None:
    send(fast, "SIM BATT=900")
    transcript(fast, [
        ("SIM CHARGE=1", ["OK CHARGE=1", "!CHARGE STATE=ON"]),
        ("SIM CHARGE=1", "OK CHARGE=1"),
        ("BATT", "OK BATT=900 VBAT_MV=4000 CHEM=LIION CHG=1 STATE=OK EST_H=15725.0"),
    ])
    to_full = 10.0 / 100.0 * P.LIION_CAPACITY_MWH / (P.LIION_CHARGE_MW - P.QUIESCENT_MW) * 3600.0 / SPEED
    clock.advance(to_full * 0.99)
    assert fast.poll() == b""
    clock.advance(to_full * 0.02)
    transcript(fast, [
        (None, "!CHARGE STATE=FULL"),
        ("STATUS", "OK STIM=OFF SLOT=1 AMP=3000 BATT=1000 CHG=0 ROLE=CLINICIAN COMPLIANCE=OK MRI=0 TEST=0"),
    ])
    clock.advance(100.0)  # on the charger a full cell stays full ...
    assert fast.poll() == b"" and fast.battery.soc == 100.0
    transcript(fast, [
        ("SIM CHARGE=0", ["OK CHARGE=0", "!CHARGE STATE=OFF"]),
        ("SIM CHARGE=maybe", "ERR BAD_ARG KEY=CHARGE"),
    ])
    clock.advance(100.0)  # ... and off it, it drains again
    assert fast.poll() == b"" and fast.battery.soc < 100.0


def test_charging_from_empty_lets_stimulation_restart(fast: VirtualGenerator, clock: FakeClock) -> None:
    send(fast, "SIM BATT=20")
    assert send(fast, "STIM ON") == ["ERR STATE REASON=BATTERY"]
    send(fast, "SIM CHARGE=1")
    clock.advance(0.01)  # 1000 s of battery time at 185 mW: ~7 %
    assert send(fast, "STIM ON") == ["OK STIM=ON"]
    assert fast.status()["charging"]


def test_over_temperature_stops_charging_until_cleared(fast: VirtualGenerator, clock: FakeClock) -> None:
    send(fast, "SIM BATT=500")
    transcript(fast, [
        ("SIM CHARGE=1", ["OK CHARGE=1", "!CHARGE STATE=ON"]),
        ("SIM FAULT=HOT", ["OK FAULT=HOT", "!CHARGE STATE=HOT"]),
        ("SIM FAULT=HOT", "OK FAULT=HOT"),
    ])
    level = fast.battery.soc
    clock.advance(5.0)
    assert send(fast, "STATUS")[0].split()[5] == "CHG=0" and fast.battery.soc < level
    transcript(fast, [
        ("SIM FAULT=NONE", ["OK FAULT=NONE", "!CHARGE STATE=ON"]),
        ("SIM CHARGE=0", ["OK CHARGE=0", "!CHARGE STATE=OFF"]),
        ("SIM FAULT=HOT", "OK FAULT=HOT"),  # off the charger: nothing to report
        ("SIM CHARGE=1", ["OK CHARGE=1", "!CHARGE STATE=HOT"]),
    ])


def test_speed_scales_battery_time_only(gen: VirtualGenerator, clock: FakeClock) -> None:
    transcript(gen, [
        ("SIM SPEED=0.05", "ERR OUT_OF_RANGE KEY=SPEED MIN=0.1 MAX=100000"),
        ("SIM SPEED=100001", "ERR OUT_OF_RANGE KEY=SPEED MIN=0.1 MAX=100000"),
        ("SIM SPEED=fast", "ERR BAD_ARG KEY=SPEED"),
        ("SIM SPEED=2.5", "OK SPEED=2.5"),
        ("SIM", "ERR BAD_ARG KEY=SIM"),
        ("SIM RESET SPEED=1", "ERR BAD_ARG KEY=SPEED"),
        ("SIM WARP=9", "ERR BAD_ARG KEY=WARP"),
    ])
    clock.advance(3600.0)
    assert gen.poll() == b""
    drained = P.QUIESCENT_MW * 2.5 / P.LIION_CAPACITY_MWH * 100.0
    assert gen.battery.soc == pytest.approx(100.0 - drained)


def test_speed_argument_is_checked(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="speed"):
        VirtualGenerator(clock, speed=0.0)


def test_primary_cell_eri_eos_and_no_charger(clock: FakeClock) -> None:
    gen = VirtualGenerator(clock, rng_seed=2, chemistry="primary")
    login(gen)
    program_slot(gen)
    transcript(gen, [
        ("BATT", "OK BATT=1000 VBAT_MV=3100 CHEM=PRIMARY CHG=0 STATE=OK EST_H=220500.0"),
        ("SIM CHARGE=1", "ERR STATE REASON=PRIMARY"),
        ("STIM ON", "OK STIM=ON"),
        ("SIM BATT=100", ["OK BATT=100", "!BATT STATE=ERI BATT=100"]),
        ("SIM BATT=20", ["OK BATT=20", "!BATT STATE=EOS BATT=20", "!STIM STIM=OFF REASON=BATTERY"]),
        ("SIM BATT=1000", "OK BATT=1000"),
        ("BATT", "OK BATT=1000 VBAT_MV=3100 CHEM=PRIMARY CHG=0 STATE=EOS EST_H=0.0"),  # EOS is for good
        ("STIM ON", "ERR STATE REASON=BATTERY"),
    ])
