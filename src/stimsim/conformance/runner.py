"""Running the suite: prepare the device, run every check, put back what was found.

Each check prints ``PASS name``, ``FAIL name: why`` or ``SKIP name: why``; the run ends
with ``N passed, N failed[, N skipped]`` (the line CI runners read). Or one JSON document
(``--json``), and a JUnit XML file (``--junit``) for a CI that shows each check.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from ..engine import battery
from ..engine import params as P
from ..engine.atomic_file import atomic_write_text
from ..engine.program import DeviceModel
from ..protocol.codec import Reply
from ..protocol.limits import DEFAULT_PIN
from ..protocol.login import proof as login_proof
from ..protocol.transport import TransportError
from .checks import CHECKS
from .context import Check, CheckFn, Ctx
from .device_family import DeviceFamily, UnknownFamily
from .expect import ok
from .link import Fail, Link, Skip, fmt
from .port_command import CommandError, started_device
from .report import json_report, junit_report


def setup(ctx: Ctx) -> None:
    try:
        ctx.fam = DeviceFamily.named(ctx.hello().get("FAMILY"))
    except UnknownFamily as exc:
        raise Fail(str(exc)) from None
    st = ctx.status()
    ctx.active0 = int(st.get("SLOT") or "1")
    ctx.charging0 = st.get("CHG") == "1"
    ctx.mri0 = st.get("MRI") == "1"
    link = ctx.session()
    _login(ctx)
    batt = ok(link.req("BATT"))
    ctx.battery0 = int(batt.get("BATT") or "0")
    ctx.chemistry = batt.get("CHEM") or "LIION"
    cfg = link.req("CONFIG")
    if cfg.reply.ok and cfg.reply.get("IMPEDANCE_DEFAULT"):
        ctx.impedance_default0 = int(cfg.reply.get("IMPEDANCE_DEFAULT") or "0")
    empty: list[int] = []
    full: dict[int, str] = {}
    for n in range(1, P.N_SLOTS + 1):
        a = link.req(f"READ SLOT={n}")
        if a.reply.ok:
            full[n] = " ".join(f"{k}={v}" for k, v in a.reply.args if k not in (None, "SLOT"))
        else:
            empty.append(n)
    ctx.active0_empty = ctx.active0 in empty
    usable = [n for n in empty if n != ctx.active0]
    for n in range(P.N_SLOTS, 0, -1):  # borrow slots (restored at the end) if too few are free
        if len(usable) >= 3:
            break
        if n not in usable and n != ctx.active0:
            usable.append(n)
            ctx.saved[n] = full[n]
    ctx.slots = usable[:3]
    z = ok(link.req("IMPEDANCE", timeout=1.0))
    overrides = {}
    for contact in ctx.fam.spec.contacts:
        value = z.get(f"Z{contact.upper()}")
        if value is not None and value.isdigit():
            overrides[contact] = float(value)
    ctx.device = DeviceModel(family=ctx.fam.family).with_impedances(overrides)
    link.req("STOP", seq=None)


def _login(ctx: Ctx) -> None:
    """The suite's clinician login, saying what to do when the device refuses the PIN."""
    link = ctx.link
    a = link.req("LOGIN")
    if a.reply.code == "LOCKED":
        raise Fail(f"the device's LOGIN is locked after wrong PINs ({fmt(a)}): wait "
                   f"{a.reply.get('RETRY_S') or 'the lock'} s or restart the device, and pass --pin with its PIN")
    nonce = ok(a, NONCE=None).get("NONCE") or ""
    a = link.req(f"LOGIN PROOF={login_proof(ctx.pin, nonce)}")
    if a.reply.code in ("DENIED", "LOCKED"):
        raise Fail(f"the device refused PIN {ctx.pin} ({fmt(a)}); pass --pin with the device's clinician PIN")
    ok(a, ROLE="CLINICIAN")


def cleanup(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    problems: list[str] = []

    def do(text: str) -> Reply:
        reply = link.req(text).reply
        if not reply.ok:
            problems.append(f"{text}: {reply}")
        return reply

    link.req("STOP", seq=None)
    link.req("TEST END")
    do("MRI ON" if ctx.mri0 else "MRI OFF")
    if ctx.sim:
        do("SIM FAULT=NONE")
        if not ctx.charging0 and _rechargeable(ctx.chemistry):
            do("SIM CHARGE=0")
        if ctx.battery0 is not None:
            do(f"SIM BATT={ctx.battery0}")
    if ctx.impedance_default0 is not None:
        do(f"CONFIG IMPEDANCE_DEFAULT={ctx.impedance_default0}")
    for n in ctx.slots:
        if n in ctx.saved:
            do(f"PROG SLOT={n} {ctx.saved[n]} ACK=CHARGE")
        else:
            reply = link.req(f"ERASE SLOT={n}").reply
            if not reply.ok and reply.code != "STATE":
                problems.append(f"ERASE SLOT={n}: {reply}")
    # Put the active slot back, even when it was empty (write, select, erase it).
    if ctx.active0_empty:
        ctx.prog(ctx.active0)
        do(f"SELECT SLOT={ctx.active0}")
        do(f"ERASE SLOT={ctx.active0}")
    else:
        do(f"SELECT SLOT={ctx.active0}")
    do("LOGOUT")
    link.req("STOP", seq=None)
    if problems:
        raise Fail("; ".join(problems))


def _rechargeable(chem: str) -> bool:
    """Whether BATT's ``CHEM=`` names a cell with a charger."""
    cell = battery.CELLS.get(chem.lower())
    return cell is not None and cell.rechargeable


@dataclass
class Result:
    name: str
    outcome: str  #: PASS, FAIL or SKIP
    why: str = ""
    seconds: float = 0.0
    traffic: list[str] = field(default_factory=list)  #: the check's lines, ``> sent`` and ``< received``

    def line(self) -> str:
        return self.outcome + " " + self.name + (f": {self.why}" if self.why else "")


def select(pattern: str | None, checks: list[Check] | None = None) -> list[Check]:
    """The checks whose name holds ``pattern`` (case-insensitive, as pytest's ``-k`` word)."""
    checks = CHECKS if checks is None else checks
    if pattern is None:
        return list(checks)
    want = pattern.strip().lower()
    return [(name, fn) for name, fn in checks if want in name.lower()]


def run_checks(url: str, *, pin: str = DEFAULT_PIN, quick: bool = False,
               emit: Callable[[Result], None] | None = None,
               only: Callable[[str], bool] | None = None, baud: int | None = None,
               watch: Callable[[str, str], None] | None = None,
               begin: Callable[[str], None] | None = None, command: list[str] | None = None) -> list[Result]:
    """Run every check (or those ``only`` keeps) against ``url``; ``emit`` sees each result
    as it is decided, ``begin`` each step's name before it starts (setup, the checks, cleanup)
    and ``watch`` each line on the wire."""
    results: list[Result] = []

    def record(result: Result) -> None:
        results.append(result)
        if emit is not None:
            emit(result)

    if begin is not None:
        begin("setup")
    try:
        link = Link(url, baudrate=baud, watch=watch)
    except TransportError as exc:
        record(Result("setup", "FAIL", str(exc)))
        return results
    ctx = Ctx(link, pin=pin, quick=quick, command=command)
    try:
        t0 = time.monotonic()
        try:
            setup(ctx)
        except (Fail, OSError) as exc:
            record(Result("setup", "FAIL", f"cannot prepare the device: {exc}", time.monotonic() - t0,
                          link.traffic))
            return results
        for name, fn in CHECKS:
            if only is not None and not only(name):
                continue
            if begin is not None:
                begin(name)
            record(_run_one(name, fn, ctx))
        if begin is not None:
            begin("cleanup")
        record(_run_one("cleanup", cleanup, ctx))
    finally:
        link.close()
    return results


def _run_one(name: str, fn: CheckFn, ctx: Ctx) -> Result:
    ctx.link.traffic = []
    t0 = time.monotonic()
    try:
        fn(ctx)
        result = Result(name, "PASS")
    except Skip as exc:
        result = Result(name, "SKIP", str(exc))
    except Fail as exc:
        result = Result(name, "FAIL", str(exc))
    except Exception as exc:  # a check that crashes is a failed check, not a crashed suite
        result = Result(name, "FAIL", f"{type(exc).__name__}: {exc}")
    finally:
        with contextlib.suppress(Exception):
            ctx.stim_off()
    result.seconds = time.monotonic() - t0
    result.traffic = ctx.link.traffic
    return result


def summary(results: list[Result]) -> str:
    passed = sum(r.outcome == "PASS" for r in results)
    failed = sum(r.outcome == "FAIL" for r in results)
    skipped = sum(r.outcome == "SKIP" for r in results)
    text = f"{passed} passed, {failed} failed"
    return text + (f", {skipped} skipped" if skipped else "")


def run(url: str, *, pin: str = DEFAULT_PIN, quick: bool = False, out: TextIO | None = None,
        err_out: TextIO | None = None, only: Callable[[str], bool] | None = None, verbose: bool = False,
        as_json: bool = False, junit: Path | None = None, baud: int | None = None,
        command: list[str] | None = None) -> int:
    """``stimsim conformance URL``: one line per check, the count line; 0 if nothing failed.

    ``verbose`` shows each step's lines on the wire; ``as_json`` prints one JSON document
    instead (the count line then goes to ``err_out``); ``junit`` also writes a JUnit XML file.
    """
    out = out or sys.stdout
    err_out = err_out or sys.stderr
    baud = _baud_for(url, baud, err_out)
    t0 = time.monotonic()
    if as_json:
        results = run_checks(url, pin=pin, quick=quick, only=only, baud=baud, command=command)
    else:
        def emit(result: Result) -> None:
            print(result.line(), file=out, flush=True)

        def begin(name: str) -> None:
            print(f"--- {name}", file=out, flush=True)

        def watch(direction: str, text: str) -> None:
            print(f"  {direction} {text}", file=out, flush=True)

        results = run_checks(url, pin=pin, quick=quick, only=only, baud=baud, emit=emit, command=command,
                             begin=begin if verbose else None, watch=watch if verbose else None)
    return _report(results, url=url, seconds=time.monotonic() - t0, out=out, err_out=err_out,
                   verbose=verbose, as_json=as_json, junit=junit)


def _report(results: list[Result], *, url: str, seconds: float, out: TextIO, err_out: TextIO, verbose: bool,
            as_json: bool, junit: Path | None) -> int:
    written = True
    if junit is not None:
        try:
            atomic_write_text(junit, junit_report(results, url=url, seconds=seconds))
        except OSError as exc:
            print(f"stimsim conformance: cannot write --junit {junit}: {exc}", file=err_out)
            written = False
    if as_json:
        print(json_report(results, url=url, seconds=seconds, traffic=verbose), file=out, flush=True)
    print(summary(results), file=err_out if as_json else out, flush=True)
    failed = any(r.outcome == "FAIL" for r in results)
    return 1 if failed or not written else 0


def _baud_for(url: str, baud: int | None, err_out: TextIO) -> int | None:
    """``baud`` for a serial port; None, with a note, where a baud rate means nothing."""
    if baud is None:
        return None
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme in ("", "rfc2217", "spy", "alt", "hwgrep") and not is_pty(url):
        return baud
    kind = "a pseudo-terminal" if not scheme else f"a {scheme}:// link"
    print(f"stimsim conformance: --baud {baud} ignored: {url} is {kind}", file=err_out)
    return None


def is_pty(path: str) -> bool:
    """Whether ``path`` is a pseudo-terminal (no baud rate, no line)."""
    if "://" in path:
        return False
    real = os.path.realpath(path)
    if real.startswith(("/dev/pts/", "/dev/ttys", "/dev/pty")):
        return True
    try:
        return sys.platform.startswith("linux") and 136 <= os.major(os.stat(real).st_rdev) <= 143
    except OSError:
        return False


def run_command(command: list[str], *, pin: str = DEFAULT_PIN, quick: bool = False, out: TextIO | None = None,
                err_out: TextIO | None = None, only: Callable[[str], bool] | None = None, verbose: bool = False,
                as_json: bool = False, junit: Path | None = None, baud: int | None = None) -> int:
    """``stimsim conformance -- COMMAND...``: start it, run the suite on its port, stop it."""
    out = out or sys.stdout
    err_out = err_out or sys.stderr
    try:
        with started_device(command) as url:
            return run(url, pin=pin, quick=quick, out=out, err_out=err_out, only=only, verbose=verbose,
                       as_json=as_json, junit=junit, baud=baud, command=command)
    except CommandError as exc:
        why = f"{' '.join(command)}: {exc}"
        print(f"stimsim conformance: {why}", file=err_out)
        # A CI reading the report sees why nothing ran, not a missing file.
        results = [Result("setup", "FAIL", f"cannot start the device: {why}")]
        _report(results, url="", seconds=0.0, out=out, err_out=err_out, verbose=verbose, as_json=as_json,
                junit=junit)
        return 1


__all__ = ["CHECKS", "Fail", "Link", "Result", "Skip", "is_pty", "run", "run_checks", "run_command", "select",
           "started_device", "summary"]
