"""The house style of the battery view's plots (as the scope's): white, labelled, no menu."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from ...engine import battery as B

TRACE = "#1f4e79"
WARN = "#c25e00"
STOP = "#b00020"
CHARGING = "#2e7d32"


def battery_plot(parent: QWidget, name: str, tooltip: str, x_label: str) -> pg.PlotWidget:
    """A percent-against-time plot: y fixed to 0..100 %, x follows the data; the mouse zooms x."""
    pw = pg.PlotWidget(parent=parent, background="w")
    pw.setAccessibleName(name)
    pw.setToolTip(tooltip)
    pw.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    item = pw.getPlotItem()
    item.setLabel("left", "Battery (%)")
    item.setLabel("bottom", x_label)
    item.getAxis("left").enableAutoSIPrefix(False)
    item.getAxis("bottom").enableAutoSIPrefix(False)
    item.setMenuEnabled(False)
    item.hideButtons()
    item.showGrid(x=True, y=True, alpha=0.15)
    vb = item.getViewBox()
    vb.setMouseEnabled(x=True, y=False)
    vb.setYRange(0.0, 100.0, padding=0.02)
    vb.setLimits(yMin=-2.0, yMax=102.0)
    return pw


def threshold_lines(plot: pg.PlotWidget) -> dict[str, pg.InfiniteLine]:
    """Dashed lines at the warning and stop levels of both cells (only the shown cell's are visible)."""
    lines: dict[str, pg.InfiniteLine] = {}
    for c in B.CELLS.values():
        for state, level in c.thresholds():
            color = WARN if state == c.warn_state else STOP
            line = pg.InfiniteLine(level, angle=0, pen=pg.mkPen(color, width=1, style=Qt.PenStyle.DashLine),
                                   label=f"{state} {level:g} %",
                                   labelOpts={"position": 0.97, "color": color, "anchors": [(1, 1), (1, 1)]})
            line.setVisible(False)
            plot.getPlotItem().addItem(line, ignoreBounds=True)
            lines[f"{c.chemistry}:{state}"] = line
    return lines


def show_thresholds(lines: dict[str, pg.InfiniteLine], chemistry: str) -> None:
    for key, line in lines.items():
        line.setVisible(key.startswith(f"{chemistry}:"))
