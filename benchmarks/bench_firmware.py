"""STATUS round trip over a pty: the C firmware stub beside a raw pty echo and the Python
emulator, 1000 round trips each, median and p99 (target: the stub's median <= 0.2 ms); and the
stub's closed loop: updates per second of its fixed-point loop with the host build's virtual
nerve (build/stimfw-loop; target: at least the 100 updates a second the loop runs at).

Run alone with ``python benchmarks/bench_firmware.py`` (it runs ``make -C firmware_stub``
first); ``run()`` returns the rows (figure name, value, unit and target text).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import statistics
import subprocess
import sys
import termios
import time
import tty
from pathlib import Path

from timing import best_ms

from stimsim.closedloop import defaults as CL
from stimsim.conformance.port_command import started_device

REPO = Path(__file__).resolve().parents[1]
STUB = REPO / "firmware_stub" / "build" / "stimfw-host"
LOOP = REPO / "firmware_stub" / "build" / "stimfw-loop"
LOOP_UPDATES = 200_000
#: the example program: contact 4 against 5 and 6, 300 us, 50 Hz, TARGET 40 uV, GAIN 24, 1..8 mA
LOOP_ARGS = ("5000", "300", "50", "4:-100,5:+50,6:+50", "40", "24", "1000", "8000")
TARGET_UPDATES_PER_S = CL.MAX_UPDATE_HZ
ROUND_TRIPS = 1000
WARMUP = 50
TARGET_MEDIAN_MS = 0.2
Row = tuple[str, float, str]


def _read_line(fd: int, buf: bytearray, timeout: float = 2.0) -> bytes:
    deadline = time.monotonic() + timeout
    while b"\n" not in buf:
        if time.monotonic() > deadline:
            raise TimeoutError("no reply within 2 s")
        with contextlib.suppress(BlockingIOError):
            buf += os.read(fd, 4096)
    line, _, rest = bytes(buf).partition(b"\n")
    buf[:] = rest
    return line


def _round_trips(fd: int, request: bytes, n: int) -> list[float]:
    """Seconds from writing ``request`` to reading the reply line, ``n`` times."""
    buf = bytearray()
    out: list[float] = []
    sel = selectors.DefaultSelector()
    sel.register(fd, selectors.EVENT_READ)
    try:
        for i in range(n + WARMUP):
            start = time.perf_counter()
            os.write(fd, request)
            while True:
                sel.select(1.0)
                with contextlib.suppress(BlockingIOError):
                    buf += os.read(fd, 4096)
                if b"\n" in buf:
                    line, _, rest = bytes(buf).partition(b"\n")
                    buf[:] = rest
                    if not line.startswith(b"!"):  # skip events
                        break
            if i >= WARMUP:
                out.append(time.perf_counter() - start)
    finally:
        sel.close()
    return out


def _open_raw(path: str) -> int:
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    tty.setraw(fd)
    termios.tcflush(fd, termios.TCIFLUSH)
    return fd


def _measure_device(command: list[str]) -> list[float]:
    with started_device(command, quiet=True) as path:
        fd = _open_raw(path)
        try:
            buf = bytearray()
            os.write(fd, b"HELLO\r\n")
            while not _read_line(fd, buf).startswith(b"OK PROTO"):
                pass
            return _round_trips(fd, b"STATUS\r\n", ROUND_TRIPS)
        finally:
            os.close(fd)


def _measure_echo() -> list[float]:
    """The floor: a pty whose far side is `cat` writing every line straight back."""
    master, slave = os.openpty()
    tty.setraw(slave)
    proc = subprocess.Popen(["cat"], stdin=slave, stdout=slave, stderr=subprocess.DEVNULL)
    os.close(slave)
    os.set_blocking(master, False)
    try:
        return _round_trips(master, b"STATUS\r\n", ROUND_TRIPS)
    finally:
        proc.terminate()
        proc.wait()
        os.close(master)


def _stats(name: str, times: list[float], target: str = "") -> list[Row]:
    ordered = sorted(times)
    median = statistics.median(ordered) * 1e3
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1e3
    return [(f"{name}: STATUS round trip median", median, f"ms{target}"),
            (f"{name}: STATUS round trip p99", p99, "ms")]


def _loop_updates_per_s() -> float:
    """Updates a second of the stub's loop (measure on the virtual nerve, then the update),
    sitting then lying down, the best of a few runs of ``LOOP_UPDATES`` updates."""
    command = [str(LOOP), *LOOP_ARGS, str(LOOP_UPDATES), f"sitting@0,supine@{LOOP_UPDATES // 2}", "--quiet"]
    ms = best_ms(lambda: subprocess.run(command, check=True, capture_output=True), repeats=5)
    return LOOP_UPDATES / (ms / 1000.0)


def run() -> list[Row]:
    subprocess.run(["make", "-C", str(REPO / "firmware_stub"), "host", "loop"], check=True, capture_output=True)
    rows: list[Row] = []
    rate = _loop_updates_per_s()
    met = "met" if rate >= TARGET_UPDATES_PER_S else "NOT met"
    rows.append(("C stub closed loop (fixed point, host nerve)", rate,
                 f"updates/s (target >= {TARGET_UPDATES_PER_S}, real time: {met})"))
    stub = _measure_device([str(STUB), "--pty"])
    ok = statistics.median(stub) * 1e3 <= TARGET_MEDIAN_MS
    rows += _stats("C stub (stimfw-host --pty)", stub,
                   f" (target <= {TARGET_MEDIAN_MS}: {'met' if ok else 'NOT met'})")
    rows += _stats("raw pty echo (cat)", _measure_echo())
    try:
        emu = _measure_device([sys.executable, "-m", "stimsim", "emulate", "--pty"])
    except (RuntimeError, TimeoutError, OSError) as exc:
        rows.append((f"Python emulator: not measured ({exc})", float("nan"), ""))
    else:
        rows += _stats("Python emulator (stimsim emulate --pty)", emu)
    return rows


def main() -> None:
    for name, value, unit in run():
        print(f"{name:<58} {value:10.3f} {unit}")


if __name__ == "__main__":
    main()
