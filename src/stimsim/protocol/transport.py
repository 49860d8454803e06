"""Byte transports to a generator, all opened by URL through pyserial.

Any pyserial URL works (``/dev/ttyACM0``, ``COM3``, a pty path, ``socket://host:port``,
``loop://``), and so does every scheme registered with pyserial's
``protocol_handler_packages``: ``virtual://`` (the built-in generator, in-process) once
``stimsim.generator.urlhandler.register()`` has run.

Readers use :func:`read_available`: it waits up to the port's timeout for the first byte
and then takes what has already arrived, never relying on ``in_waiting`` to wait (pyserial's
socket:// reports only 0/1 there, and a pty's modem-line ioctls fail).
"""

from __future__ import annotations

import contextlib
import socket

import serial
from serial.serialutil import SerialBase, SerialException

BAUDRATE = 115200
READ_CHUNK = 4096


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
