"""A program in a person's words, built from the table: each mode's label and summary."""

from __future__ import annotations

import re

from . import params as P
from .program import Program

_FIELD = re.compile(r"\{(\w+)\}")


def mode_line(program: Program) -> str:
    """One line that says what the program does: ``Burst · 40 Hz · 5 × 500 Hz · 1000 µs``."""
    spec = P.MODES[program.mode]

    def fill(match: re.Match[str]) -> str:
        value = program.canonical(match.group(1))
        return "--" if value is None else P.BY_KEY[match.group(1)].show(value)

    text = f"{spec.label} · {_FIELD.sub(fill, spec.summary)}"
    if program.cycling:
        on, off = P.BY_KEY["cycle_on_s"], P.BY_KEY["cycle_off_s"]
        text += f" · cycling {on.show(program.cycle_on_ms)} on / {off.show(program.cycle_off_ms)} off"
    return text
