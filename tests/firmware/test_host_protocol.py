"""The host build serves protocol v1 over a pty and TCP, framed by stimsim's own codec."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import pytest

from stimsim.protocol import codec

from .stub_support import proof, running, start

pytestmark = pytest.mark.usefixtures("stub_build")

TONIC = {"SLOT": 3, "MODE": "TONIC", "AMP": 3500, "PW": 210, "RATE": 60, "ELEC": "4:-100,5:+50,CASE:+50",
         "AMP_MAX": 6000, "NAME": "Low_back"}


def test_pty_hello_status_prog_read(tmp_path: Path) -> None:
    with running("--pty", "--state", str(tmp_path)) as stub:
        assert stub.url.startswith("/dev/pts/")
        hello = stub.request("HELLO", {"STRICT": 1}, seq=1)
        assert hello.ok and hello.seq == 1
        assert hello.as_dict()["MODEL"] == "STIMFW-HOST"
        assert hello.get("PROTO") == "1" and hello.get("ROLE") == "PATIENT" and hello.get("NEXT") == "2"
        assert len(hello.get("BOOT") or "") == 8
        stub._seq = 1
        status = stub.strict("STATUS")
        assert [k for k, _ in status.args] == ["STIM", "SLOT", "AMP", "BATT", "CHG", "ROLE", "COMPLIANCE", "MRI",
                                               "TEST"]
        denied = stub.strict("PROG", TONIC)
        assert (denied.ok, denied.code, denied.get("NEED")) == (False, "DENIED", "CLINICIAN")
        nonce = stub.strict("LOGIN").get("NONCE") or ""
        assert stub.strict("LOGIN", {"PROOF": proof("0000", nonce)}).get("ROLE") == "CLINICIAN"
        assert stub.strict("PROG", TONIC).get("SLOT") == "3"
        read = stub.strict("READ", {"SLOT": 3})
        assert read.as_dict() == {"SLOT": "3", "MODE": "TONIC", "AMP": "3500", "PW": "210", "RATE": "60",
                                  "IPG": "0", "RECHARGE": "ACTIVE", "CYCLE_ON_MS": "0", "CYCLE_OFF_MS": "0",
                                  "RAMP_MS": "0", "ELEC": "4:-100,5:+50,CASE:+50", "AMP_MIN": "0",
                                  "AMP_MAX": "6000", "NAME": "Low_back"}


def test_refusals_name_the_rule(tmp_path: Path) -> None:
    with running("--pty", "--state", str(tmp_path)) as stub:
        stub.request("HELLO")
        stub.login()
        fit = stub.request("PROG", {**TONIC, "PW": 600, "RATE": 1000})
        assert (fit.code, fit.as_dict()) == ("OUT_OF_RANGE", {"RULE": "FIT", "KEY": "PW", "MAX": "495"})
        interlock = stub.request("PROG", {**TONIC, "AMP": 15000, "AMP_MAX": 20000, "ELEC": "4:-100,CASE:+100"})
        assert interlock.code == "UNSAFE"
        assert interlock.as_dict() == {"RULE": "CONTACT_CURRENT", "CONTACT": "4", "MAX": "12700"}
        zone = stub.request("PROG", {**TONIC, "AMP": 6000, "PW": 1000})
        assert zone.code == "UNSAFE" and zone.get("RULE") == "CHARGE_DENSITY" and zone.get("CONTACT") == "4"
        assert stub.request("PROG", {**TONIC, "AMP": 6000, "PW": 1000, "ACK": "CHARGE"}).ok
        assert stub.request("READ", {"SLOT": 9}).as_dict() == {"REASON": "EMPTY"}
        assert stub.request("PROG", {**TONIC, "BURST_N": 3}).as_dict() == {"KEY": "BURST_N"}


def test_strict_mode_stale_resend_and_stop() -> None:
    with running("--pty") as stub:
        assert stub.request("HELLO", {"STRICT": 1}, seq=100).get("NEXT") == "101"
        plain = stub.request("STATUS", crc=False)
        assert (plain.code, plain.get("NEED")) == ("BAD_SYNTAX", "SEQ,CRC")
        first = stub.request("STATUS", seq=101)
        assert first.ok
        stub.send_raw(codec.encode_request("STATUS", seq=101))
        assert stub.reply() == first  # a resend is answered from the cache
        assert stub.request("BATT", seq=101).code == "STALE"
        assert stub.request("BATT", seq=101 + 1025).code == "STALE"
        assert stub.request("BATT", seq=101 + 1024).ok
        stub.send_raw(b"#3 STOP *0000\r\n")  # wrong CRC and a stale SEQ: still executed
        assert str(stub.reply()) == "OK STIM=OFF"


def test_framing_errors() -> None:
    with running("--pty") as stub:
        stub.send_raw(b"A" * 400 + b"\r\n")
        assert stub.reply().code == "TOO_LONG"
        stub.send_raw(b"#9 STA\x01TUS\r\n")
        bad = stub.reply()
        assert (bad.code, bad.seq) == ("BAD_SYNTAX", 9)
        stub.send_raw(b"\r\n   \n")  # blank lines: no reply
        assert stub.request("FROB").code == "UNKNOWN_VERB"
        stub.send_raw(b"#12 STATUS *0000\r\n")
        assert stub.reply().code == "BAD_CRC"


def test_tcp_second_client_is_busy_and_sigterm_exits_cleanly() -> None:
    stub = start("--tcp", "0")
    try:
        assert stub.url.startswith("socket://127.0.0.1:")
        assert stub.request("HELLO").ok
        host, port = stub.url[len("socket://"):].split(":")
        with socket.create_connection((host, int(port)), timeout=2.0) as second:
            second.settimeout(2.0)
            data = second.recv(200)
            assert codec.parse_incoming(data.rstrip(b"\r\n")) == codec.Reply(
                args=(("REASON", "BUSY"),), ok=False, code="STATE")
            assert second.recv(10) == b""  # and closed
        assert stub.request("STATUS").ok  # the first client is unaffected
    finally:
        status = stub.stop(signal.SIGTERM)
    assert status == 0


def test_pin_option_and_boot_event() -> None:
    with running("--pty", "--pin", "424242") as stub:
        assert stub.request("HELLO").ok
        assert stub.login("0000").code == "DENIED"
        assert stub.login("424242").get("ROLE") == "CLINICIAN"
        reset = stub.request("SIM", ["RESET"])
        assert reset.ok
        boot = stub.events_for(0.3)
        assert [e.name for e in boot] == ["BOOT"] and boot[0].get("FW")


def test_corrupt_state_starts_from_defaults(tmp_path: Path) -> None:
    with running("--pty", "--state", str(tmp_path)) as stub:
        stub.request("HELLO")
        stub.login()
        assert stub.request("PROG", TONIC).ok
    for bank in tmp_path.glob("bank*.bin"):
        data = bytearray(bank.read_bytes())
        data[40] ^= 0xFF
        bank.write_bytes(bytes(data))
    stub = start("--pty", "--state", str(tmp_path))
    try:
        assert stub.request("HELLO").get("STATE") == "DEFAULTS"
        assert stub.request("READ", {"SLOT": 3}).get("REASON") == "EMPTY"
        assert stub.request("SIM", ["RESET"]).ok
        assert stub.events_for(0.2)[0].get("STATE") == "DEFAULTS"  # !BOOT says so too, until a write
        assert stub.request("HELLO").get("STATE") == "DEFAULTS"
        stub.login()
        assert stub.request("PROG", TONIC).ok
        assert "STATE" not in stub.request("HELLO").as_dict()
    finally:
        stub.stop()
    assert stub.proc.returncode == 0
