"""Byte transports to a generator, all opened by URL through pyserial.

Any pyserial URL works (``/dev/ttyACM0``, ``COM3``, a pty path, ``socket://host:port``,
``loop://``). On top of those, ``virtual://`` runs a :class:`VirtualGenerator` inside this
process, so the app, the tests and the benchmarks talk to the built-in generator through
exactly the code path they use for a real board:

    virtual://                       a fresh generator on a real-time clock
    virtual://?speed=60&pin=1234&state=/path/to/dir&seed=7
    virtual://NAME                   a generator registered with :func:`register_generator`

Readers use :func:`read_available`: it waits up to the port's timeout for the first byte
and then takes what has already arrived, never relying on ``in_waiting`` to wait (pyserial's
socket:// reports only 0/1 there, and a pty's modem-line ioctls fail).
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
import types
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import serial
from serial.serialutil import PortNotOpenError, SerialBase, SerialException

if TYPE_CHECKING:
    from .generator import VirtualGenerator

BAUDRATE = 115200
SCHEME = "virtual"
READ_CHUNK = 4096
#: How often a virtual port advances its generator's clock while a reader waits.
POLL_SLICE_S = 0.02


class Generator(Protocol):
    """What a virtual port needs of a generator (VirtualGenerator, or a test double)."""

    def receive(self, data: bytes) -> bytes: ...

    def poll(self) -> bytes: ...

    def boot_bytes(self) -> bytes: ...


# --- named in-process generators ---------------------------------------------------------

_registry: dict[str, Generator] = {}
_booted: set[int] = set()
_registry_lock = threading.Lock()


def register_generator(name: str, generator: Generator) -> str:
    """Make ``virtual://NAME`` reach ``generator``; returns that URL.

    The generator powers up (sends its ``!BOOT``) on the first connection only, so an app
    can disconnect and reconnect to the same device, as with a board on a cable.
    """
    if not name or not all(c.isalnum() or c in "-_." for c in name):
        raise ValueError(f"generator name {name!r}: use letters, digits, '-', '_' or '.'")
    with _registry_lock:
        _registry[name.lower()] = generator
    return f"{SCHEME}://{name.lower()}"


def unregister_generator(name: str) -> None:
    with _registry_lock:
        gen = _registry.pop(name.lower(), None)
        if gen is not None:
            _booted.discard(id(gen))


def _take_boot(generator: Generator) -> bytes:
    with _registry_lock:
        if id(generator) in _booted:
            return b""
        _booted.add(id(generator))
    return generator.boot_bytes()


# --- the virtual port ----------------------------------------------------------------------


class VirtualSerial(SerialBase):  # type: ignore[misc]  # pyserial ships no type hints
    """A pyserial port whose far end is an in-process generator.

    ``write`` feeds the generator and buffers what it answers; ``read`` advances the
    generator's clock (``poll``) while it waits, so timed events (battery, TEST lease)
    arrive as they would from a board. Thread-safe: one thread may write (e.g. STOP)
    while another reads.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.generator: Generator | None = None
        self._buffer = bytearray()
        self._cond = threading.Condition()
        self._cancel = False
        super().__init__(*args, **kwargs)

    @classmethod
    def attach(cls, generator: Generator, *, timeout: float | None = 0.05, boot: bool = True) -> VirtualSerial:
        """An open port on an existing generator (tests: a fake clock, inspectable state)."""
        port = cls(None, timeout=timeout)
        port.generator = generator
        port._port = f"{SCHEME}://(attached)"
        port._open_with(boot_bytes=generator.boot_bytes() if boot else b"")
        return port

    # pyserial's life cycle -------------------------------------------------------------

    def open(self) -> None:
        if self.is_open:
            raise SerialException("Port is already open.")
        if self._port is None:
            raise SerialException("Port must be configured before it can be used.")
        self.generator, boot = _generator_for_url(str(self._port))
        self._open_with(boot)

    def _open_with(self, boot_bytes: bytes) -> None:
        with self._cond:
            self._buffer = bytearray(boot_bytes)
            self._cancel = False
        self.is_open = True

    def close(self) -> None:
        with self._cond:
            self.is_open = False
            self._cond.notify_all()

    def _reconfigure_port(self, *args: Any, **kwargs: Any) -> None:
        """Baud rate and framing mean nothing in-process."""

    def _update_dtr_state(self) -> None: ...

    def _update_rts_state(self) -> None: ...

    def _update_break_state(self) -> None: ...

    @property
    def cts(self) -> bool:
        return True

    @property
    def dsr(self) -> bool:
        return True

    @property
    def ri(self) -> bool:
        return False

    @property
    def cd(self) -> bool:
        return True

    # data ------------------------------------------------------------------------------

    def _gen(self) -> Generator:
        if not self.is_open or self.generator is None:
            raise PortNotOpenError()
        return self.generator

    def write(self, data: bytes | bytearray | memoryview) -> int:
        gen = self._gen()
        payload = bytes(data)
        with self._cond:
            answer = gen.receive(payload)
            if answer:
                self._buffer += answer
                self._cond.notify_all()
        return len(payload)

    def flush(self) -> None:
        self._gen()

    @property
    def in_waiting(self) -> int:
        gen = self._gen()
        with self._cond:
            self._buffer += gen.poll()
            return len(self._buffer)

    def read(self, size: int = 1) -> bytes:
        """Up to ``size`` bytes; waits for ``size`` bytes or the timeout, as pyserial does."""
        gen = self._gen()
        deadline = None if self._timeout is None else time.monotonic() + self._timeout
        with self._cond:
            while True:
                self._buffer += gen.poll()
                if len(self._buffer) >= size or self._cancel or not self.is_open:
                    break
                left = POLL_SLICE_S if deadline is None else min(POLL_SLICE_S, deadline - time.monotonic())
                if left <= 0:
                    break
                self._cond.wait(left)
            self._cancel = False
            out = bytes(self._buffer[:size])
            del self._buffer[:size]
            return out

    def read_some(self, size: int = READ_CHUNK) -> bytes:
        """Whatever is buffered (up to ``size``), waiting up to the timeout for a first byte."""
        first = self.read(1)
        if not first:
            return b""
        with self._cond:
            rest = bytes(self._buffer[: size - 1])
            del self._buffer[: size - 1]
        return first + rest

    def push(self, data: bytes) -> None:
        """Deliver bytes the device sends on its own (e.g. the ``!BOOT`` of ``generator.reset()``)."""
        with self._cond:
            self._buffer += data
            self._cond.notify_all()

    def cancel_read(self) -> None:
        with self._cond:
            self._cancel = True
            self._cond.notify_all()

    def reset_input_buffer(self) -> None:
        with self._cond:
            self._buffer.clear()

    def reset_output_buffer(self) -> None:
        """Writes are delivered at once; nothing waits to be sent."""

    @property
    def out_waiting(self) -> int:
        return 0


def _generator_for_url(url: str) -> tuple[Generator, bytes]:
    """Parse ``virtual://[NAME][?speed=&pin=&state=&seed=]`` into a generator and its boot bytes."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() != SCHEME:
        raise SerialException(f"{url!r} is not a {SCHEME}:// URL")
    name = (parts.netloc + parts.path).strip("/").lower()
    options = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
    if name:
        if options:
            raise SerialException(f"{url}: options apply only to a new generator (virtual://?speed=...)")
        with _registry_lock:
            gen = _registry.get(name)
        if gen is None:
            raise SerialException(f"{url}: no virtual generator named {name!r} is registered")
        return gen, _take_boot(gen)
    kwargs: dict[str, Any] = {}
    for key, values in options.items():
        value = values[-1]
        try:
            if key == "speed":
                kwargs["speed"] = float(value)
            elif key == "pin":
                kwargs["pin"] = value
            elif key == "state":
                kwargs["state_dir"] = Path(value)
            elif key == "seed":
                kwargs["rng_seed"] = int(value)
            else:
                raise SerialException(f"{url}: unknown option {key!r} (speed, pin, state, seed)")
        except ValueError:
            raise SerialException(f"{url}: option {key}={value!r} is not a number") from None
    gen = new_generator(**kwargs)
    return gen, gen.boot_bytes()


def new_generator(clock: Callable[[], float] = time.monotonic, **kwargs: Any) -> VirtualGenerator:
    """A VirtualGenerator on ``clock`` (imported late: the generator is the heavier module)."""
    from .generator import VirtualGenerator

    return VirtualGenerator(clock, **kwargs)


# --- pyserial registration -----------------------------------------------------------------

_HANDLER_PACKAGE = "stimsim.device._serial_handlers"


def _register_scheme() -> None:
    """Register ``virtual://`` with pyserial's URL lookup (``protocol_<scheme>`` modules).

    pyserial imports ``<package>.protocol_virtual`` for each package in
    ``serial.protocol_handler_packages``; a module object placed in ``sys.modules`` is
    found by that import without a file on disk.
    """
    if _HANDLER_PACKAGE in serial.protocol_handler_packages:
        return
    package = types.ModuleType(_HANDLER_PACKAGE)
    package.__path__ = []
    handler = types.ModuleType(f"{_HANDLER_PACKAGE}.protocol_{SCHEME}")
    handler.Serial = VirtualSerial  # type: ignore[attr-defined]
    sys.modules[_HANDLER_PACKAGE] = package
    sys.modules[handler.__name__] = handler
    serial.protocol_handler_packages.append(_HANDLER_PACKAGE)


_register_scheme()


# --- opening and reading -------------------------------------------------------------------


class TransportError(OSError):
    """The port could not be opened or the link broke; the message names the URL."""


def open_port(url: str, *, timeout: float = 0.05, baudrate: int = BAUDRATE) -> SerialBase:
    """Open ``url`` (8N1 at ``baudrate`` where that means anything) with a read timeout.

    The timeout bounds how long :func:`read_available` blocks, so a reader thread can
    notice a close request; it is not the protocol's reply timeout.
    """
    try:
        port = serial.serial_for_url(url, baudrate=baudrate, timeout=timeout, write_timeout=2.0)
    except (SerialException, ValueError, OSError) as exc:
        raise TransportError(f"cannot open {url}: {exc}") from exc
    return port


def close_port(port: SerialBase) -> None:
    """Close ``port`` for good. pyserial's ``socket://`` skips closing its socket when the
    shutdown before it fails, as it does once the peer reset the link: close it here."""
    sock = getattr(port, "_socket", None)
    with contextlib.suppress(OSError, SerialException):
        port.close()
    if isinstance(sock, socket.socket):
        sock.close()


def read_available(port: SerialBase, size: int = READ_CHUNK) -> bytes:
    """Wait up to the port's timeout for a first byte, then return everything already there.

    ``in_waiting`` is used only to take bytes that have arrived, never to wait: a socket
    port reports at most 1 there, which still drains it, a byte at a time.
    """
    read_some = getattr(port, "read_some", None)
    if callable(read_some):  # a port that can hand over what it holds (virtual, test wrappers)
        data: bytes = read_some(size)
        return data
    first = port.read(1)
    if not first:
        return b""
    buf = bytearray(first)
    while len(buf) < size:
        try:
            waiting = port.in_waiting
        except (OSError, SerialException):
            break
        if waiting <= 0:
            break
        buf += port.read(min(waiting, size - len(buf)))
    return bytes(buf)


def cancel_read(port: SerialBase) -> None:
    """Wake a reader blocked in ``read`` where the port supports it (posix, virtual)."""
    cancel = getattr(port, "cancel_read", None)
    if cancel is None:
        return
    with contextlib.suppress(OSError, SerialException, NotImplementedError):
        cancel()
