"""The Trial view: the clock's evenings, the diary as ``stimsim trial`` gives it, the verdict, the record, the transfer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from stimsim.app.launch import AppOptions, StimsimApp
from stimsim.app.model import Action
from stimsim.app.records.report import RecordContent, report_html
from stimsim.app.trial.clock import TrialClock, evening_at
from stimsim.app.trial.view import TrialView, diary_cells
from stimsim.cli import main
from stimsim.engine.params import Family
from stimsim.generator import urlhandler

SUCCESS = "trial-lasting-relief"
FADES = "trial-relief-fades"


def _view(stim: StimsimApp) -> TrialView:
    stim.window.show_face("trial")
    return stim.window.trial_view


def _actions(stim: StimsimApp) -> list[Action]:
    seen: list[Action] = []
    stim.model.actionRecorded.connect(seen.append)
    return seen


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    capsys.readouterr()
    assert main(["trial", *args]) == 0
    data: dict[str, object] = json.loads(capsys.readouterr().out)
    return data


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_the_clock_announces_each_evening_once_and_stops_after_the_last(qtbot: QtBot) -> None:
    now = Clock()
    clock = TrialClock(clock=now)
    evenings: list[int] = []
    clock.evening.connect(evenings.append)
    with qtbot.waitSignal(clock.finished, timeout=100, raising=False) as over:
        clock.reset(3)
        assert clock.words() == "Day 1 of 3, 08:00"
        clock.advance(11.5)
        assert evenings == [] and clock.words() == "Day 1 of 3, 19:30"
        clock.advance(0.5)
        assert evenings == [1]
        clock.advance(30)  # past day 2's evening into day 3
        assert evenings == [1, 2] and clock.words() == "Day 3 of 3, 02:00"
        clock.advance(1000)
    assert over.signal_triggered and evenings == [1, 2, 3] and clock.over
    assert clock.hours == evening_at(3) == 60.0 and not clock.running
    clock.speed = 24.0  # a running clock moves with real time times the speed
    clock.reset(4)
    clock.run(True)
    now.t = 0.5
    clock._tick()
    assert clock.hours == 12.0 and evenings == [1, 2, 3, 1]
    clock.run(False)
    assert not clock.running
    with pytest.raises(ValueError, match="3..10 days"):
        clock.reset(11)


@pytest.mark.parametrize(("name", "candidate"), [(SUCCESS, True), (FADES, False)])
def test_a_seven_day_trial_played_through_gives_the_clis_numbers_and_verdict(
        qtbot: QtBot, stim: StimsimApp, capsys: pytest.CaptureFixture[str], name: str, candidate: bool) -> None:
    seen = _actions(stim)
    view = _view(stim)
    view.select(name)
    assert view.clock.days == 7 and view.table.rowCount() == 0
    assert not view.transfer_button.isEnabled()
    with qtbot.waitSignal(view.reported, timeout=2_000):
        view.play_to_end()
    cli = _cli(capsys, name)
    days = cli["days"]
    assert isinstance(days, list) and view.result is not None
    assert [e.relief for e in view.diary] == pytest.approx([d["relief"] for d in days], rel=1e-11)
    assert [e.vas for e in view.diary] == pytest.approx([d["vas"] for d in days], rel=1e-11)
    assert view.result.candidate is candidate is cli["candidate"]
    assert view.result.mean_relief_last3 == pytest.approx(cli["mean_relief_last3"], rel=1e-11)
    # the table shows each evening, the plot each point, the report the verdict
    assert view.table.rowCount() == 7
    for row, entry in enumerate(view.diary):
        assert tuple(view.table.item(row, c).text() for c in range(6)) == diary_cells(entry)
    xs, ys = view.vas_curve.getData()
    assert list(xs) == [0, 1, 2, 3, 4, 5, 6, 7] and ys[0] == view.result.baseline_vas
    assert list(ys[1:]) == pytest.approx([e.vas for e in view.diary])
    _, relief = view.relief_curve.getData()
    assert list(relief[1:]) == pytest.approx([100 * e.relief for e in view.diary])
    verdict = "candidate for an implant" if candidate else "not a candidate for an implant"
    assert f">{verdict}</b>" in view.report_label.text()
    assert view.progress.format() == "Day 7 of 7, 20:00 (over)" and view.progress.value() == 1000
    assert view.transfer_button.isEnabled()
    # the record: the start, every evening, the report (with the diary)
    whats = [a.what for a in seen]
    assert whats.count("trial_start") == 1 and whats.count("trial_diary") == 7 and whats.count("trial_report") == 1
    report = next(a for a in seen if a.what == "trial_report")
    assert report.data["candidate"] is candidate and report.data["scenario"] == name
    assert verdict in report.text


def test_the_clock_fills_the_diary_evening_by_evening(qtbot: QtBot, stim: StimsimApp) -> None:
    view = _view(stim)
    view.select(SUCCESS)
    view.days_box.setValue(3)
    view.hours_box.setValue(8)
    view.speed_box.setCurrentIndex(view.speed_box.count() - 1)  # a day per second
    assert view.clock.speed == 24.0
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    assert view.clock.running and view.run_button.text() == "Pause"
    qtbot.waitUntil(lambda: view.table.rowCount() >= 1, timeout=3_000)
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    assert not view.clock.running and view.run_button.text() == "Resume"
    paused = view.clock.hours
    qtbot.wait(250)
    assert view.clock.hours == paused
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.result is not None, timeout=5_000)
    assert [e.day for e in view.diary] == [1, 2, 3] and all(e.hours == 8 for e in view.diary)
    assert view.diary[0].relief == pytest.approx(view.trial.entry(1).relief)  # type: ignore[union-attr]
    qtbot.mouseClick(view.restart_button, Qt.MouseButton.LeftButton)
    assert view.table.rowCount() == 0 and view.result is None and view.clock.hours == 0


def test_a_program_with_a_case_anode_is_refused_in_words(stim: StimsimApp) -> None:
    from dataclasses import replace

    from stimsim.engine.program import Electrodes

    view = _view(stim)
    view.select(SUCCESS)
    assert view.scenario is not None
    bad = replace(view.scenario.programs[1], electrodes=Electrodes.of({"7": -100, "case": 100}))
    view.scenario = replace(view.scenario, programs=(view.scenario.programs[0], bad))
    view.set_program(2)
    assert view.trial is None and not view.run_button.isEnabled()
    assert "The trial cannot run" in view.report_label.text() and "no case to use as an anode" in \
        view.report_label.text()
    assert [p.slot for p in view.programs] == [1]  # only what runs on the ETS goes to the implant


def test_the_pdf_report_carries_the_diary_and_the_verdict(qtbot: QtBot, stim: StimsimApp) -> None:
    seen = _actions(stim)
    view = _view(stim)
    view.select(FADES)
    with qtbot.waitSignal(view.reported, timeout=2_000):
        view.play_to_end()
    entries = tuple({"t": "2026-12-04T06:00:00Z", "who": a.who, "what": a.what, "text": a.text,
                     "data": json.loads(json.dumps(dict(a.data))), "source": a.source} for a in seen)
    text = report_html(RecordContent(Path("session.jsonl"), entries, None), with_plot=False)
    changes = text.split("<h2>Changes</h2>")[1].split("<h2>")[0]
    assert "Trial started" in changes and "diary" not in changes
    section = text.split("<h2>Trial</h2>")[1].split("<h2>")[0]
    assert "not a candidate for an implant" in section and "Trial: relief that fades within the week" in section
    for entry in view.diary:
        assert f"<td>{entry.vas:.1f}</td>" in section and f"<td>{100 * entry.relief:.0f} %</td>" in section


def test_transfer_to_the_built_in_implant_shows_each_slots_read_back(qtbot: QtBot, stim: StimsimApp) -> None:
    implant = urlhandler.new_generator(rng_seed=5, family=Family.SCS_R, sn="IPG-TEST-9")
    url = urlhandler.register_generator("trial-implant-test", implant)
    try:
        seen = _actions(stim)
        view = _view(stim)
        view.implant_url = url
        view.select(SUCCESS)
        view.play_to_end()
        dialog = view.open_transfer()
        assert dialog.builtin.isChecked() and dialog.target_url() == url
        with qtbot.waitSignal(dialog.finished_report, timeout=5_000):
            dialog.go.click()
        dialog.wait()
        items = [dialog.results.item(i).text() for i in range(dialog.results.count())]
        assert items == ["✓ Slot 1 (Trial 10 kHz): written, read back and identical",
                         "✓ Slot 2 (Trial tonic): written, read back and identical"]
        assert dialog.status.text().startswith("STIMSIM-VG SN IPG-TEST-9 (SCS-R): 2 of 2 program(s)")
        assert dialog.bar.value() == 2
        assert [s.program.name if s else None for s in implant.slots[:3]] == ["Trial 10 kHz", "Trial tonic", None]
        transfer = next(a for a in seen if a.what == "trial_transfer")
        assert transfer.data["target_sn"] == "IPG-TEST-9" and len(transfer.data["lines"]) == 2  # type: ignore[arg-type]
        # a port that is not there is said in words, nothing raised
        dialog.port.setChecked(True)
        dialog.url.setText("socket://127.0.0.1:9")
        with qtbot.waitSignal(dialog.finished_report, timeout=10_000):
            dialog.go.click()
        dialog.wait()
        assert dialog.report is not None and dialog.report.failed.startswith("cannot reach the implant")
        dialog.close()
    finally:
        urlhandler.unregister_generator("trial-implant-test")


def test_gui_scenario_of_a_trial_opens_the_trial_view(qtbot: QtBot, qapp: QApplication, gen: object) -> None:
    url = urlhandler.register_generator("trial-start-test", gen)  # type: ignore[arg-type]
    app = StimsimApp(AppOptions(scenario=FADES), builtin_url=url, ports=lambda: [])
    qtbot.addWidget(app.window)
    try:
        with qtbot.waitSignal(app.worker.setupFinished, timeout=10_000):
            app.start()
        assert app.window.faces.currentWidget() is app.window.trial_view
        assert app.window.trial_view.scenario is not None and app.window.trial_view.scenario.name == FADES
    finally:
        app.shutdown()
        urlhandler.unregister_generator("trial-start-test")


def test_only_trial_scenarios_are_offered(stim: StimsimApp) -> None:
    assert "trial" in stim.window.face_names()
    view = stim.window.trial_view
    assert set(view.scenarios) >= {SUCCESS, FADES}
    assert all(s.family is Family.ETS for s in view.scenarios.values())
    with pytest.raises(KeyError, match="trial scenarios"):
        view.select("low-back-left-leg-t8")


def test_the_diary_goes_above_the_plot_when_the_view_is_narrow(qtbot: QtBot) -> None:
    from stimsim.app.model import AppModel

    view = TrialView(AppModel())
    qtbot.addWidget(view)
    view.show()
    view.resize(view.table.minimumWidth() + 400, 600)
    qtbot.waitUntil(lambda: view.split.orientation() is Qt.Orientation.Horizontal, timeout=1_000)
    view.resize(view.table.minimumWidth() + 100, 600)
    qtbot.waitUntil(lambda: view.split.orientation() is Qt.Orientation.Vertical, timeout=1_000)
