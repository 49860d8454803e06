"""A whole clinician session on the emulator over a pty, as a clinic would run it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from stimsim.app.model import Action

from .test_device_link import Emulator, _app, _connected, emulators  # noqa: F401  (the fixture)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")


def test_a_whole_clinician_session_over_a_pty(qtbot: QtBot, qapp: QApplication, tmp_path: Path,
                                              emulators: list[Emulator]) -> None:  # noqa: F811
    emulators.append(Emulator(tmp_path / "state", "--pty"))
    app = _app(qtbot, qapp, emulators[0].url)
    actions: list[Action] = []
    app.model.actionRecorded.connect(actions.append)
    questions: list[str] = []

    def yes(title: str, text: str) -> bool:
        questions.append(title)
        return True

    try:
        _connected(qtbot, app)
        app.window.show_face("clinician")
        view = app.window.clinician
        view.confirm = yes
        view.log_in("0000")
        qtbot.waitUntil(lambda: view.logged_in, timeout=5_000)

        # Impedances first: they feed the diagram and the safety figures.
        view.check_impedance()
        qtbot.waitUntil(lambda: len(view.impedances) == 17, timeout=5_000)
        assert view.impedance_table.rowCount() == 17 and view.diagram.impedances["4"] == 262

        # A new program in slot 6, built on the electrode diagram.
        view.select_slot(6)
        assert view.draft.saved is None
        view.new_in_slot()
        view.diagram.resize(260, 420)

        def click(contact: str) -> None:
            rect = view.diagram.contact_rect(contact)
            QTest.mouseClick(view.diagram, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                             QPoint(int(rect.center().x()), int(rect.center().y())))

        for contact in ("5", "6", "12", "12"):  # 5 and 6 off; 12 cathode, then anode
            click(contact)
        assert view.draft.program is not None
        assert view.draft.program.electrodes.as_dict() == {"4": -100, "12": 100}
        view._controls["pulse_width_us"].setValue(1000)
        view._controls["amplitude_ma"].setValue(5.0)
        k_item = view.safety_table.item(0, 4)
        assert k_item is not None and k_item.text() == "2.31"  # contact 4 in the warning zone

        # Test it (the charge-density question answered yes: ACK=CHARGE), then save it.
        view.start_test()
        qtbot.waitUntil(lambda: view.testing and app.model.status.test, timeout=5_000)
        assert "Charge density" in questions
        view.save()
        qtbot.waitUntil(lambda: "every field matches" in " ".join(a.text for a in actions)
                        or view.draft.saved is not None, timeout=5_000)
        qtbot.waitUntil(lambda: 6 in app.model.slots and not app.model.status.test, timeout=5_000)
        saved = app.model.slots[6]
        assert saved.pulse_width_us == 1000 and saved.amplitude_ua == 5000
        assert "ACK=CHARGE" in app.window.device_panel.console.toPlainText()
        assert not view.draft.dirty

        # Hand over to the patient: log out, the remote shows the new program.
        view.log_out()
        qtbot.waitUntil(lambda: app.model.status.role == "PATIENT", timeout=5_000)
        assert not view.body.isEnabled()
        for _ in range(5):
            app.worker.select_relative(+1)
        qtbot.waitUntil(lambda: app.model.status.slot == 6, timeout=5_000)
        qtbot.waitUntil(lambda: "Program 6" in app.window.remote.program_label.text(), timeout=3_000)
        whats = [a.what for a in actions]
        for what in ("login", "impedance", "confirm_charge", "test_start", "save", "logout"):
            assert what in whats, what

        # The session's report, from its record (read back as text where poppler is installed).
        report = tmp_path / "session.pdf"
        assert app.session.view.save_report(report) == ""
        assert report.read_bytes().startswith(b"%PDF")
        if shutil.which("pdftotext"):
            text = subprocess.run(["pdftotext", "-layout", str(report), "-"], capture_output=True, text=True,
                                  check=True).stdout.replace("\ufb01", "fi").replace("\ufb02", "fl")  # ligatures
            for section in ("Device", "Programs after", "Changes", "Confirmations", "Impedances"):
                assert section in text, section
            assert "Confirmations" in text and "contact 4" in text.lower()
    finally:
        app.shutdown()
