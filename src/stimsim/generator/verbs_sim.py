"""The emulator's controls: SIM SPEED, FAULT, BATT, CHARGE and RESET; on the closed-loop
family also the virtual nerve's POSTURE, COUGH, ECAP_NOISE and EPS.

A board may answer SIM with UNKNOWN_VERB; the virtual generator uses it to let tests,
benchmarks and people drive time, contact faults, the battery, the charger and the nerve.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..engine import params as P
from ..engine.params import fmt_number
from ..protocol.codec import ArgPair, Request
from ..protocol.limits import SIM_SPEED_MAX, SIM_SPEED_MIN
from .ecap_loop import EPS_LIMITS, POSTURES
from .ecap_loop import NOISE_RANGE_UV as ECAP_NOISE_RANGE
from .refusal import bad_arg, out_of_range, parse_int, split_args, state
from .state import OPEN, SHORT, GeneratorState
from .verbs_session import flag

SPEED_RANGE = (SIM_SPEED_MIN, float(SIM_SPEED_MAX))
_SPEED_RE = re.compile(r"^[0-9]{1,6}(\.[0-9]{1,6})?$")
_FAULT_RE = re.compile(r"^(OPEN|SHORT):([0-9]{1,2})$")
_DECIMAL_RE = re.compile(r"^[0-9]{1,6}(\.[0-9]{1,6})?$")
NERVE_KEYS = ("POSTURE", "ECAP_NOISE", "EPS")  #: the closed-loop family's nerve controls (and COUGH)


def verb_sim(gen: GeneratorState, req: Request) -> list[ArgPair]:
    values, tokens = split_args(req, ("SPEED", "FAULT", "BATT", "CHARGE", *NERVE_KEYS), ("RESET", "COUGH"))
    if "RESET" in tokens:
        if values or len(tokens) > 1:
            raise bad_arg(next(iter(values)) if values else next(t for t in tokens if t != "RESET"))
        gen.reboot_pending = True
        return []
    if not values and not tokens:
        raise bad_arg("SIM")
    nerve = _nerve_args(gen, values, tokens)
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
    if charge and not gen.battery.cell.rechargeable:
        raise state(gen.battery.chemistry.upper())  # PRIMARY, or PACK (the trial stimulator: no charger)
    if nerve.noise is not None and not ECAP_NOISE_RANGE[0] <= nerve.noise <= ECAP_NOISE_RANGE[1]:
        raise out_of_range("ECAP_NOISE", fmt_number(ECAP_NOISE_RANGE[0]), fmt_number(ECAP_NOISE_RANGE[1]))
    if nerve.eps is not None and not EPS_LIMITS[0] <= nerve.eps <= EPS_LIMITS[1]:
        raise out_of_range("EPS", fmt_number(EPS_LIMITS[0]), fmt_number(EPS_LIMITS[1]))
    out: list[ArgPair] = []
    if speed is not None:
        gen.speed = speed
        out.append(("SPEED", fmt_number(speed)))
    if fault is not None:
        _apply_fault(gen, fault, match)
        out.append(("FAULT", fault))
    if level is not None:
        gen.battery.set_level(level / 10.0)
        out.append(("BATT", str(level)))
    if charge is not None:
        _apply_charger(gen, charge)
        out.append(("CHARGE", flag(charge)))
    out += _apply_nerve(gen, nerve)
    gen.save()
    return out


@dataclass(frozen=True)
class _NerveArgs:
    posture: str | None = None
    cough: bool = False
    noise: float | None = None
    eps: float | None = None


def _nerve_args(gen: GeneratorState, values: dict[str, str], tokens: list[str]) -> _NerveArgs:
    """The nerve's controls, their syntax checked: BAD_ARG on a family without a nerve."""
    given = [key for key in values if key in NERVE_KEYS] + [t for t in tokens if t == "COUGH"]
    if not given:
        return _NerveArgs()
    if gen.ecap is None:
        raise bad_arg(given[0])
    posture = None
    if "POSTURE" in values:
        posture = values["POSTURE"].lower()
        if posture not in POSTURES:
            raise bad_arg("POSTURE")
    decimals: dict[str, float] = {}
    for key in ("ECAP_NOISE", "EPS"):
        if key in values:
            if not _DECIMAL_RE.match(values[key]):
                raise bad_arg(key)
            decimals[key] = float(values[key])
    return _NerveArgs(posture, "COUGH" in tokens, decimals.get("ECAP_NOISE"), decimals.get("EPS"))


def _apply_nerve(gen: GeneratorState, nerve: _NerveArgs) -> list[ArgPair]:
    loop = gen.ecap
    if loop is None:
        return []
    out: list[ArgPair] = []
    if nerve.posture is not None:
        loop.set_posture(nerve.posture)
        out.append(("POSTURE", nerve.posture.upper()))
    if nerve.noise is not None:
        loop.set_noise(nerve.noise)
        out.append(("ECAP_NOISE", fmt_number(nerve.noise)))
    if nerve.eps is not None:
        loop.set_eps(nerve.eps)
        out.append(("EPS", fmt_number(nerve.eps)))
    if nerve.cough:
        loop.cough(gen.t)
        out.append(("COUGH", "1"))
    return out


def _apply_fault(gen: GeneratorState, fault: str, match: re.Match[str] | None) -> None:
    b = gen.battery
    if match:
        kind = OPEN if match.group(1) == OPEN else SHORT
        gen.faults[str(int(match.group(2)))] = kind
    elif fault == "HOT":
        if not b.hot and b.on_charger:
            gen.emit("CHARGE", [("STATE", "HOT")])
        b.hot = True
    else:  # NONE: every fault clears; a charger that was too hot resumes
        gen.faults.clear()
        if b.hot and b.on_charger:
            b.hot = False
            if not b.full:
                gen.emit("CHARGE", [("STATE", "ON")])
        b.hot = False


def _apply_charger(gen: GeneratorState, on: bool) -> None:
    b = gen.battery
    if on == b.on_charger:
        return
    b.on_charger = on
    b.full = False
    if on:
        gen.emit("CHARGE", [("STATE", "HOT" if b.hot else "ON")])
    else:
        gen.emit("CHARGE", [("STATE", "OFF")])
