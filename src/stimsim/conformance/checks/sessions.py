"""Roles and login: what a patient may do, challenge-response login, LOGOUT and HELLO (the
lockout is in ``hardening``)."""

from __future__ import annotations

from ...protocol.login import proof as login_proof
from ..context import Check, Ctx, collector
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


@check("roles.logout_and_hello")
def _logout(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    ok(link.req("LOGOUT"), ROLE="PATIENT")
    err(link.req("IMPEDANCE"), "DENIED", NEED="CLINICIAN")
    ctx.login()
    reply = ctx.hello()
    expect(reply.get("ROLE") == "PATIENT", "HELLO did not return the role to PATIENT")
