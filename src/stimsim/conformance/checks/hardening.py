"""Sessions against an attacker: a new TCP client starts afresh, the LOGIN lockout outlives
a reboot, an idle TCP client is sent away.

Locking LOGIN leaves a device locked for ``LOCKOUT_S`` whatever is done to it (that is the
rule), so the lockout checks lock a device of their own, started from the suite's device
command; without one (a URL given) they are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

from ...protocol import limits as L
from ...protocol.login import proof as login_proof
from ..context import Check, Ctx, collector, sim_reset
from ..expect import err, expect, ok
from ..link import Link, Skip
from ..port_command import CommandError, started_device

CHECKS: list[Check] = []
check = collector(CHECKS)

IDLE_TEST_S = 0.5  #: the idle timeout the idle check starts its own device with
WRONG = "0" * 64


@contextlib.contextmanager
def own_device(ctx: Ctx, extra: tuple[str, ...] = (), *, why: str = "it locks the device for a while") -> Iterator[Ctx]:
    """A second device from the suite's command (plus ``extra``), for a check that would leave
    the suite's device unusable; Skip where there is no command or it cannot start."""
    if ctx.command is None:
        raise Skip(f"{why}: run the suite as 'stimsim conformance -- COMMAND' so it can start a device of its own")
    if "--state" in ctx.command:
        raise Skip("the device command keeps a --state folder, which a second device would share")
    try:
        with started_device([*ctx.command, *extra], quiet=True) as url:
            link = Link(url)
            try:
                own = Ctx(link, pin=ctx.pin, quick=ctx.quick, sim=ctx.sim, fam=ctx.fam, device=ctx.device)
                own.hello()
                yield own
            finally:
                link.close()
    except CommandError as exc:
        raise Skip(f"cannot start a second device with {' '.join([*ctx.command, *extra])}: {exc}") from None


def _wrong(own: Ctx) -> None:
    link = own.link
    ok(link.req("LOGIN"), NONCE=None)
    err(link.req(f"LOGIN PROOF={WRONG}"), "DENIED", REASON="PROOF")


@check("login.lockout")
def _lockout(ctx: Ctx) -> None:
    ctx.need_sim()
    with own_device(ctx) as own:
        link = own.link
        for _ in range(L.LOGIN_TRIES - 1):
            _wrong(own)
        ok(link.req("LOGIN"), NONCE=None)
        err(link.req(f"LOGIN PROOF={WRONG}"), "LOCKED", RETRY_S=L.LOCKOUT_S)
        retry = int(err(link.req("LOGIN"), "LOCKED").get("RETRY_S") or "0")
        expect(1 <= retry <= L.LOCKOUT_S, f"RETRY_S={retry} while locked, expected 1..{L.LOCKOUT_S}")
        err(link.req(f"LOGIN PROOF={login_proof(own.pin, '0' * 16)}"), "LOCKED")  # the right PIN does not pass


@check("login.lockout_survives_reset")
def _lockout_reset(ctx: Ctx) -> None:
    ctx.need_sim()
    with own_device(ctx) as own:
        link = own.link
        for _ in range(L.LOGIN_TRIES - 1):
            _wrong(own)
        sim_reset(own)
        own.hello()
        ok(link.req("LOGIN"), NONCE=None)
        answer = link.req(f"LOGIN PROOF={WRONG}")
        err(answer, "LOCKED", RETRY_S=L.LOCKOUT_S)  # the count of wrong proofs outlived the reset
        sim_reset(own)
        own.hello()
        retry = int(err(link.req("LOGIN"), "LOCKED").get("RETRY_S") or "0")
        expect(retry >= L.LOCKOUT_S - 1, f"RETRY_S={retry} after SIM RESET: a lock found at a boot lasts "
                                         f"a full {L.LOCKOUT_S} s from that boot")


@check("session.new_connection_patient")
def _new_connection(ctx: Ctx) -> None:
    if not ctx.link.url.startswith("socket://"):
        raise Skip("the link is not TCP: a pty or serial line has no new connection")
    link, slot = ctx.on_slot()
    amp = ok(link.req(f"READ SLOT={slot}")).get("AMP")
    ok(link.req(f"TEST {ctx.fam.program(PW=ctx.fam.value('pulse_width_us', 200))}"))
    for pause in (0.2, 0.5, 1.0):  # the device may not have seen the old connection go yet
        link.reopen(pause)
        mark = link.mark()
        status = link.send(b"STATUS\r\n")  # no HELLO: a new client is not strict
        if status.reply.ok or status.reply.get("REASON") != "BUSY":
            break
    st = ok(status)
    expect((st.get("ROLE"), st.get("TEST"), st.get("AMP")) == ("PATIENT", "0", amp),
           f"a new connection found ROLE={st.get('ROLE')} TEST={st.get('TEST')} AMP={st.get('AMP')}: "
           f"expected ROLE=PATIENT TEST=0 AMP={amp} (the last client's TEST ended, its slot back)")
    err(link.send(f"PROG SLOT={slot} {ctx.plain()}\r\n".encode()), "DENIED", NEED="CLINICIAN")
    err(link.send(b"CONFIG PIN=9999\r\n"), "DENIED", NEED="CLINICIAN")
    link.settle(0.05)
    expect(not link.events("TEST", mark), "a new connection got a !TEST event for the last client's TEST")
    ctx.hello()


@check("session.idle_client_dropped")
def _idle(ctx: Ctx) -> None:
    if ctx.command is None or "--tcp" not in ctx.command:
        raise Skip(f"it needs a TCP device command ('-- COMMAND --tcp 0') to start one with --idle-timeout "
                   f"{IDLE_TEST_S:g}; waiting out the {L.IDLE_TIMEOUT_S} s default is too slow")
    with own_device(ctx, ("--idle-timeout", f"{IDLE_TEST_S:g}")) as own:
        url = own.link.url
        own.link.close()
        host, port = url[len("socket://"):].rsplit(":", 1)
        time.sleep(0.2)
        with socket.create_connection((host, int(port)), timeout=5) as idle:
            idle.settimeout(5)
            started = time.monotonic()
            try:
                data = idle.recv(100)
            except TimeoutError:
                data = b"(still open)"
            waited = time.monotonic() - started
        expect(data == b"" and waited < IDLE_TEST_S + 2.0,
               f"a client silent for {waited:.1f} s with --idle-timeout {IDLE_TEST_S:g} got {data!r}, "
               "expected the connection closed")
        expect(waited >= IDLE_TEST_S * 0.8, f"closed after {waited:.2f} s, before the idle timeout")
        with socket.create_connection((host, int(port)), timeout=5) as after:
            after.settimeout(5)
            after.sendall(b"STATUS\r\n")
            line = after.recv(200)
        expect(b"BUSY" not in line and line.startswith(b"OK "), f"the next client got {line!r}, expected OK STATUS")
