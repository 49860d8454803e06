"""Validation against the parameter table: every range and feasibility rule at its edges."""

from __future__ import annotations

from dataclasses import replace

import pytest

from stimsim.engine import params as P
from stimsim.engine.params import Mode, Recharge
from stimsim.engine.program import Electrodes, Limits, canonical_field
from stimsim.engine.validate import (
    BAD_ARG,
    OUT_OF_RANGE,
    UNSAFE,
    ValidationError,
    check_program,
    validate_program,
)

from .conftest import BASE, tonic

RANGE_CASES = [
    (mode, key)
    for mode in Mode
    for key in P.PARAMS[mode]
]


def _with(mode: Mode, key: str, value: int):
    prog = replace(BASE[mode], **{canonical_field(key): value})
    if key in ("cycle_on_s", "cycle_off_s"):
        # cycling needs both sides; keep the other one valid
        other = "cycle_off_ms" if key == "cycle_on_s" else "cycle_on_ms"
        prog = replace(prog, **{other: 1000})
    return prog


@pytest.mark.parametrize(("mode", "key"), RANGE_CASES, ids=[f"{m.value}-{k}" for m, k in RANGE_CASES])
def test_every_range_edge(mode: Mode, key: str) -> None:
    spec = P.PARAMS[mode][key]
    assert check_program(_with(mode, key, spec.minimum)) == []
    assert check_program(_with(mode, key, spec.maximum)) == []
    over = check_program(_with(mode, key, spec.maximum + 1))
    assert [(p.key, p.code, p.wire, p.minimum, p.maximum) for p in over] == [
        (key, OUT_OF_RANGE, spec.wire, spec.minimum, spec.maximum)
    ]
    assert f"is above {spec.fmt(spec.maximum)} for {mode.value}" in over[0].message
    if spec.minimum > 0:
        under = check_program(_with(mode, key, spec.minimum - 1))
        assert [(p.key, p.code) for p in under] == [(key, OUT_OF_RANGE)]


def test_message_names_path_value_and_range() -> None:
    prog = replace(BASE[Mode.TONIC], pulse_width_us=1500)
    with pytest.raises(ValidationError) as err:
        validate_program(prog, prefix="programs[0]")
    assert str(err.value) == "programs[0].pulse_width_us: 1500 is above 1000 for tonic (allowed 20..1000 us)"


def test_amplitude_message_in_milliamps() -> None:
    prog = replace(BASE[Mode.HF], amplitude_ua=15_001)
    (problem,) = check_program(prog)
    assert problem.message == "15.001 is above 15 for hf (allowed 0..15 mA)"


def test_every_problem_is_reported() -> None:
    prog = replace(BASE[Mode.TONIC], pulse_width_us=5, rate_hz=5000, ramp_ms=20_000)
    keys = sorted(p.key for p in check_program(prog))
    assert keys == ["pulse_width_us", "ramp_s", "rate_hz"]


def test_cycling_zero_means_continuous_and_edges() -> None:
    assert check_program(replace(BASE[Mode.TONIC], cycle_on_ms=0, cycle_off_ms=0)) == []
    (p,) = check_program(replace(BASE[Mode.TONIC], cycle_on_ms=999, cycle_off_ms=1000))
    assert p.key == "cycle_on_s" and "between 0 and 1" in p.message
    (p,) = check_program(replace(BASE[Mode.TONIC], cycle_on_ms=30_000, cycle_off_ms=0))
    assert (p.key, p.rule) == ("cycle_off_s", "CYCLE")


@pytest.mark.parametrize(
    ("recharge", "rate", "fits", "fails"),
    [(Recharge.ACTIVE, 500, 995, 996), (Recharge.PASSIVE, 1200, 823, 824)],
)
def test_pulse_fit_rule_edges(recharge: Recharge, rate: int, fits: int, fails: int) -> None:
    prog = tonic(recharge=recharge, rate_hz=rate, pulse_width_us=fits, amplitude_ua=1000)
    assert check_program(prog) == []
    (p,) = check_program(replace(prog, pulse_width_us=fails))
    assert (p.key, p.code, p.rule, p.wire, p.maximum) == ("pulse_width_us", OUT_OF_RANGE, "FIT", "PW", fits)
    assert f"at most {fits} us" in p.message


def test_fit_rule_counts_the_gap() -> None:
    prog = tonic(rate_hz=500, pulse_width_us=900, interphase_us=190, amplitude_ua=1000)
    assert check_program(prog) == []  # 2*900 + 190 = 1990 = 2000 - 10
    (p,) = check_program(replace(prog, interphase_us=191))
    assert p.rule == "FIT" and p.maximum == 899


def test_burst_fit_rules() -> None:
    prog = replace(BASE[Mode.BURST], rate_hz=100, intraburst_rate_hz=500, burst_pulses=5)
    assert check_program(prog) == []
    (p,) = check_program(replace(prog, burst_pulses=6))
    assert (p.key, p.rule, p.wire, p.maximum) == ("burst_pulses", "FIT", "BURST_N", 5)
    # the intra-burst period bounds the pulse: passive PW + IPG <= 1e6/INTRA - 10
    ok = replace(prog, intraburst_rate_hz=1000, burst_pulses=2, pulse_width_us=990)
    assert check_program(ok) == []
    (p,) = check_program(replace(ok, pulse_width_us=991))
    assert (p.key, p.rule, p.maximum) == ("pulse_width_us", "FIT", 990)


def test_hf_allows_active_recharge_only() -> None:
    (p,) = check_program(replace(BASE[Mode.HF], recharge=Recharge.PASSIVE))
    assert (p.key, p.wire) == ("recharge", "RECHARGE")


def test_keys_of_another_mode_are_refused() -> None:
    (p,) = check_program(replace(BASE[Mode.TONIC], burst_pulses=3))
    assert (p.key, p.code) == ("burst_pulses", BAD_ARG)
    (p,) = check_program(replace(BASE[Mode.BURST], intraburst_rate_hz=None))
    assert (p.key, p.code) == ("intraburst_rate_hz", BAD_ARG)


@pytest.mark.parametrize(
    ("pairs", "fragment"),
    [
        ({"4": -100}, "no anode"),
        ({"4": 100}, "no cathode"),
        ({"4": -60, "5": 100}, "cathodes sum to -60 %"),
        ({"4": -100, "5": 60, "6": 60}, "anodes sum to +120 %"),
        ({"4": -100, "case": -0, "5": 100}, "is not a share"),
        ({"17": -100, "5": 100}, "is not a contact"),
        ({"case": -100, "5": 100}, "only be an anode"),
    ],
)
def test_electrode_rules(pairs: dict[str, int], fragment: str) -> None:
    problems = check_program(tonic(electrodes=Electrodes.of(pairs)))
    assert problems and fragment in problems[0].message


def test_case_as_anode_is_fine() -> None:
    assert check_program(tonic(electrodes=Electrodes.of({"4": -100, "case": 100}))) == []


def test_contact_current_interlock_edges() -> None:
    at_limit = tonic(amplitude_ua=12_700, pulse_width_us=60, electrodes=Electrodes.of({"4": -100, "case": 100}))
    assert check_program(at_limit) == []
    (p,) = check_program(replace(at_limit, amplitude_ua=12_701))
    assert (p.code, p.rule, p.maximum, p.extra) == (UNSAFE, "CONTACT_CURRENT", 12_700, (("CONTACT", "4"),))
    # the case is exempt: 20 mA through it alone is fine, split over two lead cathodes
    split = tonic(amplitude_ua=20_000, pulse_width_us=60, electrodes=Electrodes.of({"4": -50, "5": -50, "case": 100}))
    assert check_program(split) == []


def test_contact_current_names_the_worst_contact() -> None:
    prog = tonic(amplitude_ua=20_000, pulse_width_us=60,
                 electrodes=Electrodes.of({"4": -30, "5": -70, "case": 100}))
    (p,) = check_program(prog)
    assert p.extra == (("CONTACT", "5"),)


def test_charge_density_needs_acknowledgement() -> None:
    # 6 mA x 500 us = 3 uC on one contact: D = 24.5 uC/cm2, k = log10(24.5*3) = 1.87 > 1.85
    prog = tonic(amplitude_ua=6000, pulse_width_us=500, rate_hz=40)
    assert check_program(prog) == []  # acknowledged by default (a file or ACK=CHARGE)
    (p,) = check_program(prog, acknowledged=False)
    assert (p.code, p.rule) == (UNSAFE, "CHARGE_DENSITY")
    assert dict(p.extra)["K"] == "1.87" and dict(p.extra)["CONTACT"] == "4"
    assert check_program(replace(prog, amplitude_ua=5500), acknowledged=False) == []


def test_limits_must_hold_the_program() -> None:
    prog = tonic(limits=Limits(amplitude_min_ua=500, amplitude_max_ua=6000))
    assert check_program(prog) == []
    (p,) = check_program(replace(prog, amplitude_ua=6001))
    assert (p.key, p.rule, p.minimum, p.maximum) == ("amplitude_ma", "LIMITS", 500, 6000)
    (p,) = check_program(replace(prog, limits=Limits(amplitude_min_ua=7000, amplitude_max_ua=6000)))
    assert p.key == "limits.amplitude_min_ma"
    (p,) = check_program(replace(prog, limits=Limits(amplitude_max_ua=25_000)))
    assert p.key == "limits.amplitude_max_ma" and "outside 0..20 mA" in p.message


def test_names_are_limited_to_what_the_wire_carries() -> None:
    assert check_program(tonic(name="Low back, v2.1 +")) == []
    (p,) = check_program(tonic(name="Low_back"))
    assert p.key == "name" and "'_'" in p.message
    (p,) = check_program(tonic(name="x" * 65))
    assert "at most 64" in p.message


def test_problems_come_in_protocol_order() -> None:
    prog = tonic(amplitude_ua=20_000, pulse_width_us=2000)
    codes = [p.code for p in check_program(prog)]
    assert codes == sorted(codes, key=[OUT_OF_RANGE, UNSAFE].index)


def test_electrodes_wire_round_trip() -> None:
    elec = Electrodes.of({"case": 100, "12": -25, "4": -75})
    assert elec.to_wire() == "4:-75,12:-25,CASE:+100"
    assert Electrodes.from_wire(elec.to_wire()) == elec
    with pytest.raises(ValueError, match="twice"):
        Electrodes.from_wire("4:-50,4:-50,5:+100")
