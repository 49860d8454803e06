"""The program being edited, the saved one, and the undo stack: one small model.

Every widget of the editor takes a :class:`Draft` and edits it through its methods; each
edit is an undoable command, and ``changed`` tells every view to redraw.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from ...engine import params as P
from ...engine.program import DeviceModel, Electrodes, Limits, Program
from ...engine.validate import Problem, check_program
from ...host.client import differences

_MERGE_ID = 4711  #: edits of the same field in a row merge into one undo step


class _Edit(QUndoCommand):
    def __init__(self, draft: Draft, before: Program, after: Program, text: str, merge_key: str) -> None:
        super().__init__(text)
        self.draft, self.before, self.after, self.merge_key = draft, before, after, merge_key

    def redo(self) -> None:
        self.draft._set(self.after)

    def undo(self) -> None:
        self.draft._set(self.before)

    def id(self) -> int:
        return _MERGE_ID if self.merge_key else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802
        if not isinstance(other, _Edit) or other.merge_key != self.merge_key:
            return False
        self.after = other.after
        return True


class Draft(QObject):
    """The program being edited (``program``), the slot's saved one (``saved``), undo/redo."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.slot = 1
        self.program: Program | None = None
        self.saved: Program | None = None
        self.family = P.Family.SCS_R  #: the stimulator's family: unset limits compare as its ranges

    # --- loading -------------------------------------------------------------------------
    def load(self, slot: int, saved: Program | None, draft: Program | None = None) -> None:
        """Edit ``slot``: ``saved`` is what the slot holds (None: empty), ``draft`` a new start."""
        self.slot = slot
        self.saved = saved
        self.program = draft if draft is not None else saved
        self.undo_stack.clear()
        self.changed.emit()

    def mark_saved(self, program: Program) -> None:
        """The slot now holds ``program`` (read back after a save)."""
        self.saved = program
        self.program = program
        self.undo_stack.setClean()
        self.changed.emit()

    def _set(self, program: Program) -> None:
        self.program = program
        self.changed.emit()

    def edit(self, after: Program, text: str, merge_key: str = "") -> None:
        """Replace the program by ``after`` as one undoable step called ``text``."""
        if self.program is None or after == self.program:
            return
        self.undo_stack.push(_Edit(self, self.program, after, text, merge_key))

    # --- edits by field --------------------------------------------------------------------
    def set_value(self, key: str, value: int | None) -> None:
        """A numeric parameter by program-file key, canonical units."""
        if self.program is None:
            return
        label = P.BY_KEY[key].label
        self.edit(self.program.with_values({key: value}), f"{label} {P.BY_KEY[key].show(value or 0)}", key)

    def set_mode(self, mode: P.Mode, family: P.Family = P.Family.SCS_R) -> None:
        if self.program is not None and mode is not self.program.mode:
            self.edit(with_mode(self.program, mode, family), f"Mode {P.MODES[mode].label}")

    def set_recharge(self, recharge: P.Recharge) -> None:
        if self.program is not None:
            self.edit(replace(self.program, recharge=recharge), f"Recharge {recharge.value}")

    def set_name(self, name: str) -> None:
        if self.program is not None:
            self.edit(replace(self.program, name=name), "Name", "name")

    def set_electrodes(self, electrodes: Electrodes, text: str, *, zero_amplitude: bool = False) -> None:
        """New electrodes; ``zero_amplitude`` (a polarity change) sets the amplitude to 0 in the same step."""
        if self.program is None:
            return
        after = replace(self.program, electrodes=electrodes)
        if zero_amplitude:
            after = after.with_amplitude(0)
        self.edit(after, text)

    def set_limit(self, limit_key: str, value: int | None) -> None:
        if self.program is None:
            return
        limit = P.LIMITS[limit_key]
        limits = replace(self.program.limits, **{limit.attr: value})
        self.edit(replace(self.program, limits=limits), f"Limit {limit.param.label} {limit.side}", limit_key)

    # --- what it means ----------------------------------------------------------------------
    def problems(self, device: DeviceModel, *, acknowledged: bool = False) -> list[Problem]:
        return [] if self.program is None else check_program(self.program, device, acknowledged=acknowledged)

    def differing(self) -> set[str]:
        """Program fields that differ from the saved slot (``amplitude_ua``, ``electrodes``, ``limits.x``...)."""
        if self.program is None:
            return set()
        if self.saved is None:
            return {"new"}
        return {name for name, _a, _b in differences(replace(self.program, slot=self.saved.slot), self.saved,
                                                   self.family)}

    @property
    def dirty(self) -> bool:
        return bool(self.differing())


def with_mode(program: Program, mode: P.Mode, family: P.Family = P.Family.SCS_R) -> Program:
    """``program`` in another mode: values kept where the mode takes them (clamped to its
    ranges on ``family``), the mode's other required values at their minimum, the rest left out."""
    values: dict[str, int | None] = {}
    specs = P.family_params(family, mode)
    for param in P.TABLE:
        spec = specs.get(param.key)
        value = program.canonical(param.key)
        if spec is None:
            values[param.key] = None  # a key the mode does not take is left out
        elif value is None:
            values[param.key] = spec.minimum
        elif spec.zero_off and value == 0:
            values[param.key] = 0
        else:
            value = min(max(value, spec.minimum), spec.maximum)
            values[param.key] = value if spec.grid is None else min(spec.grid.snap(value), spec.maximum)
    recharge = program.recharge if program.recharge in P.RECHARGE[mode] else P.RECHARGE[mode][0]
    return replace(program.with_values(values), mode=mode, recharge=recharge, limits=Limits())
