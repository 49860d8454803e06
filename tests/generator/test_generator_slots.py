"""Slots and therapy: PROG/READ/ERASE/SELECT, STIM, AMP, TEST, MRI, IMPEDANCE, CONFIG, LOG."""

from __future__ import annotations

import pytest

from stimsim.engine.params import Mode, Recharge
from stimsim.engine.program import Electrodes, Limits, Program
from stimsim.generator.virtual_generator import VirtualGenerator
from stimsim.protocol.codec import MAX_REPLY, MAX_REQUEST, MAX_VALUE, encode_reply
from stimsim.protocol.program_args import read_args

from .conftest import TONIC, FakeClock, login, program_slot, send, transcript

BURST_READ = (
    "OK SLOT=5 MODE=BURST AMP=600 PW=1000 RATE=40 IPG=0 RECHARGE=PASSIVE BURST_N=5 INTRA_HZ=500 "
    "CYCLE_ON_MS=30000 CYCLE_OFF_MS=90000 RAMP_MS=2000 ELEC=4:-100,5:+50,CASE:+50 AMP_MIN=200 AMP_MAX=1500 "
    "PW_MIN=800 RATE_MAX=60 NAME=BurstDR_low_back"
)


def status(stim: str = "OFF", slot: int = 1, amp: int = 0, role: str = "CLINICIAN", **kw: str) -> str:
    fields = {"BATT": "1000", "CHG": "0", "COMPLIANCE": "OK", "MRI": "0", "TEST": "0", **kw}
    return (f"OK STIM={stim} SLOT={slot} AMP={amp} BATT={fields['BATT']} CHG={fields['CHG']} ROLE={role} "
            f"COMPLIANCE={fields['COMPLIANCE']} MRI={fields['MRI']} TEST={fields['TEST']}")


# --- PROG / READ -------------------------------------------------------------------------


def test_prog_then_read_gives_back_every_field(gen: VirtualGenerator) -> None:
    login(gen)
    transcript(gen, [
        ("prog slot=5 mode=burst amp=600 pw=1000 rate=40 burst_n=5 intra_hz=500 cycle_on_ms=30000 "
         "cycle_off_ms=90000 ramp_ms=2000 elec=4:-100,5:50,case:+50 amp_min=200 amp_max=1500 pw_min=800 "
         "rate_max=60 name=BurstDR_low_back ack=charge", "OK SLOT=5"),
        ("READ SLOT=5", BURST_READ),
        ("PROG SLOT=2 " + TONIC, "OK SLOT=2"),
        ("READ SLOT=2", "OK SLOT=2 MODE=TONIC AMP=3000 PW=300 RATE=50 IPG=0 RECHARGE=ACTIVE CYCLE_ON_MS=0 "
                        "CYCLE_OFF_MS=0 RAMP_MS=0 ELEC=4:-100,5:+100 AMP_MIN=0 AMP_MAX=20000"),
        ("READ SLOT=3", "ERR STATE REASON=EMPTY"),
        ("READ SLOT=17", "ERR OUT_OF_RANGE KEY=SLOT MIN=1 MAX=16"),
        ("READ SLOT=x", "ERR BAD_ARG KEY=SLOT"),
        ("READ", "ERR BAD_ARG KEY=SLOT"),
        ("READ SLOT=1 MODE=TONIC", "ERR BAD_ARG KEY=MODE"),
    ])
    assert [e.what for e in gen.log][-2:] == ["PROG:5", "PROG:2"]


def test_the_longest_read_reply_fits_a_reply_line() -> None:
    longest = Program(
        Mode.BURST, 20000, 1000, 100, Electrodes.from_wire("1:-10,2:-10,3:-10,4:-10,5:-10,6:-10,7:-10,8:-30,"
                                                           "12:+50,CASE:+50"),
        interphase_us=1000, recharge=Recharge.PASSIVE, burst_pulses=10, intraburst_rate_hz=1000,
        cycle_on_ms=5_400_000, cycle_off_ms=5_400_000, ramp_ms=10_000,
        limits=Limits(20000, 20000, 1000, 1000, 100, 100), name="N" * 64,
    )
    line = encode_reply(65535, True, None, read_args(16, longest))
    assert len(line) - 2 <= MAX_REPLY
    assert all(len(value) <= MAX_VALUE for _, value in read_args(16, longest))


def test_a_long_prog_line_reads_back_the_same(gen: VirtualGenerator) -> None:
    login(gen)
    elec = "1:-10,2:-10,3:-10,4:-10,5:-10,6:-10,7:-10,8:-10,9:-20,CASE:+100"
    line = (f"PROG SLOT=16 MODE=BURST AMP=2000 PW=100 RATE=1 BURST_N=10 INTRA_HZ=1000 IPG=100 RECHARGE=ACTIVE "
            f"ELEC={elec} CYCLE_ON_MS=5400000 CYCLE_OFF_MS=5400000 RAMP_MS=10000 AMP_MIN=1000 AMP_MAX=15000 "
            f"PW_MIN=100 PW_MAX=200 RATE_MIN=1 NAME=Lead_A_spread")
    assert len(line) <= MAX_REQUEST and send(gen, line) == ["OK SLOT=16"]
    (reply,) = send(gen, "READ SLOT=16")
    assert reply.startswith("OK SLOT=16 MODE=BURST AMP=2000 PW=100 RATE=1 IPG=100 RECHARGE=ACTIVE BURST_N=10 ")
    assert reply.endswith(f"ELEC={elec} AMP_MIN=1000 AMP_MAX=15000 PW_MIN=100 PW_MAX=200 RATE_MIN=1 "
                          "NAME=Lead_A_spread")


def test_an_elec_whose_canonical_form_is_too_long_is_refused(gen: VirtualGenerator) -> None:
    login(gen)
    elec = "1:-50,2:-50,3:10,4:10,5:10,6:10,7:10,8:10,9:10,10:10,11:10,12:10"  # 64; with the + signs 74
    assert send(gen, f"PROG SLOT=1 MODE=TONIC AMP=1000 PW=100 RATE=50 ELEC={elec}") == ["ERR BAD_ARG KEY=ELEC"]


BAD_PROGS = [
    ("PROG MODE=TONIC AMP=3000 PW=300 RATE=50 ELEC=4:-100,5:+100", "ERR BAD_ARG KEY=SLOT"),
    ("PROG SLOT=1 AMP=3000 PW=300 RATE=50 ELEC=4:-100,5:+100", "ERR BAD_ARG KEY=MODE"),
    ("PROG SLOT=1 MODE=TONIC PW=300 RATE=50 ELEC=4:-100,5:+100", "ERR BAD_ARG KEY=AMP"),
    ("PROG SLOT=1 MODE=TONIC AMP=3000 PW=300 RATE=50", "ERR BAD_ARG KEY=ELEC"),
    ("PROG SLOT=1 MODE=SINE " + TONIC[11:], "ERR BAD_ARG KEY=MODE"),
    ("PROG SLOT=1 MODE=TONIC AMP=3mA PW=300 RATE=50 ELEC=4:-100,5:+100", "ERR BAD_ARG KEY=AMP"),
    ("PROG SLOT=1 MODE=TONIC AMP=3_000 PW=300 RATE=50 ELEC=4:-100,5:+100", "ERR BAD_ARG KEY=AMP"),
    ("PROG SLOT=1 " + TONIC + " PW=200", "ERR BAD_ARG KEY=PW"),
    ("PROG SLOT=1 " + TONIC + " COLOUR=RED", "ERR BAD_ARG KEY=COLOUR"),
    ("PROG SLOT=1 " + TONIC + " NOW", "ERR BAD_ARG KEY=NOW"),
    ("PROG SLOT=1 " + TONIC + " BURST_N=3", "ERR BAD_ARG KEY=BURST_N"),
    ("PROG SLOT=1 " + TONIC + " RECHARGE=MAGIC", "ERR BAD_ARG KEY=RECHARGE"),
    ("PROG SLOT=1 " + TONIC + " ACK=YES", "ERR BAD_ARG KEY=ACK"),
    ("PROG SLOT=1 MODE=BURST AMP=600 PW=1000 RATE=40 ELEC=4:-100,5:+100", "ERR BAD_ARG KEY=BURST_N"),
    ("PROG SLOT=1 MODE=TONIC AMP=3000 PW=300 RATE=50 ELEC=4-100", "ERR BAD_ARG KEY=ELEC"),
    ("PROG SLOT=1 MODE=TONIC AMP=3000 PW=300 RATE=50 ELEC=4:-100,4:+100", "ERR BAD_ARG KEY=ELEC"),
    ("PROG SLOT=1 MODE=TONIC AMP=3000 PW=300 RATE=50 ELEC=17:-100,5:+100", "ERR BAD_ARG KEY=ELEC"),
    ("PROG SLOT=0 " + TONIC, "ERR OUT_OF_RANGE KEY=SLOT MIN=1 MAX=16"),
    ("PROG SLOT=1 MODE=TONIC AMP=20001 PW=300 RATE=50 ELEC=4:-50,5:-50,CASE:+100",
     "ERR OUT_OF_RANGE KEY=AMP MIN=0 MAX=20000"),
    ("PROG SLOT=1 MODE=HF AMP=3000 PW=300 RATE=10000 ELEC=4:-100,5:+100", "ERR OUT_OF_RANGE KEY=PW MIN=20 MAX=200"),
    ("PROG SLOT=1 MODE=TONIC AMP=3000 PW=19 RATE=50 ELEC=4:-100,5:+100", "ERR OUT_OF_RANGE KEY=PW MIN=20 MAX=1000"),
    ("PROG SLOT=1 MODE=TONIC AMP=-1 PW=300 RATE=50 ELEC=4:-100,5:+100", "ERR OUT_OF_RANGE KEY=AMP MIN=0 MAX=20000"),
    ("PROG SLOT=1 MODE=TONIC AMP=3000 PW=1000 RATE=1000 ELEC=4:-100,5:+100", "ERR OUT_OF_RANGE RULE=FIT KEY=PW MAX=495"),
    ("PROG SLOT=1 MODE=BURST AMP=600 PW=100 RATE=100 BURST_N=10 INTRA_HZ=500 ELEC=4:-100,5:+100",
     "ERR OUT_OF_RANGE RULE=FIT KEY=BURST_N MAX=5"),
    ("PROG SLOT=1 " + TONIC + " AMP_MIN=3500", "ERR OUT_OF_RANGE RULE=LIMITS KEY=AMP MIN=3500 MAX=20000"),
    ("PROG SLOT=1 " + TONIC + " AMP_MIN=4000 AMP_MAX=3500", "ERR OUT_OF_RANGE RULE=LIMITS KEY=AMP_MIN MIN=0 MAX=3500"),
    ("PROG SLOT=1 " + TONIC + " PW_MAX=200", "ERR OUT_OF_RANGE RULE=LIMITS KEY=PW MIN=20 MAX=200"),
    ("PROG SLOT=1 " + TONIC + " CYCLE_ON_MS=1000", "ERR OUT_OF_RANGE RULE=CYCLE KEY=CYCLE_OFF_MS MIN=1000 MAX=5400000"),
    ("PROG SLOT=1 " + TONIC + " CYCLE_ON_MS=999 CYCLE_OFF_MS=1000",
     "ERR OUT_OF_RANGE KEY=CYCLE_ON_MS MIN=1000 MAX=5400000"),
    ("PROG SLOT=1 MODE=TONIC AMP=3000 PW=300 RATE=50 ELEC=4:-100,5:+50", "ERR OUT_OF_RANGE RULE=ELECTRODES KEY=ELEC"),
    ("PROG SLOT=1 MODE=TONIC AMP=3000 PW=300 RATE=50 ELEC=4:-100,CASE:-100",
     "ERR OUT_OF_RANGE RULE=ELECTRODES KEY=ELEC"),
    ("PROG SLOT=1 MODE=HF AMP=3000 PW=30 RATE=10000 RECHARGE=PASSIVE ELEC=4:-100,5:+100",
     "ERR OUT_OF_RANGE KEY=RECHARGE ALLOWED=ACTIVE"),
    ("PROG SLOT=1 MODE=TONIC AMP=12701 PW=100 RATE=50 ELEC=4:-100,CASE:+100",
     "ERR UNSAFE RULE=CONTACT_CURRENT CONTACT=4 MAX=12700"),
    ("PROG SLOT=1 MODE=TONIC AMP=13000 PW=100 RATE=50 ELEC=4:-50,5:-50,6:+100",
     "ERR UNSAFE RULE=CONTACT_CURRENT CONTACT=6 MAX=12700"),
    ("PROG SLOT=1 MODE=TONIC AMP=3000 PW=1000 RATE=50 ELEC=4:-100,5:+100",
     "ERR UNSAFE RULE=CHARGE_DENSITY CONTACT=4 K=1.87 D=24.5"),
]


@pytest.mark.parametrize(("line", "reply"), BAD_PROGS)
def test_prog_refusals_name_the_rule_and_write_nothing(gen: VirtualGenerator, line: str, reply: str) -> None:
    login(gen)
    program_slot(gen, 1)
    before = gen.snapshot()["memory"]
    assert send(gen, line) == [reply]
    assert gen.snapshot()["memory"] == before


def test_contact_current_interlock_is_12_7_ma_and_spares_the_case(gen: VirtualGenerator) -> None:
    login(gen)
    transcript(gen, [
        ("PROG SLOT=1 MODE=TONIC AMP=12700 PW=60 RATE=50 ELEC=4:-100,CASE:+100", "OK SLOT=1"),
        ("PROG SLOT=2 MODE=TONIC AMP=20000 PW=60 RATE=50 ELEC=4:-50,5:-50,CASE:+100", "OK SLOT=2"),
        ("PROG SLOT=3 MODE=TONIC AMP=20000 PW=60 RATE=50 ELEC=4:-64,5:-36,CASE:+100",
         "ERR UNSAFE RULE=CONTACT_CURRENT CONTACT=4 MAX=12700"),
        ("PROG SLOT=3 MODE=TONIC AMP=20000 PW=60 RATE=50 ELEC=4:-64,5:-36,CASE:+100 ACK=CHARGE",
         "ERR UNSAFE RULE=CONTACT_CURRENT CONTACT=4 MAX=12700"),  # no acknowledgement overrides it
    ])


def test_charge_density_needs_ack(gen: VirtualGenerator) -> None:
    login(gen)
    line = "PROG SLOT=1 MODE=TONIC AMP=8000 PW=1000 RATE=50 ELEC=4:-100,5:+100"
    transcript(gen, [
        (line, "ERR UNSAFE RULE=CHARGE_DENSITY CONTACT=4 K=2.72 D=65.3"),
        (line + " ACK=CHARGE", "OK SLOT=1"),
    ])


def test_a_refused_prog_leaves_the_old_slot_whole(clinician: VirtualGenerator) -> None:
    before = send(clinician, "READ SLOT=1")
    send(clinician, "PROG SLOT=1 MODE=TONIC AMP=4000 PW=1000 RATE=1000 ELEC=6:-100,7:+100")
    assert send(clinician, "READ SLOT=1") == before


# --- ERASE / SELECT / STIM ---------------------------------------------------------------


def test_erase_select_and_stim(clinician: VirtualGenerator) -> None:
    program_slot(clinician, 2, "MODE=TONIC AMP=2000 PW=200 RATE=40 ELEC=9:-100,10:+100")
    transcript(clinician, [
        ("SELECT SLOT=3", "ERR STATE REASON=EMPTY"),
        ("SELECT SLOT=2", "OK SLOT=2"),
        ("STIM ON", "OK STIM=ON"),
        ("STIM ON", "OK STIM=ON"),
        ("STATUS", status("ON", 2, 2000)),
        ("ERASE SLOT=2", "ERR STATE REASON=ACTIVE"),
        ("ERASE SLOT=1", "OK SLOT=1"),
        ("ERASE SLOT=1", "OK SLOT=1"),
        ("ERASE SLOT=99", "ERR OUT_OF_RANGE KEY=SLOT MIN=1 MAX=16"),
        ("SELECT SLOT=1", "ERR STATE REASON=EMPTY"),
        ("STIM", "ERR BAD_ARG KEY=STIM"),
        ("STIM MAYBE", "ERR BAD_ARG KEY=MAYBE"),
        ("STIM ON OFF", "ERR BAD_ARG KEY=OFF"),
        ("stim off", "OK STIM=OFF"),
        ("ERASE SLOT=2", "OK SLOT=2"),
        ("STIM ON", "ERR STATE REASON=EMPTY"),
        ("STATUS", status("OFF", 2, 0)),
    ])
    whats = [e.what for e in clinician.log]
    assert whats[-7:] == ["SELECT:2", "STIM:2", "STIM:2", "ERASE:1", "ERASE:1", "STIM:2", "ERASE:2"]


def test_patient_may_select_and_stimulate(clinician: VirtualGenerator) -> None:
    send(clinician, "LOGOUT")
    transcript(clinician, [("SELECT SLOT=1", "OK SLOT=1"), ("STIM ON", "OK STIM=ON"),
                           ("STATUS", status("ON", 1, 3000, "PATIENT"))])


# --- AMP -----------------------------------------------------------------------------------


def test_patient_amp_stays_within_the_clinician_limits(clinician: VirtualGenerator) -> None:
    program_slot(clinician, 1, TONIC, "AMP_MIN=2500 AMP_MAX=3500")
    send(clinician, "LOGOUT")
    transcript(clinician, [
        ("AMP STEP=+5", "OK AMP=3500"),
        ("AMP STEP=+1", "ERR LIMIT KEY=AMP MIN=2500 MAX=3500"),
        ("AMP SET=2500", "OK AMP=2500"),
        ("AMP STEP=-1", "ERR LIMIT KEY=AMP MIN=2500 MAX=3500"),
        ("AMP SET=20001", "ERR OUT_OF_RANGE KEY=AMP MIN=0 MAX=20000"),
        ("AMP STEP=-26", "ERR OUT_OF_RANGE KEY=AMP MIN=0 MAX=20000"),
        ("AMP STEP=+201", "ERR OUT_OF_RANGE KEY=STEP MIN=1 MAX=200"),
        ("AMP STEP=+0", "ERR OUT_OF_RANGE KEY=STEP MIN=1 MAX=200"),
        ("AMP STEP=1", "ERR BAD_ARG KEY=STEP"),
        ("AMP SET=2.5", "ERR BAD_ARG KEY=SET"),
        ("AMP SET=3000 STEP=+1", "ERR BAD_ARG KEY=STEP"),
        ("AMP", "ERR BAD_ARG KEY=SET"),
        ("AMP STEP=+3", "OK AMP=2800"),
        ("READ SLOT=1", "OK SLOT=1 MODE=TONIC AMP=2800 PW=300 RATE=50 IPG=0 RECHARGE=ACTIVE CYCLE_ON_MS=0 "
                        "CYCLE_OFF_MS=0 RAMP_MS=0 ELEC=4:-100,5:+100 AMP_MIN=2500 AMP_MAX=3500"),
    ])


def test_amp_on_an_empty_slot_is_a_state_error(gen: VirtualGenerator) -> None:
    transcript(gen, [("AMP STEP=+1", "ERR STATE REASON=EMPTY"), ("AMP STEP=x", "ERR BAD_ARG KEY=STEP")])


def test_raising_into_the_charge_zone_above_the_clinician_amplitude_is_refused(clinician: VirtualGenerator) -> None:
    # 2 mA x 1000 us: k = 1.51, outside the zone; 3 mA: k = 1.87, inside.
    program_slot(clinician, 1, "MODE=TONIC AMP=2000 PW=1000 RATE=50 ELEC=4:-100,5:+100", "AMP_MAX=10000")
    send(clinician, "LOGOUT")
    transcript(clinician, [
        ("AMP SET=2900", "OK AMP=2900"),
        ("AMP SET=3000", "ERR UNSAFE RULE=CHARGE_DENSITY CONTACT=4 K=1.87 D=24.5"),
        ("AMP STEP=+1", "ERR UNSAFE RULE=CHARGE_DENSITY CONTACT=4 K=1.87 D=24.5"),
    ])


def test_within_an_acknowledged_zone_the_patient_may_go_down_and_back_up(clinician: VirtualGenerator) -> None:
    program_slot(clinician, 1, "MODE=TONIC AMP=8000 PW=1000 RATE=50 ELEC=4:-100,5:+100", "AMP_MAX=12000 ACK=CHARGE")
    send(clinician, "LOGOUT")
    transcript(clinician, [
        ("AMP SET=6000", "OK AMP=6000"),
        ("AMP SET=8000", "OK AMP=8000"),
        ("AMP STEP=+1", "ERR UNSAFE RULE=CHARGE_DENSITY CONTACT=4 K=2.73 D=66.1"),
        ("AMP SET=7000", "OK AMP=7000"),
    ])


def test_amp_cannot_break_the_contact_interlock(clinician: VirtualGenerator) -> None:
    program_slot(clinician, 1, "MODE=TONIC AMP=12000 PW=60 RATE=50 ELEC=4:-100,CASE:+100")
    assert send(clinician, "AMP SET=12800") == ["ERR UNSAFE RULE=CONTACT_CURRENT CONTACT=4 MAX=12700"]
    assert send(clinician, "AMP SET=12700") == ["OK AMP=12700"]


# --- TEST ----------------------------------------------------------------------------------


def test_test_settings_run_live_and_the_slot_comes_back(clinician: VirtualGenerator) -> None:
    read = send(clinician, "READ SLOT=1")
    transcript(clinician, [
        ("STIM ON", "OK STIM=ON"),
        ("TEST MODE=TONIC AMP=4500 PW=250 RATE=60 ELEC=4:-100,6:+100", "OK TEST=ON"),
        ("STATUS", status("ON", 1, 4500, TEST="1")),
        ("READ SLOT=1", read),
        ("AMP STEP=+2", "OK AMP=4700"),
        ("SELECT SLOT=1", "ERR STATE REASON=TEST"),
        ("ERASE SLOT=1", "ERR STATE REASON=TEST"),
        ("TEST SLOT=1 " + TONIC, "ERR BAD_ARG KEY=SLOT"),
        ("TEST MODE=TONIC AMP=3000 PW=1000 RATE=50 ELEC=4:-100,5:+100",
         "ERR UNSAFE RULE=CHARGE_DENSITY CONTACT=4 K=1.87 D=24.5"),
        ("TEST END", ["OK TEST=OFF", "!TEST TEST=OFF REASON=END"]),
        ("TEST END", "OK TEST=OFF"),
        ("STATUS", status("ON", 1, 3000)),
        ("READ SLOT=1", read),
    ])


def test_test_needs_a_program_in_the_active_slot(gen: VirtualGenerator) -> None:
    login(gen)
    assert send(gen, "TEST " + TONIC) == ["ERR STATE REASON=EMPTY"]
    assert send(gen, "TEST END NOW") == ["ERR BAD_ARG KEY=NOW"]


def test_test_lease_ends_after_10_s_without_an_ok_reply(clinician: VirtualGenerator, clock: FakeClock) -> None:
    send(clinician, "TEST MODE=TONIC AMP=4500 PW=250 RATE=60 ELEC=4:-100,6:+100")
    for _ in range(10):  # the host's STATUS every 2 s keeps the lease
        clock.advance(2.0)
        assert send(clinician, "STATUS")[0].endswith("TEST=1")
    clock.advance(9.9)
    send(clinician, "FROB")  # an ERR reply does not refresh the lease
    assert clinician.poll() == b""
    clock.advance(0.1)
    transcript(clinician, [
        (None, "!TEST TEST=OFF REASON=TIMEOUT"),
        (None, []),
    ])
    assert send(clinician, "STATUS")[0].endswith("AMP=3000 BATT=999 CHG=0 ROLE=CLINICIAN COMPLIANCE=OK MRI=0 TEST=0")


def test_test_lease_uses_real_time_whatever_the_speed(clinician: VirtualGenerator, clock: FakeClock) -> None:
    send(clinician, "SIM SPEED=100000")
    send(clinician, "TEST MODE=TONIC AMP=4500 PW=250 RATE=60 ELEC=4:-100,6:+100")
    clock.advance(9.0)
    assert send(clinician, "STATUS")[-1].endswith("TEST=1")
    clock.advance(12.0)
    event, reply = send(clinician, "STATUS")
    assert event == "!TEST TEST=OFF REASON=TIMEOUT" and reply.endswith("AMP=3000 BATT=968 CHG=0 ROLE=CLINICIAN "
                                                                       "COMPLIANCE=OK MRI=0 TEST=0")


@pytest.mark.parametrize(("line", "reason", "reply"), [
    ("LOGOUT", "LOGOUT", "OK ROLE=PATIENT"),
])
def test_logout_ends_test(clinician: VirtualGenerator, line: str, reason: str, reply: str) -> None:
    send(clinician, "TEST " + TONIC)
    assert send(clinician, line) == [reply, f"!TEST TEST=OFF REASON={reason}"]


def test_hello_ends_test_and_a_reboot_ends_it_silently(clinician: VirtualGenerator) -> None:
    send(clinician, "TEST " + TONIC)
    out = send(clinician, "HELLO")
    assert out[0].startswith("OK PROTO=1") and out[1:] == ["!TEST TEST=OFF REASON=HELLO"]
    login(clinician)
    send(clinician, "TEST " + TONIC)
    assert [x.split()[0] for x in send(clinician, "SIM RESET")] == ["OK", "!BOOT"]
    assert send(clinician, "STATUS")[0].endswith("TEST=0")


# --- MRI, IMPEDANCE, CONFIG, faults --------------------------------------------------------


def test_mri_mode(clinician: VirtualGenerator) -> None:
    transcript(clinician, [
        ("STIM ON", "OK STIM=ON"),
        ("MRI ON", ["OK MRI=1", "!STIM STIM=OFF REASON=MRI"]),
        ("STIM ON", "ERR STATE REASON=MRI"),
        ("MRI", "ERR BAD_ARG KEY=MRI"),
        ("LOGOUT", "OK ROLE=PATIENT"),
        ("MRI OFF", "OK MRI=0"),
        ("STIM ON", "OK STIM=ON"),
    ])


def test_impedance_config_and_faults(clinician: VirtualGenerator) -> None:
    lead = " ".join(f"Z{n}=262" for n in range(1, 17))
    faulty = lead.replace("Z3=262", "Z3=OPEN").replace("Z12=262", "Z12=SHORT").replace("262", "500")
    transcript(clinician, [
        ("IMPEDANCE", f"OK {lead} ZCASE=60"),
        ("IMPEDANCE NOW", "ERR BAD_ARG KEY=NOW"),
        ("CONFIG", "OK IMPEDANCE_DEFAULT=262"),
        ("CONFIG IMPEDANCE_DEFAULT=49", "ERR OUT_OF_RANGE KEY=IMPEDANCE_DEFAULT MIN=50 MAX=4000"),
        ("CONFIG IMPEDANCE_DEFAULT=4001", "ERR OUT_OF_RANGE KEY=IMPEDANCE_DEFAULT MIN=50 MAX=4000"),
        ("CONFIG IMPEDANCE_DEFAULT=lots", "ERR BAD_ARG KEY=IMPEDANCE_DEFAULT"),
        ("CONFIG IMPEDANCE_DEFAULT=500", "OK IMPEDANCE_DEFAULT=500"),
        ("SIM FAULT=OPEN:3", "OK FAULT=OPEN:3"),
        ("SIM FAULT=short:12", "OK FAULT=SHORT:12"),
        ("IMPEDANCE", f"OK {faulty} ZCASE=60"),
        ("SIM FAULT=OPEN:17", "ERR OUT_OF_RANGE KEY=FAULT MIN=1 MAX=16"),
        ("SIM FAULT=WARM", "ERR BAD_ARG KEY=FAULT"),
        ("SIM FAULT=NONE", "OK FAULT=NONE"),
        ("IMPEDANCE", f"OK {lead.replace('262', '500')} ZCASE=60"),
    ])
    assert [e.what for e in clinician.log].count("CONFIG") == 1


def test_high_impedance_limits_compliance(clinician: VirtualGenerator) -> None:
    send(clinician, "CONFIG IMPEDANCE_DEFAULT=4000")
    assert send(clinician, "STATUS") == [status(amp=3000, COMPLIANCE="LIMITED")]


def test_a_fault_on_a_contact_in_use_stops_stimulation(clinician: VirtualGenerator) -> None:
    transcript(clinician, [
        ("STIM ON", "OK STIM=ON"),
        ("SIM FAULT=OPEN:9", "OK FAULT=OPEN:9"),  # not in the program: stimulation goes on
        ("SIM FAULT=SHORT:5", ["OK FAULT=SHORT:5", "!FAULT CONTACT=5 KIND=SHORT", "!STIM STIM=OFF REASON=FAULT"]),
        ("STIM ON", "ERR STATE REASON=FAULT CONTACT=5"),
        ("SIM FAULT=NONE", "OK FAULT=NONE"),
        ("STIM ON", "OK STIM=ON"),
        ("SIM FAULT=OPEN:4", ["OK FAULT=OPEN:4", "!FAULT CONTACT=4 KIND=OPEN", "!STIM STIM=OFF REASON=FAULT"]),
    ])


def test_selecting_a_program_through_a_faulted_contact_while_on_stops(clinician: VirtualGenerator) -> None:
    program_slot(clinician, 2, "MODE=TONIC AMP=2000 PW=200 RATE=40 ELEC=9:-100,10:+100")
    transcript(clinician, [
        ("STIM ON", "OK STIM=ON"),
        ("SIM FAULT=OPEN:10", "OK FAULT=OPEN:10"),
        ("SELECT SLOT=2", ["OK SLOT=2", "!FAULT CONTACT=10 KIND=OPEN", "!STIM STIM=OFF REASON=FAULT"]),
    ])


# --- LOG -------------------------------------------------------------------------------------


def test_log_lists_entries_from_n(clinician: VirtualGenerator, clock: FakeClock) -> None:
    clock.advance(1.5)
    send(clinician, "STIM ON")
    clock.advance(0.25)
    send(clinician, "LOGOUT")
    send(clinician, "STOP")
    transcript(clinician, [
        ("LOG FROM=3", ["OK N=3", "!LOG I=3 T_MS=1500 ROLE=CLINICIAN WHAT=STIM:1",
                        "!LOG I=4 T_MS=1750 ROLE=CLINICIAN WHAT=LOGOUT",
                        "!LOG I=5 T_MS=1750 ROLE=PATIENT WHAT=STOP"]),
        ("LOG FROM=6", "OK N=0"),
        ("LOG FROM=-1", "ERR BAD_ARG KEY=FROM"),
        ("LOG TO=3", "ERR BAD_ARG KEY=TO"),
    ])
    first = send(clinician, "LOG")
    assert first[0] == "OK N=5" and first[1] == "!LOG I=1 T_MS=0 ROLE=PATIENT WHAT=LOGIN"


def test_log_is_a_ring_of_64_that_keeps_counting(gen: VirtualGenerator) -> None:
    for _ in range(70):
        send(gen, "STOP")
    out = send(gen, "LOG")
    assert out[0] == "OK N=64" and out[1].startswith("!LOG I=7 ") and out[-1].startswith("!LOG I=70 ")
    assert send(gen, "LOG FROM=69")[0] == "OK N=2"
