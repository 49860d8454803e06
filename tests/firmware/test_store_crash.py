"""The persistent state survives a power loss in the middle of a write: after a restart a
slot reads back as the old program or the new one, whole, never a mix.

STIMFW_STORE_ABORT_AT=N makes the host HAL write half of its N-th bank image, fsync it and
abort() -- the process dies exactly mid-write. A second test kills the stub with SIGKILL at
random moments while it is writing a stream of programs.
"""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pytest

from stimsim.protocol import codec

from .stub_support import Stub, running, start

pytestmark = pytest.mark.usefixtures("stub_build")

OLD = {"SLOT": 2, "MODE": "TONIC", "AMP": 2500, "PW": 200, "RATE": 40, "ELEC": "4:-100,5:+100", "NAME": "old"}
NEW = {"SLOT": 2, "MODE": "BURST", "AMP": 700, "PW": 900, "RATE": 40, "BURST_N": 5, "INTRA_HZ": 500,
       "ELEC": "1:-50,2:-50,CASE:+100", "AMP_MAX": 5000, "NAME": "new_one"}


def read_slot(stub: Stub) -> dict[str, str]:
    reply = stub.request("READ", {"SLOT": 2})
    assert reply.ok, reply
    return reply.as_dict()


def program_slot(state: Path, program: dict[str, object]) -> dict[str, str]:
    with running("--pty", "--state", str(state)) as stub:
        stub.request("HELLO")
        assert stub.login().ok
        assert stub.request("PROG", program).ok
        return read_slot(stub)


def test_abort_halfway_through_a_bank_write_keeps_the_old_slot(tmp_path: Path) -> None:
    old = program_slot(tmp_path, OLD)
    # Boot writes nothing (the store is valid); LOGIN's audit entry is write 1, PROG is write 2.
    stub = start("--pty", "--state", str(tmp_path), env={"STIMFW_STORE_ABORT_AT": "2"})
    try:
        stub.request("HELLO")
        assert stub.login().ok
        stub.send_raw(codec.encode_request("PROG", NEW))
        assert stub.proc.wait(5.0) == -signal.SIGABRT
    finally:
        stub.stop()
    sizes = sorted(p.stat().st_size for p in tmp_path.glob("bank*.bin"))
    assert len(sizes) == 2 and sizes[0] * 2 in (sizes[1], sizes[1] - 1), f"no torn bank: {sizes}"
    with running("--pty", "--state", str(tmp_path)) as stub:
        assert "STATE" not in stub.request("HELLO").as_dict()  # a torn bank is not a corrupt state
        assert read_slot(stub) == old
        assert stub.login().ok
        assert stub.request("PROG", NEW).ok
    with running("--pty", "--state", str(tmp_path)) as stub:
        new = read_slot(stub)
    assert new["MODE"] == "BURST" and new["NAME"] == "new_one" and new["ELEC"] == "1:-50,2:-50,CASE:+100"


def test_sigkill_while_writing_leaves_one_whole_program(tmp_path: Path) -> None:
    rng = random.Random(7)
    old = program_slot(tmp_path, OLD)
    new = program_slot(tmp_path, NEW)
    program_slot(tmp_path, OLD)
    for _ in range(4):
        stub = start("--pty", "--state", str(tmp_path))
        try:
            stub.request("HELLO")
            assert stub.login().ok
            burst = b"".join(codec.encode_request("PROG", NEW if i % 2 else OLD) for i in range(40))
            stub.send_raw(burst)
            time.sleep(rng.uniform(0.0, 0.03))  # let it get somewhere into the writes
            stub.proc.send_signal(signal.SIGKILL)
            assert stub.proc.wait(5.0) == -signal.SIGKILL
        finally:
            stub.stop()
        with running("--pty", "--state", str(tmp_path)) as stub:
            assert "STATE" not in stub.request("HELLO").as_dict()
            assert read_slot(stub) in (old, new)
