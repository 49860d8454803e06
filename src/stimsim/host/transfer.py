"""Transfer to the implant: the trial's programs written to an implant's slots, and nothing else.

After a successful trial the programs that ran on the external trial stimulator go to the
implant. Each is written with PROG, read back with READ and compared field by field; a slot
the implant refuses is reported in words and the others still go. Only programs cross:
the implant's identity, serial number, calibration and configuration (PIN, default
impedance) are never copied from the trial stimulator (src: Nuvectra Algovita recall
Z-1600-2016, calibration copied along with the programs). No Qt here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..engine.params import Family
from ..engine.program import Program
from .client import Client, differences
from .errors import (
    BadArgError,
    ClientError,
    DeniedError,
    DeviceError,
    OutOfRangeError,
    ReadBackMismatch,
    StateError,
    UnsafeError,
)

Progress = Callable[[int, int, str], None]  #: (done, total, what is happening now)


@dataclass(frozen=True)
class SlotTransfer:
    """One program's fate: ``ok`` when written, read back and identical; ``text`` says so or why not."""

    slot: int
    name: str
    ok: bool
    text: str


@dataclass(frozen=True)
class TransferReport:
    """What the transfer did: the target's identity (as HELLO gave it), each slot, and why it stopped early."""

    target_model: str
    target_sn: str
    target_family: str
    slots: tuple[SlotTransfer, ...] = ()
    failed: str = ""  #: "" when every program was tried

    @property
    def ok(self) -> bool:
        return not self.failed and all(s.ok for s in self.slots)

    def lines(self) -> list[str]:
        """One line per slot, then how it ended (the words the app shows and records)."""
        out = [f"Slot {s.slot} ({s.name}): {s.text}" for s in self.slots]
        if self.failed:
            out.append(f"Stopped: {self.failed}")
        return out


def read_programs(source: Client) -> tuple[Program, ...]:
    """Every programmed slot of ``source`` (the trial stimulator), in slot order."""
    count = source.info.slots if source.info else source.hello().slots
    out: list[Program] = []
    for slot in range(1, count + 1):
        try:
            out.append(source.read(slot))
        except StateError:
            continue  # an empty slot
    return tuple(out)


def refusal_words(error: DeviceError) -> str:
    """A refused PROG in words, with the device's code and key for the record."""
    key = error.key or ""
    if isinstance(error, BadArgError) and key == "MODE":
        what = "the implant does not offer this program's mode"
    elif isinstance(error, BadArgError) and key == "ELEC":
        what = "the implant does not have a contact this program uses"
    elif isinstance(error, UnsafeError):
        what = ("the program exceeds the implant's charge-density warning" if error.rule == "CHARGE_DENSITY"
                else "the program would pass too much current through one contact")
    elif isinstance(error, OutOfRangeError):
        what = f"a setting ({key or 'value'}) lies outside what the implant allows"
    elif isinstance(error, DeniedError):
        what = "the implant needs a clinician login to accept programs"
    else:
        what = "the implant refused it"
    detail = " ".join(p for p in (error.code, f"KEY={key}" if key else "", f"RULE={error.rule}" if error.rule
                                  else "") if p)
    return f"refused: {what} ({detail})"


def transfer(target: Client, programs: tuple[Program, ...], *, pin: str | None = None,
             progress: Progress | None = None, cancel: threading.Event | None = None) -> TransferReport:
    """Write ``programs`` to ``target``'s slots (PROG, then READ and compare each); nothing else is sent.

    ``pin`` logs in as clinician first. The target must be an implant (not another trial
    stimulator). A refused or differing slot is reported and the others still go.
    """
    def say(done: int, text: str) -> None:
        if progress is not None:
            progress(done, len(programs), text)

    try:
        hello = target.hello()
    except ClientError as exc:
        return TransferReport("", "", "", failed=f"the implant did not answer HELLO ({exc})")
    base = TransferReport(hello.model, hello.sn, hello.family)
    if hello.family == Family.ETS.value:
        return _with(base, (), f"{hello.model} SN {hello.sn} is a trial stimulator, not an implant")
    if pin is not None:
        say(0, "Logging in as clinician…")
        try:
            target.login(pin)
        except DeviceError as exc:
            return _with(base, (), f"login refused ({exc.code} {exc.reason or ''})".replace(" )", ")"))
    results: list[SlotTransfer] = []
    for n, program in enumerate(programs):
        if cancel is not None and cancel.is_set():
            return _with(base, tuple(results), "cancelled: the slots after these were not sent")
        name = program.name or program.mode.value
        say(n, f"Writing slot {program.slot} ({name})…")
        try:
            results.append(_one(target, program, name))
        except ClientError as exc:  # the link, not the program: the rest cannot go either
            return _with(base, tuple(results), f"the link to the implant failed at slot {program.slot} ({exc})")
    say(len(programs), "Done")
    return _with(base, tuple(results), "")


def _with(base: TransferReport, slots: tuple[SlotTransfer, ...], failed: str) -> TransferReport:
    return TransferReport(base.target_model, base.target_sn, base.target_family, slots, failed)


def _one(target: Client, program: Program, name: str) -> SlotTransfer:
    try:
        back = target.prog(program)
    except ReadBackMismatch as exc:
        return SlotTransfer(program.slot, name, False, f"read back differs in {exc.field}: wrote {exc.written}, "
                                                        f"read {exc.read}")
    except DeviceError as exc:
        return SlotTransfer(program.slot, name, False, refusal_words(exc))
    diffs = differences(program, back, target.family)
    if diffs:
        field, wrote, read = diffs[0]
        return SlotTransfer(program.slot, name, False, f"read back differs in {field}: wrote {wrote}, read {read}")
    return SlotTransfer(program.slot, name, True, "written, read back and identical")
