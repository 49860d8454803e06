"""The stub's closed loop (family SCS-CL) answers as the Python generator does.

The loop keys' rules and refusals are compared line for line with a virtual generator of
the same family (and on every other family, where the keys are ``BAD_ARG KEY=LOOP``); the
loop itself, run by the stub's loop core on its host virtual nerve, is compared update by
update with the closedloop package's ``step`` on ``VirtualNerve`` with no noise.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest

from stimsim.closedloop import VirtualNerve, clamp_for, step
from stimsim.closedloop import defaults as CL
from stimsim.engine import params as P
from stimsim.engine.program import DeviceModel
from stimsim.protocol.program_args import program_from_values

from .stub_support import LOOP, running
from .test_families import Line, Virtual, _session

pytestmark = pytest.mark.usefixtures("stub_build")

_BASE = {"SLOT": 3, "MODE": "TONIC", "AMP": 5000, "PW": 300, "RATE": 50, "ELEC": "4:-100,5:+50,6:+50"}
_ECAP = {**_BASE, "LOOP": "ECAP", "SENSE": "7,8"}


def _loop_key_lines() -> Iterator[Line]:
    """Every loop key at the edges of its range, malformed, on the wrong lead, with the
    causes the contract orders (range, grid, ELECTRODES, FIT, LIMITS, SENSE)."""
    yield "PROG", _ECAP
    yield "READ", {"SLOT": 3}
    for row in P.LOOP_TABLE:
        if row.range is not None:
            for value in (row.range.minimum - 1, row.range.minimum, row.range.maximum, row.range.maximum + 1,
                          "x", "1.5", "+20", "-3"):
                yield "PROG", {**_ECAP, row.wire: value}
                yield "READ", {"SLOT": 3}
    for loop in ("OPEN", "ECAP", "open", "Ecap", "SOMETIMES", ""):
        yield "PROG", {**_BASE, "LOOP": loop}
        yield "PROG", {**_BASE, "LOOP": loop, "SENSE": "7,8"}
        yield "READ", {"SLOT": 3}
    for sense in ("7,8", "8,7", "07,8", "7,7", "9,10", "5,7", "4,7", "0,7", "7,17", "7,99", "7", "7,8,9", "a,b",
                  "7;8", "123,7", ",7", "7,"):
        yield "PROG", {**_ECAP, "SENSE": sense}
        yield "PROG", {**_BASE, "LOOP": "OPEN", "SENSE": sense}
        yield "PROG", {**_BASE, "SENSE": sense}
        yield "READ", {"SLOT": 3}
    yield "PROG", {**_BASE, "TARGET_UV": 80}
    yield "READ", {"SLOT": 3}
    yield "PROG", {**_BASE, "GAIN": 7, "SENSE": "2,3"}
    yield "READ", {"SLOT": 3}
    # the cathode's lead: the most cathodic current, lead A on a tie
    for elec, sense in (("4:-50,12:-50,CASE:+100", "10,11"), ("4:-50,12:-50,CASE:+100", "6,7"),
                        ("4:-40,12:-60,CASE:+100", "10,11"), ("4:-40,12:-60,CASE:+100", "6,7"),
                        ("12:-100,13:+100", "14,15"), ("12:-100,13:+100", "6,7")):
        yield "PROG", {**_ECAP, "ELEC": elec, "SENSE": sense}
    # the order of causes: BAD_ARG before OUT_OF_RANGE; range, grid, ELECTRODES, FIT, LIMITS, SENSE
    yield "PROG", {**_ECAP, "MODE": "BURST", "BURST_N": 3, "INTRA_HZ": 500, "PW": 200, "RATE": 40}
    yield "PROG", {**_BASE, "LOOP": "OPEN", "MODE": "BURST", "BURST_N": 3, "INTRA_HZ": 500, "PW": 200, "RATE": 40,
                   "SENSE": "7,8"}
    yield "PROG", {**_BASE, "MODE": "HF", "PW": 30, "RATE": 10000, "LOOP": "ECAP"}
    yield "PROG", {**_BASE, "LOOP": "ECAP", "TARGET_UV": 9}
    yield "PROG", {**_BASE, "LOOP": "ECAP", "ELEC": "4:-100,99:+100", "SENSE": "7,8"}
    yield "PROG", {**_ECAP, "AMP": 99999, "TARGET_UV": 501}
    yield "PROG", {**_ECAP, "TARGET_UV": 501, "AMP": 5005}
    yield "PROG", {**_ECAP, "GAIN": 0, "ELEC": "4:-100,5:+50"}
    yield "PROG", {**_ECAP, "AMP": 5005, "SENSE": "9,10"}
    yield "PROG", {**_ECAP, "ELEC": "4:-100", "SENSE": "9,10"}
    yield "PROG", {**_ECAP, "PW": 1000, "RATE": 1200, "SENSE": "9,10"}
    yield "PROG", {**_ECAP, "AMP_MAX": 4000, "SENSE": "9,10"}
    yield "PROG", {**_ECAP, "AMP": 12000, "PW": 1000, "SENSE": "9,10"}
    yield "PROG", {**_ECAP, "AMP": 12000, "PW": 1000}
    yield "PROG", {**_ECAP, "SLOT": 17, "SENSE": "9,10"}
    yield "PROG", {**_ECAP, "SLOT": 17, "LOOP": "ECAP", "SENSE": "x"}
    yield "PROG", {**_ECAP, "SLOT": "x", "LOOP": "x"}
    yield "PROG", {k: v for k, v in _ECAP.items() if k != "AMP"}
    yield "TEST", {k: v for k, v in _ECAP.items() if k != "SLOT"}
    yield "TEST", {k: v for k, v in {**_ECAP, "SENSE": "5,6"}.items() if k != "SLOT"}
    yield "TEST", ["END"]
    yield "READ", {"SLOT": 3}


@pytest.mark.parametrize("family", list(P.Family), ids=[f.value for f in P.Family])
def test_loop_keys_and_their_refusals_match_the_python_generator(family: P.Family) -> None:
    lines = list(_loop_key_lines())
    assert len(lines) > 150
    with running("--pty", "--family", family.value) as stub:
        got = _session(stub, lines)
    want = _session(Virtual(family), lines)
    assert got == want
    if family is P.Family.SCS_CL:
        joined = "\n".join(want)
        assert "('RULE', 'SENSE'), ('KEY', 'SENSE')" in joined and "('KEY', 'TARGET_UV'), ('MIN', '10')" in joined
    else:
        assert sum("BAD_ARG', [('KEY', 'LOOP')]" in line for line in want) > 100


# --- the loop itself ---------------------------------------------------------------------

_UPDATES = 10_000
#: sitting, then lying on the back, a cough while lying, back to sitting (update indexes)
_SCHEDULE = ((0, "sitting"), (3000, "supine"), (6000, "cough"), (8000, "sitting"))


def _python_loop(wire: dict[str, str], updates: int) -> list[tuple[int, float]]:
    """The engine's loop: closedloop.step on the device's VirtualNerve, with no noise."""
    program, ack = program_from_values(wire, with_slot=False)
    device = DeviceModel(family=P.Family.SCS_CL)
    nerve = VirtualNerve.reference(program, 1.0, device, posture="sitting", noise_uv=0.0)
    clamp = clamp_for(program, device, acknowledged=ack)
    loop = program.closed_loop
    assert loop is not None
    per_cough = round(CL.COUGH_S * min(program.rate_hz, CL.MAX_UPDATE_HZ))
    cough_until = -1
    amp = program.amplitude_ua
    out: list[tuple[int, float]] = []
    for n in range(updates):
        for at, what in _SCHEDULE:
            if at == n and what == "cough":
                cough_until = n + per_cough
            elif at == n:
                nerve.posture = what
        nerve.cough = n < cough_until
        ecap = nerve.measure(amp)
        out.append((amp, ecap))
        amp = step(amp, ecap, loop.target_uv, loop.gain_ua_per_uv, clamp)
    return out


def _stub_loop(wire: dict[str, str], updates: int) -> list[tuple[int, float]]:
    schedule = ",".join(f"{what}@{at}" for at, what in _SCHEDULE)
    args = [wire[k] for k in ("AMP", "PW", "RATE", "ELEC", "TARGET_UV", "GAIN", "AMP_MIN", "AMP_MAX")]
    result = subprocess.run([str(LOOP), *args, str(updates), schedule], capture_output=True, text=True, timeout=60,
                            check=True)
    rows = [line.split() for line in result.stdout.splitlines()]
    return [(int(a), int(q) / 65536.0) for a, q in rows]


_PROGRAMS = {
    "bipolar-t8": {"MODE": "TONIC", "AMP": "5000", "PW": "300", "RATE": "50", "ELEC": "4:-100,5:+50,6:+50",
                   "LOOP": "ECAP", "SENSE": "7,8", "TARGET_UV": "40", "GAIN": "24", "AMP_MIN": "1000",
                   "AMP_MAX": "8000"},
    "monopolar-clamped": {"MODE": "TONIC", "AMP": "3000", "PW": "450", "RATE": "40", "ELEC": "12:-100,CASE:+100",
                          "LOOP": "ECAP", "SENSE": "13,14", "TARGET_UV": "120", "GAIN": "37", "AMP_MIN": "2000",
                          "AMP_MAX": "6000"},
    "transverse-ringing": {"MODE": "TONIC", "AMP": "6000", "PW": "210", "RATE": "100", "ELEC": "3:-100,11:+100",
                           "LOOP": "ECAP", "SENSE": "5,6", "TARGET_UV": "60", "GAIN": "45", "AMP_MIN": "0",
                           "AMP_MAX": "12000"},
}


@pytest.mark.parametrize("name", list(_PROGRAMS))
def test_stub_loop_matches_the_engines_loop_over_10000_updates(name: str) -> None:
    wire = _PROGRAMS[name]
    want = _python_loop(wire, _UPDATES)
    got = _stub_loop(wire, _UPDATES)
    assert len(got) == len(want) == _UPDATES
    worst = max(abs(g[0] - w[0]) for g, w in zip(got, want, strict=True))
    assert worst <= 1, f"{name}: the stub's amplitude is {worst} uA away from the engine's"
    assert max(abs(g[1] - w[1]) for g, w in zip(got, want, strict=True)) <= 0.05
    # the schedule moved the loop: lying down lowered the amplitude, the cough lowered it more
    amps = [a for a, _ in want]
    assert len(set(amps)) > 3
    if name == "monopolar-clamped":
        assert max(amps) == 6000 and amps[2999] == 6000  # AMP_MAX holds the loop while sitting
    assert amps[5999] != amps[2999] and min(amps[6000:6060]) < amps[5999]


# --- the nerve's SIM controls and the ECAP verbs' refusals ---------------------------------


def _sim_and_ecap_lines() -> list[Line]:
    """What does not move with time: SIM's nerve controls and ECAP's refusals, in the
    protocol's order of causes (syntax, then ranges, then state)."""
    sweep = "SWEEP"
    lines: list[Line] = [("ECAP", []), ("ECAP", [sweep, "FROM=1000", "TO=2000", "STEP=100"])]
    lines += [("PROG", {**_ECAP, "SLOT": 1}), ("SELECT", {"SLOT": 1})]
    for posture in ("SUPINE", "prone", "Standing", "HEADSTAND", "", "SITTING"):
        lines += [("SIM", {"POSTURE": posture}), ("ECAP", [])]
    for noise in ("0", "100", "101", "0.5", "2.25", "x", "1.1234567", "-1", "3"):
        lines.append(("SIM", {"ECAP_NOISE": noise}))
    for eps in ("0.49", "0.5", "2", "2.01", "5", "1.5", "one", "1"):
        lines += [("SIM", {"EPS": eps}), ("ECAP", [])]
    lines += [
        ("SIM", ["COUGH"]), ("ECAP", []), ("SIM", ["COUGH", "COUGH"]), ("SIM", ["RESET", "COUGH"]),
        ("SIM", ["COUGH", "RESET"]), ("SIM", ["POSTURE=SUPINE", "RESET"]), ("SIM", ["SPEED=x", "POSTURE=x"]),
        ("SIM", ["EPS=5", "BATT=2000"]), ("SIM", ["EPS=5", "ECAP_NOISE=200"]), ("SIM", ["BATT=500", "EPS=9"]),
        ("SIM", ["POSTURE=PRONE", "ECAP_NOISE=1", "EPS=1.25", "COUGH", "BATT=900"]),
        ("SIM", ["EPS=1", "POSTURE=SITTING", "ECAP_NOISE=0"]),
        ("ECAP", {"STREAM": "2"}), ("ECAP", {"STREAM": "1"}), ("ECAP", {"STREAM": "1"}), ("ECAP", {"STREAM": "0"}),
        ("ECAP", ["FOO"]), ("ECAP", {"FROM": "1"}), ("ECAP", ["STREAM=1", "SWEEP"]),
        ("ECAP", [sweep]), ("ECAP", [sweep, "FROM=1000"]), ("ECAP", [sweep, "FROM=1000", "TO=2000"]),
        ("ECAP", [sweep, "FROM=x", "TO=2000", "STEP=100"]), ("ECAP", [sweep, "FROM=1000", "TO=2000", "STEP=+"]),
        ("ECAP", [sweep, "FROM=1000", "TO=2000", "STEP=100", "AT=1"]),
        ("ECAP", [sweep, "FROM=-1", "TO=2000", "STEP=100"]), ("ECAP", [sweep, "FROM=99000", "TO=2000", "STEP=100"]),
        ("ECAP", [sweep, "FROM=3000", "TO=2000", "STEP=100"]), ("ECAP", [sweep, "FROM=0", "TO=99000", "STEP=100"]),
        ("ECAP", [sweep, "FROM=0", "TO=9800", "STEP=98"]), ("ECAP", [sweep, "FROM=0", "TO=9800", "STEP=9801"]),
        ("ECAP", [sweep, "FROM=0", "TO=9800", "STEP=0"]), ("ECAP", [sweep, "FROM=1000", "TO=1000", "STEP=1"]),
        ("ECAP", [sweep, "FROM=1000", "TO=2000", "STEP=100"]),
        ("PROG", {**_ECAP, "SLOT": 1, "AMP_MAX": 6000}), ("ECAP", [sweep, "FROM=1000", "TO=9000", "STEP=100"]),
        ("PROG", {**_ECAP, "SLOT": 1, "PW": 1000, "AMP": 3000}),
        ("ECAP", [sweep, "FROM=1000", "TO=99000", "STEP=1000"]),
        ("PROG", {**_ECAP, "SLOT": 1, "PW": 1000, "AMP": 3000, "ACK": "CHARGE"}),
        ("ECAP", [sweep, "FROM=1000", "TO=99000", "STEP=1000"]), ("ECAP", []),
        ("LOGOUT", []), ("ECAP", [sweep, "FROM=x"]), ("ECAP", {"STREAM": "1"}), ("ECAP", {"STREAM": "0"}),
    ]
    return lines


@pytest.mark.parametrize("family", list(P.Family), ids=[f.value for f in P.Family])
def test_sim_nerve_controls_and_ecap_refusals_match_the_python_generator(family: P.Family) -> None:
    lines = _sim_and_ecap_lines()
    with running("--pty", "--family", family.value) as stub:
        got = _session(stub, lines)
    want = _session(Virtual(family), lines)
    assert got == want
    joined = "\n".join(want)
    if family is P.Family.SCS_CL:
        assert "('KEY', 'EPS'), ('MIN', '0.5'), ('MAX', '2')" in joined and "('POSTURE', 'PRONE')" in joined
        assert "('REASON', 'STIM_OFF')" in joined and "('KEY', 'STEP'), ('MIN', '99'), ('MAX', '9800')" in joined
    else:
        assert "UNKNOWN_VERB" in joined and "('KEY', 'POSTURE')" in joined


def test_the_running_stub_holds_the_ecap_through_a_posture_change() -> None:
    """Over the wire, in the device's own time: the loop settles where the engine's loop
    settles, sitting and then lying down, and STATUS reports the loop's amplitude."""
    wire = _PROGRAMS["bipolar-t8"]
    settled = {posture: amp for posture, amp in (("sitting", _python_loop(wire, 2000)[1999][0]),
                                                  ("supine", _python_loop(wire, 6000)[5999][0]))}
    with running("--pty", "--family", "SCS-CL") as stub:
        stub.request("HELLO")
        stub.login()
        assert stub.request("PROG", {"SLOT": 1, **wire}).ok
        assert stub.request("SELECT", {"SLOT": 1}).ok
        assert stub.request("SIM", {"ECAP_NOISE": "0", "POSTURE": "SITTING"}).ok
        assert stub.request("STIM", ["ON"]).ok
        for posture in ("sitting", "supine"):
            assert stub.request("SIM", {"POSTURE": posture.upper()}).ok
            deadline = time.monotonic() + 3.0
            while time.monotonic() < deadline and stub.request("STATUS").get("AMP") != str(settled[posture]):
                time.sleep(0.05)
            assert stub.request("STATUS").get("AMP") == str(settled[posture]), posture
            time.sleep(0.1)  # a few more updates: the last one measured at the settled amplitude
            reading = stub.request("ECAP")
            assert reading.get("AMP") == str(settled[posture]), reading
            assert reading.get("ECAP_UV") == "40" and reading.get("LOOP") == "1", reading
        assert stub.request("STIM", ["OFF"]).ok
        assert stub.request("STATUS").get("AMP") == wire["AMP"]  # the program's amplitude again


def test_the_stream_goes_on_through_a_cycling_pause() -> None:
    """!ECAP comes ten times a second while stimulating, also while cycling holds the pulses."""
    with running("--pty", "--family", "SCS-CL") as stub:
        stub.request("HELLO")
        stub.login()
        assert stub.request("PROG", {**_BASE, "SLOT": 1, "CYCLE_ON_MS": 1000, "CYCLE_OFF_MS": 60000}).ok
        assert stub.request("SELECT", {"SLOT": 1}).ok
        assert stub.request("ECAP", {"STREAM": "1"}).ok
        assert stub.request("STIM", ["ON"]).ok
        events = [e for e in stub.events_for(3.0) if e.name == "ECAP"]  # 1 s of pulses, 2 s of pause
        assert 24 <= len(events) <= 36, len(events)
