"""What the app says about refusals and events: plain words a patient understands."""

from __future__ import annotations

import pytest

from stimsim.app.messages import event_text, fmt_ma, refusal_text
from stimsim.host.errors import DeviceError
from stimsim.protocol.codec import Reply


def _refused(code: str, args: dict[str, str], verb: str = "AMP") -> DeviceError:
    return DeviceError.of(verb, Reply(args=tuple(args.items()), ok=False, code=code))


@pytest.mark.parametrize(("ua", "text"), [(3500, "3.5 mA"), (6000, "6.0 mA"), (3550, "3.55 mA"), (1, "0.001 mA")])
def test_amplitudes_read_like_the_remote(ua: int, text: str) -> None:
    assert fmt_ma(ua) == text


def test_limit_refusals_name_the_clinicians_limit() -> None:
    args = {"KEY": "AMP", "MIN": "500", "MAX": "6000"}
    assert refusal_text(_refused("LIMIT", args), direction=+1) == "Maximum reached: 6.0 mA set by your clinician"
    assert refusal_text(_refused("LIMIT", args), direction=-1) == "Minimum reached: 0.5 mA set by your clinician"


@pytest.mark.parametrize(("code", "args", "words"), [
    ("STATE", {"REASON": "MRI"}, "MRI mode is on"),
    ("STATE", {"REASON": "BATTERY"}, "Battery empty"),
    ("STATE", {"REASON": "FAULT", "CONTACT": "4"}, "Lead contact 4 has a fault"),
    ("STATE", {"REASON": "EMPTY"}, "slot is empty"),
    ("UNSAFE", {"RULE": "CHARGE_DENSITY", "CONTACT": "4", "K": "1.90"}, "safe charge density at contact 4"),
    ("UNSAFE", {"RULE": "CONTACT_CURRENT", "CONTACT": "4", "MAX": "12700"}, "12.7 mA through contact 4"),
    ("DENIED", {"NEED": "CLINICIAN"}, "Only a clinician"),
    ("LOCKED", {"RETRY_S": "42"}, "try again in 42 s"),
    ("OUT_OF_RANGE", {"KEY": "AMP", "MIN": "0", "MAX": "20000"}, "cannot go above 20.0 mA"),
])
def test_refusals_in_plain_words(code: str, args: dict[str, str], words: str) -> None:
    text = refusal_text(_refused(code, args), direction=+1)
    assert words in text
    assert code not in text  # no protocol codes on a patient's screen


@pytest.mark.parametrize(("name", "args", "text"), [
    ("STIM", {"STIM": "OFF", "REASON": "STOP"}, "Stimulation stopped (STOP)"),
    ("STIM", {"STIM": "OFF", "REASON": "BATTERY"}, "Stimulation stopped: battery empty"),
    ("BATT", {"STATE": "LOW", "BATT": "190"}, "Battery low (19 %): please charge soon"),
    ("BATT", {"STATE": "LOW", "BATT": "149"}, "Battery low (15 %): please charge soon"),
    ("CHARGE", {"STATE": "HOT"}, "Charger too hot: charging paused until it cools"),
    ("FAULT", {"CONTACT": "7", "KIND": "OPEN"}, "Lead contact 7: open circuit detected"),
    ("TEST", {"TEST": "OFF", "REASON": "TIMEOUT"}, "Test settings timed out: the saved program is back"),
])
def test_events_in_plain_words(name: str, args: dict[str, str], text: str) -> None:
    assert event_text(name, args) == text
