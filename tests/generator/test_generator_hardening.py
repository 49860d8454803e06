"""The virtual generator against an attacker and against loss, as the C stub is hardened.

The LOGIN count and lockout survive SIM RESET and a restart; the PIN is kept as a salted
PBKDF2 hash and a proof key wrapped with a device key kept in a file of its own; a new
link starts a session as after HELLO; a refused state file is kept aside; start-up removes
temporaries that killed writers left behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from stimsim.generator.pin_record import PinRecord, pin_hash
from stimsim.generator.state_store import DEVICE_KEY_FILE, STATE_FILE, _digest
from stimsim.generator.virtual_generator import VirtualGenerator
from stimsim.protocol.limits import LOCKOUT_S, LOGIN_TRIES, PIN_PBKDF2_ITERATIONS
from stimsim.protocol.login import pin_key

from .conftest import TONIC, FakeClock, login, program_slot, send

WRONG = "0" * 64


def wrong_login(gen: VirtualGenerator) -> str:
    send(gen, "LOGIN")
    return send(gen, f"LOGIN PROOF={WRONG}")[0]


# --- the lockout --------------------------------------------------------------------------


def test_wrong_proofs_and_the_lock_survive_sim_reset(gen: VirtualGenerator, clock: FakeClock) -> None:
    for _ in range(LOGIN_TRIES - 1):
        assert wrong_login(gen) == "ERR DENIED REASON=PROOF"
    send(gen, "SIM RESET")
    assert wrong_login(gen) == f"ERR LOCKED RETRY_S={LOCKOUT_S}"  # the fifth in a row, reset or not
    clock.advance(30)
    send(gen, "SIM RESET")
    assert send(gen, "LOGIN") == [f"ERR LOCKED RETRY_S={LOCKOUT_S}"]  # starts over, in full, at the boot
    clock.advance(LOCKOUT_S)
    login(gen)


def test_the_lock_survives_a_restart_on_the_same_state(state_dir: Path, clock: FakeClock) -> None:
    gen = VirtualGenerator(clock, state_dir=state_dir, rng_seed=1)
    for _ in range(LOGIN_TRIES):
        wrong_login(gen)
    clock.advance(50)
    again = VirtualGenerator(clock, state_dir=state_dir, rng_seed=2)
    assert send(again, "LOGIN") == [f"ERR LOCKED RETRY_S={LOCKOUT_S}"]
    clock.advance(LOCKOUT_S)
    again.poll()  # the lock ran out: cleared from the state, a restart does not re-arm it
    third = VirtualGenerator(clock, state_dir=state_dir, rng_seed=3)
    login(third)


def test_the_count_survives_a_restart_and_a_right_proof_zeroes_it(state_dir: Path, clock: FakeClock) -> None:
    gen = VirtualGenerator(clock, state_dir=state_dir, rng_seed=1)
    for _ in range(LOGIN_TRIES - 1):
        wrong_login(gen)
    again = VirtualGenerator(clock, state_dir=state_dir, rng_seed=2)
    login(again)
    for _ in range(LOGIN_TRIES - 1):
        assert wrong_login(again) == "ERR DENIED REASON=PROOF"
    third = VirtualGenerator(clock, state_dir=state_dir, rng_seed=3)
    assert wrong_login(third).startswith("ERR LOCKED")


# --- a new link -----------------------------------------------------------------------------


def test_a_new_link_starts_as_patient_not_strict_with_no_test(gen: VirtualGenerator) -> None:
    assert send(gen, "HELLO STRICT=1")[0].startswith("OK ")
    send(gen, "#1 HELLO STRICT=1", crc=True)
    login(gen, seq=2)
    assert send(gen, "#4 PROG SLOT=1 " + TONIC, crc=True) == ["#4 OK SLOT=1"]
    assert send(gen, "#5 TEST MODE=TONIC AMP=1000 PW=300 RATE=50 ELEC=4:-100,5:+100", crc=True)[0].startswith("#5 OK")
    gen.reset_link()  # the emulator calls this for every new TCP client
    assert (gen.role, gen.strict, gen.test_program) == ("PATIENT", False, None)
    assert send(gen, "STATUS") == ["OK STIM=OFF SLOT=1 AMP=3000 BATT=1000 CHG=0 ROLE=PATIENT COMPLIANCE=OK MRI=0 TEST=0"]
    assert send(gen, "PROG SLOT=2 " + TONIC) == ["ERR DENIED NEED=CLINICIAN"]
    assert send(gen, "CONFIG PIN=9999") == ["ERR DENIED NEED=CLINICIAN"]
    login(gen)  # the PIN is unchanged


# --- the PIN at rest ------------------------------------------------------------------------


def test_the_pin_is_stored_salted_and_wrapped_never_as_the_proof_key(state_dir: Path, clock: FakeClock) -> None:
    pin = "73195824"
    gen = VirtualGenerator(clock, state_dir=state_dir, rng_seed=1)
    login(gen)
    send(gen, f"CONFIG PIN={pin}")
    assert sorted(p.name for p in state_dir.iterdir()) == [DEVICE_KEY_FILE, STATE_FILE]
    secrets = (pin.encode(), hashlib.sha256(pin.encode()).digest(), hashlib.sha256(b"0000").digest())
    for f in state_dir.iterdir():
        data = f.read_bytes()
        assert not any(s in data or s.hex().encode() in data for s in secrets), f.name
    device_key = (state_dir / DEVICE_KEY_FILE).read_bytes()
    assert len(device_key) == 32 and stat.S_IMODE((state_dir / DEVICE_KEY_FILE).stat().st_mode) == 0o600
    record = PinRecord.from_data(json.loads((state_dir / STATE_FILE).read_text())["state"]["pin"])
    assert len(record.salt) == 16 and record.matches(pin) and not record.matches("0000")
    assert record.hash == hashlib.pbkdf2_hmac("sha256", pin.encode(), record.salt, PIN_PBKDF2_ITERATIONS, 32)
    assert record.proof_key(device_key) == pin_key(pin)
    again = VirtualGenerator(clock, state_dir=state_dir, rng_seed=2)
    login(again, pin)
    send(again, f"CONFIG PIN={pin}")  # the same PIN again: a new salt
    assert PinRecord.from_data(json.loads((state_dir / STATE_FILE).read_text())["state"]["pin"]).salt != record.salt


def test_the_state_file_without_the_device_key_gives_no_login(state_dir: Path, clock: FakeClock) -> None:
    gen = VirtualGenerator(clock, state_dir=state_dir, rng_seed=1)
    login(gen)
    send(gen, "CONFIG PIN=2468")
    (state_dir / DEVICE_KEY_FILE).unlink()  # the state file copied elsewhere, without the device record
    elsewhere = VirtualGenerator(clock, state_dir=state_dir, rng_seed=2)
    nonce = send(elsewhere, "LOGIN")[0].split("=")[1]
    from stimsim.protocol.login import proof
    assert send(elsewhere, f"LOGIN PROOF={proof('2468', nonce)}") == ["ERR DENIED REASON=PROOF"]


def test_an_older_state_file_with_the_proof_key_is_taken_over(state_dir: Path, clock: FakeClock) -> None:
    gen = VirtualGenerator(clock, state_dir=state_dir, rng_seed=1)
    login(gen)
    program_slot(gen, 1)
    path = state_dir / STATE_FILE
    doc = json.loads(path.read_text())
    del doc["state"]["pin"], doc["state"]["login"]
    doc["state"]["pin_sha256"] = hashlib.sha256(b"2468").hexdigest()
    doc["sha256"] = _digest(doc["state"])
    path.write_text(json.dumps(doc))
    again = VirtualGenerator(clock, state_dir=state_dir, rng_seed=2)
    assert again.startup_warning is None and again.slots[0] is not None
    login(again, "2468")
    assert "pin_sha256" not in path.read_text() and hashlib.sha256(b"2468").hexdigest() not in path.read_text()


def test_pin_hash_is_pbkdf2_as_the_stub_computes_it() -> None:
    salt = bytes(range(16))
    assert pin_hash("0000", salt) == hashlib.pbkdf2_hmac("sha256", b"0000", salt, 2048, 32)


# --- refused state files ------------------------------------------------------------------------


def _edit(state_dir: Path, change: str) -> None:
    path = state_dir / STATE_FILE
    doc = json.loads(path.read_text())
    state = doc["state"]
    if change == "amp":
        state["slots"]["1"]["AMP"] = "99999"
    elif change == "nan":
        state["battery"]["soc_percent"] = float("nan")
    elif change == "pin":
        state["pin"]["wrapped_key"] = "zz" * 32
    elif change == "log":
        state["log"]["entries"][-1][0] = state["log"]["last_i"] + 5
    doc["sha256"] = _digest(state)
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize("change", ["amp", "nan", "pin", "log"])
def test_unusable_content_is_kept_aside_and_reported(state_dir: Path, clock: FakeClock, change: str) -> None:
    gen = VirtualGenerator(clock, state_dir=state_dir, rng_seed=1)
    login(gen)
    program_slot(gen, 1)
    send(gen, "CONFIG PIN=2468")
    _edit(state_dir, change)
    refused = (state_dir / STATE_FILE).read_bytes()
    again = VirtualGenerator(clock, state_dir=state_dir, rng_seed=2)
    kept = sorted(state_dir.glob(STATE_FILE + ".*.corrupt"))
    assert len(kept) == 1 and kept[0].read_bytes() == refused
    assert again.startup_warning is not None and str(kept[0]) in again.startup_warning
    assert "stimulation off" in again.startup_warning
    assert send(again, "HELLO")[0].endswith("STATE=DEFAULTS") and not again.stimulating
    _edit(state_dir, "nan") if change != "nan" else None
    VirtualGenerator(clock, state_dir=state_dir, rng_seed=3)
    assert len(sorted(state_dir.glob(STATE_FILE + ".*.corrupt"))) == (2 if change != "nan" else 1)


def test_kept_copies_are_never_overwritten(state_dir: Path, clock: FakeClock) -> None:
    for n in range(3):
        (state_dir.mkdir(exist_ok=True))
        (state_dir / STATE_FILE).write_bytes(b"garbage %d" % n)
        VirtualGenerator(clock, state_dir=state_dir)
    kept = sorted(state_dir.glob(STATE_FILE + ".*.corrupt"))
    assert sorted(p.read_bytes() for p in kept) == [b"garbage 0", b"garbage 1", b"garbage 2"]


# --- temporaries of killed writers --------------------------------------------------------------


def _dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_start_up_removes_temporaries_of_dead_writers_old_and_new(state_dir: Path, clock: FakeClock) -> None:
    state_dir.mkdir()
    dead = _dead_pid()
    leftovers = [f".{STATE_FILE}.{dead}.0a1b2c3d.tmp", f".{STATE_FILE}.k3_x9qzy.tmp", f".{DEVICE_KEY_FILE}.{dead}.ffee0011.tmp"]
    live = f".{STATE_FILE}.{os.getppid()}.12345678.tmp"
    for name in [*leftovers, live, "unrelated.tmp"]:
        (state_dir / name).write_text("{")
    VirtualGenerator(clock, state_dir=state_dir)
    names = {p.name for p in state_dir.iterdir()}
    assert not names & set(leftovers)
    assert {live, "unrelated.tmp"} <= names
