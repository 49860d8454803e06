"""``stimsim emulate``, ``stimsim device`` and ``stimsim conformance``: the device side of the CLI.

Parsing and printing only; the work is in ``stimsim.generator`` (emulator, ``virtual://``),
``stimsim.host`` (client) and ``stimsim.conformance``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..engine.params import Family
from ..protocol.limits import DEFAULT_PIN, IDLE_TIMEOUT_MAX_S, IDLE_TIMEOUT_S
from . import UsageError

_DEVICE_EPILOG = """\
Lines are typed as a person would (STATUS, AMP STEP=+1, READ SLOT=2); the SEQ and CRC
are added, and lost or damaged exchanges are resent as the app does. In the console,
:help lists its commands and the protocol's verbs, :login PIN logs in (challenge-response),
:events shows queued events, :quit (or quit, exit, Ctrl-D) leaves; Ctrl-C clears the line;
lines typed at a terminal are kept across sessions (PINs left out).
Exit status: 0 every line answered OK, 1 a line was refused (ERR) or the device did
not answer, 2 bad usage."""

_CONFORMANCE_EPILOG = """\
Options go before the URL or '--'. Exit status: 0 every check passed (or was skipped),
1 a check failed or the device could not be reached, 2 bad usage."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    emulate = sub.add_parser(
        "emulate", help="serve a virtual generator on a pty or TCP port",
        description="Serve a virtual generator over the serial protocol. The first stdout line is "
                    "'PORT <path or socket://host:port>'; it serves until SIGINT/SIGTERM.")
    where = emulate.add_mutually_exclusive_group()
    where.add_argument("--pty", action="store_true", help="serve on a new pseudo-terminal (the default)")
    where.add_argument("--tcp", type=int, metavar="PORT", help="serve on a TCP port (0: pick a free one)")
    emulate.add_argument("--host", default="127.0.0.1", help="TCP address to listen on (default 127.0.0.1)")
    emulate.add_argument("--speed", type=float, default=1.0, metavar="X",
                         help="battery time per real second (0.1..100000, default 1)")
    emulate.add_argument("--pin", default=DEFAULT_PIN, help=f"clinician PIN, 4 to 8 digits (default {DEFAULT_PIN})")
    emulate.add_argument("--state", type=Path, metavar="DIR", help="keep slots, settings and log in DIR")
    emulate.add_argument("--idle-timeout", type=float, default=float(IDLE_TIMEOUT_S), metavar="S",
                         help=f"close a TCP client that sends nothing for S seconds (default {IDLE_TIMEOUT_S})")
    emulate.add_argument("--family", type=_family, default=Family.SCS_R, metavar="F",
                         help=f"device family: {', '.join(Family)} (default {Family.SCS_R.value})")
    emulate.set_defaults(run=_emulate)

    device = sub.add_parser(
        "device", help="send protocol lines to a device, or open a console",
        description="Send each LINE to the device at URL (strict mode, with retries) and print each "
                    "reply and any events; without LINE, an interactive console.",
        epilog=_DEVICE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    device.add_argument("url", metavar="URL", help="serial device, pty path, socket://host:port or virtual://")
    device.add_argument("lines", nargs="*", metavar="LINE", help="a request, e.g. 'AMP STEP=+1'")
    device.add_argument("--login", metavar="PIN", help="log in as clinician first")
    device.add_argument("--timeout", type=float, default=0.2, help="reply wait per attempt in s (default 0.2)")
    device.add_argument("--retries", type=int, default=3, help="resends after the first attempt (default 3)")
    device.add_argument("--wait", type=float, default=0.1, metavar="S",
                        help="after the last line, how long to collect events (default 0.1)")
    device.add_argument("--raw", action="store_true", help="print the raw lines with SEQ and CRC")
    device.set_defaults(run=_device)

    conformance = sub.add_parser(
        "conformance", help="run the protocol conformance suite against a device",
        description="Check every rule of the protocol against a device: a URL, or a command that\n"
                    "prints 'PORT ...' first (as 'stimsim emulate' does), given after '--'. One line\n"
                    "per check, then 'N passed, N failed' (', N skipped').",
        epilog=_CONFORMANCE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    conformance.add_argument("--pin", default=DEFAULT_PIN, help=f"the device's clinician PIN (default {DEFAULT_PIN})")
    conformance.add_argument("--quick", action="store_true", help="skip the 10 s TEST lease check")
    conformance.add_argument("--list", action="store_true", help="print the checks' names, one a line; send nothing")
    conformance.add_argument("-k", dest="pattern", metavar="PATTERN",
                             help="run only the checks whose name holds PATTERN (case-insensitive); "
                                  "setup and cleanup still run")
    conformance.add_argument("-v", "--verbose", action="store_true",
                             help="print each check's traffic: the lines sent (>) and received (<)")
    conformance.add_argument("--json", action="store_true",
                             help="print one JSON document (checks, results, details, seconds, totals) "
                                  "instead of the lines")
    conformance.add_argument("--junit", type=Path, metavar="FILE",
                             help="also write JUnit XML to FILE, one testcase per check")
    conformance.add_argument("--baud", type=int, metavar="N",
                             help="baud rate of a serial port (ignored, with a note, for socket:// and ptys)")
    conformance.add_argument("target", nargs=argparse.REMAINDER, metavar="URL | -- COMMAND...")
    conformance.set_defaults(run=_conformance)


# --- emulate ---------------------------------------------------------------------------------


def _family(text: str) -> Family:
    try:
        return Family(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a device family ({', '.join(Family)})") from None


def _emulate(args: argparse.Namespace) -> int:
    from ..generator import emulator
    from ..protocol.login import valid_pin

    if not valid_pin(args.pin):
        raise UsageError(f"--pin {args.pin!r}: a PIN is 4 to 8 digits")
    if not 0.1 <= args.speed <= 100_000:
        raise UsageError(f"--speed {args.speed:g}: allowed 0.1..100000")
    if args.tcp is not None and not 0 <= args.tcp <= 65535:
        raise UsageError(f"--tcp {args.tcp}: a port is 0..65535")
    if args.state is not None and args.state.exists() and not args.state.is_dir():
        raise UsageError(f"--state {args.state}: not a folder")
    if not 0 < args.idle_timeout <= IDLE_TIMEOUT_MAX_S:
        raise UsageError(f"--idle-timeout {args.idle_timeout:g}: seconds, more than 0 and at most {IDLE_TIMEOUT_MAX_S}")
    try:
        return emulator.run(pty=args.tcp is None, tcp_port=args.tcp, host=args.host, speed=args.speed,
                            pin=args.pin, state_dir=args.state, idle_timeout=args.idle_timeout, family=args.family)
    except OSError as exc:
        print(f"stimsim emulate: cannot serve: {exc}", file=sys.stderr)
        return 1


# --- device ----------------------------------------------------------------------------------


def _check_line(line: str) -> str:
    from ..host.console import check_line

    try:
        return check_line(line)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _device(args: argparse.Namespace) -> int:
    from ..generator import urlhandler
    from ..host.client import Client, ClientError, ProtocolMismatch
    from ..host.console import keyboard_interrupts_here
    from ..protocol.transport import TransportError

    urlhandler.register()  # virtual:// reaches the built-in generator

    lines = [_check_line(line) for line in args.lines]
    if args.timeout <= 0 or args.retries < 0:
        raise UsageError("--timeout must be above 0 and --retries at least 0")

    def on_line(direction: str, data: bytes) -> None:
        for raw in data.decode("ascii", "replace").splitlines():
            if raw.strip():
                print(f"{direction} {raw}", flush=True)

    try:
        with keyboard_interrupts_here():  # Ctrl-C reaches the console's prompt, not a helper thread
            client = Client.connect(args.url, timeout=args.timeout, retries=args.retries,
                                    on_line=on_line if args.raw else None)
    except TransportError as exc:
        missing = "://" not in args.url and not os.path.exists(args.url)
        if missing or "protocol" in str(exc):
            raise UsageError(str(exc)) from None
        print(f"stimsim device: {exc}", file=sys.stderr)
        return 1
    except ProtocolMismatch as exc:
        print(f"stimsim device: {exc}", file=sys.stderr)
        return 1
    except ClientError as exc:
        print(f"stimsim device: {exc}", file=sys.stderr)
        return 1
    with client:
        try:
            if args.login:
                client.login(args.login)
            client.pending_events()  # a power-up !BOOT seen while connecting is not news
            if not lines:
                from ..host.console import Console

                return Console(client, raw=args.raw).run()
            status = 0
            for line in lines:
                reply = client.send_text(line)
                if not args.raw:
                    print(reply, flush=True)
                    _print_events(client, 0.0)
                if not reply.ok:
                    status = 1
            _print_events(client, args.wait, quiet=args.raw)
            return status
        except ClientError as exc:
            print(f"stimsim device: {exc}", file=sys.stderr)
            return 1


def _print_events(client: object, seconds: float, quiet: bool = False) -> None:
    """Print queued events, waiting up to ``seconds`` for more (events have no end marker)."""
    import queue
    import time

    from ..host.client import Client

    assert isinstance(client, Client)
    deadline = time.monotonic() + seconds
    while True:
        try:
            event = client.events.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return
        if not quiet:
            print(event, flush=True)


# --- conformance -------------------------------------------------------------------------------


def _conformance(args: argparse.Namespace) -> int:
    from .. import conformance
    from ..conformance.runner import select
    from ..generator import urlhandler
    from ..protocol.login import valid_pin

    urlhandler.register()  # virtual:// reaches the built-in generator

    if not valid_pin(args.pin):
        raise UsageError(f"--pin {args.pin!r}: a PIN is 4 to 8 digits")
    if args.baud is not None and not 0 < args.baud <= 12_000_000:
        raise UsageError(f"--baud {args.baud}: a baud rate is 1..12000000")
    if args.pattern is not None and not args.pattern.strip():
        raise UsageError("-k: an empty PATTERN")
    chosen = select(args.pattern)
    if not chosen:
        raise UsageError(f"-k {args.pattern!r} selects none of the {len(conformance.CHECKS)} checks "
                         "(--list shows their names)")
    if args.list:
        for name, _ in chosen:
            print(name)
        return 0
    if args.junit is not None and (args.junit.is_dir() or not args.junit.resolve().parent.is_dir()):
        raise UsageError(f"--junit {args.junit}: not a file in an existing folder")
    names = {name for name, _ in chosen}
    only = None
    if args.pattern is not None:
        only = names.__contains__
        print(f"stimsim conformance: -k {args.pattern} selects {len(chosen)} of {len(conformance.CHECKS)} "
              "checks (setup and cleanup run too)", file=sys.stderr, flush=True)

    target: list[str] = list(args.target)
    if not target:
        raise UsageError("give a device URL, or '--' and a command that prints 'PORT ...'")
    if target[0] == "--":
        command = target[1:]
        if not command:
            raise UsageError("no command after '--'")
        return conformance.run_command(command, pin=args.pin, quick=args.quick, only=only, verbose=args.verbose,
                                       as_json=args.json, junit=args.junit, baud=args.baud)
    if len(target) != 1:
        raise UsageError(f"one URL expected, got {' '.join(target)} (options go before the URL; "
                         "a command goes after '--')")
    url = target[0]
    if "://" not in url and not os.path.exists(url):
        raise UsageError(f"{url}: no such device (a serial port, pty path, socket://host:port or virtual://)")
    return conformance.run(url, pin=args.pin, quick=args.quick, only=only, verbose=args.verbose,
                           as_json=args.json, junit=args.junit, baud=args.baud)
