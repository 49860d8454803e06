"""The closed-loop family (SCS-CL) on the wire: its program keys and their refusals, the ECAP
verbs, the loop run in the generator's time, and the virtual nerve's SIM controls."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stimsim.closedloop import VirtualNerve
from stimsim.engine.params import Family
from stimsim.engine.program import DeviceModel
from stimsim.generator.virtual_generator import VirtualGenerator
from stimsim.protocol.program_args import program_from_values

from .conftest import FakeClock, login, send, transcript

BASE = "MODE=TONIC AMP=5000 PW=300 RATE=50 ELEC=4:-100,5:+50,6:+50"
LOOPED = f"{BASE} LOOP=ECAP SENSE=7,8 TARGET_UV=40 GAIN=10"


def _gen(clock: FakeClock | None = None, family: Family = Family.SCS_CL, **kw: object) -> VirtualGenerator:
    gen = VirtualGenerator(clock or FakeClock(), rng_seed=7, family=family, **kw)  # type: ignore[arg-type]
    login(gen)
    return gen


def _one(gen: VirtualGenerator, line: str) -> str:
    (reply,) = send(gen, line)
    return reply


def _kv(reply: str) -> dict[str, str]:
    return dict(re.findall(r"([A-Z_0-9]+)=([^ ]+)", reply))


def _nerve(program_text: str, posture: str = "sitting", cough: bool = False, eps: float = 1.0) -> VirtualNerve:
    values = dict(item.split("=", 1) for item in program_text.split())
    program, _ = program_from_values(values, with_slot=False)
    return VirtualNerve.reference(program, eps, DeviceModel(family=Family.SCS_CL), posture=posture, cough=cough,
                                  noise_uv=0.0)


@pytest.mark.parametrize(("extra", "answer"), [
    ("LOOP=ECAP SENSE=7,8", "OK SLOT=2"),
    ("LOOP=OPEN", "OK SLOT=2"),
    ("TARGET_UV=10 GAIN=1", "OK SLOT=2"),
    ("TARGET_UV=500 GAIN=100 SENSE=1,2", "OK SLOT=2"),
    ("LOOP=ECAP", "ERR BAD_ARG KEY=SENSE"),
    ("LOOP=CLOSED SENSE=7,8", "ERR BAD_ARG KEY=LOOP"),
    ("LOOP=ECAP SENSE=7", "ERR BAD_ARG KEY=SENSE"),
    ("LOOP=ECAP SENSE=7,8,9", "ERR BAD_ARG KEY=SENSE"),
    ("LOOP=ECAP SENSE=CASE,8", "ERR BAD_ARG KEY=SENSE"),
    ("TARGET_UV=9", "ERR OUT_OF_RANGE KEY=TARGET_UV MIN=10 MAX=500"),
    ("TARGET_UV=501", "ERR OUT_OF_RANGE KEY=TARGET_UV MIN=10 MAX=500"),
    ("TARGET_UV=4x", "ERR BAD_ARG KEY=TARGET_UV"),
    ("GAIN=0", "ERR OUT_OF_RANGE KEY=GAIN MIN=1 MAX=100"),
    ("GAIN=101", "ERR OUT_OF_RANGE KEY=GAIN MIN=1 MAX=100"),
    ("LOOP=ECAP SENSE=9,10", "ERR OUT_OF_RANGE RULE=SENSE KEY=SENSE"),  # lead B: not the cathode's lead
    ("LOOP=ECAP SENSE=5,7", "ERR OUT_OF_RANGE RULE=SENSE KEY=SENSE"),  # 5 is an anode of the program
    ("LOOP=ECAP SENSE=4,7", "ERR OUT_OF_RANGE RULE=SENSE KEY=SENSE"),  # 4 is the cathode
    ("LOOP=ECAP SENSE=7,7", "ERR OUT_OF_RANGE RULE=SENSE KEY=SENSE"),
    ("LOOP=ECAP SENSE=7,17", "ERR OUT_OF_RANGE RULE=SENSE KEY=SENSE"),
    ("LOOP=OPEN SENSE=9,10", "ERR OUT_OF_RANGE RULE=SENSE KEY=SENSE"),  # checked all the same
    ("SENSE=5,6", "ERR OUT_OF_RANGE RULE=SENSE KEY=SENSE"),
])
def test_the_loop_keys_and_their_rules(extra: str, answer: str) -> None:
    gen = _gen()
    before = gen.snapshot()["memory"]
    assert _one(gen, f"PROG SLOT=2 {BASE} {extra}") == answer
    if answer.startswith("ERR"):
        assert gen.snapshot()["memory"] == before  # a refused PROG changes nothing


def test_closed_loop_runs_in_tonic_only() -> None:
    gen = _gen()
    transcript(gen, [
        ("PROG SLOT=2 MODE=BURST AMP=1000 PW=200 RATE=40 BURST_N=5 INTRA_HZ=500 ELEC=4:-100,5:+100 LOOP=ECAP "
         "SENSE=7,8", "ERR BAD_ARG KEY=LOOP"),
        ("PROG SLOT=2 MODE=HF AMP=2000 PW=30 RATE=10000 ELEC=4:-100,5:+100 LOOP=ECAP SENSE=7,8",
         "ERR BAD_ARG KEY=LOOP"),
        ("PROG SLOT=2 MODE=HF AMP=2000 PW=30 RATE=10000 ELEC=4:-100,5:+100 LOOP=OPEN SENSE=7,8 GAIN=5", "OK SLOT=2"),
    ])


def test_the_cathodes_lead_decides_and_lead_a_wins_a_tie() -> None:
    gen = _gen()
    split = "MODE=TONIC AMP=4000 PW=300 RATE=50 ELEC=4:-50,12:-50,CASE:+100 LOOP=ECAP"
    heavier_b = "MODE=TONIC AMP=4000 PW=300 RATE=50 ELEC=4:-40,12:-60,CASE:+100 LOOP=ECAP"
    transcript(gen, [
        (f"PROG SLOT=2 {split} SENSE=6,7", "OK SLOT=2"),
        (f"PROG SLOT=2 {split} SENSE=10,11", "ERR OUT_OF_RANGE RULE=SENSE KEY=SENSE"),
        (f"PROG SLOT=2 {heavier_b} SENSE=10,11", "OK SLOT=2"),
        (f"PROG SLOT=2 {heavier_b} SENSE=6,7", "ERR OUT_OF_RANGE RULE=SENSE KEY=SENSE"),
    ])


def test_sense_is_the_last_out_of_range_cause() -> None:
    gen = _gen()
    transcript(gen, [  # a pulse that does not fit its period (FIT) comes first
        ("PROG SLOT=2 MODE=TONIC AMP=3000 PW=900 RATE=1000 ELEC=4:-100,5:+100 LOOP=ECAP SENSE=9,10",
         "ERR OUT_OF_RANGE RULE=FIT KEY=PW MAX=495"),
        ("PROG SLOT=2 MODE=TONIC AMP=3000 PW=300 RATE=50 ELEC=4:-100,5:+100 AMP_MAX=2000 LOOP=ECAP SENSE=9,10",
         "ERR OUT_OF_RANGE RULE=LIMITS KEY=AMP MIN=0 MAX=2000"),
        ("PROG SLOT=2 MODE=TONIC AMP=3000 PW=300 RATE=50 ELEC=4:-100 LOOP=ECAP SENSE=9,10",
         "ERR OUT_OF_RANGE RULE=ELECTRODES KEY=ELEC"),
        ("PROG SLOT=2 MODE=TONIC AMP=30000 PW=300 RATE=50 ELEC=4:-100,5:+100 LOOP=ECAP SENSE=9,10",
         "ERR OUT_OF_RANGE KEY=AMP MIN=0 MAX=20000"),
    ])


@pytest.mark.parametrize("family", [f for f in Family if f is not Family.SCS_CL])
@pytest.mark.parametrize("extra", ["LOOP=OPEN", "LOOP=ECAP SENSE=7,8", "TARGET_UV=40", "GAIN=5", "SENSE=7,8"])
def test_the_loop_keys_are_refused_on_any_other_family(family: Family, extra: str) -> None:
    gen = _gen(family=family)
    program = "MODE=TONIC AMP=2000 PW=300 RATE=20 ELEC=1:-100,2:+100"
    assert _one(gen, f"PROG SLOT=2 {program}") == "OK SLOT=2"
    assert _one(gen, f"PROG SLOT=2 {program} {extra}") == "ERR BAD_ARG KEY=LOOP"
    assert _one(gen, "ECAP") == "ERR UNKNOWN_VERB"
    for control in ("SIM POSTURE=SUPINE", "SIM COUGH", "SIM ECAP_NOISE=0", "SIM EPS=1"):
        assert _one(gen, control) == f"ERR BAD_ARG KEY={control.split()[1].split('=')[0]}"


def test_read_reports_the_loop_keys_given_and_none_when_none_is() -> None:
    gen = _gen()
    transcript(gen, [
        (f"PROG SLOT=1 {LOOPED}", "OK SLOT=1"),
        ("READ SLOT=1", "OK SLOT=1 MODE=TONIC AMP=5000 PW=300 RATE=50 IPG=0 RECHARGE=ACTIVE CYCLE_ON_MS=0 "
         "CYCLE_OFF_MS=0 RAMP_MS=0 ELEC=4:-100,5:+50,6:+50 LOOP=ECAP TARGET_UV=40 GAIN=10 SENSE=7,8 "
         "AMP_MIN=0 AMP_MAX=20000"),
        (f"PROG SLOT=2 {BASE} LOOP=OPEN", "OK SLOT=2"),
        ("READ SLOT=2", "OK SLOT=2 MODE=TONIC AMP=5000 PW=300 RATE=50 IPG=0 RECHARGE=ACTIVE CYCLE_ON_MS=0 "
         "CYCLE_OFF_MS=0 RAMP_MS=0 ELEC=4:-100,5:+50,6:+50 LOOP=OPEN TARGET_UV=50 GAIN=10 AMP_MIN=0 AMP_MAX=20000"),
        (f"PROG SLOT=3 {BASE}", "OK SLOT=3"),
        ("READ SLOT=3", "OK SLOT=3 MODE=TONIC AMP=5000 PW=300 RATE=50 IPG=0 RECHARGE=ACTIVE CYCLE_ON_MS=0 "
         "CYCLE_OFF_MS=0 RAMP_MS=0 ELEC=4:-100,5:+50,6:+50 AMP_MIN=0 AMP_MAX=20000"),
    ])


def test_slots_keep_their_loop_and_acknowledgement_across_a_restart(tmp_path: Path) -> None:
    clock = FakeClock()
    gen = _gen(clock, state_dir=tmp_path)
    assert _one(gen, f"PROG SLOT=1 {LOOPED} ACK=CHARGE") == "OK SLOT=1"
    again = VirtualGenerator(clock, rng_seed=8, family=Family.SCS_CL, state_dir=tmp_path)
    before, after = gen.slots[0], again.slots[0]
    assert before is not None and after is not None and after.acknowledged
    assert after.program.closed_loop == before.program.closed_loop and after.program.closed_loop is not None


def test_the_loop_holds_the_ecap_at_its_target_and_status_reports_its_amplitude() -> None:
    clock = FakeClock()
    gen = _gen(clock)
    transcript(gen, [(f"PROG SLOT=1 {LOOPED}", "OK SLOT=1"), ("SIM ECAP_NOISE=0", "OK ECAP_NOISE=0"),
                     ("SELECT SLOT=1", "OK SLOT=1"), ("STIM ON", "OK STIM=ON")])
    nerve = _nerve(BASE)
    t_ua = round(nerve.threshold_ma * 1000)
    first = _kv(_one(gen, "ECAP"))  # the first pulse's ECAP, evoked by the program's amplitude
    assert first == {"ECAP_UV": "0", "AMP": "5000", "T_UA": str(t_ua), "SLOPE": "40", "TARGET_UV": "40", "LOOP": "1"}
    clock.advance(0.01)  # after the first pulse: 10 uA per uV of the 40 uV missing
    assert _kv(_one(gen, "STATUS"))["AMP"] == "5400"
    clock.advance(3.0)  # g = 0.4 per update: settled within a few seconds
    status = _kv(_one(gen, "STATUS"))
    want = round(nerve.threshold_ma * 1000 + 40 / 0.040)
    assert abs(int(status["AMP"]) - want) <= 1, (status, want)
    reading = _kv(_one(gen, "ECAP"))
    assert abs(float(reading["ECAP_UV"]) - 40.0) <= 0.1
    assert send(gen, "STIM OFF") == ["OK STIM=OFF"]
    assert _kv(_one(gen, "STATUS"))["AMP"] == "5000"  # stopped: the program's amplitude again
    assert _kv(_one(gen, "ECAP"))["ECAP_UV"] == "0"
    assert not gen.internal_errors


def test_posture_and_cough_move_the_ecap_and_coughs_do_not_stack() -> None:
    clock = FakeClock()
    gen = _gen(clock)
    transcript(gen, [(f"PROG SLOT=1 {BASE} LOOP=OPEN", "OK SLOT=1"), ("SIM ECAP_NOISE=0", "OK ECAP_NOISE=0"),
                     ("SELECT SLOT=1", "OK SLOT=1"), ("AMP SET=7000", "OK AMP=7000"), ("STIM ON", "OK STIM=ON")])

    def ecap() -> float:
        return float(_kv(_one(gen, "ECAP"))["ECAP_UV"])

    program = BASE.replace("AMP=5000", "AMP=7000")
    sitting = _nerve(program).ecap_uv(7000)
    assert ecap() == pytest.approx(sitting, abs=0.05)
    assert _one(gen, "SIM POSTURE=SUPINE") == "OK POSTURE=SUPINE"
    supine = _nerve(program, "supine").ecap_uv(7000)
    assert supine > sitting + 20 and ecap() == pytest.approx(supine, abs=0.05)
    assert _one(gen, "SIM POSTURE=sitting") == "OK POSTURE=SITTING"
    assert _one(gen, "SIM COUGH") == "OK COUGH=1"
    cough = _nerve(program, cough=True).ecap_uv(7000)
    assert cough > sitting + 20 and ecap() == pytest.approx(cough, abs=0.05)
    clock.advance(0.6)
    assert _one(gen, "SIM COUGH") == "OK COUGH=1"  # a second cough: no deeper, it ends 1 s after itself
    assert ecap() == pytest.approx(cough, abs=0.05)
    clock.advance(0.9)
    assert ecap() == pytest.approx(cough, abs=0.05)
    clock.advance(0.2)
    assert ecap() == pytest.approx(sitting, abs=0.05)
    assert _one(gen, "SIM POSTURE=LYING") == "ERR BAD_ARG KEY=POSTURE"


def test_noise_and_eps() -> None:
    gen = _gen()
    transcript(gen, [(f"PROG SLOT=1 {BASE} LOOP=OPEN", "OK SLOT=1"), ("SELECT SLOT=1", "OK SLOT=1"),
                     ("AMP SET=7000", "OK AMP=7000"), ("STIM ON", "OK STIM=ON")])
    exact = _nerve(BASE).ecap_uv(7000)
    noisy = [float(_kv(_one(gen, "ECAP"))["ECAP_UV"]) for _ in range(200)]
    assert any(abs(v - exact) > 0.5 for v in noisy) and 1.5 < (sum((v - exact) ** 2 for v in noisy) / 200) ** 0.5 < 4.5
    transcript(gen, [("SIM ECAP_NOISE=0", "OK ECAP_NOISE=0"), ("SIM EPS=0.4", "ERR OUT_OF_RANGE KEY=EPS MIN=0.5 MAX=2"),
                     ("SIM EPS=2.01", "ERR OUT_OF_RANGE KEY=EPS MIN=0.5 MAX=2"), ("SIM EPS=x", "ERR BAD_ARG KEY=EPS"),
                     ("SIM ECAP_NOISE=101", "ERR OUT_OF_RANGE KEY=ECAP_NOISE MIN=0 MAX=100"),
                     ("SIM EPS=1.2", "OK EPS=1.2")])
    assert [float(_kv(_one(gen, "ECAP"))["ECAP_UV"]) for _ in range(3)] == [round(_nerve(BASE, eps=1.2).ecap_uv(7000), 1)] * 3


def test_sweep_measures_the_growth_curve_and_leaves_the_amplitude() -> None:
    gen = _gen()
    transcript(gen, [(f"PROG SLOT=1 {BASE} LOOP=OPEN", "OK SLOT=1"), ("SIM ECAP_NOISE=0", "OK ECAP_NOISE=0"),
                     ("SELECT SLOT=1", "OK SLOT=1"),
                     ("ECAP SWEEP FROM=3000 TO=6000 STEP=500", "ERR STATE REASON=STIM_OFF"),
                     ("STIM ON", "OK STIM=ON")])
    nerve = _nerve(BASE)
    lines = send(gen, "ECAP SWEEP FROM=3000 TO=6000 STEP=1000")
    assert lines[0] == "OK N=4"
    assert lines[1:] == [f"!ECAPPT AMP={a} UV={round(nerve.ecap_uv(a), 1):g}" for a in (3000, 4000, 5000, 6000)]
    lines = send(gen, "ECAP SWEEP FROM=3000 TO=6500 STEP=1000")  # TO off the step: not measured
    assert lines[0] == "OK N=4" and lines[-1].startswith("!ECAPPT AMP=6000 ")
    assert _kv(_one(gen, "STATUS"))["AMP"] == "5000"
    transcript(gen, [
        ("ECAP SWEEP FROM=3000 TO=6000", "ERR BAD_ARG KEY=STEP"),
        ("ECAP SWEEP FROM=3000 TO=2000 STEP=100", "ERR OUT_OF_RANGE KEY=TO MIN=3000 MAX=" + _top(gen)),
        ("ECAP SWEEP FROM=0 TO=6000 STEP=10", "ERR OUT_OF_RANGE KEY=STEP MIN=61 MAX=6000"),
        ("ECAP SWEEP FROM=3000 TO=6000 STEP=0", "ERR OUT_OF_RANGE KEY=STEP MIN=31 MAX=3000"),
        ("ECAP SWEEP FROM=3000 TO=6000 STEP=500 X=1", "ERR BAD_ARG KEY=X"),
        ("LOGOUT", "OK ROLE=PATIENT"),
        ("ECAP SWEEP FROM=3000 TO=6000 STEP=500", "ERR DENIED NEED=CLINICIAN"),
    ])
    assert _one(gen, "ECAP").startswith("OK ECAP_UV=")  # ECAP itself is any role's


def _top(gen: VirtualGenerator) -> str:
    """The sweep's top for BASE: the start of the charge-density zone (written without ACK)."""
    reply = _one(gen, "ECAP SWEEP FROM=3000 TO=99999 STEP=1000")
    found = re.search(r"MAX=([0-9]+)", reply)
    assert reply.startswith("ERR OUT_OF_RANGE KEY=TO MIN=3000 MAX=") and found
    return found.group(1)


def test_stream_sends_ten_ecaps_a_second_while_stimulating_to_any_role() -> None:
    clock = FakeClock()
    gen = _gen(clock)
    transcript(gen, [(f"PROG SLOT=1 {LOOPED}", "OK SLOT=1"), ("SELECT SLOT=1", "OK SLOT=1"),
                     ("LOGOUT", "OK ROLE=PATIENT"), ("ECAP STREAM=1", "OK STREAM=1")])
    clock.advance(1.0)
    assert send(gen, "STATUS")[-1].startswith("OK STIM=OFF")  # not stimulating: no events
    assert send(gen, "STIM ON") == ["OK STIM=ON"]
    events: list[str] = []
    for _ in range(20):
        clock.advance(0.1)
        events += [line for line in send(gen, "STATUS") if line.startswith("!")]
    # one as stimulation starts, then every 0.1 s
    assert len(events) == 21 and all(re.fullmatch(r"!ECAP UV=-?[0-9.]+ AMP=[0-9]+", e) for e in events)
    assert _one(gen, "ECAP STREAM=0") == "OK STREAM=0"
    clock.advance(1.0)
    assert send(gen, "STATUS")[0].startswith("OK STIM=ON")
    assert _one(gen, "ECAP STREAM=2") == "ERR BAD_ARG KEY=STREAM"


def test_a_long_silence_is_played_only_in_its_last_seconds() -> None:
    clock = FakeClock()
    gen = _gen(clock)
    transcript(gen, [(f"PROG SLOT=1 {LOOPED}", "OK SLOT=1"), ("SELECT SLOT=1", "OK SLOT=1"),
                     ("STIM ON", "OK STIM=ON"), ("ECAP STREAM=1", "OK STREAM=1")])
    clock.advance(3600.0)
    events = [line for line in unseal_poll(gen) if line.startswith("!ECAP ")]
    assert 45 <= len(events) <= 51
    assert not gen.internal_errors


def unseal_poll(gen: VirtualGenerator) -> list[str]:
    from .conftest import unseal

    return unseal(gen.poll())
