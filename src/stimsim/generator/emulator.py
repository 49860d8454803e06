"""Serve a virtual generator on a pseudo-terminal or a TCP port (``stimsim emulate``).

Anything that opens a serial port (the app, a terminal program, the conformance suite,
a device engineer's own script) can then talk to the built-in generator as to a board.

One loop, one thread: ``selectors`` waits on the link and a wake-up pipe, feeds the
generator what arrives, writes what it answers, and advances its clock (``poll``) at
least every 20 ms. A pty is always "connected" (it has no connect event); a TCP port
serves one controlling client at a time and answers a second one ``ERR STATE
REASON=BUSY`` before closing it. Each TCP client starts a session of its own (PATIENT,
not strict, no TEST: ``reset_link``), and one that sends nothing for ``idle_timeout``
seconds is disconnected, so an idle client cannot hold the one slot forever.
"""

from __future__ import annotations

import contextlib
import errno
import os
import selectors
import socket
import sys
import time
import tty
from pathlib import Path
from typing import Any, Protocol, TextIO

from ..engine import params as P
from ..protocol import codec
from ..protocol.limits import DEFAULT_PIN, IDLE_TIMEOUT_S
from .urlhandler import Generator, new_generator

POLL_S = 0.02  #: the generator's clock advances at least this often
OUT_LIMIT = 64 * 1024  #: bytes held for a client that does not read; older ones are dropped
BUSY_LINE = codec.encode_reply(None, False, "STATE", [("REASON", "BUSY")])


class ServedGenerator(Generator, Protocol):
    """What the emulator needs of a generator: a virtual port's needs, and a clean line per client."""

    def reset_link(self) -> None: ...


class Emulator:
    """A generator behind a pty or a TCP listener. ``url`` is what a client opens."""

    def __init__(self, generator: ServedGenerator, *, pty: bool = True, tcp_port: int = 0, host: str = "127.0.0.1",
                 idle_timeout: float = IDLE_TIMEOUT_S, log: TextIO | None = None) -> None:
        self.generator = generator
        self.idle_timeout = idle_timeout
        self._log = log
        self._last_rx = 0.0
        self.idle_drops = 0
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._stopping = False
        self._closed = False
        self._out = bytearray()
        self.dropped_bytes = 0
        self._master: int | None = None
        self._slave: int | None = None
        self._listener: socket.socket | None = None
        self._conn: socket.socket | None = None
        self.busy_refusals = 0
        try:
            if pty:
                self.url = self._open_pty()
            else:
                self.url = self._open_tcp(host, tcp_port)
        except BaseException:
            self.close()
            raise

    # setup ------------------------------------------------------------------------------

    def _open_pty(self) -> str:
        master, slave = os.openpty()
        # Raw before any byte moves: no echo, no CR/LF translation, no line editing.
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave  # the slave stays open: master reads never see EIO
        self._sel.register(master, selectors.EVENT_READ, "pty")
        return os.ttyname(slave)

    def _open_tcp(self, host: str, port: int) -> str:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(4)
        listener.setblocking(False)
        self._listener = listener
        self._sel.register(listener, selectors.EVENT_READ, "listen")
        bound_host, bound_port = listener.getsockname()[:2]
        return f"socket://{bound_host}:{bound_port}"

    # output ------------------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        """Write device output to whoever is connected; a pty with no reader keeps ~4 KB."""
        if not data:
            return
        if self._master is not None:
            self._out += data
            self._flush_pty()
        elif self._conn is not None:
            self._out += data
            self._flush_tcp()
        else:
            self.dropped_bytes += len(data)
        if len(self._out) > OUT_LIMIT:
            excess = len(self._out) - OUT_LIMIT
            del self._out[:excess]
            self.dropped_bytes += excess

    def _flush_pty(self) -> None:
        assert self._master is not None
        while self._out:
            try:
                n = os.write(self._master, self._out)
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno in (errno.EIO, errno.EAGAIN):
                    return
                raise
            del self._out[:n]

    def _flush_tcp(self) -> None:
        conn = self._conn
        if conn is None:
            return
        try:
            while self._out:
                n = conn.send(self._out)
                del self._out[:n]
        except BlockingIOError:
            self._sel.modify(conn, selectors.EVENT_READ | selectors.EVENT_WRITE, "conn")
            return
        except OSError:
            self._drop_conn()
            return
        with contextlib.suppress(KeyError, ValueError):
            self._sel.modify(conn, selectors.EVENT_READ, "conn")

    # connections -------------------------------------------------------------------------

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                conn, _addr = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            if self._conn is not None:
                self.busy_refusals += 1
                with contextlib.suppress(OSError):
                    conn.setblocking(True)
                    conn.settimeout(0.5)
                    conn.sendall(BUSY_LINE)
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
                continue
            conn.setblocking(False)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._conn = conn
            self._out.clear()
            self._last_rx = time.monotonic()
            # A new connection starts a new byte stream and a new session: no half line, no
            # role, strict mode or TEST of the last client.
            self.generator.reset_link()
            self._sel.register(conn, selectors.EVENT_READ, "conn")

    def _drop_idle(self) -> None:
        if self._conn is None or time.monotonic() - self._last_rx < self.idle_timeout:
            return
        self.idle_drops += 1
        self._drop_conn()
        if self._log is not None:
            print(f"stimsim emulate: client idle for {self.idle_timeout:g} s: connection closed",
                  file=self._log, flush=True)

    def _drop_conn(self) -> None:
        conn, self._conn = self._conn, None
        self._out.clear()
        if conn is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._sel.unregister(conn)
            conn.close()

    def _read(self, what: str) -> None:
        if what == "pty":
            assert self._master is not None
            try:
                data = os.read(self._master, 4096)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno == errno.EIO:
                    return
                raise
        else:
            assert self._conn is not None
            try:
                data = self._conn.recv(4096)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self._drop_conn()
                return
            if not data:
                self._drop_conn()
                return
            self._last_rx = time.monotonic()
        self._send(self.generator.receive(data))

    # the loop ----------------------------------------------------------------------------

    def boot(self) -> None:
        """Power up: the generator's ``!BOOT`` goes out first (a pty keeps it for a reader)."""
        self._send(self.generator.boot_bytes())

    def serve_forever(self) -> None:
        """Serve until :meth:`shutdown` (or a signal handler calling it); then close."""
        try:
            while not self._stopping:
                for key, mask in self._sel.select(POLL_S):
                    what = key.data
                    if what == "wake":
                        with contextlib.suppress(BlockingIOError):
                            os.read(self._wake_r, 512)
                    elif what == "listen":
                        self._accept()
                    elif mask & selectors.EVENT_WRITE and what == "conn":
                        self._flush_tcp()
                        if self._conn is not None and mask & selectors.EVENT_READ:
                            self._read(what)
                    else:
                        self._read(what)
                self._drop_idle()
                self._send(self.generator.poll())
                if self._master is not None and self._out:
                    self._flush_pty()
        finally:
            self.close()

    def shutdown(self) -> None:
        """Ask the loop to end; safe from a signal handler or another thread."""
        self._stopping = True
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._drop_conn()
        for sock in (self._listener,):
            if sock is not None:
                sock.close()
        self._listener = None
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None
        self._sel.close()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    @property
    def connected(self) -> bool:
        return self._conn is not None


def startup_warning(generator: Any) -> str | None:
    """The generator's note about a corrupt stored state, whatever it calls it."""
    for name in ("startup_warning", "warning", "state_warning"):
        value = getattr(generator, name, None)
        if isinstance(value, str) and value:
            return value
    return None


def run(*, pty: bool, tcp_port: int | None, host: str, speed: float, pin: str, state_dir: Path | None,
        idle_timeout: float = IDLE_TIMEOUT_S, out: TextIO | None = None, err: TextIO | None = None,
        install_signals: bool = True, family: P.Family = P.Family.SCS_R) -> int:
    """``stimsim emulate``: print ``PORT ...`` first, serve until SIGINT/SIGTERM, exit 0."""
    out = out or sys.stdout
    err = err or sys.stderr
    import signal

    generator = new_generator(speed=speed, pin=pin, state_dir=state_dir, family=family)
    emulator = Emulator(generator, pty=pty, tcp_port=tcp_port or 0, host=host, idle_timeout=idle_timeout, log=err)
    previous: dict[signal.Signals, Any] = {}
    try:
        if install_signals:
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous[signum] = signal.signal(signum, lambda *_: emulator.shutdown())
        print(f"PORT {emulator.url}", file=out, flush=True)
        model = getattr(generator, "model", "STIMSIM-VG")
        where = "pty" if pty else f"TCP (one client at a time, closed after {idle_timeout:g} s idle)"
        print(f"stimsim emulate: {model} on {where} {emulator.url}, time x{speed:g}; "
              "Ctrl-C or SIGTERM stops it", file=err, flush=True)
        if pin == DEFAULT_PIN:
            kept = "; a PIN set with CONFIG PIN= and kept in the --state folder takes precedence" if state_dir else ""
            print(f"stimsim emulate: the clinician PIN is the default {DEFAULT_PIN} (set one with --pin){kept}",
                  file=err, flush=True)
        warning = startup_warning(generator)
        if warning:
            print(f"stimsim emulate: warning: {warning}", file=err, flush=True)
        emulator.boot()
        emulator.serve_forever()
    finally:
        emulator.close()
        flush = getattr(generator, "flush", None)
        if callable(flush):
            flush()  # the battery level is saved on change; save the last drift too
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0
