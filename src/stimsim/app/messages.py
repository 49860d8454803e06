"""Plain words for what the device says: refusals, events, link states.

The device answers in codes (``ERR LIMIT KEY=AMP MIN=500 MAX=6000``, which the client
raises as a typed ``LimitError``); patients, trainers and clinicians read sentences. Every
text the app shows about the device is made here, in one place, so the wording stays
consistent and testable. No Qt: pure functions.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..engine import params as P
from ..host.errors import (
    BadArgError,
    BadCrcError,
    BadSyntaxError,
    DeniedError,
    DeviceError,
    LimitError,
    LockedError,
    OutOfRangeError,
    StaleError,
    StateError,
    TooLongError,
    UnknownVerbError,
    UnsafeError,
)
from ..host.limits import LOCKOUT_S


def fmt_ma(amplitude_ua: int | float) -> str:
    """An amplitude as the remote shows it: ``3.5 mA``; finer clinician values keep their digits."""
    ua = int(round(amplitude_ua))
    if ua % 100 == 0:
        return f"{ua / 1000:.1f} mA"
    if ua % 10 == 0:
        return f"{ua / 1000:.2f} mA"
    return f"{ua / 1000:.3f} mA"


def battery_percent(permille: int) -> int:
    """The one rounding rule for battery percent (half up): the remote, the status bar and
    the events all show the same number for the same reading."""
    return (permille + 5) // 10


def fmt_hz(rate: float) -> str:
    """A rate as a person reads it: 50 Hz, 10 kHz."""
    return f"{rate / 1000:g} kHz" if rate >= 1000 else f"{rate:g} Hz"


WRONG_PIN = "Wrong PIN"


def refusal_text(error: DeviceError, *, direction: int = 0) -> str:
    """One sentence for a refused request (an ``ERR`` reply, as the client's typed error).

    ``direction`` is the sign of an amplitude change (+1 up, -1 down), so a limit reads
    "Maximum reached" or "Minimum reached".
    """
    key = error.key or ""
    lo, hi = error.minimum, error.maximum
    if isinstance(error, LimitError):
        if key != "AMP":
            return f"{key.title()} is outside the range set by your clinician"
        if direction < 0 and lo is not None:
            return f"Minimum reached: {fmt_ma(lo)} set by your clinician"
        if hi is not None and direction >= 0:
            return f"Maximum reached: {fmt_ma(hi)} set by your clinician"
        return "That amplitude is outside the range set by your clinician"
    if isinstance(error, OutOfRangeError):
        if key == "AMP" and error.rule != "LIMITS":
            if direction < 0 and lo is not None:
                return f"The stimulator cannot go below {fmt_ma(lo)}"
            if hi is not None:
                return f"The stimulator cannot go above {fmt_ma(hi)}"
        if key == "SLOT":
            return f"There is no program slot with that number (1 to {P.N_SLOTS})"
        return f"Value out of range ({key or 'setting'}): the stimulator refused it"
    if isinstance(error, UnsafeError):
        contact = error.wire_args.get("CONTACT", "?")
        if error.rule == "CHARGE_DENSITY":
            return (f"Not allowed: a higher amplitude would exceed the safe charge density at contact {contact}. "
                    "Ask your clinician")
        return (f"Not allowed: more than {fmt_ma(P.CONTACT_CURRENT_MAX_UA)} through contact {contact} "
                "is never permitted")
    if isinstance(error, StateError):
        return _state_text(error.reason or "", error.wire_args)
    if isinstance(error, DeniedError):
        return WRONG_PIN if error.reason == "PROOF" else "Only a clinician may do this"
    if isinstance(error, LockedError):
        return f"Too many wrong PINs: try again in {error.retry_s or LOCKOUT_S} s"
    if isinstance(error, BadArgError):
        return f"The stimulator did not accept {key or 'the request'} (bad argument)"
    if isinstance(error, UnknownVerbError):
        return f"This stimulator does not know the command {error.verb}".rstrip()
    if isinstance(error, BadCrcError | BadSyntaxError | TooLongError | StaleError):
        return f"The stimulator did not understand the request ({error.code})"
    return f"The stimulator refused the request ({error.code})"


def _state_text(reason: str, args: Mapping[str, str]) -> str:
    if reason == "EMPTY":
        return "That program slot is empty"
    if reason == "MRI":
        return "MRI mode is on: stimulation cannot start until MRI mode is turned off"
    if reason == "BATTERY":
        return "Battery empty: charge the stimulator before turning stimulation on"
    if reason == "FAULT":
        return f"Lead contact {args.get('CONTACT', '?')} has a fault: stimulation cannot start. Call your clinic"
    if reason == "TEST":
        return "Your clinician is testing settings: program changes wait until the test ends"
    if reason == "ACTIVE":
        return "The active program cannot be erased while stimulating"
    if reason == "BUSY":
        return "Another programmer is connected to this stimulator"
    if reason == "NONCE":
        return "Login expired: please try again"
    return "Not possible right now"


_FAULT_KINDS = {"OPEN": "open circuit", "SHORT": "short circuit"}


def fault_text(contact: str, kind: str) -> str:
    """A lead fault in words: ``Lead fault: contact 4 (open circuit)``."""
    words = _FAULT_KINDS.get(kind)
    return f"Lead fault: contact {contact}" + (f" ({words})" if words else "")


def faults_text(faults: Mapping[str, str]) -> str:
    """Every known fault, in contact order; empty when none."""
    if not faults:
        return ""
    contacts = sorted(faults, key=lambda c: (not c.isdigit(), int(c) if c.isdigit() else 0, c))
    if len(contacts) == 1:
        return fault_text(contacts[0], faults[contacts[0]])
    return "Lead faults: contacts " + ", ".join(contacts)


_STOP_REASONS = {
    "STOP": "Stimulation stopped (STOP)",
    "BATTERY": "Stimulation stopped: battery empty",
    "FAULT": "Stimulation stopped: lead contact fault",
    "MRI": "Stimulation stopped: MRI mode on",
}


def event_text(name: str, args: Mapping[str, str]) -> str:
    """One sentence for a device event (``!STIM STIM=OFF REASON=STOP`` ...)."""
    if name == "STIM":
        if args.get("STIM") == "ON":
            return "Stimulation on"
        return _STOP_REASONS.get(args.get("REASON", ""), "Stimulation stopped by the stimulator")
    if name == "BATT":
        pct = _percent(args.get("BATT"))
        state = args.get("STATE", "")
        return {
            "LOW": f"Battery low{pct}: please charge soon",
            "EMPTY": f"Battery empty{pct}: stimulation stopped until charged",
            "ERI": f"Battery replacement due (ERI){pct}: call your clinic",
            "EOS": f"Battery at end of service{pct}: stimulation has stopped for good",
        }.get(state, f"Battery {state.lower()}{pct}")
    if name == "CHARGE":
        return {
            "ON": "Charging",
            "OFF": "Charging stopped",
            "HOT": "Charger too hot: charging paused until it cools",
            "FULL": "Battery fully charged",
        }.get(args.get("STATE", ""), "Charger state changed")
    if name == "FAULT":
        kind = _FAULT_KINDS.get(args.get("KIND", ""), "fault")
        return f"Lead contact {args.get('CONTACT', '?')}: {kind} detected"
    if name == "MRI":
        return "MRI mode on: stimulation cannot be turned on" if args.get("MRI") == "1" else "MRI mode off"
    if name == "TEST":
        why = {"END": "ended", "TIMEOUT": "timed out", "LOGOUT": "ended by logout",
               "HELLO": "ended by a new session"}.get(args.get("REASON", ""), "ended")
        return f"Test settings {why}: the saved program is back"
    if name == "BOOT":
        return f"The stimulator started (boot {args.get('BOOT', '?')}, firmware {args.get('FW', '?')})"
    if name == "LOG":
        return f"Log entry {args.get('I', '?')}: {args.get('WHAT', '?')} by {args.get('ROLE', '?').lower()}"
    return f"Event {name}"


def _percent(permille: str | None) -> str:
    try:
        return f" ({battery_percent(int(permille or ''))} %)"
    except ValueError:
        return ""


def restart_text(old_boot: str, new_boot: str) -> str:
    return (f"The stimulator restarted (boot {old_boot} -> {new_boot}). Its settings were read again; "
            "nothing was re-sent")
