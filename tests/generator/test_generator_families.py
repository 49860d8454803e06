"""The virtual generator as each device family: HELLO's FAMILY=, the family's rules on the
wire, IMPEDANCE without a case, the trial stimulator's pack and the DRG's patient steps."""

from __future__ import annotations

import pytest
import serial

from stimsim.engine.params import Family
from stimsim.generator.urlhandler import generator_for_url
from stimsim.generator.virtual_generator import VirtualGenerator

from .conftest import FakeClock, login, send, transcript

DRG_TONIC = "MODE=TONIC AMP=2000 PW=300 RATE=20 ELEC=1:-100,2:+100"


def _gen(family: Family) -> VirtualGenerator:
    gen = VirtualGenerator(FakeClock(), rng_seed=7, family=family)
    login(gen)
    return gen


@pytest.mark.parametrize("family", list(Family))
def test_hello_reports_the_family(family: Family) -> None:
    (reply,) = send(VirtualGenerator(FakeClock(), rng_seed=7, family=family), "HELLO")
    assert reply.endswith(f"CONTACTS=16 FAMILY={family.value} STRICT=0 NEXT=1")


def test_the_drg_keeps_its_rules_on_the_wire() -> None:
    gen = _gen(Family.DRG)
    transcript(gen, [
        (f"PROG SLOT=1 {DRG_TONIC}", "OK SLOT=1"),
        ("PROG SLOT=2 MODE=TONIC AMP=2025 PW=300 RATE=20 ELEC=1:-100,2:+100",
         "ERR OUT_OF_RANGE KEY=AMP MIN=0 MAX=6000 STEP=50"),
        ("PROG SLOT=2 MODE=TONIC AMP=6050 PW=300 RATE=20 ELEC=1:-100,2:+100", "ERR OUT_OF_RANGE KEY=AMP MIN=0 MAX=6000"),
        ("PROG SLOT=2 MODE=TONIC AMP=2000 PW=305 RATE=20 ELEC=1:-100,2:+100",
         "ERR OUT_OF_RANGE KEY=PW MIN=40 MAX=720 STEP=10"),
        ("PROG SLOT=2 MODE=TONIC AMP=2000 PW=300 RATE=21 ELEC=1:-100,2:+100",
         "ERR OUT_OF_RANGE KEY=RATE MIN=4 MAX=100 STEP=2"),
        ("PROG SLOT=2 MODE=TONIC AMP=2000 PW=300 RATE=20 ELEC=1:-100,2:+100 AMP_MAX=1990",
         "ERR OUT_OF_RANGE KEY=AMP_MAX MIN=0 MAX=6000 STEP=25"),
        ("PROG SLOT=2 MODE=TONIC AMP=2000 PW=300 RATE=20 ELEC=1:-100,5:+100",
         "ERR OUT_OF_RANGE RULE=ELECTRODES KEY=ELEC"),
        ("PROG SLOT=2 MODE=TONIC AMP=2000 PW=300 RATE=20 ELEC=1:-100,2:+50,CASE:+50", "ERR BAD_ARG KEY=ELEC"),
        ("PROG SLOT=2 MODE=BURST AMP=1000 PW=300 RATE=20 BURST_N=5 INTRA_HZ=500 ELEC=1:-100,2:+100",
         "ERR BAD_ARG KEY=MODE"),
        ("AMP SET=2025", "ERR OUT_OF_RANGE KEY=AMP MIN=0 MAX=6000 STEP=50"),
        ("AMP SET=1975", "OK AMP=1975"),
        ("AMP STEP=+1", "OK AMP=2000"),
        ("AMP STEP=-1", "OK AMP=1975"),
        ("AMP SET=1950", "OK AMP=1950"),
        ("AMP STEP=+3", "OK AMP=2050"),
        ("AMP SET=6050", "ERR OUT_OF_RANGE KEY=AMP MIN=0 MAX=6000"),
        ("IMPEDANCE", "OK " + " ".join(f"Z{i}=800" for i in range(1, 17))),
        ("BATT", "OK BATT=1000 VBAT_MV=3100 CHEM=PRIMARY CHG=0 STATE=OK EST_H=" + _est(gen)),
    ])


def _est(gen: VirtualGenerator) -> str:
    (reply,) = send(gen, "BATT")
    return reply.rpartition("EST_H=")[2]


def test_the_scs_r_keeps_its_case_and_its_patient_step() -> None:
    gen = _gen(Family.SCS_R)
    transcript(gen, [
        ("PROG SLOT=1 MODE=TONIC AMP=2000 PW=300 RATE=20 ELEC=1:-100,5:+100", "OK SLOT=1"),
        ("AMP STEP=-1", "OK AMP=1900"),
        ("PROG SLOT=2 MODE=TONIC AMP=2025 PW=305 RATE=21 ELEC=1:-100,CASE:+100", "OK SLOT=2"),
    ])
    (reply,) = send(gen, "IMPEDANCE")
    assert reply.endswith("Z16=262 ZCASE=60")


def test_the_trial_stimulator_has_a_pack_no_charger_and_no_case() -> None:
    gen = _gen(Family.ETS)
    (batt,) = send(gen, "BATT")
    assert " CHEM=PACK " in batt and " STATE=OK " in batt
    transcript(gen, [
        ("SIM CHARGE=1", "ERR STATE REASON=PACK"),
        ("PROG SLOT=1 MODE=HF AMP=2000 PW=30 RATE=10000 ELEC=4:-100,5:+100", "OK SLOT=1"),
        ("PROG SLOT=2 MODE=TONIC AMP=2000 PW=300 RATE=50 ELEC=4:-100,CASE:+100", "ERR BAD_ARG KEY=ELEC"),
    ])
    assert send(gen, "SIM BATT=150")[0] == "OK BATT=150"
    (batt,) = send(gen, "BATT")
    assert " STATE=LOW " in batt
    send(gen, "SIM BATT=40")
    (batt,) = send(gen, "BATT")
    assert " STATE=EMPTY " in batt
    assert send(gen, "STIM ON")[0].startswith("ERR STATE")
    assert send(gen, "SIM BATT=1000") == ["OK BATT=1000"]
    (batt,) = send(gen, "BATT")
    assert " STATE=OK " in batt
    assert send(gen, "STIM ON") == ["OK STIM=ON"]
    (imp,) = send(gen, "IMPEDANCE")
    assert imp.endswith("Z16=262") and "ZCASE" not in imp


def test_the_primary_cell_implant_offers_no_hf() -> None:
    gen = _gen(Family.SCS_P)
    transcript(gen, [
        ("PROG SLOT=1 MODE=HF AMP=2000 PW=30 RATE=10000 ELEC=4:-100,5:+100", "ERR BAD_ARG KEY=MODE"),
        ("SIM CHARGE=1", "ERR STATE REASON=PRIMARY"),
    ])


def test_a_virtual_url_names_the_family() -> None:
    gen, _boot = generator_for_url("virtual://?family=DRG&seed=3")
    (reply,) = unseal_hello(gen)
    assert " FAMILY=DRG " in reply
    with pytest.raises(serial.SerialException, match="family 'XYZ' is not one of SCS-R, SCS-P, ETS, DRG"):
        generator_for_url("virtual://?family=XYZ")


def unseal_hello(gen: object) -> list[str]:
    assert isinstance(gen, VirtualGenerator)
    return send(gen, "HELLO")


def test_emulate_refuses_an_unknown_family(capsys: pytest.CaptureFixture[str]) -> None:
    from stimsim.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["emulate", "--family", "XYZ"])
    assert exc.value.code == 2
    assert "'XYZ' is not a device family (SCS-R, SCS-P, ETS, DRG, SCS-CL)" in capsys.readouterr().err
