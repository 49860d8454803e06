"""Transports by URL: virtual:// in-process generators, ptys, sockets, loop://."""

from __future__ import annotations

import os
import socket
import struct
import threading
import time
import tty

import pytest
import serial

from stimsim.generator import urlhandler
from stimsim.generator.urlhandler.protocol_virtual import VirtualSerial
from stimsim.protocol import codec, transport
from stimsim.protocol.transport import TransportError, open_port, read_available

from ..host_support import FakeClock, generator, no_leaks, thread_emulator, wait_until  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_leaks")


def _lines(port: serial.SerialBase, want: int, timeout: float = 2.0) -> list[bytes]:
    reader = codec.LineReader(codec.MAX_REPLY)
    out: list[bytes] = []
    deadline = time.monotonic() + timeout
    while len(out) < want and time.monotonic() < deadline:
        out += [x for x in reader.feed(read_available(port)) if isinstance(x, bytes)]
    return out


def test_virtual_url_is_a_pyserial_url_and_boots_first() -> None:
    port = serial.serial_for_url("virtual://?seed=5&speed=10&pin=4321", timeout=0.05)
    try:
        assert isinstance(port, VirtualSerial)
        port.write(codec.encode_request("HELLO", [("STRICT", "1")], seq=9))
        boot, hello = _lines(port, 2)
        assert boot.startswith(b"!BOOT BOOT=")
        reply = codec.parse_incoming(hello)
        assert isinstance(reply, codec.Reply) and reply.ok and reply.seq == 9
        assert reply.get("BOOT") == codec.parse_incoming(boot).get("BOOT")  # type: ignore[union-attr]
        assert port.generator is not None and port.generator.speed == 10.0  # type: ignore[attr-defined]
    finally:
        port.close()


@pytest.mark.parametrize("url, text", [
    ("virtual://?colour=red", "unknown option 'colour'"),
    ("virtual://?speed=fast", "not a number"),
    ("virtual://nobody", "no virtual generator named 'nobody'"),
    ("virtual://nobody?speed=2", "options apply only to a new generator"),
    ("nonsense://x", "protocol 'nonsense' not known"),
])
def test_bad_urls_say_what_is_wrong(url: str, text: str) -> None:
    with pytest.raises(TransportError, match=text) as info:
        open_port(url)
    assert url.split("?")[0] in str(info.value)


def test_a_registered_generator_boots_once_and_keeps_its_state() -> None:
    gen = generator()
    url = urlhandler.register_generator("bench-1", gen)
    try:
        assert url == "virtual://bench-1"
        first = open_port(url)
        first.write(b"MRI ON\r\n")
        got = _lines(first, 2)
        first.close()
        assert got[0].startswith(b"!BOOT") and b"OK MRI=1" in got[1]
        second = open_port(url)
        second.write(b"STATUS\r\n")
        (status,) = _lines(second, 1)
        second.close()
        assert b"MRI=1" in status  # same device, no second power-up
    finally:
        urlhandler.unregister_generator("bench-1")
    with pytest.raises(ValueError, match="letters, digits"):
        urlhandler.register_generator("a b", gen)


def test_virtual_read_honours_timeout_and_advances_the_clock() -> None:
    clock = FakeClock()
    gen = generator(clock)
    port = VirtualSerial.attach(gen, timeout=0.05, boot=False)
    try:
        t0 = time.monotonic()
        assert port.read(10) == b""
        assert time.monotonic() - t0 >= 0.045
        port.write(b"HELLO\r\n")
        login = _lines(port, 1)
        assert b"STRICT=0" in login[0]
        # Log in, start a TEST, then let the (fake) clock run past the 10 s lease: the event
        # comes out of a read, with no request in between.
        port.write(b"LOGIN\r\n")
        nonce = codec.parse_incoming(_lines(port, 1)[0]).get("NONCE")
        from stimsim.host.client import login_proof

        port.write(f"LOGIN PROOF={login_proof('0000', nonce or '')}\r\n".encode())
        port.write(b"PROG SLOT=1 MODE=TONIC AMP=1000 PW=100 RATE=50 ELEC=4:-100,5:+100\r\n")
        port.write(b"TEST MODE=TONIC AMP=1200 PW=100 RATE=50 ELEC=4:-100,5:+100\r\n")
        assert b"TEST=ON" in _lines(port, 3)[-1]
        clock.advance(10.5)
        (event,) = _lines(port, 1)
        assert event.startswith(b"!TEST TEST=OFF REASON=TIMEOUT")
    finally:
        port.close()


def test_push_and_cancel_read() -> None:
    port = VirtualSerial.attach(generator(), timeout=None, boot=False)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(port.read(1)), name="stimsim-test-reader")
    reader.start()
    port.cancel_read()
    reader.join(2.0)
    assert not reader.is_alive() and got == [b""]
    port.push(b"!BOOT BOOT=00000001 FW=x *0000\r\n")
    assert read_available(port).startswith(b"!BOOT")
    port.close()
    with pytest.raises(serial.PortNotOpenError):
        port.write(b"STATUS\r\n")


def test_pty_read_available_takes_a_whole_reply_at_once() -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    port = open_port(path, timeout=0.05)
    try:
        os.write(master, b"x" * 300)
        data = b""
        while len(data) < 300:
            chunk = read_available(port)
            assert chunk, "timed out"
            data += chunk
        assert data == b"x" * 300
        t0 = time.monotonic()
        assert read_available(port) == b""
        assert time.monotonic() - t0 >= 0.04
    finally:
        port.close()
        os.close(master)
        os.close(slave)


def test_socket_url_reads_each_line_whole() -> None:
    with thread_emulator(pty=False) as (url, emu):
        port = open_port(url, timeout=0.05)
        try:
            wait_until(lambda: emu.connected, what="the emulator to accept")
            lines = [codec.encode_request("STATUS", seq=n) for n in (1, 2, 3)]
            port.write(b"".join(lines))
            replies = _lines(port, 3)
            assert [codec.parse_incoming(r).seq for r in replies] == [1, 2, 3]  # type: ignore[union-attr]
        finally:
            port.close()


def test_loop_url_works_with_read_available() -> None:
    port = open_port("loop://", timeout=0.05)
    try:
        port.write(b"OK *1234\r\n")
        assert read_available(port) == b"OK *1234\r\n"
    finally:
        port.close()


def test_a_socket_port_reset_by_its_peer_is_closed_for_good() -> None:
    # pyserial's socket:// close() skips closing its socket when shutdown() fails, which it
    # does after the peer reset the link: left to the garbage collector it leaks a descriptor.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = transport.open_port(f"socket://127.0.0.1:{server.getsockname()[1]}")
        conn, _ = server.accept()
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()  # RST: the peer is gone
        sock = port._socket
        with pytest.raises(serial.SerialException, match="reset"):
            port.read(1)  # the client notices
        transport.close_port(port)
        assert sock.fileno() == -1 and not port.is_open
