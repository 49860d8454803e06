"""A device started by command: run it, read the ``PORT <url>`` line it prints first, stop it.

``stimsim emulate`` and the firmware stub's host build print where they serve as their first
stdout line; the conformance suite, the benchmarks and the tests start them this way.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Iterator

STARTUP_TIMEOUT_S = 15.0  #: a device command must print its PORT line within this


class CommandError(Exception):
    """The device command did not start or did not print ``PORT ...``."""


@contextlib.contextmanager
def started_device(command: list[str], timeout: float = STARTUP_TIMEOUT_S, *, quiet: bool = False) -> Iterator[str]:
    """Start ``command``, yield the URL of its first ``PORT ...`` stdout line, then stop it.

    The command gets SIGTERM at the end (then SIGKILL after 5 s); its stderr passes through
    unless ``quiet``.
    """
    try:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL if quiet else None)
    except OSError as exc:
        raise CommandError(f"cannot start {command[0]}: {exc}") from exc
    try:
        url = read_port_line(proc, timeout)
        # Keep reading its stdout so a chatty device never blocks on a full pipe.
        threading.Thread(target=_drain, args=(proc,), daemon=True).start()
        yield url
    finally:
        stop_process(proc)


def read_port_line(proc: subprocess.Popen[bytes], timeout: float = STARTUP_TIMEOUT_S) -> str:
    """The URL of the ``PORT <url>`` line ``proc`` prints first; CommandError if none comes."""
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    buf = b""
    deadline = time.monotonic() + timeout
    try:
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CommandError(f"no 'PORT ...' line within {timeout:.0f} s")
            if not sel.select(left):
                continue
            chunk = os.read(proc.stdout.fileno(), 256)
            if not chunk:
                raise CommandError(f"the command exited (status {proc.wait()}) before printing 'PORT ...'")
            buf += chunk
    finally:
        sel.close()
    first = buf.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    if not first.startswith("PORT "):
        raise CommandError(f"first output line {first!r} is not 'PORT <url>'")
    return first[5:].strip()


def _drain(proc: subprocess.Popen[bytes]) -> None:
    assert proc.stdout is not None
    with contextlib.suppress(OSError, ValueError):
        while proc.stdout.read1(4096):  # type: ignore[attr-defined]
            pass


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5.0)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout is not None:
        with contextlib.suppress(OSError):
            proc.stdout.close()
