"""Fuzzing: nothing escapes ``receive`` and a line answered ERR changes no state."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stimsim.generator.virtual_generator import VirtualGenerator
from stimsim.protocol.codec import CodecError, parse_request, seal

from .conftest import TONIC, FakeClock, login, program_slot, unseal

VALID = [
    "HELLO", "HELLO STRICT=1", "STATUS", "READ SLOT=1", "PROG SLOT=2 " + TONIC, "TEST " + TONIC, "TEST END",
    "ERASE SLOT=3", "SELECT SLOT=1", "SELECT SLOT=2", "STIM ON", "STIM OFF", "AMP STEP=+1", "AMP STEP=-2",
    "AMP SET=2500", "IMPEDANCE", "BATT", "CONFIG IMPEDANCE_DEFAULT=300", "CONFIG PIN=1234", "STOP", "LOGIN",
    "LOGOUT", "MRI ON", "MRI OFF", "LOG FROM=2", "SIM SPEED=10", "SIM FAULT=OPEN:4", "SIM FAULT=NONE",
    "SIM BATT=500", "SIM CHARGE=1", "SIM FAULT=HOT",
    "PROG SLOT=3 MODE=BURST AMP=600 PW=1000 RATE=40 BURST_N=5 INTRA_HZ=500 ELEC=4:-100,5:+50,CASE:+50 ACK=CHARGE",
    # Valid lines that are refused in many states: the paths most likely to leak a change.
    "SELECT SLOT=5", "ERASE SLOT=1", "ERASE SLOT=2", "READ SLOT=9", "AMP SET=30000", "AMP STEP=+50", "AMP SET=900",
    "PROG SLOT=4 MODE=TONIC AMP=8000 PW=1000 RATE=50 ELEC=4:-100,5:+100",
    "TEST MODE=TONIC AMP=3000 PW=1000 RATE=1000 ELEC=4:-100,5:+100", "SIM CHARGE=1 FAULT=OPEN:20",
    "SIM SPEED=5 BATT=2000", "CONFIG PIN=12 IMPEDANCE_DEFAULT=300", "LOGIN PROOF=" + "a" * 64,
]


def rich_generator(strict: bool, clock: FakeClock | None = None) -> VirtualGenerator:
    """Clinician logged in, two slots, stimulating: a state with much to lose."""
    gen = VirtualGenerator(clock or FakeClock(), rng_seed=99)
    login(gen)
    program_slot(gen, 1)
    program_slot(gen, 2, "MODE=TONIC AMP=2000 PW=200 RATE=40 ELEC=6:-100,7:+100", "AMP_MIN=1000 AMP_MAX=4000")
    gen.receive(b"STIM ON\r\n")
    if strict:
        gen.receive(seal("#100 HELLO STRICT=1"))
        gen.receive(seal("#101 STIM ON"))
    return gen


def base_line(text: str, seq: int | None, sealed: bool) -> bytes:
    if seq is not None:
        text = f"#{seq} {text}"
    return seal(text)[:-2] if sealed else text.encode()


@st.composite
def mutated_lines(draw: st.DrawFn) -> bytes:
    text = draw(st.sampled_from(VALID))
    seq = draw(st.one_of(st.none(), st.integers(102, 160), st.integers(1, 65535)))
    line = bytearray(base_line(text, seq, draw(st.booleans())))
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2, 4]))):  # intact lines reach the verbs
        op = draw(st.sampled_from(["flip", "insert", "delete"]))
        pos = draw(st.integers(0, len(line)))
        byte = draw(st.integers(0, 255).filter(lambda b: b != 0x0A))
        if op == "insert":
            line.insert(pos, byte)
        elif line and pos < len(line):
            if op == "delete":
                del line[pos]
            else:
                line[pos] ^= byte if line[pos] ^ byte != 0x0A else 1
    return bytes(line)


def comparable(snapshot: dict[str, object], keep_login: bool) -> dict[str, object]:
    out = {k: v for k, v in snapshot.items() if k != "seq"}
    if not keep_login:
        out.pop("login")
    return out


def remembered(gen: VirtualGenerator, line: bytes) -> bool:
    try:
        req = parse_request(line.rstrip(b"\r"))
    except CodecError:
        return False
    ring = gen.snapshot()["seq"]["ring"]
    return any(seq == req.seq and body == req.body for seq, body, _ in ring)


def verb_of(line: bytes) -> str | None:
    try:
        return parse_request(line.rstrip(b"\r")).verb
    except CodecError:
        return None


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutated_lines(), min_size=1, max_size=8), st.booleans())
def test_a_line_answered_err_changes_nothing(lines: list[bytes], strict: bool) -> None:
    gen = rich_generator(strict)
    for line in lines:
        before = gen.snapshot()
        was_remembered = remembered(gen, line)
        out = unseal(gen.receive(line + b"\r\n"))
        assert not gen.internal_errors, line
        replies = [x for x in out if not x.startswith("!")]
        if not line.strip(b" \r"):
            assert out == []
            continue
        assert len(replies) == 1, (line, out)
        words = replies[0].split()
        head = words[1] if words[0].startswith("#") else words[0]
        if head == "ERR" and not was_remembered:
            assert out == replies, (line, out)  # a refusal raises no event
            keep_login = verb_of(line) != "LOGIN"
            assert comparable(gen.snapshot(), keep_login) == comparable(before, keep_login), (line, out)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=400), max_size=6))
def test_random_bytes_never_escape(chunks: list[bytes]) -> None:
    gen = VirtualGenerator(FakeClock(), rng_seed=1)
    for chunk in chunks:
        unseal(gen.receive(chunk))  # every line sent carries a valid CRC
    unseal(gen.receive(b"\n"))
    assert not gen.internal_errors
    assert gen.state.reader.pending() == 0  # the line buffer is empty after an EOL


def test_soak_of_mixed_lines_and_time() -> None:
    rnd = random.Random(1234)
    clock = FakeClock()
    gen = rich_generator(False, clock)
    for n in range(3000):
        text = rnd.choice(VALID)
        line = bytearray(base_line(text, n % 65535 + 1, rnd.random() < 0.5))
        if rnd.random() < 0.3 and line:
            line[rnd.randrange(len(line))] = rnd.randrange(32, 127)
        clock.advance(rnd.random() * 0.5)
        out = unseal(gen.receive(bytes(line) + b"\r\n") + gen.poll())
        assert sum(1 for x in out if not x.startswith("!")) == 1
    assert not gen.internal_errors
