"""The ECAP view's plots in the house style (white, labelled, no menu): the rolling ECAP and
current, the growth curve, and open against closed loop."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

ECAP = "#1f4e79"
AMP = "#c25e00"
FIT = "#6a1b9a"
WINDOW_BRUSH = (46, 125, 50, 40)


def plot(parent: QWidget, name: str, tooltip: str, left: str, bottom: str) -> pg.PlotWidget:
    pw = pg.PlotWidget(parent=parent, background="w")
    pw.setAccessibleName(name)
    pw.setToolTip(tooltip)
    pw.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    item = pw.getPlotItem()
    item.setLabel("left", left)
    item.setLabel("bottom", bottom)
    for axis in ("left", "bottom"):
        item.getAxis(axis).enableAutoSIPrefix(False)
    item.setMenuEnabled(False)
    item.hideButtons()
    item.showGrid(x=True, y=True, alpha=0.15)
    return pw


def amplitude_axis(pw: pg.PlotWidget, label: str = "Amplitude (mA)") -> pg.ViewBox:
    """A second y axis on the right for the amplitude, its own view box linked in x."""
    item = pw.getPlotItem()
    box = pg.ViewBox()
    item.showAxis("right")
    item.scene().addItem(box)
    item.getAxis("right").linkToView(box)
    item.getAxis("right").setLabel(label, color=AMP)
    item.getAxis("right").enableAutoSIPrefix(False)
    box.setXLink(item)
    box.setMouseEnabled(x=False, y=False)

    def follow() -> None:
        box.setGeometry(item.getViewBox().sceneBoundingRect())
        box.linkedViewChanged(item.getViewBox(), box.XAxis)

    item.getViewBox().sigResized.connect(follow)
    follow()
    return box


def pen(colour: str, width: float = 2.0, dashed: bool = False) -> object:
    return pg.mkPen(colour, width=width, style=Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
