""""Transfer to the implant…": choose the implant, write the trial's programs, show each slot's read-back.

The transfer runs on its own thread with its own connection to the implant (``host.transfer``:
PROG, then READ and compare; nothing but programs is sent) and reports back through signals,
so the window stays responsive. The target is the app's built-in SCS-R implant or a port URL.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ...engine.program import Program
from ...host.client import Client
from ...host.limits import DEFAULT_PIN
from ...host.transfer import TransferReport, transfer

CONNECT_TIMEOUT_S = 2.0


class TransferJob(QObject):
    """One transfer on a worker thread: ``progress(done, total, text)`` then ``done(report)``."""

    progress = Signal(int, int, str)
    done = Signal(object)  #: TransferReport

    def __init__(self, url: str, programs: tuple[Program, ...], pin: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.url = url
        self.programs = programs
        self.pin = pin
        self.worker: threading.Thread | None = None

    def start(self) -> None:
        self.worker = threading.Thread(target=self._run, name="stimsim-transfer", daemon=True)
        self.worker.start()

    def _run(self) -> None:
        try:
            client = Client.connect(self.url, timeout=CONNECT_TIMEOUT_S, keepalive=False)
        except Exception as exc:  # any failure to reach the implant is reported, never raised on a thread
            self.done.emit(TransferReport("", "", "", failed=f"cannot reach the implant at {self.url}: {exc}"))
            return
        try:
            report = transfer(client, self.programs, pin=self.pin, progress=self.progress.emit)
        except Exception as exc:  # a fault of the link mid-way
            report = TransferReport("", "", "", failed=f"the transfer stopped: {exc}")
        finally:
            client.close()
        self.done.emit(report)


class TransferDialog(QDialog):
    """Choose the implant, start the transfer, watch each slot's result."""

    finished_report = Signal(object)  #: TransferReport, once a transfer ends

    def __init__(self, programs: tuple[Program, ...], builtin_url: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Transfer to the implant")
        self.setAccessibleName("Transfer to the implant")
        self.programs = programs
        self.builtin_url = builtin_url
        self.job: TransferJob | None = None
        self.report: TransferReport | None = None
        col = QVBoxLayout(self)
        names = ", ".join(f"slot {p.slot} ({p.name or p.mode.value})" for p in programs)
        intro = QLabel(f"The trial's programs go to the implant's slots: {names}. Each is written, read back "
                       "and compared. Nothing else is copied: the implant keeps its own identity, serial "
                       "number, calibration and configuration.")
        intro.setWordWrap(True)
        col.addWidget(intro)
        form = QFormLayout()
        self.builtin = QRadioButton("Built-in SCS-R implant")
        self.builtin.setToolTip(f"A rechargeable implant simulated inside the app ({builtin_url})")
        self.builtin.setAccessibleName("Built-in SCS-R implant")
        self.port = QRadioButton("Port URL:")
        self.port.setAccessibleName("Implant on a port")
        self.port.setToolTip("An implant (or its stand-in) on a serial port, a pty or a socket")
        self.url = QLineEdit()
        self.url.setPlaceholderText("/dev/ttyUSB0, socket://host:port or virtual://...")
        self.url.setAccessibleName("Implant port URL")
        self.url.setToolTip("The implant's port: a serial port, a pty path, socket://host:port or virtual://...")
        group = QButtonGroup(self)
        group.addButton(self.builtin)
        group.addButton(self.port)
        self.builtin.setChecked(True)
        self.url.textEdited.connect(lambda _text: self.port.setChecked(True))
        form.addRow(self.builtin)
        form.addRow(self.port, self.url)
        self.pin = QLineEdit(DEFAULT_PIN)
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setAccessibleName("Implant clinician PIN")
        self.pin.setToolTip("The clinician PIN of the implant (programs are written as clinician)")
        form.addRow("Implant PIN:", self.pin)
        col.addLayout(form)
        self.bar = QProgressBar()
        self.bar.setRange(0, max(1, len(programs)))
        self.bar.setValue(0)
        self.bar.setAccessibleName("Transfer progress")
        self.status = QLabel("Choose the implant and press Transfer.")
        self.status.setWordWrap(True)
        col.addWidget(self.bar)
        col.addWidget(self.status)
        self.results = QListWidget()
        self.results.setAccessibleName("Each slot's read-back result")
        self.results.setToolTip("Each slot: written, read back and compared, or why not")
        col.addWidget(self.results, 1)
        buttons = QDialogButtonBox()
        self.go = QPushButton("Transfer")
        self.go.setDefault(True)
        self.go.setAccessibleName("Transfer")
        self.go.setToolTip("Write the programs to the implant, read each back and compare")
        buttons.addButton(self.go, QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.setAccessibleName("Close")
        self.close_button.setToolTip("Close this dialog")
        self.close_button.clicked.connect(self.reject)
        self.go.clicked.connect(self.start)
        col.addWidget(buttons)
        self.resize(560, 420)

    def target_url(self) -> str:
        return self.builtin_url if self.builtin.isChecked() else self.url.text().strip()

    def start(self) -> None:
        url = self.target_url()
        if not url:
            self.status.setText("Give the implant's port URL, or choose the built-in implant.")
            return
        self.go.setEnabled(False)
        self.close_button.setEnabled(False)
        self.results.clear()
        self.bar.setValue(0)
        self.status.setText(f"Connecting to {url}…")
        self.job = TransferJob(url, self.programs, self.pin.text(), self)
        self.job.progress.connect(self._progress)
        self.job.done.connect(self._done)
        self.job.start()

    def _progress(self, done: int, total: int, text: str) -> None:
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(done)
        self.status.setText(text)

    def _done(self, report: TransferReport) -> None:
        self.report = report
        self.go.setEnabled(True)
        self.close_button.setEnabled(True)
        for slot in report.slots:
            item = QListWidgetItem(f"{'✓' if slot.ok else '✗'} Slot {slot.slot} ({slot.name}): {slot.text}")
            self.results.addItem(item)
        if report.failed:
            self.results.addItem(QListWidgetItem(f"Stopped: {report.failed}"))
        head = f"{report.target_model} SN {report.target_sn} ({report.target_family}): " if report.target_sn else ""
        good = sum(s.ok for s in report.slots)
        self.status.setText(f"{head}{good} of {len(self.programs)} program(s) written and verified"
                            + ("" if report.ok else " — see below"))
        self.bar.setValue(len(report.slots))
        self.finished_report.emit(report)

    def wait(self, timeout: float = 10.0) -> None:
        """Wait for the transfer thread to end (tests, and closing the app)."""
        if self.job is not None and self.job.worker is not None:
            self.job.worker.join(timeout)
