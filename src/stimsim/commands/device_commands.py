"""``stimsim emulate``, ``stimsim device`` and ``stimsim conformance``: the device side of the CLI.

Parsing and printing only; the work is in ``stimsim.generator`` (emulator, ``virtual://``),
``stimsim.host`` (client) and ``stimsim.conformance``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..protocol.limits import DEFAULT_PIN, IDLE_TIMEOUT_MAX_S, IDLE_TIMEOUT_S
from . import UsageError

_DEVICE_EPILOG = """\
Lines are typed as a person would (STATUS, AMP STEP=+1, READ SLOT=2); the SEQ and CRC
are added, and lost or damaged exchanges are resent as the app does. In the console,
:login PIN logs in (challenge-response), :events shows queued events, :quit leaves.
Exit status: 0 every line answered OK, 1 a line was refused (ERR) or the device did
not answer, 2 bad usage."""


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
        description="Check every rule of the protocol against a device: a URL, or a command that "
                    "prints 'PORT ...' first (as 'stimsim emulate' does), given after '--'. One line "
                    "per check, then 'N passed, N failed'. Exit status 1 if any check failed.")
    conformance.add_argument("--pin", default=DEFAULT_PIN, help=f"the device's clinician PIN (default {DEFAULT_PIN})")
    conformance.add_argument("--quick", action="store_true", help="skip the 10 s TEST lease check")
    conformance.add_argument("target", nargs=argparse.REMAINDER, metavar="URL | -- COMMAND...")
    conformance.set_defaults(run=_conformance)


# --- emulate ---------------------------------------------------------------------------------


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
                            pin=args.pin, state_dir=args.state, idle_timeout=args.idle_timeout)
    except OSError as exc:
        print(f"stimsim emulate: cannot serve: {exc}", file=sys.stderr)
        return 1


# --- device ----------------------------------------------------------------------------------


def _check_line(line: str) -> str:
    text = line.strip()
    if not text:
        raise UsageError("an empty LINE")
    if text.startswith("#") or " *" in text or text.startswith("*"):
        raise UsageError(f"{line!r}: type the line without SEQ and CRC; they are added")
    if not text.isascii() or not text.isprintable():
        raise UsageError(f"{line!r}: only printable ASCII can be sent")
    return text


def _device(args: argparse.Namespace) -> int:
    from ..generator import urlhandler
    from ..host.client import Client, ClientError, ProtocolMismatch
    from ..protocol.transport import TransportError

    urlhandler.register()  # virtual:// reaches the built-in generator

    lines = [_check_line(line) for line in args.lines]
    if args.timeout <= 0 or args.retries < 0:
        raise UsageError("--timeout must be above 0 and --retries at least 0")

    def on_event(event: object) -> None:
        print(event, flush=True)

    def on_line(direction: str, data: bytes) -> None:
        for raw in data.decode("ascii", "replace").splitlines():
            if raw.strip():
                print(f"{direction} {raw}", flush=True)

    try:
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
                if not args.raw:
                    client.on_event = on_event
                return _console(client, raw=args.raw)
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


def _console(client: object, *, raw: bool) -> int:
    from ..host.client import Client, ClientError

    assert isinstance(client, Client)
    _setup_readline()
    role = client.info.role if client.info else "?"
    print(f"connected to {client.info.model if client.info else '?'} at {client.url}; "
          ":login PIN, :events, :quit", file=sys.stderr)
    status = 0
    prompting = sys.stdin.isatty()
    while True:
        try:
            text = input(f"{role.lower()}> " if prompting else "").strip()
        except EOFError:
            print(file=sys.stderr)
            return status
        except KeyboardInterrupt:
            print(file=sys.stderr)
            continue
        if not text:
            continue
        if text in (":quit", ":q", ":exit"):
            return status
        try:
            if text.startswith(":login"):
                parts = text.split()
                if len(parts) != 2:
                    print("usage: :login PIN", file=sys.stderr)
                    continue
                role = client.login(parts[1])
                print(f"OK ROLE={role}")
                continue
            if text == ":events":
                for event in client.pending_events():
                    print(event)
                continue
            if text.startswith(":"):
                print(f"unknown console command {text}", file=sys.stderr)
                continue
            try:
                line = _check_line(text)
            except UsageError as exc:
                print(exc, file=sys.stderr)
                continue
            reply = client.send_text(line)
            if not raw:
                print(reply)
            if reply.ok and "ROLE" in reply.as_dict():
                role = reply.get("ROLE") or role
            if line.split()[0].upper() == "HELLO":
                role = "PATIENT"
        except ClientError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 1


def _setup_readline() -> None:
    """Line editing and a kept history, for a person at a terminal only."""
    if not sys.stdin.isatty():
        return
    try:
        import readline
    except ImportError:  # pragma: no cover - not on every platform
        return
    try:
        import platformdirs

        history = Path(platformdirs.user_state_dir("stimsim")) / "device_history"
        history.parent.mkdir(parents=True, exist_ok=True)
        if history.exists():
            readline.read_history_file(history)
        readline.set_history_length(1000)
        import atexit

        atexit.register(readline.write_history_file, history)
    except OSError:
        pass


# --- conformance -------------------------------------------------------------------------------


def _conformance(args: argparse.Namespace) -> int:
    from .. import conformance
    from ..generator import urlhandler

    urlhandler.register()  # virtual:// reaches the built-in generator

    target: list[str] = list(args.target)
    if not target:
        raise UsageError("give a device URL, or '--' and a command that prints 'PORT ...'")
    if target[0] == "--":
        command = target[1:]
        if not command:
            raise UsageError("no command after '--'")
        return conformance.run_command(command, pin=args.pin, quick=args.quick)
    if len(target) != 1:
        raise UsageError(f"one URL expected, got {' '.join(target)} (options go before the URL; "
                         "a command goes after '--')")
    from ..protocol.transport import TransportError

    try:
        return conformance.run(target[0], pin=args.pin, quick=args.quick)
    except TransportError as exc:
        print(f"stimsim conformance: {exc}", file=sys.stderr)
        return 1
