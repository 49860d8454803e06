"""stimfw-host --tcp: every client starts its own session, and an idle one is sent away.

A TCP client that logged in and left must not hand its role to the next one, and a client
that connects and says nothing must not hold the one slot forever.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time

import pytest

from stimsim.protocol import codec

from .stub_support import HOST, Stub, proof, running

pytestmark = pytest.mark.usefixtures("stub_build")

TONIC = {"SLOT": 1, "MODE": "TONIC", "AMP": 3000, "PW": 200, "RATE": 50, "ELEC": "4:-100,5:+100"}


def _address(stub: Stub) -> tuple[str, int]:
    host, port = stub.url[len("socket://"):].split(":")
    return host, int(port)


def _reply(sock: socket.socket) -> codec.Reply:
    """The next reply on a raw socket (events skipped)."""
    buf = b""
    while True:
        while b"\n" not in buf:
            chunk = sock.recv(4096)
            assert chunk, f"the stub closed the connection (have {buf!r})"
            buf += chunk
        line, buf = buf.split(b"\n", 1)
        msg = codec.parse_incoming(line.rstrip(b"\r"))
        if isinstance(msg, codec.Reply):
            assert not buf, f"more than one reply: {buf!r}"
            return msg


def _ask(sock: socket.socket, verb: str, args: dict[str, object] | list[str] | None = None) -> codec.Reply:
    sock.sendall(codec.encode_request(verb, args))
    return _reply(sock)


def test_a_new_client_does_not_inherit_the_clinician_role_strict_mode_or_test() -> None:
    with running("--tcp", "0") as stub:
        assert stub.strict("HELLO", {"STRICT": 1}).get("STRICT") == "1"
        nonce = stub.strict("LOGIN").get("NONCE")
        assert nonce is not None
        assert stub.strict("LOGIN", {"PROOF": proof("0000", nonce)}).get("ROLE") == "CLINICIAN"
        assert stub.strict("PROG", TONIC).ok
        assert stub.strict("TEST", {k: v for k, v in TONIC.items() if k != "SLOT"} | {"AMP": 1000}).ok
        stub.close_port()
        time.sleep(0.2)  # the stub sees the first client leave
        with socket.create_connection(_address(stub), timeout=2.0) as second:
            second.settimeout(2.0)
            # no HELLO, no LOGIN: this client is a PATIENT and not strict
            status = _ask(second, "STATUS")
            assert status.ok and status.get("ROLE") == "PATIENT" and status.get("TEST") == "0"
            assert _ask(second, "PROG", TONIC).as_dict() == {"NEED": "CLINICIAN"}
            assert _ask(second, "CONFIG", {"PIN": "9999"}).code == "DENIED"
            nonce = _ask(second, "LOGIN").get("NONCE")
            assert nonce is not None
            assert _ask(second, "LOGIN", {"PROOF": proof("9999", nonce)}).code == "DENIED"  # PIN unchanged


def test_a_test_running_when_its_client_leaves_ends_with_the_saved_slot_back() -> None:
    with running("--tcp", "0") as stub:
        assert stub.request("HELLO").ok
        assert stub.login().ok
        assert stub.request("PROG", TONIC).ok
        assert stub.request("TEST", {k: v for k, v in TONIC.items() if k != "SLOT"} | {"AMP": 1000}).ok
        assert stub.request("STATUS").get("AMP") == "1000"
        stub.close_port()
        time.sleep(0.2)
        with socket.create_connection(_address(stub), timeout=2.0) as second:
            second.settimeout(2.0)
            status = _ask(second, "STATUS")
            assert (status.get("TEST"), status.get("AMP"), status.get("ROLE")) == ("0", "3000", "PATIENT")


def test_an_idle_client_is_disconnected_and_the_slot_freed() -> None:
    with running("--tcp", "0", "--idle-timeout", "0.5") as stub:
        host, port = _address(stub)
        idle = socket.create_connection((host, port), timeout=3.0)
        try:
            idle.settimeout(3.0)
            started = time.monotonic()
            assert idle.recv(100) == b""  # closed by the stub, with nothing said
            waited = time.monotonic() - started
            assert 0.4 <= waited < 2.5, waited
        finally:
            idle.close()
        with socket.create_connection((host, port), timeout=2.0) as next_client:
            next_client.settimeout(2.0)
            assert _ask(next_client, "HELLO").ok  # not BUSY: the slot is free again
            for _ in range(4):  # a client that talks is kept past the timeout
                time.sleep(0.3)
                assert _ask(next_client, "STATUS").ok
        stub.close_port()
        stub.proc.send_signal(signal.SIGINT)
        stub.proc.wait(5)
        assert stub.proc.stderr is not None
        log = stub.proc.stderr.read().decode()
        assert "stimfw-host: client idle for 0.5 s: connection closed" in log


def test_idle_timeout_option_is_checked() -> None:
    for bad in ("0", "-1", "abc", ""):
        result = subprocess.run([str(HOST), "--tcp", "0", "--idle-timeout", bad], capture_output=True, text=True,
                                timeout=5, check=False)
        assert result.returncode == 2 and "--idle-timeout" in result.stderr, bad
