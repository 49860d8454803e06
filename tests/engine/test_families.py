"""Device families: the table's family rows and every rule they add, at each family's edges."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from stimsim.engine import battery as B
from stimsim.engine import params as P
from stimsim.engine.load import contact_charges, load_ohm
from stimsim.engine.params import Family, Mode
from stimsim.engine.program import DeviceModel, Electrodes, Limits, Program
from stimsim.engine.validate import BAD_ARG, OUT_OF_RANGE, UNSAFE, Problem, check_program

DRG = DeviceModel(family=Family.DRG)
ETS = DeviceModel(family=Family.ETS)
SCS_P = DeviceModel(family=Family.SCS_P)


def drg(**changes: object) -> Program:
    """2 mA, 300 us, 20 Hz tonic on lead A (1- 2+) unless changed: valid on the DRG."""
    prog = Program(Mode.TONIC, 2000, 300, 20, Electrodes.of({"1": -100, "2": 100}))
    return replace(prog, **changes)  # type: ignore[arg-type]


def first(program: Program, device: DeviceModel, **kw: bool) -> Problem:
    problems = check_program(program, device, **kw)
    assert problems, "expected a problem"
    return problems[0]


# --- the table ---------------------------------------------------------------------------


def test_every_family_has_a_row_and_its_modes_come_from_the_mode_table() -> None:
    assert set(P.FAMILIES) == set(Family)
    assert P.family_modes(Family.SCS_R) == (Mode.TONIC, Mode.BURST, Mode.HF)
    assert P.family_modes(Family.SCS_P) == (Mode.TONIC, Mode.BURST)
    assert P.family_modes(Family.ETS) == (Mode.TONIC, Mode.BURST, Mode.HF)
    assert P.family_modes(Family.DRG) == (Mode.TONIC,)
    assert P.family_modes(Family.SCS_CL) == (Mode.TONIC, Mode.BURST, Mode.HF)


def test_leads_contacts_and_case_per_family() -> None:
    scs = [(lead.name, lead.contacts) for lead in P.FAMILIES[Family.SCS_R].leads]
    assert scs == [("A", P.LEAD_A), ("B", P.LEAD_B)]
    drg_leads = [(lead.name, lead.contacts[0], lead.contacts[-1]) for lead in P.FAMILIES[Family.DRG].leads]
    assert drg_leads == [("A", "1", "4"), ("B", "5", "8"), ("C", "9", "12"), ("D", "13", "16")]
    assert P.FAMILIES[Family.SCS_R].contacts == P.CONTACTS
    assert P.FAMILIES[Family.SCS_P].contacts == P.CONTACTS
    assert P.FAMILIES[Family.ETS].contacts == P.CONTACTS[:-1]
    assert P.FAMILIES[Family.DRG].contacts == P.CONTACTS[:-1]
    assert P.FAMILIES[Family.DRG].lead_of("7") == P.FAMILIES[Family.DRG].leads[1]


def test_the_default_family_derives_the_same_parameters_as_the_mode_table() -> None:
    for mode in Mode:
        assert P.family_params(Family.SCS_R, mode) == P.PARAMS[mode]


def test_drg_ranges_and_grids_override_tonic_only_where_the_table_says() -> None:
    params = P.family_params(Family.DRG, Mode.TONIC)
    assert (params["amplitude_ma"].minimum, params["amplitude_ma"].maximum) == (0, 6000)
    assert (params["pulse_width_us"].minimum, params["pulse_width_us"].maximum) == (40, 720)
    assert (params["rate_hz"].minimum, params["rate_hz"].maximum) == (4, 100)
    assert params["interphase_us"] == P.PARAMS[Mode.TONIC]["interphase_us"]


def test_battery_chemistry_area_and_impedance_per_family() -> None:
    assert [DeviceModel(family=f).chemistry for f in Family] == ["liion", "primary", "pack", "primary", "liion"]
    for spec in P.FAMILIES.values():
        assert spec.chemistry in B.CELLS
    assert DeviceModel().chemistry == "liion"
    assert DRG.impedance("3") == 800.0 and DRG.contact_area_cm2("3") == 0.039
    assert DeviceModel().impedance("3") == P.CONTACT_IMPEDANCE_OHM
    assert load_ohm(Electrodes.of({"1": -100, "2": 100}), DRG) == 1600.0
    assert "case" not in DRG.impedances() and "case" in DeviceModel().impedances()
    assert DRG.with_impedances({"1": 500.0}).impedance("1") == 500.0


# --- grids and patient steps -----------------------------------------------------------


def test_the_drg_amplitude_grid_is_25_ua_below_2_ma_and_50_from_2_ma() -> None:
    grid = P.FAMILIES[Family.DRG].grids["amplitude_ma"]
    assert [v for v in range(1900, 2150) if grid.holds(v)] == [1900, 1925, 1950, 1975, 2000, 2050, 2100]
    assert grid.spacing(1990) == 25 and grid.spacing(2025) == 50 and grid.spacing(2000) == 50
    assert grid.snap(2024) == 2000 and grid.snap(2025) == 2050 and grid.snap(1990) == 2000


def test_a_drg_patient_step_moves_to_the_next_grid_point() -> None:
    step = P.patient_step
    assert step(Family.DRG, Mode.TONIC, "amplitude_ma", 2000, -1) == 1975
    assert step(Family.DRG, Mode.TONIC, "amplitude_ma", 1950, 3) == 2050
    assert step(Family.DRG, Mode.TONIC, "amplitude_ma", 2050, -2) == 1975
    assert step(Family.DRG, Mode.TONIC, "amplitude_ma", 0, 1) == 25
    assert step(Family.SCS_R, Mode.TONIC, "amplitude_ma", 2000, -1) == 1900
    assert step(Family.DRG, Mode.TONIC, "pulse_width_us", 300, 1) == 310  # the parameter's own step


# --- validation at the edges -----------------------------------------------------------


@pytest.mark.parametrize(("key", "inside", "outside", "wire", "lo", "hi"), [
    ("amplitude_ua", 6000, 6050, "AMP", 0, 6000),
    ("pulse_width_us", 40, 30, "PW", 40, 720),
    ("pulse_width_us", 720, 730, "PW", 40, 720),
    ("rate_hz", 4, 2, "RATE", 4, 100),
    ("rate_hz", 100, 102, "RATE", 4, 100),
])
def test_drg_ranges_just_inside_pass_and_just_outside_fail(key: str, inside: int, outside: int, wire: str,
                                                           lo: int, hi: int) -> None:
    assert check_program(drg(**{key: inside}), DRG) == []
    problem = first(drg(**{key: outside}), DRG)
    assert (problem.code, problem.wire, problem.rule, problem.minimum, problem.maximum, problem.extra) == (
        OUT_OF_RANGE, wire, "", lo, hi, ())


@pytest.mark.parametrize(("key", "value", "wire", "step"), [
    ("amplitude_ua", 1990, "AMP", "25"),
    ("amplitude_ua", 2025, "AMP", "50"),
    ("amplitude_ua", 5990, "AMP", "50"),
    ("pulse_width_us", 45, "PW", "10"),
    ("rate_hz", 5, "RATE", "2"),
    ("rate_hz", 99, "RATE", "2"),
])
def test_drg_values_off_the_grid_fail_with_the_step_where_they_lie(key: str, value: int, wire: str,
                                                                   step: str) -> None:
    problem = first(drg(**{key: value}), DRG)
    spec = P.family_params(Family.DRG, Mode.TONIC)[P.BY_KEY[problem.key].key]
    assert (problem.code, problem.wire, problem.rule, problem.extra) == (OUT_OF_RANGE, wire, "", (("STEP", step),))
    assert (problem.minimum, problem.maximum) == (spec.minimum, spec.maximum)
    assert "grid" in problem.message
    assert check_program(drg(**{key: value}), DeviceModel()) == []  # no grid on the SCS-R


def test_drg_limits_lie_on_their_grids_and_in_their_own_ranges() -> None:
    on = drg(limits=Limits(amplitude_min_ua=1975, amplitude_max_ua=2050, pulse_width_min_us=200,
                           pulse_width_max_us=400, rate_min_hz=10, rate_max_hz=40))
    assert check_program(on, DRG) == []
    problem = first(drg(limits=Limits(amplitude_max_ua=2025)), DRG)
    assert (problem.key, problem.wire, problem.minimum, problem.maximum, problem.extra) == (
        "limits.amplitude_max_ma", "AMP_MAX", 0, 6000, (("STEP", "50"),))
    problem = first(drg(limits=Limits(pulse_width_min_us=205)), DRG)
    assert (problem.wire, problem.extra) == ("PW_MIN", (("STEP", "10"),))
    problem = first(drg(limits=Limits(rate_max_hz=101)), DRG)
    assert (problem.wire, problem.minimum, problem.maximum, problem.extra) == ("RATE_MAX", 4, 100, ())


def test_a_range_refusal_comes_before_a_grid_refusal_and_a_grid_refusal_before_electrodes() -> None:
    both = drg(amplitude_ua=1990, rate_hz=102)
    assert first(both, DRG).wire == "RATE" and first(both, DRG).extra == ()
    unipolar = drg(amplitude_ua=1990, electrodes=Electrodes.of({"1": -100, "5": 100}))
    problem = first(unipolar, DRG)
    assert (problem.wire, problem.extra) == ("AMP", (("STEP", "25"),))


def test_electrodes_come_before_fit() -> None:
    program = Program(Mode.TONIC, 3000, 500, 1200, Electrodes.of({"4": -50, "5": 100}))
    rules = [p.rule for p in check_program(program)]
    assert rules == ["ELECTRODES", "FIT"]


@pytest.mark.parametrize(("device", "mode"), [(DRG, Mode.BURST), (DRG, Mode.HF), (SCS_P, Mode.HF)])
def test_a_mode_the_family_does_not_have_is_bad_arg_mode(device: DeviceModel, mode: Mode) -> None:
    program = replace(drg(), mode=mode)
    problems = check_program(program, device)
    assert [(p.code, p.wire, p.key) for p in problems] == [(BAD_ARG, "MODE", "mode")]
    assert device.family.value in problems[0].message


def test_the_trial_stimulator_offers_hf_and_the_primary_cell_implant_burst() -> None:
    hf = Program(Mode.HF, 2000, 30, 10_000, Electrodes.of({"4": -100, "5": 100}))
    assert check_program(hf, ETS) == []
    burst = Program(Mode.BURST, 600, 1000, 40, Electrodes.of({"4": -100, "case": 100}),
                    recharge=P.Recharge.PASSIVE, burst_pulses=5, intraburst_rate_hz=500)
    assert check_program(burst, SCS_P) == []
    assert first(burst, ETS).wire == "ELEC"


@pytest.mark.parametrize("device", [DRG, ETS])
def test_no_case_anode_where_there_is_no_case(device: DeviceModel) -> None:
    program = drg(electrodes=Electrodes.of({"1": -100, "2": 50, "case": 50}))
    problem = first(program, device)
    assert (problem.code, problem.wire, problem.key) == (BAD_ARG, "ELEC", "electrodes.case")
    assert check_program(program, DeviceModel()) == []


def test_a_contact_the_family_does_not_have_is_bad_arg_elec() -> None:
    problem = first(drg(electrodes=Electrodes.of({"1": -100, "17": 100})), DRG)
    assert (problem.code, problem.wire, problem.key) == (BAD_ARG, "ELEC", "electrodes.17")
    assert problem.message == "is not a contact (1..16)"


@pytest.mark.parametrize("config", [
    {"1": -100, "2": 100},
    {"16": -100, "13": 100},
    {"1": -50, "2": 50, "5": -50, "6": 50},
    {"1": -50, "3": -50, "2": 100},
])
def test_drg_configurations_bipolar_on_every_lead_pass(config: dict[str, int]) -> None:
    assert check_program(drg(electrodes=Electrodes.of(config)), DRG) == []


@pytest.mark.parametrize(("config", "lacks"), [
    ({"1": -100, "5": 100}, "lead A has no anode"),
    ({"1": -50, "2": 100, "5": -50}, "lead B has no anode"),
    ({"1": -100, "2": 50, "9": 50}, "lead C has no cathode"),
])
def test_drg_a_lead_without_a_cathode_and_an_anode_of_its_own_fails(config: dict[str, int], lacks: str) -> None:
    problem = first(drg(electrodes=Electrodes.of(config)), DRG)
    assert (problem.code, problem.rule, problem.wire) == (OUT_OF_RANGE, "ELECTRODES", "ELEC")
    assert lacks in problem.message
    assert check_program(drg(electrodes=Electrodes.of(config)), DeviceModel()) == []


def test_charge_density_uses_the_family_contact_area() -> None:
    program = drg(amplitude_ua=6000)  # 1.8 uC per phase on one contact each side
    on_drg = check_program(program, DRG, acknowledged=False)
    assert [(p.code, p.rule) for p in on_drg] == [(UNSAFE, "CHARGE_DENSITY")]
    density = contact_charges(program, DRG)[0].density_uc_cm2
    assert math.isclose(density, 1.8 / 0.039)
    assert check_program(program, DeviceModel(), acknowledged=False) == []


def test_the_patients_amplitude_range_defaults_to_the_family_range() -> None:
    assert Limits().amp_range(Mode.TONIC, Family.DRG) == (0, 6000)
    assert Limits().amp_range(Mode.TONIC) == (0, 20_000)


# --- the trial stimulator's pack ---------------------------------------------------------


def test_the_pack_holds_6000_mwh_low_at_20_empty_at_5_and_takes_no_charger() -> None:
    pack = B.cell(B.PACK)
    assert (pack.capacity_mwh, pack.replaceable, pack.rechargeable) == (6000.0, True, False)
    assert [B.battery_state(s, B.PACK) for s in (20.1, 20.0, 5.1, 5.0)] == ["OK", "LOW", "LOW", "EMPTY"]
    with pytest.raises(ValueError, match="cannot be charged"):
        B.advance_soc(50.0, B.PACK, 1.0, 60.0, charging=True)
    with pytest.raises(ValueError, match="liion, primary, pack"):
        B.cell("nimh")


def test_pack_battery_figures_are_hours_and_days_per_pack() -> None:
    program = Program(Mode.TONIC, 3000, 300, 50, Electrodes.of({"4": -100, "5": 100}))
    figures = B.battery_figures(program, ETS, B.PACK, 12.0)
    power = float(figures["battery_power_mw"])
    assert math.isclose(float(figures["hours_per_pack"]), 0.95 * 6000 / power)
    energy = B.energy_per_day_mwh(power, 12.0)
    assert math.isclose(float(figures["days_per_pack"]), 0.95 * 6000 / energy)
    assert "years_to_eri" not in figures and "charge_minutes_per_day" not in figures
