"""Helpers of the firmware-stub tests: build it, run it on a pty or TCP, talk to it.

The stub is driven only through its wire protocol, framed by stimsim's own codec, so these
tests hold the C generator to the same lines a host sends.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import serial

from stimsim.conformance.port_command import read_port_line
from stimsim.protocol import codec
from stimsim.protocol.codec import Event, Reply

REPO = Path(__file__).resolve().parents[2]
STUB_DIR = REPO / "firmware_stub"
BUILD = STUB_DIR / "build"
HOST = BUILD / "stimfw-host"
EDGES = BUILD / "stimfw-edges"
LOOP = BUILD / "stimfw-loop"
ASAN_HOST = BUILD / "asan" / "stimfw-host"
SOAK = BUILD / "asan" / "stimfw-soak"
REPLY_TIMEOUT_S = 2.0


def c_compiler() -> str | None:
    """The C compiler make would use, or None when the machine has none."""
    for name in (os.environ.get("CC", ""), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return name
    return None


def make(*targets: str, timeout: float = 240.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "-j2", "-C", str(STUB_DIR), *targets], capture_output=True, text=True,
                          timeout=timeout, check=False)


def proof(pin: str, nonce: str) -> str:
    """LOGIN PROOF=: HMAC-SHA256 keyed by SHA-256(PIN digits) over the nonce's characters."""
    key = hashlib.sha256(pin.encode("ascii")).digest()
    return hmac.new(key, nonce.encode("ascii"), hashlib.sha256).hexdigest()


@dataclass
class Stub:
    """A running stimfw-host and its first stdout line's URL."""

    proc: subprocess.Popen[bytes]
    url: str
    port: serial.SerialBase | None = None
    events: list[Event] = field(default_factory=list)
    _buf: bytes = b""
    _seq: int = 0

    # --- lines ---------------------------------------------------------------------------

    def connect(self) -> serial.SerialBase:
        if self.port is None:
            self.port = serial.serial_for_url(self.url, baudrate=115200, timeout=0.02)
        return self.port

    def send_raw(self, data: bytes) -> None:
        self.connect().write(data)

    def read_line(self, timeout: float = REPLY_TIMEOUT_S) -> bytes:
        """The next line from the device (EOL kept); fails after ``timeout``."""
        port = self.connect()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            if time.monotonic() > deadline:
                raise AssertionError(f"no line from the stub within {timeout} s (have {self._buf!r})")
            self._buf += port.read(port.in_waiting or 1)
        line, self._buf = self._buf.split(b"\n", 1)
        return line + b"\n"

    def reply(self, timeout: float = REPLY_TIMEOUT_S) -> Reply:
        """The next reply; events met on the way are kept in ``events``."""
        while True:
            raw = self.read_line(timeout)
            msg = codec.parse_incoming(raw.rstrip(b"\r\n"))
            if isinstance(msg, Event):
                self.events.append(msg)
            else:
                return msg

    def request(self, verb: str, args: Sequence[str | tuple[str, object]] | dict[str, object] | None = None,
                *, seq: int | None = None, crc: bool = True) -> Reply:
        self.send_raw(codec.encode_request(verb, args, seq=seq, crc=crc))  # type: ignore[arg-type]
        return self.reply()

    def strict(self, verb: str, args: Sequence[str | tuple[str, object]] | dict[str, object] | None = None) -> Reply:
        """A request as the desktop app sends it: next SEQ and a CRC."""
        self._seq = codec.seq_next(self._seq)
        return self.request(verb, args, seq=self._seq)

    def events_for(self, seconds: float) -> list[Event]:
        """Events arriving within ``seconds`` (for 'no event follows' and 'event follows')."""
        deadline = time.monotonic() + seconds
        with contextlib.suppress(AssertionError):
            while time.monotonic() < deadline:
                raw = self.read_line(max(0.0, deadline - time.monotonic()))
                msg = codec.parse_incoming(raw.rstrip(b"\r\n"))
                if isinstance(msg, Event):
                    self.events.append(msg)
        out, self.events = self.events, []
        return out

    def login(self, pin: str = "0000") -> Reply:
        nonce = self.request("LOGIN").get("NONCE")
        assert nonce is not None
        return self.request("LOGIN", {"PROOF": proof(pin, nonce)})

    # --- process -------------------------------------------------------------------------

    def close_port(self) -> None:
        if self.port is not None:
            self.port.close()
            self.port = None
        self._buf = b""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 5.0) -> int:
        """Signal the stub and wait; returns its exit status (negative: killed by a signal)."""
        self.close_port()
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        return self.proc.returncode


def start(*args: str, binary: Path = HOST, env: dict[str, str] | None = None, timeout: float = 10.0) -> Stub:
    """Start the stub with ``args`` and wait for its ``PORT ...`` line."""
    proc = subprocess.Popen([str(binary), *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, **(env or {})})
    try:
        url = read_port_line(proc, timeout)
    except BaseException:
        proc.kill()
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        raise
    return Stub(proc, url)


@contextlib.contextmanager
def running(*args: str, **kwargs: object) -> Iterator[Stub]:
    stub = start(*args, **kwargs)  # type: ignore[arg-type]
    try:
        yield stub
    finally:
        stub.stop()
