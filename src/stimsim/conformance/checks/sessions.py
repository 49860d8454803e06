"""Roles and login: what a patient may do, challenge-response login, lockout, LOGOUT and HELLO."""

from __future__ import annotations

from ...protocol import limits as L
from ...protocol.login import proof as login_proof
from ..context import Check, Ctx, collector, sim_reset
from ..expect import HEX16, err, expect, ok
from ..link import fmt

CHECKS: list[Check] = []
check = collector(CHECKS)


@check("roles.patient_denied")
def _denied(ctx: Ctx) -> None:
    link = ctx.session()
    for text in ("PROG SLOT=1 MODE=TONIC AMP=1000 PW=100 RATE=50 ELEC=1:-100,2:+100", "ERASE SLOT=1",
                 "TEST MODE=TONIC AMP=1000 PW=100 RATE=50 ELEC=1:-100,2:+100", "TEST END", "IMPEDANCE",
                 "CONFIG IMPEDANCE_DEFAULT=300"):
        err(link.req(text), "DENIED", NEED="CLINICIAN")


@check("roles.patient_allowed")
def _allowed(ctx: Ctx) -> None:
    link = ctx.session()
    for text in ("STATUS", "READ SLOT=1", "BATT", "LOG FROM=999999", "SELECT SLOT=1", "STIM OFF", "AMP STEP=+0",
                 "MRI OFF", "LOGOUT", "LOGIN", "STOP"):
        a = link.req(text)
        expect(a.reply.ok or a.reply.code != "DENIED", f"{text} as PATIENT answered {fmt(a)}")


@check("login.challenge_response")
def _login(ctx: Ctx) -> None:
    link = ctx.session()
    n1 = ok(link.req("LOGIN"), NONCE=None).get("NONCE") or ""
    n2 = ok(link.req("LOGIN"), NONCE=None).get("NONCE") or ""
    expect(bool(HEX16.match(n1)) and bool(HEX16.match(n2)), f"NONCE {n1} / {n2} is not 16 upper-case hex digits")
    expect(n1 != n2, "two LOGINs gave the same NONCE")
    ok(link.req(f"LOGIN PROOF={login_proof(ctx.pin, n2)}"), ROLE="CLINICIAN")
    expect(ctx.status().get("ROLE") == "CLINICIAN", "STATUS does not show ROLE=CLINICIAN after login")
    ctx.hello()
    nonce = ok(link.req("LOGIN"), NONCE=None).get("NONCE") or ""
    ok(link.req(f"LOGIN PROOF={login_proof(ctx.pin, nonce).upper()}"), ROLE="CLINICIAN")


@check("login.wrong_proof_and_nonce_use")
def _login_wrong(ctx: Ctx) -> None:
    link = ctx.session()
    nonce = ok(link.req("LOGIN")).get("NONCE") or ""
    err(link.req(f"LOGIN PROOF={login_proof(ctx.pin + '9', nonce)}"), "DENIED", REASON="PROOF")
    expect(ctx.status().get("ROLE") == "PATIENT", "a wrong proof changed the role")
    err(link.req(f"LOGIN PROOF={login_proof(ctx.pin, nonce)}"), "STATE", REASON="NONCE")
    first = ok(link.req("LOGIN")).get("NONCE") or ""
    second = ok(link.req("LOGIN")).get("NONCE") or ""
    err(link.req(f"LOGIN PROOF={login_proof(ctx.pin, first)}"), "DENIED", REASON="PROOF")
    del second
    ctx.login()  # a right proof resets the count of wrong ones


@check("login.lockout")
def _lockout(ctx: Ctx) -> None:
    ctx.need_sim()
    link = ctx.session()
    for attempt in range(1, L.LOGIN_TRIES + 1):
        ok(link.req("LOGIN"), NONCE=None)
        answer = link.req(f"LOGIN PROOF={'0' * 64}")
        if attempt < L.LOGIN_TRIES:
            err(answer, "DENIED", REASON="PROOF")
        else:
            err(answer, "LOCKED", RETRY_S=L.LOCKOUT_S)
    locked = err(link.req("LOGIN"), "LOCKED")
    retry = int(locked.get("RETRY_S") or "0")
    expect(1 <= retry <= L.LOCKOUT_S, f"RETRY_S={retry} while locked, expected 1..{L.LOCKOUT_S}")
    err(link.req(f"LOGIN PROOF={'0' * 64}"), "LOCKED")
    sim_reset(ctx)  # only a reboot clears the lockout: leave the device usable
    ctx.session(clinician=True)


@check("roles.logout_and_hello")
def _logout(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    ok(link.req("LOGOUT"), ROLE="PATIENT")
    err(link.req("IMPEDANCE"), "DENIED", NEED="CLINICIAN")
    ctx.login()
    reply = ctx.hello()
    expect(reply.get("ROLE") == "PATIENT", "HELLO did not return the role to PATIENT")
