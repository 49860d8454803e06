"""Session and device verbs: HELLO, STATUS, LOGIN, LOGOUT, CONFIG, IMPEDANCE, BATT and LOG.

Each is ``verb_x(gen, req) -> reply arguments``: it checks everything (raising Refusal)
before it changes anything, then changes the state, queues its events and audits itself.
"""

from __future__ import annotations

from ..engine import params as P
from ..protocol.codec import ArgPair, Request
from ..protocol.login import valid_pin
from .memory import IMPEDANCE_DEFAULT_RANGE
from .refusal import Refusal, bad_arg, no_args, out_of_range, parse_int, split_args
from .state import CLINICIAN, PATIENT, GeneratorState


def flag(on: bool) -> str:
    """A boolean as the wire writes it."""
    return "1" if on else "0"


def hello_args(gen: GeneratorState) -> list[ArgPair]:
    """HELLO's reply arguments."""
    out: list[ArgPair] = [
        ("PROTO", "1"), ("MODEL", gen.model), ("FW", gen.fw), ("SN", gen.sn), ("BOOT", gen.boot_id),
        ("ROLE", gen.role), ("SLOTS", str(P.N_SLOTS)), ("CONTACTS", str(P.N_CONTACTS)),
        ("FAMILY", gen.family.value), ("STRICT", flag(gen.strict)), ("NEXT", str(gen.seq.next_seq())),
    ]
    if gen.defaults_flag:
        out.append(("STATE", "DEFAULTS"))
    return out


def verb_hello(gen: GeneratorState, req: Request) -> list[ArgPair]:
    values, _ = split_args(req, ("STRICT",))
    strict = values.get("STRICT", "0")
    if strict not in ("0", "1"):
        raise bad_arg("STRICT")
    gen.strict = strict == "1"
    gen.role = PATIENT
    gen.login.forget_nonce()
    gen.end_test("HELLO")
    return hello_args(gen)


def verb_status(gen: GeneratorState, req: Request) -> list[ArgPair]:
    no_args(req)
    program = gen.active_program()
    return [
        ("STIM", "ON" if gen.stim else "OFF"),
        ("SLOT", str(gen.active)),
        ("AMP", str(gen.output_amp_ua())),
        ("BATT", str(gen.battery.permille)),
        ("CHG", flag(gen.battery.charging)),
        ("ROLE", gen.role),
        ("COMPLIANCE", "LIMITED" if gen.limited(program) else "OK"),
        ("MRI", flag(gen.mri)),
        ("TEST", flag(gen.test is not None)),
    ]


def verb_login(gen: GeneratorState, req: Request) -> list[ArgPair]:
    if gen.login.expire(gen.t):
        gen.save()  # a lock that ran out is cleared from memory: a restart does not re-arm it
    gen.login.check_challenge(gen.t)  # LOCKED comes before BAD_ARG
    values, _ = split_args(req, ("PROOF",))
    if "PROOF" not in values:
        return [("NONCE", gen.login.challenge())]
    gen.login.check_answer(gen.t, values["PROOF"])
    try:
        gen.login.answer(gen.t, gen.pin_key(), values["PROOF"])
    except Refusal:
        gen.save()  # the count and the lock are stored at once: a reset or restart keeps them
        raise
    gen.role = CLINICIAN
    gen.audit_add("LOGIN")
    gen.save()
    return [("ROLE", CLINICIAN)]


def verb_logout(gen: GeneratorState, req: Request) -> list[ArgPair]:
    no_args(req)
    gen.role = PATIENT
    gen.login.forget_nonce()
    gen.end_test("LOGOUT")
    gen.audit_add("LOGOUT")
    gen.save()
    return [("ROLE", PATIENT)]


def verb_config(gen: GeneratorState, req: Request) -> list[ArgPair]:
    values, _ = split_args(req, ("PIN", "IMPEDANCE_DEFAULT"))
    pin = values.get("PIN")
    if pin is not None and not valid_pin(pin):
        raise bad_arg("PIN")
    imp = None
    if "IMPEDANCE_DEFAULT" in values:
        imp = parse_int("IMPEDANCE_DEFAULT", values["IMPEDANCE_DEFAULT"])
        lo, hi = IMPEDANCE_DEFAULT_RANGE
        if not lo <= imp <= hi:
            raise out_of_range("IMPEDANCE_DEFAULT", lo, hi)
    if pin is not None:
        gen.set_pin(pin)
    if imp is not None:
        gen.impedance_default = imp
    if values:
        gen.defaults_flag = False
        gen.audit_add("CONFIG")
        gen.save()
    return [("IMPEDANCE_DEFAULT", str(gen.impedance_default))]


def verb_impedance(gen: GeneratorState, req: Request) -> list[ArgPair]:
    no_args(req)
    out: list[ArgPair] = []
    for contact in P.FAMILIES[gen.family].contacts:  # no ZCASE where there is no case
        fault = gen.faults.get(contact)
        if fault is not None:
            value = fault
        elif contact == P.CASE:
            value = str(round(P.CASE_IMPEDANCE_OHM))
        else:
            value = str(gen.impedance_default)
        out.append((f"Z{contact.upper()}", value))
    return out


def verb_batt(gen: GeneratorState, req: Request) -> list[ArgPair]:
    no_args(req)
    b = gen.battery
    return [
        ("BATT", str(b.permille)),
        ("VBAT_MV", str(b.vbat_mv())),
        ("CHEM", b.chemistry.upper()),
        ("CHG", flag(b.charging)),
        ("STATE", b.state),
        ("EST_H", f"{b.est_hours(gen.power_mw()):.1f}"),
    ]


def verb_log(gen: GeneratorState, req: Request) -> list[ArgPair]:
    values, _ = split_args(req, ("FROM",))
    first = parse_int("FROM", values["FROM"], signed=False) if "FROM" in values else 1
    entries = gen.audit.since(first)
    for entry in entries:
        gen.emit("LOG", entry.wire_args())
    return [("N", str(len(entries)))]
