"""Running the suite: prepare the device, run every check, put back what was found.

Each check prints ``PASS name``, ``FAIL name: why`` or ``SKIP name: why``; the run ends
with ``N passed, N failed[, N skipped]``.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from ..engine import params as P
from ..engine.program import DeviceModel
from ..protocol.codec import Reply
from ..protocol.limits import DEFAULT_PIN
from .checks import CHECKS
from .context import CheckFn, Ctx
from .expect import ok
from .link import Fail, Link, Skip
from .port_command import CommandError, started_device


def setup(ctx: Ctx) -> None:
    ctx.hello()
    st = ctx.status()
    ctx.active0 = int(st.get("SLOT") or "1")
    ctx.charging0 = st.get("CHG") == "1"
    ctx.mri0 = st.get("MRI") == "1"
    link = ctx.session(clinician=True)
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
    for contact in P.CONTACTS:
        value = z.get(f"Z{contact.upper()}")
        if value is not None and value.isdigit():
            overrides[contact] = float(value)
    ctx.device = DeviceModel().with_impedances(overrides)
    link.req("STOP", seq=None)


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
        if not ctx.charging0 and ctx.chemistry == "LIION":
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


@dataclass
class Result:
    name: str
    outcome: str  #: PASS, FAIL or SKIP
    why: str = ""

    def line(self) -> str:
        return self.outcome + " " + self.name + (f": {self.why}" if self.why else "")


def run_checks(url: str, *, pin: str = DEFAULT_PIN, quick: bool = False,
               emit: Callable[[Result], None] | None = None,
               only: Callable[[str], bool] | None = None, command: list[str] | None = None) -> list[Result]:
    """Run every check against ``url``; ``emit`` sees each result as it is decided."""
    results: list[Result] = []

    def record(result: Result) -> None:
        results.append(result)
        if emit is not None:
            emit(result)

    link = Link(url)
    ctx = Ctx(link, pin=pin, quick=quick, command=command)
    try:
        try:
            setup(ctx)
        except (Fail, OSError) as exc:
            record(Result("setup", "FAIL", f"cannot prepare the device: {exc}"))
            return results
        for name, fn in CHECKS:
            if only is not None and not only(name):
                continue
            record(_run_one(name, fn, ctx))
        record(_run_one("cleanup", cleanup, ctx))
    finally:
        link.close()
    return results


def _run_one(name: str, fn: CheckFn, ctx: Ctx) -> Result:
    try:
        fn(ctx)
    except Skip as exc:
        return Result(name, "SKIP", str(exc))
    except Fail as exc:
        return Result(name, "FAIL", str(exc))
    except Exception as exc:  # a check that crashes is a failed check, not a crashed suite
        return Result(name, "FAIL", f"{type(exc).__name__}: {exc}")
    finally:
        with contextlib.suppress(Exception):
            ctx.stim_off()
    return Result(name, "PASS")


def summary(results: list[Result]) -> str:
    passed = sum(r.outcome == "PASS" for r in results)
    failed = sum(r.outcome == "FAIL" for r in results)
    skipped = sum(r.outcome == "SKIP" for r in results)
    text = f"{passed} passed, {failed} failed"
    return text + (f", {skipped} skipped" if skipped else "")


def run(url: str, *, pin: str = DEFAULT_PIN, quick: bool = False, out: TextIO | None = None,
        command: list[str] | None = None) -> int:
    """``stimsim conformance URL``: one line per check, the count line; 0 if nothing failed."""
    out = out or sys.stdout
    results = run_checks(url, pin=pin, quick=quick, emit=lambda r: print(r.line(), file=out, flush=True),
                         command=command)
    print(summary(results), file=out, flush=True)
    return 1 if any(r.outcome == "FAIL" for r in results) else 0


def run_command(command: list[str], *, pin: str = DEFAULT_PIN, quick: bool = False, out: TextIO | None = None,
                err_out: TextIO | None = None) -> int:
    """``stimsim conformance -- COMMAND...``."""
    err_out = err_out or sys.stderr
    try:
        with started_device(command) as url:
            return run(url, pin=pin, quick=quick, out=out, command=command)
    except CommandError as exc:
        print(f"stimsim conformance: {' '.join(command)}: {exc}", file=err_out)
        return 1


__all__ = ["CHECKS", "Fail", "Link", "Result", "Skip", "run", "run_checks", "run_command", "started_device",
           "summary"]
