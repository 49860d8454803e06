"""The one factory of the editor's number controls: every control comes from a ParamSpec.

Label, unit, range and step come from the parameter table (``engine.params``); a control
shows file units (mA, s) and gives canonical integers (uA, ms), so no parameter is
written by hand here.
"""

from __future__ import annotations

import math

from PySide6.QtWidgets import QAbstractSpinBox, QDoubleSpinBox, QWidget

from ...engine import params as P


def unit_text(param: P.Param) -> str:
    return (param.file_unit or param.unit).replace("us", "µs")


class ParamControl(QDoubleSpinBox):
    """A spin box for one parameter in one mode; ``canonical()`` is the value in wire units."""

    def __init__(self, spec: P.ParamSpec, parent: QWidget | None = None, *, what: str = "") -> None:
        super().__init__(parent)
        self.spec = spec
        param = spec.param
        scale = param.file_scale
        self.setDecimals(max(0, math.ceil(math.log10(scale / param.editor_step))) if scale > param.editor_step else 0)
        low = 0 if spec.zero_off else spec.minimum
        self.setRange(low / scale, spec.maximum / scale)
        self.setSingleStep(param.editor_step / scale)
        unit = unit_text(param)
        if unit:
            self.setSuffix(f" {unit}")
        if spec.zero_off:
            self.setSpecialValueText("off")
        self.setKeyboardTracking(False)
        self.setAccelerated(True)
        self.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToNearestValue)
        name = what or param.label
        self.setAccessibleName(name)
        self.setToolTip(f"{name}: {spec.range_text()}, in steps of {param.fmt(param.editor_step)} "
                        f"{param.file_unit}".rstrip())
        self.setObjectName(f"param_{param.key}{'_' + what.split()[-1] if what else ''}")

    def canonical(self) -> int:
        return round(self.value() * self.spec.param.file_scale)

    def set_canonical(self, value: int | None) -> None:
        """Show ``value`` without announcing it as the user's change."""
        blocked = self.blockSignals(True)
        self.setValue((value or 0) / self.spec.param.file_scale)
        self.blockSignals(blocked)


def make_control(spec: P.ParamSpec, parent: QWidget | None = None, *, what: str = "") -> ParamControl:
    """The control of ``spec`` (the only place editor controls are made)."""
    return ParamControl(spec, parent, what=what)
