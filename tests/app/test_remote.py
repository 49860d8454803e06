"""The patient programmer against the virtual generator: what a patient does and sees."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from stimsim.app.launch import AppOptions, StimsimApp
from stimsim.app.model import Link
from stimsim.generator import urlhandler as transport
from stimsim.generator.virtual_generator import VirtualGenerator


def _stim_on(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    stim.worker.toggle_stimulation()
    qtbot.waitUntil(lambda: gen.status()["stim"] and stim.model.status.stim_on, timeout=3_000)


def test_amplitude_up_changes_the_device_by_0_1_ma_and_the_screen_shows_it(
        qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    remote = stim.window.remote
    assert gen.status()["amp_ua"] == 3500
    assert remote.amp_label.text() == "3.5 mA"
    qtbot.mouseClick(remote.up_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: remote.amp_label.text() == "3.6 mA", timeout=3_000)
    assert gen.status()["amp_ua"] == 3600
    qtbot.mouseClick(remote.down_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(remote.down_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: remote.amp_label.text() == "3.4 mA", timeout=3_000)
    assert gen.status()["amp_ua"] == 3400


def test_arrow_keys_step_the_amplitude(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    stim.window.activateWindow()
    qtbot.keyClick(stim.window, Qt.Key.Key_Up)
    qtbot.waitUntil(lambda: gen.status()["amp_ua"] == 3600, timeout=3_000)
    qtbot.keyClick(stim.window, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: gen.status()["amp_ua"] == 3500, timeout=3_000)


def test_typing_in_the_console_never_changes_the_amplitude(
        qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    edit = stim.window.device_panel.line_edit
    edit.setFocus()
    qtbot.keyClicks(edit, "ST TUS")
    for key in (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Space):
        qtbot.keyClick(edit, key)
    qtbot.wait(300)
    assert gen.status()["amp_ua"] == 3500 and gen.status()["slot"] == 1 and not gen.status()["stim"]


def test_the_clinician_limit_refusal_is_shown_in_plain_words(
        qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    remote = stim.window.remote
    stim.worker.send_line("AMP SET=6000")
    qtbot.waitUntil(lambda: remote.amp_label.text() == "6.0 mA", timeout=3_000)
    qtbot.mouseClick(remote.up_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Maximum reached" in remote.notice_label.text(), timeout=3_000)
    assert remote.notice_label.text() == "Maximum reached: 6.0 mA set by your clinician"
    assert gen.status()["amp_ua"] == 6000  # refused: nothing changed
    assert remote.amp_label.text() == "6.0 mA"


def test_minimum_refusal(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    remote = stim.window.remote
    stim.worker.send_line("AMP SET=500")
    qtbot.waitUntil(lambda: remote.amp_label.text() == "0.5 mA", timeout=3_000)
    stim.worker.step_amplitude(-1)
    qtbot.waitUntil(lambda: remote.notice_label.text() == "Minimum reached: 0.5 mA set by your clinician",
                    timeout=3_000)


def test_space_turns_stimulation_on_and_off(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    remote = stim.window.remote
    qtbot.keyClick(stim.window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: remote.stim_label.text() == "● Stimulation ON", timeout=3_000)
    assert gen.status()["stim"]
    qtbot.keyClick(stim.window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: remote.stim_label.text() == "○ Stimulation OFF", timeout=3_000)
    assert not gen.status()["stim"]


def test_program_switching_with_buttons_and_keys(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    remote = stim.window.remote
    assert remote.program_label.text() == "P1  Low back tonic"
    qtbot.mouseClick(remote.next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: remote.program_label.text() == "P2  BurstDR style", timeout=3_000)
    assert gen.status()["slot"] == 2
    assert remote.mode_label.text().startswith("Burst · 40 Hz · 5 × 500 Hz")
    assert remote.amp_label.text() == "0.6 mA"
    qtbot.keyClick(stim.window, Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: gen.status()["slot"] == 1, timeout=3_000)
    qtbot.keyClick(stim.window, Qt.Key.Key_Left)  # wraps round to the last program
    qtbot.waitUntil(lambda: gen.status()["slot"] == 5, timeout=3_000)
    qtbot.waitUntil(lambda: remote.program_label.text().startswith("P5"), timeout=3_000)


def test_program_switch_keeps_stimulation_state(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    _stim_on(qtbot, stim, gen)
    stim.worker.select_relative(+1)
    qtbot.waitUntil(lambda: stim.model.status.slot == 2, timeout=3_000)
    assert gen.status()["stim"] and stim.model.status.stim_on


def test_stop_when_stimulating(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    _stim_on(qtbot, stim, gen)
    qtbot.mouseClick(stim.window.remote.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not stim.model.status.stim_on, timeout=3_000)
    assert not gen.status()["stim"]
    assert stim.window.remote.stim_label.text() == "○ Stimulation OFF"


def test_stop_goes_ahead_of_queued_requests(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    _stim_on(qtbot, stim, gen)
    for _ in range(15):
        stim.worker.step_amplitude(+1)
    stim.worker.toggle_stimulation()  # would turn it off; then a stale toggle could turn it on again
    stim.worker.stop()
    qtbot.waitUntil(lambda: not stim.model.status.stim_on and not stim.model.stopping, timeout=3_000)
    qtbot.wait(400)
    status = gen.status()
    assert not status["stim"]
    assert status["amp_ua"] < 3500 + 15 * 100  # the queued steps behind STOP were dropped


def test_stop_with_esc_from_anywhere(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    _stim_on(qtbot, stim, gen)
    edit = stim.window.device_panel.line_edit
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not gen.status()["stim"], timeout=3_000)


def test_stop_when_off_and_in_mri_mode_is_answered(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    stim.worker.stop()  # off already: still answered
    qtbot.waitUntil(lambda: stim.model.notice.text == "Stimulation stopped", timeout=3_000)
    stim.worker.set_mri(True)
    qtbot.waitUntil(lambda: stim.model.status.mri, timeout=3_000)
    assert stim.window.remote.mri_label.text() == "MRI MODE"
    stim.worker.toggle_stimulation()
    qtbot.waitUntil(lambda: "MRI mode is on" in stim.window.remote.notice_label.text(), timeout=3_000)
    stim.model.set_notice("")
    stim.worker.stop()
    qtbot.waitUntil(lambda: stim.model.notice.text == "Stimulation stopped", timeout=3_000)
    assert not gen.status()["stim"] and gen.status()["mri"]


def test_stop_while_the_device_is_stimulating_during_a_ramp_of_changes(
        qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    """STOP from the 'busy' state: a request in flight and more queued."""
    _stim_on(qtbot, stim, gen)
    for _ in range(3):
        stim.worker.select_relative(+1)
    for _ in range(10):
        stim.worker.step_amplitude(+1)
    stim.window.remote.stop_button.pressed.emit()
    qtbot.waitUntil(lambda: not gen.status()["stim"], timeout=3_000)
    qtbot.wait(300)
    assert not gen.status()["stim"]


def test_stop_without_a_device_says_so(qtbot: QtBot, stim: StimsimApp) -> None:
    stim.worker.disconnect_device()
    qtbot.waitUntil(lambda: stim.worker.client is None and not stim.model.slots, timeout=3_000)
    stim.worker.stop()
    assert stim.model.notice.text == "No stimulator connected: nothing to stop"
    assert stim.window.remote.stop_button.isEnabled()


def test_a_refusal_ends_with_the_program_it_was_about(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    remote = stim.window.remote
    stim.worker.send_line("AMP SET=6000")
    qtbot.waitUntil(lambda: remote.amp_label.text() == "6.0 mA", timeout=3_000)
    qtbot.keyClick(stim.window, Qt.Key.Key_Up)
    qtbot.waitUntil(lambda: "Maximum reached" in remote.notice_label.text(), timeout=3_000)
    qtbot.keyClick(stim.window, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: remote.program_label.text().startswith("P2"), timeout=3_000)
    assert remote.amp_label.text() == "0.6 mA"
    assert remote.notice_label.text() == ""  # P2 is not at its maximum


def test_a_fault_refusal_does_not_outlive_the_connection(
        qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    remote = stim.window.remote
    stim.worker.send_line("SIM FAULT=OPEN:4")
    stim.worker.toggle_stimulation()
    qtbot.waitUntil(lambda: "Lead contact 4 has a fault" in remote.notice_label.text(), timeout=3_000)
    qtbot.mouseClick(stim.window.device_panel.disconnect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: remote.program_label.text() == "No stimulator", timeout=3_000)
    assert remote.notice_label.text() == ""


def test_an_empty_slot_shows_no_amplitude(qtbot: QtBot, qapp: QApplication) -> None:
    gen = transport.new_generator(rng_seed=5)
    url = transport.register_generator("fresh-device", gen)
    app = StimsimApp(AppOptions(device=url), ports=lambda: [])
    qtbot.addWidget(app.window)
    try:
        app.start()
        qtbot.waitUntil(lambda: app.model.link is Link.CONNECTED, timeout=5_000)
        remote = app.window.remote
        assert not app.model.slots and app.model.status.slot == 1
        assert remote.amp_label.text() == "-- mA"
        assert remote.mode_label.text() == "Slot 1 is empty: no program to run"
    finally:
        app.shutdown()
        transport.unregister_generator("fresh-device")


def test_stop_never_moves(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    remote = stim.window.remote
    stim.window.show()
    qtbot.waitExposed(stim.window)
    where = remote.stop_button.mapTo(stim.window, remote.stop_button.rect().topLeft())
    for _ in range(4):  # P5 cycles: the longest mode line
        stim.worker.select_relative(+1)
    qtbot.waitUntil(lambda: stim.model.status.slot == 5, timeout=3_000)
    assert "cycling" in remote.mode_label.text()
    stim.model.set_notice("Not allowed: a higher amplitude would exceed the safe charge density at contact 4. "
                          "Ask your clinician", "warning")
    qtbot.wait(50)
    assert remote.stop_button.mapTo(stim.window, remote.stop_button.rect().topLeft()) == where
