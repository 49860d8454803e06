"""The clinician programmer on the virtual generator: login, editor, electrodes, safety, test and save."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit, QTableWidget
from pytestqt.qtbot import QtBot

from stimsim.app.clinician.view import LOGIN_TEXT, ClinicianView, LoginDialog, balanced
from stimsim.app.launch import StimsimApp
from stimsim.app.messages import WRONG_PIN
from stimsim.app.model import Action, Link
from stimsim.engine import params as P
from stimsim.engine.program import Limits
from stimsim.generator import virtual_generator
from stimsim.generator.virtual_generator import VirtualGenerator


def _unexpected(title: str, text: str) -> bool:
    raise AssertionError(f"unexpected question {title!r}: {text}")


def _view(stim: StimsimApp) -> ClinicianView:
    """The view, with its questions answered by the test (a question not expected fails)."""
    stim.window.show_face("clinician")
    view = stim.window.clinician
    view.confirm = _unexpected
    return view


def _actions(stim: StimsimApp) -> list[Action]:
    seen: list[Action] = []
    stim.model.actionRecorded.connect(seen.append)
    return seen


def _login(qtbot: QtBot, view: ClinicianView) -> None:
    view.log_in("0000")
    qtbot.waitUntil(lambda: view.logged_in, timeout=3_000)


def _cell(table: QTableWidget, row: int, col: int) -> str:
    item = table.item(row, col)
    assert item is not None
    return item.text()


def _saved_field(action: Action, side: str, key: str) -> object:
    program = action.data[side]
    assert isinstance(program, dict)
    return program[key]


def _prog_count(gen: VirtualGenerator) -> int:
    return sum(1 for e in gen.log if e.what.startswith("PROG"))


def test_locked_until_login_then_good_bad_and_locked_logins(qtbot: QtBot, stim: StimsimApp,
                                                            gen: VirtualGenerator) -> None:
    view = _view(stim)
    actions = _actions(stim)
    assert view.banner.text() == LOGIN_TEXT and not view.body.isEnabled()
    _login(qtbot, view)
    assert view.body.isEnabled() and view.banner.text() == "Logged in as clinician"
    assert view.login_button.text() == "Log out" and gen.role == "CLINICIAN"
    view.log_out()
    qtbot.waitUntil(lambda: not view.logged_in and gen.role == "PATIENT", timeout=3_000)
    assert not view.body.isEnabled()

    view.log_in("1234")
    qtbot.waitUntil(lambda: view.notice == WRONG_PIN, timeout=3_000)
    assert not view.logged_in
    for _ in range(4):
        view.log_in("1234")
        qtbot.wait(150)
    qtbot.waitUntil(lambda: "try again in" in view.banner.text(), timeout=3_000)
    assert "locked" in view.banner.text() and not view.login_button.isEnabled()
    results = [a.data.get("result") for a in actions if a.what == "login"]
    assert results[0] == "success" and "failure" in results and results[-1] == "lockout"
    assert any(a.what == "logout" for a in actions)


def test_the_editor_shows_only_the_modes_fields_from_the_table(qtbot: QtBot, stim: StimsimApp) -> None:
    view = _view(stim)
    _login(qtbot, view)
    view.select_slot(2)
    assert set(view._controls) == set(P.MODES[P.Mode.BURST].ranges)
    amp = view._controls["amplitude_ma"]
    assert amp.suffix() == " mA" and amp.maximum() == 20.0 and amp.singleStep() == 0.01
    view.select_slot(1)
    assert set(view._controls) == set(P.MODES[P.Mode.TONIC].ranges)
    assert [view.recharge_box.itemData(i) for i in range(view.recharge_box.count())] == list(P.RECHARGE[P.Mode.TONIC])


def test_an_infeasible_combination_is_flagged_in_words_and_not_sent(qtbot: QtBot, stim: StimsimApp,
                                                                     gen: VirtualGenerator) -> None:
    view = _view(stim)
    _login(qtbot, view)
    view.select_slot(1)
    writes = _prog_count(gen)
    view._controls["pulse_width_us"].setValue(500)
    view._controls["rate_hz"].setValue(1200)
    text = view._errors["pulse_width_us"].text()
    assert "does not fit one period at 1200 Hz" in text and "at most 411 us" in text
    assert not view.save_button.isEnabled() and not view.test_button.isEnabled()
    view.save()
    qtbot.wait(300)
    assert _prog_count(gen) == writes and gen.test_program is None
    assert "Not sent" in view.notice


def _charge_zone(view: ClinicianView) -> None:
    """Slot 1 at 1000 us and 5 mA: contact 4 takes 5 uC per phase, 40.8 uC/cm2."""
    prog = view.draft.program
    assert prog is not None
    view.draft.edit(replace(prog, limits=Limits(), pulse_width_us=1000, amplitude_ua=5000), "charge zone")


def test_the_charge_density_warning_declined_sends_nothing(qtbot: QtBot, stim: StimsimApp,
                                                           gen: VirtualGenerator) -> None:
    view = _view(stim)
    _login(qtbot, view)
    view.select_slot(1)
    _charge_zone(view)
    asked: list[str] = []

    def answer(title: str, text: str) -> bool:
        asked.append(text)
        return title == "Battery"  # yes to the battery cost, no to the charge density
    view.confirm = answer
    writes = _prog_count(gen)
    view.save()
    qtbot.wait(300)
    density = [q for q in asked if "charge-density" in q]
    assert density and "Contact 4" in density[0] and "k = " in density[0] and "40.8 µC/cm²" in density[0]
    assert "1.85" in density[0] and "30 µC/cm²" in density[0]
    assert _prog_count(gen) == writes
    slot = gen.slots[0]
    assert slot is not None and slot.program.pulse_width_us == 300
    assert "not acknowledged" in view.notice


def test_the_charge_density_warning_confirmed_is_written_with_ack(qtbot: QtBot, stim: StimsimApp,
                                                                  gen: VirtualGenerator) -> None:
    view = _view(stim)
    actions = _actions(stim)
    _login(qtbot, view)
    view.select_slot(1)
    _charge_zone(view)
    view.confirm = lambda title, text: True
    view.save()
    qtbot.waitUntil(lambda: "read back" in view.notice, timeout=3_000)
    slot = gen.slots[0]
    assert slot is not None and slot.program.pulse_width_us == 1000 and slot.program.amplitude_ua == 5000
    console = stim.window.device_panel.console.toPlainText()
    assert "ACK=CHARGE" in console
    confirm = next(a for a in actions if a.what == "confirm_charge")
    assert confirm.data["contact"] == "4" and confirm.data["density"] == 40.8
    save = next(a for a in actions if a.what == "save")
    assert _saved_field(save, "before", "pulse_width_us") == 300
    assert _saved_field(save, "after", "pulse_width_us") == 1000


def test_a_hard_limit_cannot_be_confirmed_away(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    view = _view(stim)
    _login(qtbot, view)
    view.select_slot(1)
    prog = view.draft.program
    assert prog is not None
    view.draft.edit(replace(prog, limits=Limits(), amplitude_ua=13_000), "too much")
    assert "per-contact limit" in view._errors["electrodes"].text()
    view.confirm = lambda title, text: True
    writes = _prog_count(gen)
    view.save()
    qtbot.wait(300)
    assert _prog_count(gen) == writes and "cannot be acknowledged" in view.notice


def test_test_then_save_reads_back_and_compares(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    view = _view(stim)
    actions = _actions(stim)
    _login(qtbot, view)
    view.select_slot(1)
    view._controls["rate_hz"].setValue(60)
    assert "rate_hz" in view.draft.differing() and view._controls["rate_hz"].font().bold()
    view.start_test()
    qtbot.waitUntil(lambda: view.testing and gen.test_program is not None, timeout=3_000)
    assert gen.test_program is not None and gen.test_program.rate_hz == 60
    slot = gen.slots[0]
    assert slot is not None and slot.program.rate_hz == 50  # not saved yet
    view.save()
    qtbot.waitUntil(lambda: "every field matches" in view.notice, timeout=5_000)
    assert "the test ended" in view.notice
    qtbot.waitUntil(lambda: gen.test_program is None, timeout=5_000)
    slot = gen.slots[0]
    assert slot is not None and slot.program.rate_hz == 60
    assert not view.draft.dirty
    whats = [a.what for a in actions]
    assert "test_start" in whats and "save" in whats and "test_end" in whats


def test_leaving_the_slot_during_a_test_restores_the_saved_program(qtbot: QtBot, stim: StimsimApp,
                                                                   gen: VirtualGenerator) -> None:
    view = _view(stim)
    _login(qtbot, view)
    view.select_slot(1)
    view._controls["rate_hz"].setValue(70)
    view.start_test()
    qtbot.waitUntil(lambda: gen.test_program is not None and view.testing, timeout=3_000)
    view.confirm = lambda title, text: True
    view.select_slot(3)
    qtbot.waitUntil(lambda: gen.test_program is None, timeout=3_000)
    assert "saved program is back" in view.notice


def test_a_test_outlives_the_lease_while_the_app_polls(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker's STATUS polls (every 0.25 s) renew the device's lease: the test keeps running."""
    monkeypatch.setattr(virtual_generator, "TEST_LEASE_S", 1)  # 1 s instead of 10, to wait less
    view = _view(stim)
    _login(qtbot, view)
    view.select_slot(1)
    view._controls["rate_hz"].setValue(55)
    view.start_test()
    qtbot.waitUntil(lambda: gen.test_program is not None, timeout=3_000)
    qtbot.wait(2_500)
    assert gen.test_program is not None and view.testing
    view.end_test()
    qtbot.waitUntil(lambda: gen.test_program is None and not view.testing, timeout=3_000)
    assert "saved program is back" in view.notice


def test_a_test_then_a_lost_link_says_the_saved_program_comes_back(qtbot: QtBot, stim: StimsimApp,
                                                                   gen: VirtualGenerator) -> None:
    view = _view(stim)
    actions = _actions(stim)
    _login(qtbot, view)
    view.select_slot(1)
    view._controls["rate_hz"].setValue(65)
    view.start_test()
    qtbot.waitUntil(lambda: gen.test_program is not None and view.testing, timeout=3_000)
    client = stim.worker.client
    assert client is not None
    client.port.close()
    qtbot.waitUntil(lambda: stim.model.link is not Link.CONNECTED, timeout=3_000)
    assert not view.testing and "saved program" in view.notice and "lost" in view.notice
    assert any(a.what == "test_end" and "lost" in a.text.lower() for a in actions)
    stim.worker.reconnect()  # the new connection's HELLO ends the test on the device
    qtbot.waitUntil(lambda: stim.model.link is Link.CONNECTED, timeout=5_000)
    qtbot.waitUntil(lambda: gen.test_program is None, timeout=3_000)
    slot = gen.slots[0]
    assert slot is not None and slot.program.rate_hz == 50


def _click(view: ClinicianView, contact: str) -> None:
    rect = view.diagram.contact_rect(contact)
    QTest.mouseClick(view.diagram, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(int(rect.center().x()), int(rect.center().y())))


def test_electrode_clicks_and_keys_cycle_contacts_and_zero_the_amplitude(qtbot: QtBot, stim: StimsimApp) -> None:
    view = _view(stim)
    _login(qtbot, view)
    view.select_slot(1)
    view.diagram.resize(260, 420)
    prog = view.draft.program
    assert prog is not None and prog.amplitude_ua == 3500
    _click(view, "7")  # off -> cathode: cathodes 4 and 7 share -100 %
    prog = view.draft.program
    assert prog is not None and prog.electrodes.as_dict() == {"4": -50, "5": 50, "6": 50, "7": -50}
    assert prog.amplitude_ua == 0 and "amplitude was set to 0" in view.notice
    _click(view, "7")  # cathode -> anode
    prog = view.draft.program
    assert prog is not None and prog.electrodes.as_dict() == {"4": -100, "5": 34, "6": 33, "7": 33}
    view.diagram.setFocus()
    QTest.keyClick(view.diagram, Qt.Key.Key_Space)  # 7: anode -> off (not the remote's Space)
    assert not stim.model.status.stim_on
    QTest.keyClick(view.diagram, Qt.Key.Key_Right)  # to 15
    assert view.diagram.current == "15"
    QTest.keyClick(view.diagram, Qt.Key.Key_Space)
    prog = view.draft.program
    assert prog is not None and prog.electrodes.as_dict() == {"4": -50, "5": 50, "6": 50, "15": -50}
    view.fraction.setValue(-70)  # fractions: the engine's words until both sides sum to 100
    assert "cathodes sum to -120 %" in view._errors["electrodes"].text()


def test_an_open_contact_is_refused_with_words(qtbot: QtBot, stim: StimsimApp) -> None:
    view = _view(stim)
    actions = _actions(stim)
    _login(qtbot, view)
    view.select_slot(1)
    stim.worker.send_line("SIM FAULT=OPEN:7")
    qtbot.wait(300)
    view.check_impedance()
    qtbot.waitUntil(lambda: view.impedances.get("7") == "OPEN", timeout=3_000)
    assert _cell(view.impedance_table, 6, 1) == "OPEN"
    assert view.diagram.impedances["7"] == "OPEN"
    before = view.draft.program
    view.diagram.resize(260, 420)
    _click(view, "7")
    assert view.draft.program == before and "Contact 7 is OPEN" in view.notice
    imp = next(a for a in actions if a.what == "impedance")
    values = imp.data["values"]
    assert isinstance(values, dict) and values["7"] == "OPEN"


def test_undo_and_redo_from_the_edit_menu(qtbot: QtBot, stim: StimsimApp) -> None:
    view = _view(stim)
    _login(qtbot, view)
    view.select_slot(1)
    amp = view._controls["amplitude_ma"]
    amp.setValue(4.0)
    amp.setValue(4.5)  # edits of one field in a row are one step
    view._controls["rate_hz"].setValue(80)
    window = stim.window
    assert window.undo_action.shortcut().toString() == "Ctrl+Z"
    assert window.redo_action.shortcut().toString() == "Ctrl+Shift+Z"
    window.undo_action.trigger()
    assert view.draft.program is not None and view.draft.program.rate_hz == 50
    window.undo_action.trigger()
    assert view.draft.program.amplitude_ua == 3500 and amp.value() == 3.5
    window.redo_action.trigger()
    assert view.draft.program.amplitude_ua == 4500 and amp.value() == 4.5


def test_patient_limits_come_from_the_table_and_unlock(qtbot: QtBot, stim: StimsimApp) -> None:
    view = _view(stim)
    _login(qtbot, view)
    view.select_slot(1)
    assert set(view._limit_rows) == set(P.LIMITS)
    check, control = view._limit_rows["pulse_width_max_us"]
    check.setChecked(True)
    control.setValue(400)
    prog = view.draft.program
    assert prog is not None and prog.limits.pulse_width_max_us == 400


def test_safety_figures_follow_a_change_within_a_frame(qtbot: QtBot, stim: StimsimApp) -> None:
    view = _view(stim)
    _login(qtbot, view)
    view.select_slot(1)
    started = time.perf_counter()
    view._controls["amplitude_ma"].setValue(5.0)
    elapsed_ms = (time.perf_counter() - started) * 1000
    assert _cell(view.safety_table, 0, 2) == "1.500"  # 5 mA x 300 us at contact 4
    assert "delivers 5.00 mA" in view.compliance_label.text()
    assert elapsed_ms < 16.7, f"{elapsed_ms:.1f} ms from a change to the figures"


def test_a_hungry_save_says_its_battery_cost_first(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    view = _view(stim)
    _login(qtbot, view)
    view.select_slot(1)
    view._controls["rate_hz"].setValue(1000)
    asked: list[str] = []

    def no(title: str, text: str) -> bool:
        asked.append(text)
        return False
    view.confirm = no
    writes = _prog_count(gen)
    view.save()
    qtbot.wait(300)
    assert asked and asked[0].startswith("This program needs ") and ", the saved one " in asked[0]
    assert "min of charging a day" in asked[0] and _prog_count(gen) == writes and view.notice == "Not saved"


def test_balanced_shares_sum_to_100_each_side() -> None:
    assert balanced({"1": -1, "2": -1, "3": -1, "case": 1}) == {"1": -34, "2": -33, "3": -33, "case": 100}


def test_the_remote_shows_the_ranges_a_clinician_unlocked(qtbot: QtBot, stim: StimsimApp) -> None:
    view = _view(stim)
    _login(qtbot, view)
    view.select_slot(1)
    assert stim.window.remote.unlocked_label.text() == ""
    check, control = view._limit_rows["pulse_width_max_us"]
    check.setChecked(True)
    control.setValue(400)
    view.save()
    qtbot.waitUntil(lambda: "read back" in view.notice, timeout=3_000)
    qtbot.waitUntil(lambda: stim.window.remote.unlocked_label.text() != "", timeout=3_000)
    assert stim.window.remote.unlocked_label.text() == "You may change: pulse width 20..400 µs"


def test_copy_rename_and_erase_with_confirmation(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    view = _view(stim)
    actions = _actions(stim)
    _login(qtbot, view)
    view.select_slot(2)
    view.copy_slot()
    qtbot.waitUntil(lambda: gen.slots[5] is not None, timeout=3_000)
    copied = gen.slots[5]
    assert copied is not None and copied.program.name == "BurstDR style"
    qtbot.waitUntil(lambda: "(empty)" not in view.slot_list.item(5).text(), timeout=3_000)
    view.select_slot(6)
    view.ask_text = lambda title, label, text: "Copy of burst"
    view.rename_slot()
    qtbot.waitUntil(lambda: "Renamed" in view.notice, timeout=3_000)
    renamed = gen.slots[5]
    assert renamed is not None and renamed.program.name == "Copy of burst"
    rename = [a for a in actions if a.what == "save"][-1]
    assert _saved_field(rename, "before", "name") == "BurstDR style"
    assert _saved_field(rename, "after", "name") == "Copy of burst"
    view.confirm = lambda title, text: False  # declined: nothing erased
    view.erase_slot()
    qtbot.wait(300)
    assert gen.slots[5] is not None
    asked: list[str] = []

    def yes(title: str, text: str) -> bool:
        asked.append(text)
        return True
    view.confirm = yes
    view.erase_slot()
    qtbot.waitUntil(lambda: gen.slots[5] is None, timeout=3_000)
    assert "Erase slot 6 (Copy of burst)" in asked[0]
    qtbot.waitUntil(lambda: view.slot_list.item(5).text().endswith("(empty)"), timeout=3_000)
    assert view.draft.program is None and any(a.what == "erase" for a in actions)


def test_a_mode_change_shows_the_new_modes_fields_and_undoes(qtbot: QtBot, stim: StimsimApp) -> None:
    view = _view(stim)
    _login(qtbot, view)
    view.select_slot(1)
    index = view.mode_box.findData(P.Mode.BURST)
    view.mode_box.activated.emit(index)
    prog = view.draft.program
    assert prog is not None and prog.mode is P.Mode.BURST and prog.recharge is P.Recharge.ACTIVE  # allowed: kept
    assert "burst_pulses" in view._controls and view._controls["pulse_width_us"].minimum() == 100
    stim.window.undo_action.trigger()
    assert view.draft.program is not None and view.draft.program.mode is P.Mode.TONIC
    assert "burst_pulses" not in view._controls


def test_closing_the_app_during_a_test_restores_the_saved_program(qtbot: QtBot, stim: StimsimApp,
                                                                  gen: VirtualGenerator) -> None:
    view = _view(stim)
    _login(qtbot, view)
    view.select_slot(1)
    view._controls["rate_hz"].setValue(75)
    view.start_test()
    qtbot.waitUntil(lambda: gen.test_program is not None and view.testing, timeout=3_000)
    stim.window.close()
    stim.shutdown()
    assert gen.test_program is None


def test_the_pin_dialog_hides_the_pin_and_forgets_it(qtbot: QtBot) -> None:
    dialog = LoginDialog()
    qtbot.addWidget(dialog)
    assert dialog.pin.echoMode() is QLineEdit.EchoMode.Password
    QTest.keyClicks(dialog.pin, "0000")
    assert dialog.take_pin() == "0000" and dialog.pin.text() == ""


def test_logging_out_during_a_test_says_the_saved_program_is_back(qtbot: QtBot, stim: StimsimApp,
                                                                  gen: VirtualGenerator) -> None:
    view = _view(stim)
    _login(qtbot, view)
    view.select_slot(1)
    view._controls["rate_hz"].setValue(45)
    view.start_test()
    qtbot.waitUntil(lambda: gen.test_program is not None and view.testing, timeout=3_000)
    view.log_out()
    qtbot.waitUntil(lambda: gen.test_program is None and not view.body.isEnabled(), timeout=3_000)
    assert view.notice == "Logged out: the test ended and the saved program is back"
    assert not view.testing and gen.role == "PATIENT"
