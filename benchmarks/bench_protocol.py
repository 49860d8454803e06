"""Protocol round-trip benchmark: the client against the emulator over a real pty.

Run alone (``python benchmarks/bench_protocol.py``) or import ``run()``; each row is
(figure, value, unit and target).

- 1,000 ``STATUS`` round trips from ``Client`` (strict mode: SEQ, CRC, reader thread)
  to ``stimsim emulate --pty`` in its own process: median and p99. Target median <= 0.5 ms.
- In the same run, the floor: a raw echo of a line of the same size through a pty to a
  process that writes back what it reads, timed with the same reading code.
- For scale, the same 1,000 round trips to an in-process ``virtual://`` generator.
"""

from __future__ import annotations

import statistics
import sys
import time

from stimsim.conformance.port_command import started_device
from stimsim.generator import urlhandler
from stimsim.host.client import Client
from stimsim.protocol import codec
from stimsim.protocol.transport import open_port, read_available

urlhandler.register()  # the in-process comparison opens virtual://

ROUND_TRIPS = 1000
WARM_UP = 50
Row = tuple[str, float, str]

_ECHO = r"""
import os, tty
master, slave = os.openpty()
tty.setraw(slave)
print("PORT", os.ttyname(slave), flush=True)
while True:
    os.write(master, os.read(master, 4096))
"""


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _client_times(url: str) -> list[float]:
    with Client.connect(url) as client:
        for _ in range(WARM_UP):
            client.status()
        times = []
        for _ in range(ROUND_TRIPS):
            t0 = time.perf_counter()
            client.status()
            times.append(time.perf_counter() - t0)
    return times


def _echo_times(url: str, line: bytes) -> list[float]:
    port = open_port(url)
    reader = codec.LineReader(codec.MAX_REPLY)
    times = []
    try:
        for i in range(WARM_UP + ROUND_TRIPS):
            t0 = time.perf_counter()
            port.write(line)
            got: list[object] = []
            while not got:
                got = reader.feed(read_available(port))
            if i >= WARM_UP:
                times.append(time.perf_counter() - t0)
    finally:
        port.close()
    return times


def run() -> list[Row]:
    with started_device([sys.executable, "-m", "stimsim", "emulate", "--pty"], quiet=True) as url:
        client = _client_times(url)
    # The echo carries a line as long as a STATUS reply (the request is shorter).
    line = codec.encode_reply(12345, True, None, [("STIM", "OFF"), ("SLOT", "1"), ("AMP", "3000"),
                                                  ("BATT", "999"), ("CHG", "0"), ("ROLE", "PATIENT"),
                                                  ("COMPLIANCE", "OK"), ("MRI", "0"), ("TEST", "0")])
    with started_device([sys.executable, "-c", _ECHO], quiet=True) as url:
        echo = _echo_times(url, line)
    virtual = _client_times("virtual://")
    ms = 1000.0
    return [
        (f"STATUS round trip, client to emulator over a pty, median (n={ROUND_TRIPS})",
         statistics.median(client) * ms, "ms (target <= 0.5)"),
        ("STATUS round trip, client to emulator over a pty, p99", _percentile(client, 0.99) * ms, "ms"),
        (f"raw pty echo of a {len(line)}-byte line, median", statistics.median(echo) * ms, "ms (the link's floor)"),
        ("raw pty echo, p99", _percentile(echo, 0.99) * ms, "ms"),
        ("STATUS round trip, in-process virtual:// generator, median", statistics.median(virtual) * ms, "ms"),
    ]


if __name__ == "__main__":
    for figure, value, unit in run():
        print(f"{figure:<70} {value:>12.4g}  {unit}")
