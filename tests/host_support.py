"""Shared helpers of the host-side device tests: leak guard, emulators, port wrappers.

Imported by the transport, client, emulator, conformance and fault tests (tests/generator,
tests/host, tests/conformance); not a conftest, so the generator's own tests keep theirs.
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from serial.serialutil import SerialException

from stimsim.generator import urlhandler
from stimsim.generator.emulator import Emulator
from stimsim.generator.urlhandler.protocol_virtual import VirtualSerial
from stimsim.generator.virtual_generator import VirtualGenerator

urlhandler.register()  # the tests open virtual:// URLs

PY = sys.executable
EMULATE = [PY, "-m", "stimsim", "emulate"]


# --- leak guard ---------------------------------------------------------------------------


def _fds() -> dict[int, str]:
    out: dict[int, str] = {}
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{name}")
            if target.startswith(("/dev/pts/", "/dev/ptmx", "socket:", "pipe:")):
                out[int(name)] = target
    return out


def _children() -> set[int]:
    pids: set[int] = set()
    for tid in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError), open(f"/proc/self/task/{tid}/children") as f:
            pids.update(int(p) for p in f.read().split())
    return pids


def _our_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith(("stimsim-", "emulator"))}


def wait_until(cond: Callable[[], bool], timeout: float = 2.0, what: str = "condition") -> None:
    """Poll ``cond`` until true (tests never sleep blindly); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


@pytest.fixture()
def no_leaks() -> Iterator[None]:
    """Fail a test that leaves a pty, socket, pipe, child process or client thread open."""
    fds0, kids0, threads0 = _fds(), _children(), _our_threads()
    yield

    def clean() -> bool:
        return (not (set(_fds().items()) - set(fds0.items())) and not (_children() - kids0)
                and not (_our_threads() - threads0))

    with contextlib.suppress(AssertionError):
        wait_until(clean, 3.0)
    leaked_fds = set(_fds().items()) - set(fds0.items())
    assert not leaked_fds, f"test left open: {sorted(leaked_fds)}"
    assert not (_children() - kids0), f"test left child processes: {_children() - kids0}"
    assert not (_our_threads() - threads0), f"test left threads: {_our_threads() - threads0}"


# --- clocks and generators ------------------------------------------------------------------


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def generator(clock: Callable[[], float] | None = None, **kwargs: object) -> VirtualGenerator:
    return VirtualGenerator(clock or FakeClock(), rng_seed=kwargs.pop("rng_seed", 7), **kwargs)  # type: ignore[arg-type]


# --- in-process emulator in a thread ----------------------------------------------------------


@contextlib.contextmanager
def thread_emulator(gen: VirtualGenerator | None = None, *, pty: bool = True) -> Iterator[tuple[str, Emulator]]:
    emu = Emulator(gen or VirtualGenerator(time.monotonic, rng_seed=3), pty=pty)
    thread = threading.Thread(target=emu.serve_forever, name="emulator-test", daemon=True)
    thread.start()
    try:
        yield emu.url, emu
    finally:
        emu.shutdown()
        thread.join(5.0)
        assert not thread.is_alive(), "emulator thread did not stop"


# --- port wrappers (faults) ---------------------------------------------------------------------


class PortWrapper:
    """Wraps a pyserial port; subclasses change what goes through. Only what the client uses."""

    def __init__(self, inner: VirtualSerial) -> None:
        self.inner = inner
        self.written: list[bytes] = []

    @property
    def port(self) -> str:
        return "wrapped"

    @property
    def timeout(self) -> float | None:
        return self.inner.timeout

    @property
    def in_waiting(self) -> int:
        return self.inner.in_waiting

    def write(self, data: bytes) -> int:
        self.written.append(bytes(data))
        return self.inner.write(self.outgoing(bytes(data)))

    def read(self, size: int = 1) -> bytes:
        return self.incoming(self.inner.read(size))

    def read_some(self, size: int = 4096) -> bytes:
        return self.incoming(self.inner.read_some(size))

    def outgoing(self, data: bytes) -> bytes:
        return data

    def incoming(self, data: bytes) -> bytes:
        return data

    def cancel_read(self) -> None:
        self.inner.cancel_read()

    def close(self) -> None:
        self.inner.close()


class FlippingPort(PortWrapper):
    """Flips one bit in ``rate`` of the bytes going each way (seeded)."""

    def __init__(self, inner: VirtualSerial, rate: float, seed: int) -> None:
        super().__init__(inner)
        self.rate = rate
        self.rng = random.Random(seed)
        self.flipped = 0
        self._lock = threading.Lock()

    def _flip(self, data: bytes) -> bytes:
        out = bytearray(data)
        with self._lock:
            for i in range(len(out)):
                if self.rng.random() < self.rate:
                    out[i] ^= 1 << self.rng.randrange(8)
                    self.flipped += 1
        return bytes(out)

    def outgoing(self, data: bytes) -> bytes:
        return self._flip(data)

    def incoming(self, data: bytes) -> bytes:
        return self._flip(data)


class DroppingPort(PortWrapper):
    """The link breaks in the middle of the ``at``-th write: half the line goes out, then an error."""

    def __init__(self, inner: VirtualSerial, at: int) -> None:
        super().__init__(inner)
        self.at = at
        self.broken = False

    def write(self, data: bytes) -> int:
        self.written.append(bytes(data))
        if self.broken:
            raise SerialException("write failed: [Errno 5] Input/output error")
        if len(self.written) == self.at:
            self.inner.write(data[: len(data) // 2])
            self.broken = True
            raise SerialException("write failed: [Errno 5] Input/output error")
        return self.inner.write(data)

    def read_some(self, size: int = 4096) -> bytes:
        if self.broken:
            raise SerialException("read failed: [Errno 5] Input/output error")
        return self.inner.read_some(size)


def state_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())
