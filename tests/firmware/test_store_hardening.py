"""The stub's persistent state against an attacker and against loss.

The LOGIN lockout lives in the store, so neither SIM RESET nor a restart clears it; the
PIN is stored neither in clear nor as the proof key SHA-256(PIN); banks that were written
and are now empty are reported like a corrupt state, while a new device starts quietly.
"""

from __future__ import annotations

import hashlib
import stat
import subprocess
from pathlib import Path

import pytest

from .stub_support import HOST, running, start

pytestmark = pytest.mark.usefixtures("stub_build")

TONIC = {"SLOT": 1, "MODE": "TONIC", "AMP": 3000, "PW": 200, "RATE": 50, "ELEC": "4:-100,5:+100"}


def test_wrong_proofs_and_lockout_survive_sim_reset_and_restart(tmp_path: Path) -> None:
    with running("--pty", "--state", str(tmp_path)) as stub:
        assert stub.request("HELLO").ok
        for _ in range(4):
            assert stub.login("9999").code == "DENIED"
        assert stub.request("SIM", ["RESET"]).ok
        assert stub.login("9999").as_dict() == {"RETRY_S": "60"}  # the fifth in a row, reset or not
        assert stub.request("SIM", ["RESET"]).ok
        assert stub.request("LOGIN").code == "LOCKED"
    with running("--pty", "--state", str(tmp_path)) as stub:  # a power cycle
        locked = stub.request("LOGIN")
        assert locked.code == "LOCKED" and locked.get("RETRY_S") == "60"  # starts over at the boot


def test_pin_is_stored_neither_in_clear_nor_as_the_proof_key(tmp_path: Path) -> None:
    pin = "73195824"
    with running("--pty", "--state", str(tmp_path)) as stub:
        assert stub.request("HELLO").ok
        assert stub.login().ok
        assert stub.request("CONFIG", {"PIN": pin}).ok
    secrets = (pin.encode(), hashlib.sha256(pin.encode()).digest(), hashlib.sha256(b"0000").digest())
    files = sorted(tmp_path.iterdir())
    for f in files:
        data = f.read_bytes()
        assert not any(s in data for s in secrets), f.name
    assert [f.name for f in files] == ["bank0.bin", "bank1.bin", "device.bin"]
    assert stat.S_IMODE((tmp_path / "device.bin").stat().st_mode) == 0o600
    with running("--pty", "--state", str(tmp_path)) as stub:
        assert stub.login("0000").code == "DENIED"
        assert stub.login(pin).get("ROLE") == "CLINICIAN"


def test_written_banks_now_empty_are_flagged_a_new_device_is_quiet(tmp_path: Path) -> None:
    stub = start("--pty", "--state", str(tmp_path))
    try:
        assert "STATE" not in stub.request("HELLO").as_dict()
        assert stub.login().ok
        assert stub.request("PROG", TONIC).ok
    finally:
        stub.stop()
    for bank in tmp_path.glob("bank*.bin"):
        bank.unlink()
    stub = start("--pty", "--state", str(tmp_path))
    try:
        assert stub.request("HELLO").get("STATE") == "DEFAULTS"
        assert stub.request("READ", {"SLOT": 1}).get("REASON") == "EMPTY"
        assert stub.request("SIM", ["RESET"]).ok
        assert stub.events_for(0.2)[0].get("STATE") == "DEFAULTS"  # !BOOT too, until a write
        assert stub.login().ok
        assert stub.request("PROG", TONIC).ok
        assert "STATE" not in stub.request("HELLO").as_dict()
    finally:
        stub.stop()


def test_empty_banks_message_on_stderr(tmp_path: Path) -> None:
    with running("--pty", "--state", str(tmp_path)) as stub:
        assert stub.request("HELLO").ok
    for bank in tmp_path.glob("bank*.bin"):
        bank.unlink()
    assert "persistent state was written before and both banks are now empty" in _stderr_of_a_start(tmp_path)


def _stderr_of_a_start(state: Path) -> str:
    """What the stub says on stderr when it starts on ``state`` and is stopped."""
    stub = start("--pty", "--state", str(state))
    try:
        assert stub.request("HELLO").ok
    finally:
        stub.close_port()
        stub.proc.terminate()
        _, err = stub.proc.communicate(timeout=5)
    return err.decode()


def test_a_new_device_says_nothing_about_defaults(tmp_path: Path) -> None:
    for _ in range(2):  # the first start, and a restart
        with running("--pty", "--state", str(tmp_path)) as stub:
            assert "STATE" not in stub.request("HELLO").as_dict()
        assert "defaults" not in _stderr_of_a_start(tmp_path)


def test_no_option_lets_sim_reset_clear_the_lockout() -> None:
    result = subprocess.run([str(HOST), "--pty", "--reset-clears-lockout"], capture_output=True, text=True,
                            timeout=5, check=False)
    assert result.returncode == 2 and "unknown or incomplete option '--reset-clears-lockout'" in result.stderr
