"""The ``virtual://`` port: pyserial's ``Serial`` class for this URL handler package."""

from __future__ import annotations

import threading
import time
from typing import Any

from serial.serialutil import PortNotOpenError, SerialBase, SerialException

from ...protocol.transport import READ_CHUNK
from . import SCHEME, Generator, generator_for_url

#: How often a virtual port advances its generator's clock while a reader waits.
POLL_SLICE_S = 0.02


# --- the virtual port ----------------------------------------------------------------------


class Serial(SerialBase):  # type: ignore[misc]  # pyserial ships no type hints
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
    def attach(cls, generator: Generator, *, timeout: float | None = 0.05, boot: bool = True) -> Serial:
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
        self.generator, boot = generator_for_url(str(self._port))
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


#: The name tests and callers use for an attached port.
VirtualSerial = Serial
