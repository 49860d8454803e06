"""Sending a program set to the stimulator and reading one back (run on the device worker's thread).

Every slot sent is read back and compared field by field (``host.client.differences``);
a refused or differing slot does not stop the others, and the summary says which is which.
No Qt here: progress and the result reach the window through the worker's callbacks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from ...engine.files import ProgramFile
from ...engine.program import DeviceModel, Program
from ...host.client import Client, DeviceError, StateError, differences
from ...host.errors import ReadBackMismatch
from ..messages import refusal_text

Progress = Callable[[int, int, str], None]  #: (done, total, what is happening now)


@dataclass(frozen=True)
class SlotResult:
    slot: int
    name: str
    ok: bool
    text: str  #: "written and read back: identical", or why not
    diffs: tuple[tuple[str, str, str], ...] = ()  #: (field, written, read) when the read-back differs


@dataclass(frozen=True)
class TransferResult:
    """What a send or a read did; ``failed`` says why it stopped early ("" when it ran to the end)."""

    slots: tuple[SlotResult, ...] = ()
    failed: str = ""
    cancelled: bool = False
    program_file: ProgramFile | None = None  #: what was read (a read only)
    role: str = ""  #: the device's role after a send

    @property
    def ok(self) -> bool:
        return not self.failed and not self.cancelled and all(s.ok for s in self.slots)

    def summary(self) -> str:
        """One line per slot, then how it ended: the words of the summary dialog."""
        lines = [f"Slot {s.slot} ({s.name}): {s.text}" for s in self.slots]
        if self.cancelled:
            lines.append("Cancelled: the slots after these were not sent.")
        if self.failed:
            lines.append(f"Stopped: {self.failed}")
        return "\n".join(lines)


def send_set(client: Client, programs: tuple[Program, ...], pin: str | None, progress: Progress,
             cancel: threading.Event | None = None) -> TransferResult:
    """Log in with ``pin`` (if given), write each program to its slot, read each back and compare."""
    total = len(programs)
    if pin is not None:
        progress(0, total, "Logging in as clinician…")
        try:
            client.login(pin)
        except DeviceError as exc:
            return TransferResult(failed=refusal_text(exc))
    results: list[SlotResult] = []
    for n, prog in enumerate(programs):
        if cancel is not None and cancel.is_set():
            return TransferResult(tuple(results), cancelled=True, role=client.status().role)
        name = prog.name or prog.mode.value
        progress(n, total, f"Writing slot {prog.slot} ({name})…")
        results.append(_send_one(client, prog, name))
    progress(total, total, "Done")
    return TransferResult(tuple(results), role=client.status().role)


def _send_one(client: Client, prog: Program, name: str) -> SlotResult:
    try:
        back = client.prog(prog)
    except ReadBackMismatch as exc:
        diffs = tuple((f, str(a), str(b)) for f, a, b in exc.diffs)
        return SlotResult(prog.slot, name, False, f"read back differs: {str(exc).partition(': ')[2]}", diffs)
    except DeviceError as exc:
        return SlotResult(prog.slot, name, False, f"refused: {refusal_text(exc)}")
    diffs = tuple((f, str(a), str(b)) for f, a, b in differences(prog, back, client.family))
    if diffs:  # client.prog compares too; this is the comparison the summary shows
        return SlotResult(prog.slot, name, False, f"read back differs in {diffs[0][0]}", diffs)
    return SlotResult(prog.slot, name, True, "written, read back and identical")


def read_set(client: Client, device: DeviceModel, progress: Progress) -> TransferResult:
    """Every programmed slot of the stimulator, as a program set that can be saved."""
    count = client.info.slots if client.info else 0
    programs: list[Program] = []
    for n in range(1, count + 1):
        progress(n - 1, count, f"Reading slot {n}…")
        try:
            programs.append(client.read(n))
        except StateError:
            continue  # an empty slot
    progress(count, count, "Done")
    slots = tuple(SlotResult(p.slot, p.name or p.mode.value, True, "read") for p in programs)
    return TransferResult(slots, program_file=ProgramFile(device, tuple(programs)))

