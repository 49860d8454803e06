"""Two to four programs side by side: charge per second, battery power, battery life, Shannon k.

For trainers: what a higher rate or a wider pulse costs. Programs come from the
stimulator's slots or from program files; every number is the engine's
(``metrics.program_metrics`` and ``battery.battery_figures``), kept with each cell of the
table (``Qt.UserRole``) so the CSV export and the tests read the very numbers shown.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...engine import battery as B
from ...engine import files
from ...engine.describe import mode_line
from ...engine.metrics import program_metrics
from ...engine.program import DeviceModel, Program
from ..model import AppModel

MIN_COLUMNS, MAX_COLUMNS = 2, 4


@dataclass(frozen=True)
class Source:
    """A program to compare and the device it runs on; ``where`` names it (a slot or a file)."""

    where: str
    program: Program
    device: DeviceModel

    @property
    def label(self) -> str:
        return f"{self.where}: {self.program.name or self.program.mode.value}"


@dataclass(frozen=True)
class Row:
    """One figure of the table: its label, how to get it from the engine, how it reads."""

    key: str
    label: str
    get: Callable[[dict[str, object], dict[str, str | float]], object]
    fmt: Callable[[object], str]


def _num(fmt: str) -> Callable[[object], str]:
    def out(value: object) -> str:
        if value is None:
            return "—"
        assert isinstance(value, int | float)
        return fmt.format(value) if math.isfinite(value) else "—"
    return out


ROWS_COMMON = (
    Row("charge_per_s_uc", "Charge per second", lambda m, b: m["charge_per_s_uc"], _num("{:.1f} µC/s")),
    Row("battery_power_mw", "Battery power", lambda m, b: b["battery_power_mw"], _num("{:.3f} mW")),
)
ROWS_LIION = (
    Row("days_per_charge", "Days per charge", lambda m, b: b["days_per_charge"], _num("{:.1f} days")),
    Row("charge_minutes_per_day", "Charging a day", lambda m, b: b["charge_minutes_per_day"], _num("{:.1f} min")),
    Row("hours_per_charge", "Hours per charge (no break)", lambda m, b: b["hours_per_charge"], _num("{:.0f} h")),
)
ROWS_PRIMARY = (
    Row("years_to_eri", "Years to ERI", lambda m, b: b["years_to_eri"], _num("{:.1f} years")),
    Row("years_to_eos", "Years to end of service", lambda m, b: b["years_to_eos"], _num("{:.1f} years")),
)
ROWS_PACK = (
    Row("days_per_pack", "Days per pack", lambda m, b: b["days_per_pack"], _num("{:.1f} days")),
    Row("hours_per_pack", "Hours per pack (no break)", lambda m, b: b["hours_per_pack"], _num("{:.0f} h")),
)
ROW_K = Row("max_shannon_k", "Max Shannon k", lambda m, b: m["max_shannon_k"], _num("{:.2f}"))
ROW_NAME = Row("name", "Program", lambda m, b: None, str)
ROW_MODE = Row("mode", "Settings", lambda m, b: None, str)


def rows_for(chemistry: str) -> tuple[Row, ...]:
    cell = B.cell(chemistry)
    rows = ROWS_LIION if cell.rechargeable else ROWS_PACK if cell.replaceable else ROWS_PRIMARY
    return ROWS_COMMON + rows + (ROW_K,)


#: The cells the figures can be for, as the boxes name them.
CELL_CHOICES: tuple[tuple[str, str], ...] = (("Li-ion", B.LIION), ("Primary", B.PRIMARY),
                                              ("Trial pack", B.PACK))


def column_values(source: Source, chemistry: str, hours_per_day: float) -> dict[str, object]:
    """Every figure of one column, straight from the engine, on the source's device (its
    family and impedances) with ``chemistry``'s cell."""
    device = replace(source.device, chemistry=chemistry)
    metrics = dict(program_metrics(source.program, device))
    battery = B.battery_figures(source.program, device, chemistry, hours_per_day)
    return {row.key: row.get(metrics, battery) for row in rows_for(chemistry)}


class CompareView(QWidget):
    """Columns of programs chosen from the slots or from files; rows of figures."""

    def __init__(self, model: AppModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.file_sources: list[Source] = []
        self.sources: list[Source] = []
        self.boxes: list[QComboBox] = []
        self.values: list[dict[str, object]] = []

        self.count_box = QSpinBox(self)
        self.count_box.setRange(MIN_COLUMNS, MAX_COLUMNS)
        self.count_box.setValue(MIN_COLUMNS)
        self.count_box.setAccessibleName("Programs to compare")
        self.count_box.setToolTip(f"Compare {MIN_COLUMNS} to {MAX_COLUMNS} programs side by side")
        self.hours_box = QDoubleSpinBox(self)
        self.hours_box.setRange(0.5, 24.0)
        self.hours_box.setSingleStep(1.0)
        self.hours_box.setDecimals(1)
        self.hours_box.setValue(24.0)
        self.hours_box.setSuffix(" h a day")
        self.hours_box.setAccessibleName("Hours a day each program runs")
        self.hours_box.setToolTip("Each program stimulating this many hours a day (battery figures)")
        self.hours_box.setKeyboardTracking(False)
        self.chemistry_box = QComboBox(self)
        for label, chemistry in CELL_CHOICES:
            self.chemistry_box.addItem(label, chemistry)
        self.chemistry_box.setAccessibleName("Battery cell to compare on")
        self.chemistry_box.setToolTip("The cell the battery figures are for; it follows the stimulator's "
                                      "until you choose one")
        self.open_button = QPushButton("&Open file…", self)
        self.open_button.setAccessibleName("Open a program file to compare")
        self.open_button.setToolTip("Add the programs of a .stimsim.json file to the choices")
        self.open_button.clicked.connect(self.open_file_dialog)
        top = QHBoxLayout()
        top.addWidget(QLabel("Programs", self))
        top.addWidget(self.count_box)
        top.addWidget(self.hours_box)
        top.addWidget(self.chemistry_box)
        top.addStretch(1)

        self.choosers = QHBoxLayout()
        self.message = QLabel(self)
        self.message.setObjectName("compareMessage")
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Comparison message")
        self.message.hide()
        self.table = QTableWidget(self)
        self.table.setAccessibleName("Program comparison")
        self.table.setToolTip("The engine's long-run figures of each program (cycling included)")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setWordWrap(True)

        column = QVBoxLayout(self)
        column.setContentsMargins(6, 6, 6, 6)
        column.addLayout(top)
        choosers_row = QHBoxLayout()
        choosers_row.addLayout(self.choosers, 1)
        choosers_row.addWidget(self.open_button)
        column.addLayout(choosers_row)
        column.addWidget(self.message)
        column.addWidget(self.table, 1)

        self.count_box.valueChanged.connect(lambda _n: self._rebuild_choosers())
        self.hours_box.valueChanged.connect(lambda _v: self.refresh())
        self.chemistry_box.activated.connect(lambda _i: self._chosen())
        self._chemistry_chosen = False
        model.slotsChanged.connect(self._sources_changed)
        self._sources_changed()

    @property
    def chemistry(self) -> str:
        return str(self.chemistry_box.currentData())

    def say(self, text: str) -> None:
        """A line above the table (a file not opened, nothing to compare); hidden when empty."""
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _chosen(self) -> None:
        self._chemistry_chosen = True
        self.refresh()

    def slot_sources(self) -> list[Source]:
        device = self.model.device_model
        return [Source(f"Slot {n}", p, device) for n, p in sorted(self.model.slots.items())]

    def _sources_changed(self) -> None:
        if not self._chemistry_chosen:
            index = self.chemistry_box.findData(self.model.device_model.chemistry)
            if index >= 0:
                self.chemistry_box.setCurrentIndex(index)
        self.sources = self.slot_sources() + self.file_sources
        self._rebuild_choosers()

    def _rebuild_choosers(self) -> None:
        chosen = [box.currentIndex() for box in self.boxes]
        for box in self.boxes:
            box.setParent(None)
            box.deleteLater()
        self.boxes = []
        for i in range(self.count_box.value()):
            box = QComboBox(self)
            box.setAccessibleName(f"Program in column {i + 1}")
            box.setToolTip("A program from the stimulator's slots or from an opened file")
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(6)
            for source in self.sources:
                box.addItem(source.label)
            if self.sources:
                index = chosen[i] if i < len(chosen) and 0 <= chosen[i] < len(self.sources) else i
                box.setCurrentIndex(min(index, len(self.sources) - 1))
            box.currentIndexChanged.connect(lambda _i: self.refresh())
            self.choosers.addWidget(box, 1)
            self.boxes.append(box)
        self.refresh()

    def choose(self, column: int, label: str) -> None:
        """Show the source named ``label`` in ``column`` (0-based); KeyError names the choices."""
        box = self.boxes[column]
        index = box.findText(label)
        if index < 0:
            raise KeyError(f"no program {label!r} (choices: {', '.join(s.label for s in self.sources)})")
        box.setCurrentIndex(index)

    def chosen(self) -> list[Source]:
        return [self.sources[b.currentIndex()] for b in self.boxes if 0 <= b.currentIndex() < len(self.sources)]

    def add_file(self, path: str | os.PathLike[str]) -> int:
        """Add a program file's programs to the choices; files.FileError names every problem."""
        loaded = files.load(path)
        name = Path(path).name.removesuffix(".stimsim.json")
        for i, program in enumerate(loaded.programs, 1):
            where = name if len(loaded.programs) == 1 else f"{name} #{i}"
            self.file_sources.append(Source(where, program, loaded.device))
        self._sources_changed()
        return len(loaded.programs)

    def open_file_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a program file to compare", "",
                                              "Program files (*.stimsim.json *.json)")
        if not path:
            return
        try:
            n = self.add_file(path)
        except files.FileError as exc:
            self.say("Not opened: " + "; ".join(exc.lines))
            return
        self.say(f"{n} program(s) from {Path(path).name} added to the choices")

    def refresh(self) -> None:
        chosen = self.chosen()
        chem = self.chemistry
        rows = (ROW_NAME, ROW_MODE, *rows_for(chem))
        self.values = []
        self.table.clear()
        self.table.setRowCount(len(rows))
        self.table.setColumnCount(len(chosen))
        self.table.setVerticalHeaderLabels([r.label for r in rows])
        self.table.setHorizontalHeaderLabels([s.where for s in chosen])
        for col, source in enumerate(chosen):
            header = self.table.horizontalHeaderItem(col)
            if header is not None:
                header.setToolTip(source.label)
        self.say("")
        if not chosen:
            self.say("No programs to compare: connect a stimulator or open a program file")
            return
        for col, source in enumerate(chosen):
            try:
                values = column_values(source, chem, self.hours_box.value())
            except ValueError as exc:
                values = {}
                self.say(f"{source.label}: {exc}")
            self.values.append(values)
            for r, text in enumerate((source.program.name or source.program.mode.value, mode_line(source.program))):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(r, col, item)
            for r, row in enumerate(rows[2:], 2):
                value = values.get(row.key)
                item = QTableWidgetItem(row.fmt(value))
                item.setData(Qt.ItemDataRole.UserRole, value)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, col, item)

    def csv(self) -> str:
        """The table's numbers as CSV, one line per figure, one column per program."""
        chosen = self.chosen()
        rows = rows_for(self.chemistry)
        out = ["figure," + ",".join(_csv_cell(s.label) for s in chosen)]
        out.append("mode," + ",".join(_csv_cell(mode_line(s.program)) for s in chosen))
        for row in rows:
            cells = []
            for values in self.values:
                v = values.get(row.key)
                cells.append("" if v is None else repr(float(v)) if isinstance(v, int | float) else str(v))
            out.append(f"{row.key}," + ",".join(cells))
        out.append(f"hours_per_day,{','.join(repr(self.hours_box.value()) for _ in chosen)}")
        out.append(f"chemistry,{','.join(self.chemistry for _ in chosen)}")
        return "\n".join(out) + "\n"


def _csv_cell(text: str) -> str:
    if any(ch in text for ch in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text
