"""The battery view on a virtual generator: the gauge follows the device, the charger,
HOT as a warning, the projection and the comparison equal the engine, exports."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from stimsim.app.battery.projection import ChargingHabit, plan_for, project
from stimsim.app.battery.words import NO_CHARGER, state_words
from stimsim.app.launch import StimsimApp
from stimsim.app.main_window import KEYS
from stimsim.app.model import Action
from stimsim.app.widgets.battery_compare import rows_for
from stimsim.app.widgets.battery_projection import compute
from stimsim.app.widgets.battery_view import COMPARE, LEVEL, PROJECTION
from stimsim.engine import battery as B
from stimsim.engine.metrics import program_metrics
from stimsim.engine.program import DeviceModel
from stimsim.generator import verbs
from stimsim.generator.virtual_generator import VirtualGenerator

from .conftest import wait_device


def _actions(stim: StimsimApp) -> list[Action]:
    seen: list[Action] = []
    stim.model.actionRecorded.connect(seen.append)
    return seen


def test_the_gauge_follows_sim_batt_and_says_the_state_in_words(qtbot: QtBot, stim: StimsimApp) -> None:
    gauge = stim.window.battery.gauge
    for permille, state, headline in ((150, "LOW", "Charge soon"),
                                      (30, "EMPTY", "Stimulation stopped: charge now"),
                                      (900, "OK", "Battery OK")):
        stim.worker.send_line(f"SIM BATT={permille}")
        # a level set upwards brings no event: the view must still show it within a poll or two
        wait_device(qtbot, lambda s=state: stim.model.status.battery_state == s, timeout=2_000)
        wait_device(qtbot, lambda h=headline: gauge.headline.text() == h)
        assert abs(gauge.bar.value() - permille) <= 1  # the level drains between SIM and STATUS
        assert gauge.headline.property("level") == state_words(state, "liion").level
    assert "V" in gauge.figures.text() and "Li-ion" in gauge.figures.text()


def test_charging_starts_and_stops_through_the_generator(qtbot: QtBot, stim: StimsimApp,
                                                         gen: VirtualGenerator) -> None:
    seen = _actions(stim)
    gauge = stim.window.battery.gauge
    stim.worker.send_line("SIM BATT=500")
    wait_device(qtbot, lambda: gauge.start_button.isEnabled())
    qtbot.mouseClick(gauge.start_button, Qt.MouseButton.LeftButton)
    wait_device(qtbot, lambda: stim.model.status.charging and gauge.charger_label.text() == "Charging")
    assert gen.state.battery.on_charger
    assert not gauge.start_button.isEnabled() and gauge.stop_button.isEnabled()
    wait_device(qtbot, lambda: [a.what for a in seen] == ["charging_start"])
    qtbot.mouseClick(gauge.stop_button, Qt.MouseButton.LeftButton)
    wait_device(qtbot, lambda: not stim.model.status.charging and gauge.charger_label.text() == "Not charging")
    assert not gen.state.battery.on_charger
    wait_device(qtbot, lambda: [a.what for a in seen] == ["charging_start", "charging_stop"])
    assert seen[0].who == "device" and seen[0].data["state"] == "ON"


def test_an_overheated_charger_is_a_warning_until_it_resumes(qtbot: QtBot, stim: StimsimApp) -> None:
    seen = _actions(stim)
    gauge = stim.window.battery.gauge
    stim.worker.send_line("SIM BATT=500")
    stim.window.battery.gauge.set_charging(True)
    wait_device(qtbot, lambda: stim.model.status.charging)
    stim.worker.send_line("SIM FAULT=HOT")
    wait_device(qtbot, lambda: gauge.hot)
    assert gauge.charger_label.text().startswith("Charger too hot")
    assert gauge.charger_label.property("level") == "warning"
    assert not gauge.start_button.isEnabled() and gauge.stop_button.isEnabled()
    wait_device(qtbot, lambda: "charger_hot" in [a.what for a in seen])
    stim.worker.send_line("SIM FAULT=NONE")
    wait_device(qtbot, lambda: not gauge.hot and gauge.charger_label.text() == "Charging")


def test_a_board_without_sim_is_answered_in_words(qtbot: QtBot, stim: StimsimApp,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(verbs.VERBS, "SIM")  # the generator now answers UNKNOWN_VERB, as a board may
    stim.window.battery.gauge.set_charging(True)
    wait_device(qtbot, lambda: stim.model.notice.text == NO_CHARGER)
    assert stim.model.notice.level == "warning"
    assert not stim.model.status.charging


def _wait_projection(qtbot: QtBot, stim: StimsimApp) -> None:
    view = stim.window.battery.projection
    with qtbot.waitSignal(view.projected, timeout=3_000):
        view.recompute()


def test_the_projection_shows_the_engines_numbers(qtbot: QtBot, stim: StimsimApp) -> None:
    view = stim.window.battery.projection
    view.clear_rows()
    view.add_row(3, 8.0, 14.0)
    view.set_habit(ChargingHabit(21.0, 30.0, 1))
    view.set_span(365)
    view.start_level.setValue(80.0)
    _wait_projection(qtbot, stim)
    shown = view.last
    assert shown is not None and shown.result is not None and not shown.error
    program = stim.model.active_program() if stim.model.status.slot == 3 else stim.model.slots[3]
    device = DeviceModel("liion")
    engine = B.simulate_schedule(B.DailySchedule("liion", (B.ProgramPeriod.of(program, device, 8.0, 14.0),),
                                                 (B.ChargeSession(21.0, 30.0),)), 365, 80.0)
    assert np.array_equal(shown.result.t_h, engine.t_h) and np.array_equal(shown.result.soc, engine.soc)
    assert shown.result.summary() == engine.summary()
    x, y = view.curve.xData, view.curve.yData  # as set (getData is clipped to the view)
    assert np.allclose(x * 24.0, engine.t_h) and np.array_equal(y, engine.soc)
    figures = {f.key: f for f in shown.figures}
    expected = B.battery_figures(program, device, "liion", 14.0)
    assert figures["charge_minutes_per_day"].value == pytest.approx(expected["charge_minutes_per_day"], rel=1e-12)
    assert figures["days_per_charge"].value == pytest.approx(expected["days_per_charge"], rel=1e-12)
    assert figures[f"hours_per_charge:{program.name}"].value == expected["hours_per_charge"]
    assert figures["daily_draw_mwh"].value == engine.daily_draw_mwh
    text = view.figures_label.text()
    for f in shown.figures:
        assert f.text in text
    assert f"{float(expected['charge_minutes_per_day']):.1f} min a day" in text


def test_charging_every_few_days_equals_the_engine_day_by_day() -> None:
    from stimsim.app.launch import example_slot_programs

    program = example_slot_programs()[2]
    device = DeviceModel("liion")
    for every, minutes, days in ((3, 100.0, 200), (7, 20.0, 60), (2, 39.9, 400)):
        plan = plan_for([(program, 8.0, 14.0)], device, "liion", ChargingHabit(21.0, minutes, every), days, 90.0)
        result = project(plan)
        # the same plan, one engine day at a time
        soc, t_ref, s_ref = 90.0, [], []
        for day in range(days):
            sched = plan.schedule(with_charging=day % every == 0)
            run = B.simulate_schedule(sched, 1, soc)
            t_ref.append(day * 24.0 + run.t_h)
            s_ref.append(run.soc)
            soc = run.end_soc
            if run.stopped_h is not None:
                break
        t_all, s_all = np.concatenate(t_ref), np.concatenate(s_ref)
        probe = np.linspace(0.0, min(float(t_all[-1]), float(result.t_h[-1])), 2001)
        assert np.allclose(result.soc_at(probe), np.interp(probe, t_all, s_all), atol=1e-9), (every, minutes)
        assert result.end_soc == pytest.approx(float(s_all[-1]), abs=1e-9)


def test_a_slow_projection_does_not_hold_the_window(qtbot: QtBot, stim: StimsimApp) -> None:
    view = stim.window.battery.projection
    view.clear_rows()
    view.add_row(3, 8.0, 14.0)
    view.set_habit(ChargingHabit(21.0, 39.9, 2))  # drifts for ten years: ~1800 engine periods
    view.set_span(3652)
    started = time.perf_counter()
    view.recompute()
    assert time.perf_counter() - started < 0.03
    with qtbot.waitSignal(view.projected, timeout=5_000):
        pass
    assert view.last is not None and view.last.result is not None


def test_overlapping_programs_are_refused_in_words(qtbot: QtBot, stim: StimsimApp) -> None:
    view = stim.window.battery.projection
    view.clear_rows()
    view.add_row(1, 8.0, 10.0)
    view.add_row(2, 12.0, 4.0)
    _wait_projection(qtbot, stim)
    assert view.last is not None and "overlap" in view.last.error
    assert "Cannot project" in view.figures_label.text()
    assert compute(1, None, "x").error == "x"


def test_the_comparison_shows_the_engines_figures(qtbot: QtBot, stim: StimsimApp) -> None:
    compare = stim.window.battery.compare
    compare.count_box.setValue(3)
    compare.hours_box.setValue(12.0)
    for col, slot in enumerate((1, 3, 4)):
        compare.choose(col, compare.sources[slot - 1].label)
    device = stim.model.device_model
    for col, slot in enumerate((1, 3, 4)):
        program = stim.model.slots[slot]
        metrics = program_metrics(program, device)
        figures = B.battery_figures(program, device, "liion", 12.0)
        for r, row in enumerate(rows_for("liion"), 2):
            item = compare.table.item(r, col)
            want = metrics.get(row.key, figures.get(row.key))  # type: ignore[call-overload]
            assert item.data(Qt.ItemDataRole.UserRole) == want, (slot, row.key)
            assert item.text() == row.fmt(want)
    assert compare.table.item(0, 0).text() == stim.model.slots[1].name
    assert compare.table.item(1, 0).text().startswith("Tonic")
    csv = compare.csv().splitlines()
    assert csv[0].startswith("figure,Slot 1:")
    line = next(x for x in csv if x.startswith("battery_power_mw,"))
    assert float(line.split(",")[2]) == B.battery_figures(stim.model.slots[3], device, "liion", 12.0)["battery_power_mw"]


def test_a_program_file_joins_the_comparison(qtbot: QtBot, stim: StimsimApp, tmp_path: Path) -> None:
    from stimsim.resources import example_programs

    compare = stim.window.battery.compare
    path = next(p for p in example_programs() if p.name.startswith("hf-10khz"))
    assert compare.add_file(path) == 1
    compare.choose(1, "hf-10khz: " + compare.sources[-1].program.name)
    assert compare.chosen()[1].where == "hf-10khz"
    bad = tmp_path / "bad.stimsim.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.stimsim.json"):
        compare.add_file(bad)


def test_exports_write_the_data_and_the_pictures(qtbot: QtBot, stim: StimsimApp, tmp_path: Path) -> None:
    battery = stim.window.battery
    stim.window.show_face("battery")
    _wait_projection(qtbot, stim)
    shown = battery.projection.last
    assert shown is not None and shown.result is not None
    path = battery.export_csv(tmp_path / "projection.csv", PROJECTION)
    lines = path.read_text(encoding="ascii").splitlines()
    assert lines[0] == "time_h,time_days,soc_percent,state"
    assert len(lines) == len(shown.result.t_h) + 1
    t, d, soc, state = lines[1].split(",")
    assert float(t) == 0.0 and float(soc) == pytest.approx(shown.result.soc[0], abs=1e-6) and state == "OK"
    last = lines[-1].split(",")
    assert float(last[0]) == pytest.approx(shown.result.t_h[-1], abs=1e-6)
    wait_device(qtbot, lambda: len(battery.gauge.history_csv().splitlines()) >= 2)
    level = battery.export_csv(tmp_path / "level.csv", LEVEL).read_text(encoding="ascii").splitlines()
    assert level[0] == "time_min,battery_percent,charging"
    assert battery.export_csv(tmp_path / "compare.csv", COMPARE).read_text(encoding="utf-8").startswith("figure,")
    png = battery.export_image(tmp_path / "projection.png", PROJECTION)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = battery.export_image(tmp_path / "level.svg", LEVEL)
    assert b"<svg" in svg.read_bytes()[:2000]
    with pytest.raises(ValueError, match="png or .svg"):
        battery.export_image(tmp_path / "x.gif", PROJECTION)
    assert not (tmp_path / "x.gif").exists()


def test_battery_keys_are_listed_and_do_not_clash(stim: StimsimApp) -> None:
    from PySide6.QtGui import QAction

    keys = [a.shortcut().toString() for a in stim.window.findChildren(QAction) if not a.shortcut().isEmpty()]
    assert len(keys) == len(set(keys)), keys
    listed = {k for k, _ in KEYS}
    for action in (stim.window.charging_action, stim.window.battery_image_action, stim.window.battery_csv_action):
        assert action.shortcut().toString() in listed
        assert action.toolTip()
    assert "battery" in stim.window.face_names()


def test_alt_letters_of_the_battery_view_are_unique(stim: StimsimApp) -> None:
    import re

    from PySide6.QtWidgets import QAbstractButton

    battery = stim.window.battery
    texts = [b.text() for w in (battery.gauge, battery.projection)
             for b in w.findChildren(QAbstractButton)]
    texts += [battery.tabs.tabText(i) for i in range(battery.tabs.count())]
    texts += [a.text() for a in stim.window.menuBar().actions()]
    letters = [m.group(1).lower() for t in texts if (m := re.search(r"&([^&])", t))]
    assert len(letters) == len(set(letters)), sorted(letters)


def test_the_projection_follows_the_active_amplitude(qtbot: QtBot, stim: StimsimApp) -> None:
    view = stim.window.battery.projection
    _wait_projection(qtbot, stim)
    assert view.last is not None and view.last.plan is not None
    before = view.last.plan.programs[0].power_mw
    amp = stim.model.status.amplitude_ua
    stim.worker.step_amplitude(+5)
    wait_device(qtbot, lambda: stim.model.status.amplitude_ua > amp)
    wait_device(qtbot, lambda: view.last is not None and view.last.plan is not None
                and view.last.plan.programs[0].power_mw > before)
    program = stim.model.active_program()
    assert program is not None
    assert view.last.plan.programs[0] == B.ProgramPeriod.of(program, DeviceModel("liion"), 0.0, 24.0)


def test_bringing_the_view_forward_reads_the_battery(qtbot: QtBot, stim: StimsimApp) -> None:
    sent: list[str] = []
    stim.model.consoleLine.connect(lambda line: sent.append(line.text) if line.direction == ">" else None)
    stim.window.show_face("battery")
    wait_device(qtbot, lambda: any(" BATT " in f" {t} " for t in sent))
