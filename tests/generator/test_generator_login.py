"""Roles and the challenge-response LOGIN with its lockout."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest

from stimsim.generator.virtual_generator import VirtualGenerator
from stimsim.protocol.login import proof

from .conftest import TONIC, FakeClock, login, send, transcript

WRONG = "0" * 64


def nonce(gen: VirtualGenerator) -> str:
    (reply,) = send(gen, "LOGIN")
    match = re.fullmatch(r"OK NONCE=([0-9A-F]{16})", reply)
    assert match, reply
    return match.group(1)


def test_proof_is_hmac_sha256_keyed_by_the_pin_digest() -> None:
    expected = hmac.new(hashlib.sha256(b"0000").digest(), b"0123456789ABCDEF", hashlib.sha256).hexdigest()
    assert proof("0000", "0123456789ABCDEF") == expected and len(expected) == 64


def test_correct_proof_in_either_case_gives_the_clinician_role(gen: VirtualGenerator) -> None:
    n = nonce(gen)
    transcript(gen, [
        (f"LOGIN PROOF={proof('0000', n).upper()}", "OK ROLE=CLINICIAN"),
        ("STATUS", "OK STIM=OFF SLOT=1 AMP=0 BATT=1000 CHG=0 ROLE=CLINICIAN COMPLIANCE=OK MRI=0 TEST=0"),
        ("LOGOUT", "OK ROLE=PATIENT"),
    ])
    assert [(e.role, e.what) for e in gen.log] == [("PATIENT", "LOGIN"), ("CLINICIAN", "LOGOUT")]


def test_nonces_are_fresh_and_single_use(gen: VirtualGenerator) -> None:
    first, second = nonce(gen), nonce(gen)
    assert first != second
    transcript(gen, [
        (f"LOGIN PROOF={proof('0000', first)}", "ERR DENIED REASON=PROOF"),  # replaced by the second
        (f"LOGIN PROOF={proof('0000', second)}", "ERR STATE REASON=NONCE"),  # used up by the wrong answer
    ])
    n = nonce(gen)
    transcript(gen, [
        (f"LOGIN PROOF={proof('0000', n)}", "OK ROLE=CLINICIAN"),
        ("LOGOUT", "OK ROLE=PATIENT"),
        (f"LOGIN PROOF={proof('0000', n)}", "ERR STATE REASON=NONCE"),  # a recorded login is useless
    ])


def test_a_proof_with_another_pin_is_wrong(gen: VirtualGenerator) -> None:
    assert send(gen, f"LOGIN PROOF={proof('1234', nonce(gen))}") == ["ERR DENIED REASON=PROOF"]
    assert gen.role == "PATIENT"


def test_malformed_proof_and_unknown_keys_are_bad_args_and_do_not_count(gen: VirtualGenerator) -> None:
    n = nonce(gen)
    transcript(gen, [
        ("LOGIN PROOF=abc", "ERR BAD_ARG KEY=PROOF"),
        ("LOGIN PIN=0000", "ERR BAD_ARG KEY=PIN"),
        ("LOGOUT NOW", "ERR BAD_ARG KEY=NOW"),
        (f"LOGIN PROOF={proof('0000', n)}", "OK ROLE=CLINICIAN"),  # the nonce survived the refusals
    ])


def test_fifth_wrong_proof_locks_for_60_real_seconds(gen: VirtualGenerator, clock: FakeClock) -> None:
    send(gen, "SIM SPEED=1000")  # lockout is real time, not battery time
    for _ in range(4):
        nonce(gen)
        assert send(gen, f"LOGIN PROOF={WRONG}") == ["ERR DENIED REASON=PROOF"]
    nonce(gen)
    assert send(gen, f"LOGIN PROOF={WRONG}") == ["ERR LOCKED RETRY_S=60"]
    clock.advance(20.5)
    transcript(gen, [
        ("LOGIN", "ERR LOCKED RETRY_S=40"),
        (f"LOGIN PROOF={WRONG}", "ERR LOCKED RETRY_S=40"),
        ("LOGIN PROOF=short", "ERR LOCKED RETRY_S=40"),
        ("LOGIN PIN=0000", "ERR LOCKED RETRY_S=40"),
    ])
    clock.advance(39.4)
    assert send(gen, "LOGIN") == ["ERR LOCKED RETRY_S=1"]
    clock.advance(0.2)
    login(gen)
    assert gen.role == "CLINICIAN"


def test_a_proof_without_a_nonce_counts_as_wrong(gen: VirtualGenerator) -> None:
    for _ in range(4):
        assert send(gen, f"LOGIN PROOF={WRONG}") == ["ERR STATE REASON=NONCE"]
    assert send(gen, f"LOGIN PROOF={WRONG}") == ["ERR LOCKED RETRY_S=60"]


def test_a_good_login_resets_the_count(gen: VirtualGenerator) -> None:
    for _ in range(4):
        nonce(gen)
        send(gen, f"LOGIN PROOF={WRONG}")
    login(gen)
    send(gen, "LOGOUT")
    for _ in range(4):
        nonce(gen)
        assert send(gen, f"LOGIN PROOF={WRONG}") == ["ERR DENIED REASON=PROOF"]


def test_a_reboot_ends_the_role_and_keeps_the_lockout(gen: VirtualGenerator, clock: FakeClock) -> None:
    login(gen)
    for _ in range(5):
        nonce(gen)
        send(gen, f"LOGIN PROOF={WRONG}")
    assert send(gen, "LOGIN")[0].startswith("ERR LOCKED")
    assert gen.role == "CLINICIAN"  # wrong proofs do not log a clinician out
    send(gen, "SIM RESET")
    assert gen.role == "PATIENT"
    assert send(gen, "LOGIN") == ["ERR LOCKED RETRY_S=60"]  # a reboot does not clear the lock
    clock.advance(60)
    login(gen)


@pytest.mark.parametrize("line", [
    "PROG SLOT=1 " + TONIC, "ERASE SLOT=1", "TEST " + TONIC, "TEST END", "IMPEDANCE", "CONFIG", "CONFIG PIN=1234",
    "PROG GARBAGE=1",
])
def test_clinician_verbs_are_denied_to_the_patient(gen: VirtualGenerator, line: str) -> None:
    assert send(gen, line) == ["ERR DENIED NEED=CLINICIAN"]


def test_hello_and_logout_return_to_patient(gen: VirtualGenerator) -> None:
    login(gen)
    assert send(gen, "HELLO")[0].split()[6] == "ROLE=PATIENT"
    assert send(gen, "IMPEDANCE") == ["ERR DENIED NEED=CLINICIAN"]
    login(gen)
    send(gen, "LOGOUT")
    assert send(gen, "CONFIG") == ["ERR DENIED NEED=CLINICIAN"]


def test_config_pin_changes_the_proof(gen: VirtualGenerator) -> None:
    login(gen)
    transcript(gen, [
        ("CONFIG PIN=12345678", "OK IMPEDANCE_DEFAULT=262"),
        ("CONFIG PIN=123", "ERR BAD_ARG KEY=PIN"),
        ("CONFIG PIN=123456789", "ERR BAD_ARG KEY=PIN"),
        ("CONFIG PIN=12a4", "ERR BAD_ARG KEY=PIN"),
        ("LOGOUT", "OK ROLE=PATIENT"),
    ])
    assert send(gen, f"LOGIN PROOF={proof('0000', nonce(gen))}") == ["ERR DENIED REASON=PROOF"]
    login(gen, "12345678")


def test_constructor_pin_is_the_default(clock: FakeClock) -> None:
    gen = VirtualGenerator(clock, pin="4321", rng_seed=1)
    login(gen, "4321")
    with pytest.raises(ValueError, match="4 to 8 digits"):
        VirtualGenerator(clock, pin="12")
