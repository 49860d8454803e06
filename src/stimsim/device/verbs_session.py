"""Session, device and emulator verbs: HELLO, STATUS, LOGIN, LOGOUT, CONFIG, IMPEDANCE,
BATT, LOG and SIM (the emulator's controls: speed, faults, battery level, charger, reset)."""

from __future__ import annotations

import re

from ..engine import params as P
from ..engine.params import fmt_number
from .codec import ArgPair, Request
from .generator_core import CLINICIAN, IMPEDANCE_DEFAULT_RANGE, OPEN, PATIENT, SHORT, GeneratorCore
from .limits import SIM_SPEED_MAX, SIM_SPEED_MIN
from .login import pin_key, valid_pin
from .refusal import bad_arg, no_args, out_of_range, parse_int, split_args, state

SPEED_RANGE = (SIM_SPEED_MIN, float(SIM_SPEED_MAX))
_SPEED_RE = re.compile(r"^[0-9]{1,6}(\.[0-9]{1,6})?$")
_FAULT_RE = re.compile(r"^(OPEN|SHORT):([0-9]{1,2})$")


def _flag(on: bool) -> str:
    return "1" if on else "0"


class SessionVerbs(GeneratorCore):
    # Set by VirtualGenerator.
    model: str
    fw: str
    sn: str

    def hello_args(self) -> list[ArgPair]:
        out: list[ArgPair] = [
            ("PROTO", "1"), ("MODEL", self.model), ("FW", self.fw), ("SN", self.sn), ("BOOT", self._boot_id),
            ("ROLE", self._role), ("SLOTS", str(P.N_SLOTS)), ("CONTACTS", str(P.N_CONTACTS)),
            ("STRICT", _flag(self._strict)), ("NEXT", str(self._seq.next_seq())),
        ]
        if self._defaults_flag:
            out.append(("STATE", "DEFAULTS"))
        return out

    def do_hello(self, req: Request) -> list[ArgPair]:
        values, _ = split_args(req, ("STRICT",))
        strict = values.get("STRICT", "0")
        if strict not in ("0", "1"):
            raise bad_arg("STRICT")
        self._strict = strict == "1"
        self._role = PATIENT
        self._login.forget_nonce()
        self._end_test("HELLO")
        return self.hello_args()

    def do_status(self, req: Request) -> list[ArgPair]:
        no_args(req)
        program = self.active_program()
        return [
            ("STIM", "ON" if self._stim else "OFF"),
            ("SLOT", str(self._active)),
            ("AMP", str(0 if program is None else program.amplitude_ua)),
            ("BATT", str(self._battery.permille)),
            ("CHG", _flag(self._battery.charging)),
            ("ROLE", self._role),
            ("COMPLIANCE", "LIMITED" if self._limited(program) else "OK"),
            ("MRI", _flag(self._mri)),
            ("TEST", _flag(self._test is not None)),
        ]

    def do_login(self, req: Request) -> list[ArgPair]:
        self._login.check_challenge(self._t)  # LOCKED comes before BAD_ARG
        values, _ = split_args(req, ("PROOF",))
        if "PROOF" not in values:
            return [("NONCE", self._login.challenge())]
        self._login.check_answer(self._t, values["PROOF"])
        self._login.answer(self._t, self._pin_key(), values["PROOF"])  # raises when wrong
        self._role = CLINICIAN
        self._audit_add("LOGIN")
        self._save()
        return [("ROLE", CLINICIAN)]

    def do_logout(self, req: Request) -> list[ArgPair]:
        no_args(req)
        self._role = PATIENT
        self._login.forget_nonce()
        self._end_test("LOGOUT")
        self._audit_add("LOGOUT")
        self._save()
        return [("ROLE", PATIENT)]

    def do_config(self, req: Request) -> list[ArgPair]:
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
            self._pin_configured = pin_key(pin)
        if imp is not None:
            self._impedance_default = imp
        if values:
            self._defaults_flag = False
            self._audit_add("CONFIG")
            self._save()
        return [("IMPEDANCE_DEFAULT", str(self._impedance_default))]

    def do_impedance(self, req: Request) -> list[ArgPair]:
        no_args(req)
        out: list[ArgPair] = []
        for contact in P.CONTACTS:
            fault = self._faults.get(contact)
            if fault is not None:
                value = fault
            elif contact == P.CASE:
                value = str(round(P.CASE_IMPEDANCE_OHM))
            else:
                value = str(self._impedance_default)
            out.append((f"Z{contact.upper()}", value))
        return out

    def do_batt(self, req: Request) -> list[ArgPair]:
        no_args(req)
        b = self._battery
        return [
            ("BATT", str(b.permille)),
            ("VBAT_MV", str(b.vbat_mv())),
            ("CHEM", b.chemistry.upper()),
            ("CHG", _flag(b.charging)),
            ("STATE", b.state),
            ("EST_H", f"{b.est_hours(self._power_mw()):.1f}"),
        ]

    def do_log(self, req: Request) -> list[ArgPair]:
        values, _ = split_args(req, ("FROM",))
        first = parse_int("FROM", values["FROM"], signed=False) if "FROM" in values else 1
        entries = self._audit.since(first)
        for entry in entries:
            self._emit("LOG", entry.wire_args())
        return [("N", str(len(entries)))]

    def do_sim(self, req: Request) -> list[ArgPair]:
        values, tokens = split_args(req, ("SPEED", "FAULT", "BATT", "CHARGE"), ("RESET",))
        if tokens:
            if values:
                raise bad_arg(next(iter(values)))
            self._reboot_pending = True
            return []
        if not values:
            raise bad_arg("SIM")
        speed = fault = level = charge = None
        if "SPEED" in values:
            if not _SPEED_RE.match(values["SPEED"]):
                raise bad_arg("SPEED")
            speed = float(values["SPEED"])
        if "FAULT" in values:
            fault = values["FAULT"].upper()
            match = _FAULT_RE.match(fault)
            if fault not in ("HOT", "NONE") and not match:
                raise bad_arg("FAULT")
        if "BATT" in values:
            level = parse_int("BATT", values["BATT"])
        if "CHARGE" in values:
            if values["CHARGE"] not in ("0", "1"):
                raise bad_arg("CHARGE")
            charge = values["CHARGE"] == "1"
        if speed is not None and not SPEED_RANGE[0] <= speed <= SPEED_RANGE[1]:
            raise out_of_range("SPEED", fmt_number(SPEED_RANGE[0]), fmt_number(SPEED_RANGE[1]))
        if fault is not None and match and not 1 <= int(match.group(2)) <= P.N_CONTACTS:
            raise out_of_range("FAULT", 1, P.N_CONTACTS)
        if level is not None and not 0 <= level <= 1000:
            raise out_of_range("BATT", 0, 1000)
        if charge and not self._battery.cell.rechargeable:
            raise state("PRIMARY")
        out: list[ArgPair] = []
        if speed is not None:
            self.speed = speed
            out.append(("SPEED", fmt_number(speed)))
        if fault is not None:
            self._apply_fault(fault, match)
            out.append(("FAULT", fault))
        if level is not None:
            self._battery.set_level(level / 10.0)
            out.append(("BATT", str(level)))
        if charge is not None:
            self._apply_charger(charge)
            out.append(("CHARGE", _flag(charge)))
        self._save()
        return out

    def _apply_fault(self, fault: str, match: re.Match[str] | None) -> None:
        b = self._battery
        if match:
            kind = OPEN if match.group(1) == OPEN else SHORT
            self._faults[str(int(match.group(2)))] = kind
        elif fault == "HOT":
            if not b.hot and b.on_charger:
                self._emit("CHARGE", [("STATE", "HOT")])
            b.hot = True
        else:  # NONE: every fault clears; a charger that was too hot resumes
            self._faults.clear()
            if b.hot and b.on_charger:
                b.hot = False
                if not b.full:
                    self._emit("CHARGE", [("STATE", "ON")])
            b.hot = False

    def _apply_charger(self, on: bool) -> None:
        b = self._battery
        if on == b.on_charger:
            return
        b.on_charger = on
        b.full = False
        if on:
            self._emit("CHARGE", [("STATE", "HOT" if b.hot else "ON")])
        else:
            self._emit("CHARGE", [("STATE", "OFF")])
