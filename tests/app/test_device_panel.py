"""The device panel: port picker, identity, console and events, as a device engineer uses them."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from stimsim.app.controller import BUILTIN_LABEL
from stimsim.app.launch import StimsimApp
from stimsim.app.model import AppModel
from stimsim.app.widgets.device_panel import DevicePanel
from stimsim.generator.virtual_generator import VirtualGenerator

STAMP = r"\d\d:\d\d:\d\d\.\d\d\d"


def test_identity_shows_what_the_device_said(stim: StimsimApp, gen: VirtualGenerator) -> None:
    labels = stim.window.device_panel.identity_labels
    assert labels["device"].text().startswith("STIMSIM-VG")
    assert labels["boot"].text() == gen.status()["boot"]
    assert labels["role"].text() == "Patient"
    assert "protocol 1" in labels["firmware"].text() and "strict" in labels["firmware"].text()


def test_typed_lines_are_sent_and_every_line_is_shown_with_its_time(
        qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    panel = stim.window.device_panel
    qtbot.keyClicks(panel.line_edit, "AMP STEP=+2")
    qtbot.keyClick(panel.line_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: gen.status()["amp_ua"] == 3700, timeout=3_000)
    qtbot.waitUntil(lambda: "OK AMP=3700" in panel.console.toPlainText(), timeout=3_000)
    text = panel.console.toPlainText()
    assert re.search(STAMP + r" > #\d+ AMP STEP=\+2 \*[0-9A-F]{4}$", text, re.MULTILINE)  # SEQ and CRC added
    assert re.search(STAMP + r" < #\d+ OK AMP=3700 \*[0-9A-F]{4}$", text, re.MULTILINE)
    qtbot.waitUntil(lambda: stim.window.remote.amp_label.text() == "3.7 mA", timeout=3_000)  # read back


def test_status_polls_are_hidden_unless_asked_for(qtbot: QtBot, stim: StimsimApp) -> None:
    panel = stim.window.device_panel
    panel.console.clear()
    qtbot.wait(600)  # two or more polls
    assert "STATUS" not in panel.console.toPlainText()
    panel.show_polls.setChecked(True)
    qtbot.waitUntil(lambda: "> " in panel.console.toPlainText() and "STATUS" in panel.console.toPlainText(),
                    timeout=3_000)


def test_events_are_listed_in_words(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    stim.worker.toggle_stimulation()
    qtbot.waitUntil(lambda: gen.status()["stim"], timeout=3_000)
    stim.worker.stop()
    events = stim.window.device_panel.events
    qtbot.waitUntil(lambda: events.count() > 1, timeout=3_000)  # !BOOT at power-up, then !STIM
    item = events.item(events.count() - 1)
    assert item.text().endswith("Stimulation stopped (STOP)")
    assert item.toolTip() == "!STIM STIM=OFF REASON=STOP"


def test_port_picker_lists_ports_and_takes_a_typed_url(qtbot: QtBot, qapp: QApplication) -> None:
    class Recorder:
        def __init__(self) -> None:
            self.urls: list[str] = []

        def connect_device(self, url: str) -> None:
            self.urls.append(url)

        def __getattr__(self, name: str) -> object:
            return lambda *a: None

    rec = Recorder()
    panel = DevicePanel(AppModel(), rec, builtin_url="virtual://x",  # type: ignore[arg-type]
                        ports=lambda: [("/dev/ttyACM0", "STM32 Virtual ComPort")])
    qtbot.addWidget(panel)
    box = panel.port_box
    assert [box.itemText(i) for i in range(box.count())] == [BUILTIN_LABEL, "/dev/ttyACM0 — STM32 Virtual ComPort"]
    assert panel.chosen_url() == "virtual://x"
    box.setCurrentIndex(1)
    assert panel.chosen_url() == "/dev/ttyACM0"
    box.setEditText("socket://127.0.0.1:5555")
    qtbot.mouseClick(panel.connect_button, Qt.MouseButton.LeftButton)
    assert rec.urls == ["socket://127.0.0.1:5555"]


def test_start_up_reads_say_the_empty_slots_in_one_line(stim: StimsimApp) -> None:
    text = stim.window.device_panel.console.toPlainText()
    assert "REASON=EMPTY" not in text
    assert re.search(STAMP + r" ! Slots 6-16 empty$", text, re.MULTILINE)


def test_a_lead_fault_is_named_as_a_fault(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    stim.worker.send_line("SIM FAULT=OPEN:4")
    bar = stim.window.status_bar
    qtbot.waitUntil(lambda: "Lead fault: contact 4" in bar.stim_label.text(), timeout=3_000)
    assert "compliance" not in bar.stim_label.text()  # stimulation is off: nothing is limited
    assert stim.window.remote.fault_label.text() == "Lead fault: contact 4 (open circuit)"
    events = stim.window.device_panel.events
    texts = [events.item(i).text() for i in range(events.count())]
    assert any(t.endswith("Lead fault: contact 4 (open circuit)") for t in texts)


def test_mri_mode_is_listed_in_the_events(qtbot: QtBot, stim: StimsimApp) -> None:
    events = stim.window.device_panel.events
    stim.worker.set_mri(True)
    qtbot.waitUntil(lambda: events.item(events.count() - 1).text().endswith(
        "MRI mode on: stimulation cannot be turned on"), timeout=3_000)
    stim.worker.set_mri(False)
    qtbot.waitUntil(lambda: events.item(events.count() - 1).text().endswith("MRI mode off"), timeout=3_000)


def test_battery_percent_is_the_same_everywhere(qtbot: QtBot, stim: StimsimApp) -> None:
    stim.worker.send_line("SIM BATT=150")
    events = stim.window.device_panel.events
    qtbot.waitUntil(lambda: any("Battery low" in events.item(i).text() for i in range(events.count())),
                    timeout=3_000)
    said = next(events.item(i).text() for i in range(events.count()) if "Battery low" in events.item(i).text())
    qtbot.waitUntil(lambda: stim.model.status.battery_permille is not None
                    and stim.model.status.battery_permille < 150, timeout=5_000)  # the cell drains on
    assert "(15 %)" in said
    assert stim.window.remote.battery_label.text().startswith("Battery 15 %")
    assert stim.window.status_bar.battery_label.text().startswith("Battery 15 %")


def test_connect_is_disabled_while_connected_to_the_chosen_stimulator(qtbot: QtBot, stim: StimsimApp) -> None:
    panel = stim.window.device_panel
    assert not panel.connect_button.isEnabled()
    panel.port_box.setEditText("socket://127.0.0.1:9")
    assert panel.connect_button.isEnabled() and panel.connect_button.text() == "Connect"
    panel.port_box.setCurrentIndex(0)
    assert not panel.connect_button.isEnabled()
    stim.worker.disconnect_device()
    qtbot.waitUntil(lambda: panel.connect_button.isEnabled(), timeout=3_000)
