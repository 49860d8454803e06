"""Plain words for what the device says: refusals, events, link states.

The device answers in codes (``ERR LIMIT KEY=AMP MIN=500 MAX=6000``); patients, trainers
and clinicians read sentences. Every text the app shows about the device is made here, in
one place, so the wording stays consistent and testable. No Qt: pure functions.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..engine import params as P


def fmt_ma(amplitude_ua: int | float) -> str:
    """An amplitude as the remote shows it: ``3.5 mA``; finer clinician values keep their digits."""
    ua = int(round(amplitude_ua))
    if ua % 100 == 0:
        return f"{ua / 1000:.1f} mA"
    if ua % 10 == 0:
        return f"{ua / 1000:.2f} mA"
    return f"{ua / 1000:.3f} mA"


def fmt_hz(rate: float) -> str:
    """A rate as a person reads it: 50 Hz, 10 kHz."""
    return f"{rate / 1000:g} kHz" if rate >= 1000 else f"{rate:g} Hz"


def _ua(args: Mapping[str, str], key: str) -> int | None:
    try:
        return int(args[key])
    except (KeyError, ValueError):
        return None


def refusal_text(code: str, args: Mapping[str, str], *, verb: str = "", direction: int = 0) -> str:
    """One sentence for an ``ERR`` reply.

    ``verb`` is the request's verb and ``direction`` the sign of an amplitude change
    (+1 up, -1 down), so a limit reads "Maximum reached" or "Minimum reached".
    """
    key = args.get("KEY", "")
    reason = args.get("REASON", "")
    if code == "LIMIT" and key == "AMP":
        lo, hi = _ua(args, "MIN"), _ua(args, "MAX")
        if direction < 0 and lo is not None:
            return f"Minimum reached: {fmt_ma(lo)} set by your clinician"
        if hi is not None and direction >= 0:
            return f"Maximum reached: {fmt_ma(hi)} set by your clinician"
        return "That amplitude is outside the range set by your clinician"
    if code == "LIMIT":
        return f"{key.title()} is outside the range set by your clinician"
    if code == "OUT_OF_RANGE" and key == "AMP" and args.get("RULE") != "LIMITS":
        lo, hi = _ua(args, "MIN"), _ua(args, "MAX")
        if direction < 0 and lo is not None:
            return f"The stimulator cannot go below {fmt_ma(lo)}"
        if hi is not None:
            return f"The stimulator cannot go above {fmt_ma(hi)}"
    if code == "OUT_OF_RANGE" and key == "SLOT":
        return f"There is no program slot with that number (1 to {P.N_SLOTS})"
    if code == "OUT_OF_RANGE":
        return f"Value out of range ({key or 'setting'}): the stimulator refused it"
    if code == "UNSAFE" and args.get("RULE") == "CHARGE_DENSITY":
        contact = args.get("CONTACT", "?")
        return (f"Not allowed: a higher amplitude would exceed the safe charge density at contact {contact}. "
                "Ask your clinician")
    if code == "UNSAFE":
        contact = args.get("CONTACT", "?")
        limit = P.CONTACT_CURRENT_MAX_UA / 1000
        return f"Not allowed: more than {limit:g} mA through contact {contact} is never permitted"
    if code == "STATE":
        return _state_text(reason, args)
    if code == "DENIED":
        if args.get("REASON") == "PROOF":
            return "Wrong PIN"
        return "Only a clinician may do this"
    if code == "LOCKED":
        return f"Too many wrong PINs: try again in {args.get('RETRY_S', '60')} s"
    if code == "BAD_ARG":
        return f"The stimulator did not accept {key or 'the request'} (bad argument)"
    if code == "UNKNOWN_VERB":
        return f"This stimulator does not know the command {verb}".rstrip()
    if code in ("BAD_CRC", "BAD_SYNTAX", "TOO_LONG", "STALE"):
        return f"The stimulator did not understand the request ({code})"
    return f"The stimulator refused the request ({code})"


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
        kind = {"OPEN": "open circuit", "SHORT": "short circuit"}.get(args.get("KIND", ""), "fault")
        return f"Lead contact {args.get('CONTACT', '?')}: {kind} detected"
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
        return f" ({int(permille or '') // 10} %)"
    except ValueError:
        return ""


def restart_text(old_boot: str, new_boot: str) -> str:
    return (f"The stimulator restarted (boot {old_boot} -> {new_boot}). Its settings were read again; "
            "nothing was re-sent")
