"""The record view: this session's record as a table (time, who, what), a filter, the
chain's verify status, a notes box that records a ``note``, and the PDF report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...record import chain
from ..model import AppModel
from .keys import NOTE_KEY
from .recorder import NOTE, SessionRecorder
from .report import ReportError, load_record, write_report

COLUMNS = ("Time (UTC)", "Who", "What", "Text")
VERIFY_DELAY_MS = 300  #: the chain is checked again this long after the last new entry


class RecordView(QWidget):
    """Reads the recorder's entries; writes only through ``model.record_action`` (notes)."""

    def __init__(self, model: AppModel, recorder: SessionRecorder, parent: QWidget | None = None, *,
                 save_dialog: Callable[[QWidget, str], str] | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.recorder = recorder
        self._save_dialog = save_dialog or _ask_report_path
        self.setAccessibleName("Session record")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)

        top = QHBoxLayout()
        self.status_label = QLabel(self)
        self.status_label.setObjectName("recordStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setAccessibleName("Record status")
        self.status_label.setToolTip("Where this session's record is and whether its hash chain is intact")
        outer.addWidget(self.status_label)
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("Filter: who, what or words")
        self.filter_edit.setAccessibleName("Filter the record")
        self.filter_edit.setToolTip("Show only the entries whose time, who, what or text contain these words")
        self.filter_edit.setClearButtonEnabled(True)
        for clear in self.filter_edit.findChildren(QToolButton):
            clear.setAccessibleName("Clear the filter")
            clear.setToolTip("Clear the filter: show every entry")
        self.filter_edit.textChanged.connect(self._apply_filter)
        top.addWidget(self.filter_edit, 1)
        self.verify_button = QPushButton("&Verify", self)
        self.verify_button.setAccessibleName("Verify the record")
        self.verify_button.setToolTip("Check the record file's hash chain now")
        self.verify_button.clicked.connect(self.verify)
        top.addWidget(self.verify_button)
        self.report_button = QPushButton("Save &report (PDF)…", self)
        self.report_button.setAccessibleName("Save the session report as PDF")
        self.report_button.setToolTip("Write a PDF report of this session from its record")
        self.report_button.clicked.connect(self.save_report_dialog)
        top.addWidget(self.report_button)
        outer.addLayout(top)

        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Record entries")
        self.table.setToolTip("Every entry of this session's record, oldest first")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().lineSpacing() + 8)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        for col in range(3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        outer.addWidget(self.table, 1)

        notes = QHBoxLayout()
        self.note_edit = QPlainTextEdit(self)
        self.note_edit.setPlaceholderText("A note for the report (Ctrl+Enter adds it to the record)")
        self.note_edit.setAccessibleName("Note")
        self.note_edit.setToolTip("Type a note; it goes into the session record and the report")
        self.note_edit.setTabChangesFocus(True)
        self.note_edit.setMaximumHeight(self.fontMetrics().lineSpacing() * 3 + 12)
        notes.addWidget(self.note_edit, 1)
        self.note_button = QPushButton("&Add note", self)
        self.note_button.setAccessibleName("Add the note to the record")
        self.note_button.setToolTip(f"Record the note ({NOTE_KEY})")
        self.note_button.clicked.connect(self.add_note)
        notes.addWidget(self.note_button, 0, Qt.AlignmentFlag.AlignTop)
        outer.addLayout(notes)
        QShortcut(QKeySequence(NOTE_KEY), self.note_edit, self.add_note)

        self._verify_soon = QTimer(self)
        self._verify_soon.setSingleShot(True)
        self._verify_soon.setInterval(VERIFY_DELAY_MS)
        self._verify_soon.timeout.connect(self.verify)
        for entry in recorder.entries:
            self._add_row(entry)
        recorder.entryWritten.connect(self._entry_written)
        recorder.recordOpened.connect(lambda _p: self.verify())
        self.verify()

    # --- entries ----------------------------------------------------------------------
    def _entry_written(self, entry: dict[str, Any]) -> None:
        self._add_row(entry)
        self._verify_soon.start()

    def _add_row(self, entry: dict[str, Any]) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        when = str(entry["t"]).replace("T", " ").removesuffix("Z")
        for col, text in enumerate((when, entry["who"], entry["what"], entry["text"])):
            item = QTableWidgetItem(str(text))
            item.setToolTip(str(entry["text"]))
            self.table.setItem(row, col, item)
        self.table.setRowHidden(row, not self._matches(row))
        if not self.table.isRowHidden(row):
            self.table.scrollToBottom()

    def _matches(self, row: int) -> bool:
        words = self.filter_edit.text().lower().split()
        if not words:
            return True
        cells = " ".join((self.table.item(row, c) or QTableWidgetItem()).text().lower() for c in range(len(COLUMNS)))
        return all(w in cells for w in words)

    def _apply_filter(self) -> None:
        for row in range(self.table.rowCount()):
            self.table.setRowHidden(row, not self._matches(row))

    def visible_rows(self) -> list[tuple[str, ...]]:
        """The rows the table shows now (time, who, what, text)."""
        return [tuple((self.table.item(r, c) or QTableWidgetItem()).text() for c in range(len(COLUMNS)))
                for r in range(self.table.rowCount()) if not self.table.isRowHidden(r)]

    # --- status -------------------------------------------------------------------------
    def verify(self) -> list[chain.Problem]:
        """Check the record file's chain and show the result."""
        path = self.recorder.path
        problems = chain.verify(path) if path is not None else []
        self._show_status(problems if path is not None else None)
        return problems

    def _show_status(self, problems: list[chain.Problem] | None) -> None:
        path = self.recorder.path
        if self.recorder.error:
            text, level = self.recorder.error, "error"
        elif path is None:
            text, level = "The record starts when the app connects to a stimulator.", "info"
        elif problems:
            text, level = f"Record {path.name}: chain BROKEN at {problems[0]}", "error"
        elif problems is not None:
            text, level = f"Record {path.name}: {len(self.recorder.entries)} entries, chain verified intact", "info"
        else:
            text, level = f"Record {path.name}: {len(self.recorder.entries)} entries (Verify checks the chain)", "info"
        self.status_label.setText(text)
        self.status_label.setProperty("level", level)
        self.status_label.setToolTip(f"{path}" if path is not None else "No record yet")

    # --- notes and the report ----------------------------------------------------------
    def add_note(self) -> None:
        text = self.note_edit.toPlainText().strip()
        if not text:
            return
        self.model.record_action("clinician", NOTE, text, {"note": text})
        self.note_edit.clear()

    def save_report_dialog(self) -> None:
        path = self.recorder.path
        if path is None:
            QMessageBox.information(self, "Session report", "There is no record yet: connect to a stimulator first.")
            return
        out = self._save_dialog(self, path.with_suffix(".pdf").name)
        if out:
            self.save_report(Path(out))

    def save_report(self, out: Path) -> str:
        """Write the PDF report of this session's record to ``out``; returns what went wrong ("" if nothing)."""
        assert self.recorder.path is not None
        try:
            write_report(load_record(self.recorder.path), out)
        except (ReportError, OSError) as exc:
            QMessageBox.warning(self, "Session report", f"The report was not written: {exc}")
            return str(exc)
        self.model.record_action("app", "report", f"Report written to {out.name}", {"path": str(out)})
        self.model.set_notice(f"Report written: {out}")
        return ""


def _ask_report_path(parent: QWidget, name: str) -> str:
    out, _ = QFileDialog.getSaveFileName(parent, "Save session report", name, "PDF (*.pdf)")
    if out and not out.lower().endswith(".pdf"):
        out += ".pdf"
    return out
