"""Persistence in the state folder, damaged state files, and SIM RESET."""

from __future__ import annotations

import json
from pathlib import Path

from stimsim.generator.state_store import DEVICE_KEY_FILE, STATE_FILE, _digest
from stimsim.generator.virtual_generator import VirtualGenerator

from .conftest import TONIC, FakeClock, login, program_slot, send, transcript, unseal


def configured(state_dir: Path, clock: FakeClock) -> VirtualGenerator:
    gen = VirtualGenerator(clock, state_dir=state_dir, rng_seed=11)
    login(gen)
    program_slot(gen, 1)
    program_slot(gen, 4, "MODE=HF AMP=2000 PW=30 RATE=10000 ELEC=12:-100,13:+100", "AMP_MAX=4000 NAME=Night")
    transcript(gen, [
        ("SELECT SLOT=4", "OK SLOT=4"),
        ("AMP STEP=+3", "OK AMP=2300"),
        ("CONFIG PIN=2468 IMPEDANCE_DEFAULT=300", "OK IMPEDANCE_DEFAULT=300"),
        ("STIM ON", "OK STIM=ON"),
        ("MRI ON", ["OK MRI=1", "!STIM STIM=OFF REASON=MRI"]),
        ("SIM BATT=700", "OK BATT=700"),
    ])
    return gen


def test_memory_survives_a_new_generator_on_the_same_folder(state_dir: Path, clock: FakeClock) -> None:
    gen = configured(state_dir, clock)
    reads = [send(gen, f"READ SLOT={n}") for n in (1, 4)]
    log = send(gen, "LOG")
    again = VirtualGenerator(clock, state_dir=state_dir, rng_seed=12)
    assert again.startup_warning is None and again.boot_id != gen.boot_id
    assert [send(again, f"READ SLOT={n}") for n in (1, 4)] == reads
    assert send(again, "LOG") == log
    # RAM state starts afresh: patient, stimulation off, no MRI; the battery level persisted.
    assert send(again, "STATUS") == [
        "OK STIM=OFF SLOT=4 AMP=2300 BATT=700 CHG=0 ROLE=PATIENT COMPLIANCE=OK MRI=0 TEST=0"
    ]
    login(again, "2468")  # the configured PIN, not the constructor's default
    assert send(again, "CONFIG") == ["OK IMPEDANCE_DEFAULT=300"]
    send(again, "STOP")
    assert send(again, "LOG FROM=999") == ["OK N=0"] and again.log[-1].i == gen.log[-1].i + 2


def test_writes_are_atomic_and_leave_no_temporary_files(state_dir: Path, clock: FakeClock) -> None:
    gen = configured(state_dir, clock)
    for _ in range(20):
        send(gen, "AMP STEP=+1")
        send(gen, "AMP STEP=-1")
    assert sorted(p.name for p in state_dir.iterdir()) == [DEVICE_KEY_FILE, STATE_FILE]
    json.loads((state_dir / STATE_FILE).read_text())


def corrupt_start(state_dir: Path, clock: FakeClock, damage: bytes | None = None) -> VirtualGenerator:
    configured(state_dir, clock)
    path = state_dir / STATE_FILE
    raw = path.read_bytes()
    path.write_bytes(damage if damage is not None else raw[: len(raw) // 2])
    return VirtualGenerator(clock, state_dir=state_dir, rng_seed=13)


def test_a_truncated_state_file_means_defaults_flagged_and_stimulation_off(state_dir: Path, clock: FakeClock) -> None:
    gen = corrupt_start(state_dir, clock)
    assert gen.startup_warning is not None and "not valid JSON" in gen.startup_warning
    assert "default settings" in gen.startup_warning and "stimulation off" in gen.startup_warning
    assert unseal(gen.boot_bytes()) == [f"!BOOT BOOT={gen.boot_id} FW={gen.fw} STATE=DEFAULTS"]
    hello = send(gen, "HELLO")[0]
    assert hello.endswith("STRICT=0 NEXT=1 STATE=DEFAULTS")
    assert send(gen, "STATUS") == ["OK STIM=OFF SLOT=1 AMP=0 BATT=1000 CHG=0 ROLE=PATIENT COMPLIANCE=OK MRI=0 TEST=0"]
    assert send(gen, "READ SLOT=1") == ["ERR STATE REASON=EMPTY"]
    assert len(list(state_dir.glob(STATE_FILE + ".*.corrupt"))) == 1
    login(gen)  # the default PIN again


def test_an_edited_state_file_fails_its_checksum(state_dir: Path, clock: FakeClock) -> None:
    configured(state_dir, clock)
    path = state_dir / STATE_FILE
    path.write_text(path.read_text().replace('"AMP": "2300"', '"AMP": "2400"'))
    gen = VirtualGenerator(clock, state_dir=state_dir, rng_seed=13)
    assert gen.startup_warning is not None and "checksum" in gen.startup_warning


def test_defaults_flag_lasts_until_a_prog_or_config_write(state_dir: Path, clock: FakeClock) -> None:
    gen = corrupt_start(state_dir, clock, b"\x00garbage")
    send(gen, "SIM RESET")
    assert unseal(gen.boot_bytes())[0].endswith("STATE=DEFAULTS")
    again = VirtualGenerator(clock, state_dir=state_dir, rng_seed=14)
    assert again.startup_warning is None and send(again, "HELLO")[0].endswith("STATE=DEFAULTS")
    login(again)
    program_slot(again)
    assert send(again, "HELLO")[0].endswith("NEXT=1")
    assert not unseal(VirtualGenerator(clock, state_dir=state_dir).boot_bytes())[0].endswith("STATE=DEFAULTS")


def test_a_state_file_with_a_bad_program_is_refused_whole(state_dir: Path, clock: FakeClock) -> None:
    configured(state_dir, clock)
    path = state_dir / STATE_FILE
    doc = json.loads(path.read_text())
    doc["state"]["slots"]["1"]["PW"] = "5000"
    doc["sha256"] = _digest(doc["state"])
    path.write_text(json.dumps(doc))
    gen = VirtualGenerator(clock, state_dir=state_dir)
    assert gen.startup_warning is not None and "slot 1" in gen.startup_warning
    assert gen.slots == (None,) * 16


def test_a_write_failure_is_reported_not_raised(state_dir: Path, clock: FakeClock) -> None:
    gen = configured(state_dir, clock)
    path = state_dir / STATE_FILE
    path.unlink()
    path.mkdir()  # the rename onto it now fails
    assert send(gen, "AMP STEP=+1") == ["OK AMP=2400"]
    assert gen.storage_error is not None and STATE_FILE in gen.storage_error
    assert not gen.internal_errors


def test_sim_reset_loses_ram_state_and_keeps_memory(clock: FakeClock) -> None:
    gen = VirtualGenerator(clock, rng_seed=21)
    login(gen)
    program_slot(gen, 2)
    remembered = b"#7 SELECT SLOT=2\r\n"
    transcript(gen, [
        (remembered, "#7 OK SLOT=2"),
        ("STIM ON", "OK STIM=ON"),
        ("TEST " + TONIC, "OK TEST=ON"),
        ("SIM SPEED=10", "OK SPEED=10"),
    ])
    send(gen, "#8 HELLO STRICT=1")
    login(gen, seq=9)
    send(gen, "#11 MRI ON", crc=True)
    log_before = gen.log
    old = gen.boot_id
    out = send(gen, "#12 SIM RESET", crc=True)
    assert out == ["#12 OK", f"!BOOT BOOT={gen.boot_id} FW={gen.fw}"] and gen.boot_id != old
    # Lost: role, strict mode, SEQ state and memory, TEST, MRI, stimulation.
    transcript(gen, [
        ("STATUS", "OK STIM=OFF SLOT=2 AMP=3000 BATT=1000 CHG=0 ROLE=PATIENT COMPLIANCE=OK MRI=0 TEST=0"),
        ("HELLO", f"OK PROTO=1 MODEL=STIMSIM-VG FW={gen.fw} SN=VG000001 BOOT={gen.boot_id} ROLE=PATIENT "
                  "SLOTS=16 CONTACTS=16 FAMILY=SCS-R STRICT=0 NEXT=1"),
        (remembered, "#7 OK SLOT=2"),  # executed anew (logged again), not answered from memory
    ])
    # Kept: slots, active slot, log, battery, and the emulator's own controls.
    assert gen.log[: len(log_before)] == log_before and gen.log[-1].what == "SELECT:2"
    assert gen.status()["speed"] == 10.0


def test_reset_method_is_the_sim_reset_path(clock: FakeClock) -> None:
    gen = VirtualGenerator(clock, rng_seed=22)
    login(gen)
    old = gen.boot_id
    assert unseal(gen.reset()) == [f"!BOOT BOOT={gen.boot_id} FW={gen.fw}"]
    assert gen.boot_id != old and gen.role == "PATIENT"
    assert send(gen, "MRI ON\r\nMRI OFF") == ["OK MRI=1", "OK MRI=0"]  # nothing of the next call is lost
