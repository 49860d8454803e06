"""The battery view: the gauge above, and the level this session, the projection and the
comparison of programs as tabs below; exports of each plot (PNG, SVG) and its data (CSV)."""

from __future__ import annotations

import os
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from ..controller import Controller
from ..model import AppModel
from .battery_compare import CompareView
from .battery_export import IMAGE_FILTER, export_csv, export_image, save_dialog
from .battery_gauge import BatteryGauge
from .battery_projection import ProjectionView

LEVEL, PROJECTION, COMPARE = "level", "projection", "compare"


class BatteryView(QWidget):
    """Everything about the battery, in one view of the main window (``add_face("battery", ...)``)."""

    def __init__(self, model: AppModel, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("batteryView")
        self.model = model
        self.controller = controller
        self.gauge = BatteryGauge(model, controller, self)
        self.projection = ProjectionView(model, self)
        self.compare = CompareView(model, self)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("batteryTabs")
        self.tabs.setAccessibleName("Battery views")
        self.tabs.setDocumentMode(True)
        self._names: list[str] = []
        for name, widget, title, tip in (
                (LEVEL, self.gauge.history, "&Level this session", "The level the stimulator reported since "
                 "connecting"),
                (PROJECTION, self.projection, "&Projection", "State of charge over days to years for a daily "
                 "schedule and a charging habit"),
                (COMPARE, self.compare, "Co&mpare programs", "Two to four programs side by side: charge, "
                 "power, battery life, Shannon k")):
            index = self.tabs.addTab(widget, title)
            self.tabs.setTabToolTip(index, tip)
            self._names.append(name)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.gauge, 0)
        layout.addWidget(self.tabs, 1)
        self.tabs.setCurrentIndex(self._names.index(PROJECTION))

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        """Brought forward: read BATT now rather than at the next battery poll."""
        super().showEvent(event)
        if self.model.connected:
            self.controller.read_battery()

    def show_tab(self, name: str) -> None:
        self.tabs.setCurrentIndex(self._names.index(name))

    @property
    def current(self) -> str:
        return self._names[self.tabs.currentIndex()]

    def plot_of(self, which: str) -> pg.PlotWidget | None:
        return {LEVEL: self.gauge.history, PROJECTION: self.projection.plot}.get(which)

    # --- export -------------------------------------------------------------------
    def export_image(self, path: str | os.PathLike[str], which: str | None = None) -> Path:
        """The level or projection plot (the tab in front by default) as PNG or SVG."""
        which = which or self.current
        plot = self.plot_of(which)
        if plot is None:
            raise ValueError("the comparison is a table: export it as CSV")
        return export_image(plot, path, f"stimsim battery {which}")

    def csv(self, which: str | None = None) -> str:
        which = which or self.current
        if which == LEVEL:
            return self.gauge.history_csv()
        if which == PROJECTION:
            return self.projection.csv()
        return self.compare.csv()

    def export_csv(self, path: str | os.PathLike[str], which: str | None = None) -> Path:
        return export_csv(self.csv(which), path)

    def export_image_dialog(self) -> None:
        which = self.current if self.current != COMPARE else PROJECTION
        save_dialog(self, "Export the battery plot", f"battery-{which}.png", IMAGE_FILTER,
                    lambda path: self.export_image(path, which))

    def export_csv_dialog(self) -> None:
        which = self.current
        save_dialog(self, "Export the battery data", f"battery-{which}.csv", "CSV (*.csv)",
                    lambda path: self.export_csv(path, which))
