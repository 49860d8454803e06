"""The conformance suite: passes on the emulator, fails on devices that break a rule."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable

import pytest

from stimsim.cli import main
from stimsim.conformance import CHECKS, run_checks, summary
from stimsim.conformance.port_command import started_device
from stimsim.generator.virtual_generator import VirtualGenerator
from stimsim.protocol import codec

from ..host_support import PY, no_leaks, thread_emulator  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_leaks")
LINE = re.compile(r"^(PASS [a-z0-9_.]+|FAIL [a-z0-9_.]+: .+|SKIP [a-z0-9_.]+: .+)$")


def test_ci_command_passes_every_check_against_the_emulator_on_a_pty() -> None:
    done = subprocess.run([PY, "-m", "stimsim", "conformance", "--", PY, "-m", "stimsim", "emulate", "--pty"],
                          capture_output=True, text=True, timeout=120)
    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stdout + done.stderr
    counts = re.fullmatch(r"(\d+) passed, 0 failed, (\d+) skipped", lines[-1])
    assert counts, lines[-1]
    assert all(LINE.match(line) for line in lines[:-1]), [x for x in lines[:-1] if not LINE.match(x)]
    names = [line.split()[1].rstrip(":") for line in lines[:-1]]
    assert names == [name for name, _ in CHECKS] + ["cleanup"]
    assert int(counts.group(1)) + int(counts.group(2)) == len(CHECKS) + 1 >= 60
    # only what a pty cannot show is skipped: a new TCP connection, an idle TCP client (and
    # the closed-loop family's checks on this default family)
    assert sorted(x.split()[1].rstrip(":") for x in lines if x.startswith("SKIP") and " loop." not in x) == [
        "session.idle_client_dropped", "session.new_connection_patient"]
    assert "PIN is the default 0000" in done.stderr  # the emulator's own message passes through


def test_suite_over_tcp_leaves_the_device_as_it_found_it() -> None:
    gen = VirtualGenerator(time.monotonic, rng_seed=11)
    with thread_emulator(gen, pty=False) as (url, _emu):
        before = _memory(gen)
        assert main(["conformance", "--quick", url]) == 0
        after = _memory(gen)
    # The suite sets the battery level back; it runs on in real time (per-mille, floored).
    assert abs(int(after.pop("battery")) - int(before.pop("battery"))) <= 2  # type: ignore[call-overload]
    assert after == before
    assert not gen.stimulating and gen.role == "PATIENT"
    assert gen.internal_errors == []


def _memory(gen: VirtualGenerator) -> dict[str, object]:
    status = gen.status()
    return {"slots": gen.slots, "active": status["slot"], "impedance": status["impedance_default"],
            "battery": status["battery_permille"], "charging": status["charging"], "mri": status["mri"],
            "faults": status["faults"]}


class Mutant:
    """A generator whose bytes are bent by ``out`` (answers) and ``into`` (requests)."""

    def __init__(self, out: Callable[[bytes], bytes] = lambda b: b,
                 into: Callable[[VirtualGenerator, bytes], bytes | None] | None = None) -> None:
        self.gen = VirtualGenerator(time.monotonic, rng_seed=5)
        self.out = out
        self.into = into

    def receive(self, data: bytes) -> bytes:
        if self.into is not None:
            answer = self.into(self.gen, data)
            if answer is not None:
                return answer
        return self.out(self.gen.receive(data))

    def poll(self) -> bytes:
        return self.out(self.gen.poll())

    def boot_bytes(self) -> bytes:
        return self.out(self.gen.boot_bytes())


def _outcomes(device: Mutant, names: set[str]) -> dict[str, str]:
    with thread_emulator(device, pty=True) as (url, _emu):  # type: ignore[arg-type]
        results = run_checks(url, quick=True, only=lambda n: n in names)
    return {r.name: r.outcome for r in results}


def _lower_crc(data: bytes) -> bytes:
    return re.sub(rb"\*([0-9A-F]{4})\r\n", lambda m: b"*" + m.group(1).lower() + b"\r\n", data)


def _events_first(data: bytes) -> bytes:
    lines = data.splitlines(keepends=True)
    return b"".join([x for x in lines if x.startswith(b"!")] + [x for x in lines if not x.startswith(b"!")])


def _no_sim(gen: VirtualGenerator, data: bytes) -> bytes | None:
    try:
        req = codec.parse_request(data.rstrip(b"\r\n"))
    except codec.CodecError:
        return None
    if req.verb == "SIM":
        return codec.encode_reply(req.seq, False, "UNKNOWN_VERB")
    return None


def _echo_no_seq(data: bytes) -> bytes:
    out = b""
    for line in data.splitlines(keepends=True):
        if line.startswith(b"#"):
            line = codec.seal(line.split(b" ", 1)[1].rsplit(b" *", 1)[0].decode())
        out += line
    return out


@pytest.mark.parametrize("mutant, failing", [
    (Mutant(out=_lower_crc), {"framing.reply_lines", "framing.device_lines_valid"}),
    (Mutant(out=_events_first), {"stop.while_stimulating"}),
])
def test_the_suite_catches_a_device_that_breaks_a_rule(mutant: Mutant, failing: set[str]) -> None:
    names = failing | {"hello.reply", "status.reply"}
    outcome = _outcomes(mutant, names)
    for name in failing:
        assert outcome[name] == "FAIL", outcome


def test_a_device_that_does_not_echo_seq_fails_at_once_and_says_why() -> None:
    with thread_emulator(Mutant(out=_echo_no_seq), pty=True) as (url, _emu):  # type: ignore[arg-type]
        results = run_checks(url, quick=True)
    assert [(r.name, r.outcome) for r in results] == [("setup", "FAIL")]
    assert "does not echo SEQ" in results[0].why and "OK PROTO=1" in results[0].why


def test_sim_checks_are_skipped_on_a_board_without_emulator_controls() -> None:
    names = {"login.lockout", "sim.reset", "sim.fault", "sim.battery", "sim.charger", "sim.speed_range",
             "status.reply", "cleanup"}
    with thread_emulator(Mutant(into=_no_sim), pty=True) as (url, _emu):  # type: ignore[arg-type]
        results = run_checks(url, quick=True, only=lambda n: n in names)
    outcome = {r.name: r for r in results}
    for name in names - {"status.reply", "cleanup"}:
        assert outcome[name].outcome == "SKIP" and "UNKNOWN_VERB" in outcome[name].why
    assert outcome["status.reply"].outcome == "PASS" and outcome["cleanup"].outcome == "PASS"
    assert summary(results) == "2 passed, 0 failed, 6 skipped"


def test_conformance_usage_and_start_failures(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance"]) == 2
    assert "give a device URL" in capsys.readouterr().err
    assert main(["conformance", "socket://127.0.0.1:9", "extra"]) == 2
    assert "one URL expected" in capsys.readouterr().err
    assert main(["conformance", "--", PY, "-c", "print('hello')"]) == 1
    assert "is not 'PORT <url>'" in capsys.readouterr().err
    assert main(["conformance", "--", PY, "-c", "pass"]) == 1
    assert "exited" in capsys.readouterr().err


def test_the_documented_session_is_real_wire_traffic() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text(encoding="utf-8")
    block = doc.split("## 11. A worked session", 1)[1].split("```", 2)[1]
    lines = [line for line in block.splitlines() if line[:2] in ("> ", "< ")]
    assert len(lines) > 30
    damaged = []
    for line in lines:
        raw = line[2:].encode()
        if line.startswith("< "):
            codec.parse_incoming(raw)  # every device line parses with a good CRC
        elif b" *" in raw:
            try:
                codec.parse_request(raw)
            except codec.CodecError as exc:
                damaged.append((raw, exc.code))
    assert damaged == [(b"#4720 AMP STEP=+1 *0000", "BAD_CRC")]
    assert codec.crc16(b"123456789") == 0x29B1 and codec.crc16(b"#4712 STATUS") == 0x6BB0


HARDENING = {"login.lockout", "login.lockout_survives_reset", "session.new_connection_patient",
             "session.idle_client_dropped"}


def test_hardening_checks_pass_on_the_emulator_over_tcp_with_its_command() -> None:
    command = [PY, "-m", "stimsim", "emulate", "--tcp", "0"]
    with started_device(command, quiet=True) as url:
        started = time.monotonic()
        results = run_checks(url, quick=True, only=lambda n: n in HARDENING | {"cleanup"}, command=command)
        took = time.monotonic() - started
    assert {r.name: r.outcome for r in results} == dict.fromkeys(HARDENING | {"cleanup"}, "PASS"), results
    assert took < 30, took


def test_lockout_checks_are_skipped_without_a_device_command() -> None:
    gen = VirtualGenerator(time.monotonic, rng_seed=3)
    with thread_emulator(gen, pty=False) as (url, _emu):
        results = run_checks(url, quick=True, only=lambda n: n in HARDENING | {"cleanup"})
    outcome = {r.name: r for r in results}
    for name in ("login.lockout", "login.lockout_survives_reset", "session.idle_client_dropped"):
        assert outcome[name].outcome == "SKIP" and "COMMAND" in outcome[name].why, outcome[name]
    assert outcome["session.new_connection_patient"].outcome == "PASS"
    assert outcome["cleanup"].outcome == "PASS"
    assert gen.snapshot()["login"]["locked"] is False  # no check locked the suite's own device
