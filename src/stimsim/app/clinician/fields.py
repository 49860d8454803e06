"""The one factory of the editor's number controls: every control comes from a ParamSpec.

Label, unit, range, step and grid come from the parameter table (``engine.params``, for
the device's family); a control shows file units (mA, s) and gives canonical integers (uA,
ms), so no parameter is written by hand here. Where the family puts a parameter on a grid
(a DRG implant's amplitude: 25 uA below 2 mA, 50 uA from 2 mA), the arrows move from grid
point to grid point and a typed value snaps to the nearest one.
"""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractSpinBox, QDoubleSpinBox, QWidget

from ...engine import params as P


def unit_text(param: P.Param) -> str:
    return (param.file_unit or param.unit).replace("us", "µs")


def decimals(step: int, scale: int) -> int:
    """Decimals a file-unit value needs to show a canonical ``step`` (25 uA in mA: 3)."""
    places = 0
    while step * 10**places % scale and places < 6:
        places += 1
    return places


def steps_text(spec: P.ParamSpec) -> str:
    """``in steps of 0.01 mA``, or the grid's bands: ``in steps of 0.025 mA below 2 mA, 0.05 mA from 2 mA``."""
    param = spec.param
    unit = f" {param.file_unit}".rstrip()
    if spec.grid is None:
        return f"in steps of {param.fmt(param.editor_step)}{unit}"
    bands = spec.grid.bands
    parts = []
    for i, (start, spacing) in enumerate(bands):
        where = ""
        if len(bands) > 1:
            where = f" below {param.fmt(bands[1][0])}{unit}" if i == 0 else f" from {param.fmt(start)}{unit}"
        parts.append(f"{param.fmt(spacing)}{unit}{where}")
    return "in steps of " + ", ".join(parts)


class ParamControl(QDoubleSpinBox):
    """A spin box for one parameter in one mode; ``canonical()`` is the value in wire units."""

    def __init__(self, spec: P.ParamSpec, parent: QWidget | None = None, *, what: str = "") -> None:
        super().__init__(parent)
        self.spec = spec
        param = spec.param
        scale = param.file_scale
        finest = min(spacing for _, spacing in spec.grid.bands) if spec.grid else param.editor_step
        self.setDecimals(decimals(finest, scale))
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
        self.setToolTip(f"{name}: {spec.range_text()}, {steps_text(spec)}")
        self.setObjectName(f"param_{param.key}{'_' + what.split()[-1] if what else ''}")

    def canonical(self) -> int:
        """The value in wire units, on the family's grid where it has one."""
        value = round(self.value() * self.spec.param.file_scale)
        grid = self.spec.grid
        if grid is None or (self.spec.zero_off and value == 0):
            return value
        rng = self.spec.range
        return min(max(grid.snap(value), rng.minimum), rng.maximum)

    def stepBy(self, steps: int) -> None:  # noqa: N802
        """On a grid, one step is one grid point (the arrows, Page Up/Down, the wheel)."""
        grid = self.spec.grid
        if grid is None:
            super().stepBy(steps)
            return
        target = grid.moved(self.canonical(), steps)
        rng = self.spec.range
        low = 0 if rng.zero_off else rng.minimum
        self.setValue(min(max(target, low), rng.maximum) / self.spec.param.file_scale)

    def set_canonical(self, value: int | None) -> None:
        """Show ``value`` without announcing it as the user's change."""
        blocked = self.blockSignals(True)
        self.setValue((value or 0) / self.spec.param.file_scale)
        self.blockSignals(blocked)


def make_control(spec: P.ParamSpec, parent: QWidget | None = None, *, what: str = "") -> ParamControl:
    """The control of ``spec`` (the only place editor controls are made)."""
    return ParamControl(spec, parent, what=what)
