"""``virtual://``: the built-in generator as a pyserial URL handler.

pyserial opens ``<scheme>://`` URLs by importing ``<package>.protocol_<scheme>`` for each
package in ``serial.protocol_handler_packages`` and using its ``Serial`` class;
:func:`register` appends this package there, so the app, the commands, the tests and
the benchmarks reach the built-in generator through exactly the code path of a board:

    virtual://                       a fresh generator on a real-time clock
    virtual://?speed=60&pin=1234&state=/path/to/dir&seed=7
    virtual://NAME                   a generator registered with :func:`register_generator`
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import serial
from serial.serialutil import SerialException

from ...engine import params as P
from ..virtual_generator import VirtualGenerator

SCHEME = "virtual"


def register() -> None:
    """Let pyserial's ``serial_for_url`` open ``virtual://`` URLs (idempotent)."""
    if __name__ not in serial.protocol_handler_packages:
        serial.protocol_handler_packages.append(__name__)


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


def _family(url: str, value: str) -> P.Family:
    try:
        return P.Family(value)
    except ValueError:
        raise SerialException(f"{url}: family {value!r} is not one of {', '.join(P.Family)}") from None


def generator_for_url(url: str) -> tuple[Generator, bytes]:
    """Parse ``virtual://[NAME][?speed=&pin=&state=&seed=&family=]`` into a generator and its boot bytes."""
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
            elif key == "family":
                kwargs["family"] = _family(url, value)
            else:
                raise SerialException(f"{url}: unknown option {key!r} (speed, pin, state, seed, family)")
        except ValueError:
            raise SerialException(f"{url}: option {key}={value!r} is not a number") from None
    gen = new_generator(**kwargs)
    return gen, gen.boot_bytes()


def new_generator(clock: Callable[[], float] = time.monotonic, **kwargs: Any) -> VirtualGenerator:
    """A VirtualGenerator on ``clock`` (real time unless told otherwise)."""
    return VirtualGenerator(clock, **kwargs)


__all__ = ["SCHEME", "Generator", "generator_for_url", "new_generator", "register", "register_generator",
           "unregister_generator"]
