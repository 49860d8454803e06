"""``stimsim emulate`` and ``stimsim device`` as a user runs them: real processes, ptys, sockets."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from stimsim.engine.params import Mode
from stimsim.engine.program import Electrodes, Program
from stimsim.host.client import Client, DeniedError
from stimsim.protocol import codec
from stimsim.protocol.transport import open_port, read_available

from ..host_support import EMULATE, PY, _fds, no_leaks, thread_emulator, wait_until  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_leaks")
PROGRAM = Program(Mode.TONIC, 2500, 180, 40, Electrodes.of({"3": -100, "case": 100}), slot=4, name="Kept")


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    url: str

    def stop(self, signum: int = signal.SIGTERM) -> tuple[int, str]:
        self.proc.send_signal(signum)
        _out, err = self.proc.communicate(timeout=10)
        return self.proc.returncode, err.decode()


@contextlib.contextmanager
def emulate(*args: str) -> Iterator[Served]:
    proc = subprocess.Popen([*EMULATE, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        assert sel.select(15), "no PORT line within 15 s"
        sel.close()
        first = proc.stdout.readline().decode().strip()
        assert first.startswith("PORT "), first
        yield Served(proc, first[5:])
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def test_pty_emulator_serves_the_client_and_stops_cleanly_on_sigterm() -> None:
    with emulate("--pty") as served:
        assert served.url.startswith("/dev/pts/")
        with Client.connect(served.url) as client:
            assert client.info is not None and client.info.model == "STIMSIM-VG"
            assert client.login("0000") == "CLINICIAN"
            assert client.prog(PROGRAM).amplitude_ua == 2500
            assert client.status().role == "CLINICIAN"
        code, err = served.stop(signal.SIGTERM)
        assert code == 0
        assert "PIN is the default 0000" in err
        assert not os.path.exists(served.url), "the pty outlived the emulator"


def test_tcp_emulator_refuses_a_second_client_while_the_first_is_connected() -> None:
    with emulate("--tcp", "0") as served:
        assert served.url.startswith("socket://127.0.0.1:")
        host, port = served.url[len("socket://"):].split(":")
        with Client.connect(served.url) as first:
            with socket.create_connection((host, int(port)), timeout=5) as second:
                second.settimeout(5)
                data = b""
                while not data.endswith(b"\n"):
                    chunk = second.recv(100)
                    if not chunk:
                        break
                    data += chunk
                assert codec.parse_incoming(data.rstrip(b"\r\n")) == codec.Reply(
                    args=(("REASON", "BUSY"),), ok=False, code="STATE")
                assert second.recv(100) == b""  # closed at once
            assert first.status().stim is False  # the first is undisturbed
        with Client.connect(served.url) as again:  # free again once the first has gone
            assert again.status().role == "PATIENT"
        code, _err = served.stop(signal.SIGINT)
        assert code == 0
        with pytest.raises(OSError):
            socket.create_connection((host, int(port)), timeout=2).close()


def test_pin_option_replaces_the_default(tmp_path: Path) -> None:
    with emulate("--pty", "--pin", "8642") as served:
        with Client.connect(served.url) as client:
            with pytest.raises(DeniedError):
                client.login("0000")
            assert client.login("8642") == "CLINICIAN"
        code, err = served.stop()
        assert code == 0 and "default" not in err


def test_state_folder_keeps_slots_and_a_corrupt_one_is_reported(tmp_path: Path) -> None:
    with emulate("--pty", "--state", str(tmp_path)) as served:
        with Client.connect(served.url) as client:
            client.login("0000")
            client.prog(PROGRAM)
        assert served.stop()[0] == 0
    with emulate("--pty", "--state", str(tmp_path)) as served:
        with Client.connect(served.url) as client:
            assert client.read(4).name == "Kept"
            assert client.info is not None and not client.info.state_defaults
        assert served.stop()[0] == 0
    (tmp_path / "generator-state.json").write_text('{"format": "stimsim.generator-state", "vers')
    with emulate("--pty", "--state", str(tmp_path)) as served:
        with Client.connect(served.url) as client:
            assert client.info is not None and client.info.state_defaults
        code, err = served.stop()
        assert code == 0 and "warning:" in err and "generator-state.json" in err


@pytest.mark.parametrize("args, text", [
    (["--pin", "12"], "--pin '12': a PIN is 4 to 8 digits"),
    (["--speed", "0"], "--speed 0: allowed 0.1..100000"),
    (["--pty", "--tcp", "0"], "not allowed with argument"),
])
def test_bad_emulate_usage_exits_2(args: list[str], text: str) -> None:
    done = subprocess.run([*EMULATE, *args], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and text in done.stderr and done.stdout == ""


def test_in_process_emulator_over_socket_and_pty_for_the_client() -> None:
    for pty in (True, False):
        with thread_emulator(pty=pty) as (url, _emu), Client.connect(url) as client:
            client.login("0000")
            client.prog(PROGRAM)
            client.select(4)
            client.stim(True)
            mark = client.event_mark()
            client.stop()
            assert client.wait_event("STIM", after=mark, timeout=2.0) is not None


def test_emulator_keeps_serving_a_pty_across_client_sessions() -> None:
    with thread_emulator(pty=True) as (url, _emu):
        for _ in range(3):
            port = open_port(url)
            port.write(b"STATUS\r\n")
            data = b""
            deadline = time.monotonic() + 2
            while not data.endswith(b"\n") and time.monotonic() < deadline:
                data += read_available(port)
            port.close()
            assert data.startswith(b"OK STIM=")


def _device(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PY, "-m", "stimsim", "device", url, *args], capture_output=True, text=True, timeout=60)


def test_device_command_one_shot_lines() -> None:
    with thread_emulator(pty=True) as (url, _emu):
        done = _device("STATUS", "mri on", "STIM ON", "MRI OFF", url=url)
        lines = done.stdout.splitlines()
        assert lines[0].startswith("OK STIM=OFF SLOT=")
        assert lines[1:] == ["OK MRI=1", "ERR STATE REASON=EMPTY", "OK MRI=0"]
        assert done.returncode == 1  # a line was refused
        done = subprocess.run([PY, "-m", "stimsim", "device", "--login", "0000", url,
                               "PROG SLOT=5 MODE=TONIC AMP=1000 PW=100 RATE=40 ELEC=4:-100,5:+100",
                               "SELECT SLOT=5", "STIM ON", "STOP"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == ["OK SLOT=5", "OK SLOT=5", "OK STIM=ON", "OK STIM=OFF",
                                            "!STIM STIM=OFF REASON=STOP"]
        raw = subprocess.run([PY, "-m", "stimsim", "device", "--raw", url, "STATUS"], capture_output=True,
                             text=True, timeout=60)
        sent = [line for line in raw.stdout.splitlines() if line.startswith("> ")]
        assert sent[0].split()[2:4] == ["HELLO", "STRICT=1"] and sent[1].split()[2] == "STATUS"
        assert all(line.split()[-1].startswith("*") for line in raw.stdout.splitlines())


def test_device_command_failures() -> None:
    with thread_emulator(pty=True) as (url, _emu):
        bad = _device("#4 STATUS", url=url)
        assert bad.returncode == 2 and "without SEQ and CRC" in bad.stderr
    master, slave = os.openpty()  # a port where nobody answers
    try:
        silent = _device("STATUS", "--timeout", "0.05", url=os.ttyname(slave))
        assert silent.returncode == 1 and "not answering" in silent.stderr
    finally:
        os.close(master)
        os.close(slave)
    unknown = _device("STATUS", url="nosuch://x")
    assert unknown.returncode == 2 and "nosuch" in unknown.stderr


def test_leak_guard_sees_an_open_pty() -> None:
    master, slave = os.openpty()
    try:
        assert {master, slave} <= set(_fds())
    finally:
        os.close(master)
        os.close(slave)
    wait_until(lambda: master not in _fds(), what="the pty to close")


def test_device_console_reads_lines_until_quit() -> None:
    with thread_emulator(pty=True) as (url, _emu):
        script = "STATUS\n:login 0000\nIMPEDANCE\n#1 STATUS\n:bogus\nLOGOUT\n:quit\nSTATUS\n"
        done = subprocess.run([PY, "-m", "stimsim", "device", url], input=script, capture_output=True,
                              text=True, timeout=60)
    out = done.stdout.splitlines()
    assert done.returncode == 0, done.stderr
    assert out[0].startswith("OK STIM=OFF") and "ROLE=PATIENT" in out[0]
    assert out[1] == "OK ROLE=CLINICIAN"
    assert out[2].startswith("OK Z1=262 ")
    assert out[3] == "OK ROLE=PATIENT" and len(out) == 4  # nothing after :quit
    assert "without SEQ and CRC" in done.stderr and "unknown console command :bogus" in done.stderr


def _tcp_reply(sock: socket.socket) -> codec.Reply:
    """The next reply on a raw socket (events skipped)."""
    buf = b""
    while True:
        while b"\n" not in buf:
            chunk = sock.recv(4096)
            assert chunk, f"the emulator closed the connection (have {buf!r})"
            buf += chunk
        line, buf = buf.split(b"\n", 1)
        msg = codec.parse_incoming(line.rstrip(b"\r"))
        if isinstance(msg, codec.Reply):
            return msg


def _tcp_ask(sock: socket.socket, text: str) -> codec.Reply:
    sock.sendall(text.encode() + b"\r\n")
    return _tcp_reply(sock)


def test_a_new_tcp_client_does_not_inherit_role_strict_mode_or_test() -> None:
    with emulate("--tcp", "0") as served:
        host, port = served.url[len("socket://"):].split(":")
        with Client.connect(served.url) as first:  # HELLO STRICT=1
            assert first.login("0000") == "CLINICIAN"
            first.prog(PROGRAM)
            first.select(4)
            first.test(PROGRAM.with_amplitude(1000))
        time.sleep(0.2)  # the emulator sees the first client leave
        with socket.create_connection((host, int(port)), timeout=5) as second:
            second.settimeout(5)
            status = _tcp_ask(second, "STATUS")  # no HELLO: not strict, so a bare line is answered
            assert (status.get("ROLE"), status.get("TEST"), status.get("AMP")) == ("PATIENT", "0", "2500")
            assert _tcp_ask(second, "PROG SLOT=1 MODE=TONIC AMP=1000 PW=100 RATE=50 ELEC=1:-100,2:+100").as_dict() == {
                "NEED": "CLINICIAN"}
            assert _tcp_ask(second, "CONFIG PIN=9999").code == "DENIED"
        with Client.connect(served.url) as third:
            assert third.login("0000") == "CLINICIAN"  # the PIN is unchanged
        assert served.stop()[0] == 0


def test_an_idle_tcp_client_is_disconnected_and_the_slot_freed() -> None:
    with emulate("--tcp", "0", "--idle-timeout", "0.5") as served:
        host, port = served.url[len("socket://"):].split(":")
        with socket.create_connection((host, int(port)), timeout=3) as idle:
            idle.settimeout(3)
            started = time.monotonic()
            assert idle.recv(100) == b""  # closed by the emulator, with nothing said
            waited = time.monotonic() - started
            assert 0.4 <= waited < 2.5, waited
        with socket.create_connection((host, int(port)), timeout=3) as talker:
            talker.settimeout(3)
            assert _tcp_ask(talker, "HELLO").ok  # not BUSY: the slot is free again
            for _ in range(4):  # a client that talks is kept past the timeout
                time.sleep(0.3)
                assert _tcp_ask(talker, "STATUS").ok
        code, err = served.stop()
        assert code == 0 and "stimsim emulate: client idle for 0.5 s: connection closed" in err


@pytest.mark.parametrize("bad", ["0", "-1", "nan", "86401"])
def test_idle_timeout_option_is_checked(bad: str) -> None:
    done = subprocess.run([*EMULATE, "--tcp", "0", "--idle-timeout", bad], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "--idle-timeout" in done.stderr and done.stdout == ""
