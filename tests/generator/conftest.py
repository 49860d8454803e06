"""Helpers for device tests: a fake clock and exact transcripts of the wire.

A transcript is a list of (line sent, lines expected back). Every line the generator sends
must carry a valid CRC; the comparison is on the text before `` *CRC``, and the whole
answer must match: a line expected but not sent, or sent but not expected, fails.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from stimsim.generator.virtual_generator import VirtualGenerator
from stimsim.protocol.codec import crc16, seal
from stimsim.protocol.login import proof

TONIC = "MODE=TONIC AMP=3000 PW=300 RATE=50 ELEC=4:-100,5:+100"
"""A plain tonic program: 3 mA, 300 us, 50 Hz, 4- 5+ (no charge-density warning)."""


class FakeClock:
    """Real time as the generator sees it; tests move it by hand."""

    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def unseal(out: bytes) -> list[str]:
    """Split generator output into lines, checking each line's CRC and CR LF."""
    assert out == b"" or out.endswith(b"\r\n"), out
    lines = []
    for raw in out.split(b"\r\n")[:-1]:
        text, sep, crc = raw.rpartition(b" *")
        assert sep and int(crc, 16) == crc16(text), f"bad CRC on {raw!r}"
        assert len(raw) <= 512
        lines.append(text.decode("ascii"))
    return lines


def wire(line: str | bytes, *, crc: bool = False) -> bytes:
    """A request as sent: ``crc`` seals it with a CRC; bytes are sent as they are."""
    if isinstance(line, bytes):
        return line
    return seal(line) if crc else line.encode("ascii") + b"\r\n"


def send(gen: VirtualGenerator, line: str | bytes, *, crc: bool = False) -> list[str]:
    return unseal(gen.receive(wire(line, crc=crc)))


Step = tuple[str | bytes | None, str | Sequence[str]]


def transcript(gen: VirtualGenerator, steps: Sequence[Step], *, crc: bool = False) -> None:
    """Send each line (None: just ``poll()``) and require exactly the expected lines back."""
    for n, (line, expected) in enumerate(steps):
        want = [expected] if isinstance(expected, str) else list(expected)
        got = unseal(gen.poll()) if line is None else send(gen, line, crc=crc)
        assert got == want, f"step {n}: sent {line!r}"
    assert not gen.internal_errors


def login(gen: VirtualGenerator, pin: str = "0000", *, seq: int | None = None) -> None:
    """Become CLINICIAN through the challenge-response handshake."""
    prefix = "" if seq is None else f"#{seq} "
    (reply,) = send(gen, f"{prefix}LOGIN", crc=seq is not None)
    nonce = re.search(r"NONCE=([0-9A-F]{16})", reply)
    assert nonce, reply
    prefix = "" if seq is None else f"#{seq + 1} "
    assert send(gen, f"{prefix}LOGIN PROOF={proof(pin, nonce.group(1))}", crc=seq is not None) == [
        f"{prefix}OK ROLE=CLINICIAN"
    ]


def program_slot(gen: VirtualGenerator, slot: int = 1, program: str = TONIC, extra: str = "") -> None:
    assert send(gen, f"PROG SLOT={slot} {program} {extra}".strip()) == [f"OK SLOT={slot}"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def gen(clock: FakeClock) -> VirtualGenerator:
    return VirtualGenerator(clock, rng_seed=7)


@pytest.fixture
def clinician(gen: VirtualGenerator) -> VirtualGenerator:
    """A generator with a clinician logged in and slot 1 holding TONIC."""
    login(gen)
    program_slot(gen)
    return gen


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"
