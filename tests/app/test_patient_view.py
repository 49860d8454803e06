"""The Patient view: a rehearsal fed by what the device reports, on the virtual generator."""

from __future__ import annotations

import html
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from stimsim.app.launch import StimsimApp
from stimsim.app.model import Action
from stimsim.app.patient import drg_lead_drawing as drg
from stimsim.app.patient.lead_view import BONE, CATHODE, OVERVIEW_SHARE, LeadView
from stimsim.app.patient.session import Exchange, PatientSession
from stimsim.app.patient.view import PatientView
from stimsim.app.records.report import RecordContent, report_html
from stimsim.engine.params import Mode
from stimsim.engine.program import Electrodes, Program
from stimsim.host.limits import DEFAULT_PIN
from stimsim.patient import DrgLead, DrgLeads, Relief, delivered_ma, evaluate
from stimsim.patient import scenario as S

from .conftest import wait_device

LOW_BACK = "low-back-left-leg-t8"


def _view(stim: StimsimApp) -> PatientView:
    view = stim.window.patient_view
    stim.window.show_face("patient")
    return view


def _actions(stim: StimsimApp) -> list[Action]:
    seen: list[Action] = []
    stim.model.actionRecorded.connect(seen.append)
    return seen


def _start(qtbot: QtBot, stim: StimsimApp, name: str) -> tuple[PatientView, S.Scenario]:
    view = _view(stim)
    view.select(name)
    view.start_button.click()
    scenario = S.load(S.find(name))
    want = scenario.programs[0]
    wait_device(qtbot, lambda: (p := stim.model.slots.get(want.slot)) is not None
                and (p.mode, p.electrodes, p.amplitude_ua) == (want.mode, want.electrodes, want.amplitude_ua)
                and stim.model.status.slot == want.slot)
    return view, scenario


def _stim_on(qtbot: QtBot, stim: StimsimApp) -> None:
    stim.worker.toggle_stimulation()
    wait_device(qtbot, lambda: stim.model.status.stim_on)


def _raise_until_felt(qtbot: QtBot, stim: StimsimApp, session: PatientSession) -> None:
    for _ in range(60):
        if session.response is not None and session.response.felt:
            return
        amp = stim.model.status.amplitude_ua
        stim.worker.step_amplitude(+1)
        wait_device(qtbot, lambda a=amp: stim.model.status.amplitude_ua != a)  # type: ignore[misc]
    raise AssertionError("never felt")


def _titrated(scenario: S.Scenario, program: Program, share: float) -> Program:
    probe = evaluate(scenario.patient, program, 0.0)
    amp = probe.pt_ma + share * (probe.dt_ma - probe.pt_ma)
    return replace(program, amplitude_ua=round(amp * 100) * 10)


def test_starting_a_scenario_writes_its_programs_and_records_the_start(qtbot: QtBot, stim: StimsimApp) -> None:
    seen = _actions(stim)
    view, scenario = _start(qtbot, stim, "burst-wash-in")
    assert stim.model.slots[1].mode is Mode.BURST
    start = [a for a in seen if a.what == "scenario_start"]
    assert len(start) == 1 and start[0].data["scenario"] == "burst-wash-in"
    assert view.session.scenario is not None and view.session.scenario.name == scenario.name
    assert "Burst" in view.brief.toPlainText()


def test_a_new_patient_starts_with_stimulation_off(qtbot: QtBot, stim: StimsimApp) -> None:
    _stim_on(qtbot, stim)
    view, _ = _start(qtbot, stim, LOW_BACK)
    wait_device(qtbot, lambda: not stim.model.status.stim_on)
    assert view.session.program is None
    assert view.session.dialogue[-1].text == "The stimulation is off. I don't feel anything."
    assert view.session.dialogue[0].text.startswith("Hello. My pain is ")  # the greeting comes first


def test_the_map_shows_the_models_regions_for_the_delivered_program_and_follows_changes(
        qtbot: QtBot, stim: StimsimApp) -> None:
    view, scenario = _start(qtbot, stim, LOW_BACK)
    session = view.session
    assert session.program is None and view.body.felt_regions() == set()
    lines = len(session.dialogue)
    _stim_on(qtbot, stim)
    wait_device(qtbot, lambda: session.program is not None)
    assert session.response is not None and not session.response.felt  # 2 mA: below this patient's threshold
    assert len(session.dialogue) == lines + 1 and session.dialogue[-1].text == "I don't feel anything."
    _raise_until_felt(qtbot, stim, session)
    delivered = stim.model.output_program()
    assert delivered is not None
    expected = evaluate(scenario.patient, delivered, delivered_ma(delivered, stim.model.device_model))
    assert expected.regions
    assert view.body.felt_regions() == set(expected.regions)
    assert session.dialogue[-1].text == expected.says
    assert "Coverage" in view.coverage_label.text()
    # Amplitude up: a new answer and a new map, painted within a frame of the device's report.
    before = session.response
    stim.worker.step_amplitude(+5)
    wait_device(qtbot, lambda: session.response is not None and session.response != before)
    changed = session.changed_at
    wait_device(qtbot, lambda: view.body.painted_at > changed, timeout=1_000)
    assert view.body.painted_at - changed < 0.050
    delivered = stim.model.output_program()
    assert delivered is not None
    now = evaluate(scenario.patient, delivered, delivered_ma(delivered, stim.model.device_model))
    assert view.body.felt_regions() == set(now.regions)
    assert session.dialogue[-1].who == "patient" and session.dialogue[-1].text == now.says
    assert view.conversation.item(view.conversation.count() - 1).text().startswith(f"Patient: {now.says}")


def test_a_posture_change_changes_the_thresholds_and_the_answer(qtbot: QtBot, stim: StimsimApp) -> None:
    view, _ = _start(qtbot, stim, "posture-lateral-lying-down")
    session = view.session
    view.ask_buttons["sitting"].click()
    _stim_on(qtbot, stim)
    wait_device(qtbot, lambda: session.response is not None)
    assert session.response is not None
    sitting_pt = session.response.pt_ma
    view.ask_buttons["supine"].click()
    assert session.posture == "supine"
    assert session.response.pt_ma < sitting_pt
    said = session.dialogue[-1].text
    assert session.dialogue[-2].text == "Please lie down on your back."
    assert said.startswith("Now I'm lying on my back.") and session.response.says in said
    view.ask_buttons["where"].click()
    assert session.dialogue[-1].who == "patient"


def test_the_clock_advances_relief_like_relief_stepped_directly(qtbot: QtBot, stim: StimsimApp) -> None:
    view, scenario = _start(qtbot, stim, LOW_BACK)
    session = view.session
    _stim_on(qtbot, stim)
    _raise_until_felt(qtbot, stim, session)
    direct = Relief(scenario.params)
    direct.advance(0.0, None)
    view.skip_buttons[0].click()  # one hour
    direct.advance(3600.0, session.response)
    assert session.relief is not None and session.relief.value == pytest.approx(direct.value, rel=1e-12)
    assert session.relief.value > 0
    assert session.history[0][-1] == pytest.approx(1.0)
    # The plots are built when the Time tab first shows, with the history so far.
    assert view.relief_curve is None
    view.tabs.setCurrentIndex(2)
    assert view.relief_curve is not None and view.vas_curve is not None
    assert list(view.relief_curve.getData()[1]) == session.history[1]
    assert list(view.vas_curve.getData()[1]) == session.history[2]
    # The running clock moves session time at its speed (an hour per minute: 60x).
    view.run_button.click()
    start = session.sim_s
    qtbot.wait(400)
    view.run_button.click()
    assert 60 * 0.2 < session.sim_s - start < 60 * 3.0


@pytest.mark.parametrize(("program", "grade", "part", "words"), [
    (Program(Mode.TONIC, 1000, 450, 50, Electrodes.of({"2": -50, "10": -50, "case": 100})), "good", "coverage",
     "paresthesia covers"),
    (Program(Mode.TONIC, 1000, 300, 50, Electrodes.of({"8": -50, "16": -50, "case": 100})), "poor", "coverage",
     "covers only"),
])
def test_a_scripted_session_scores_through_the_view(qtbot: QtBot, stim: StimsimApp, program: Program, grade: str,
                                                     part: str, words: str) -> None:
    seen = _actions(stim)
    view, scenario = _start(qtbot, stim, LOW_BACK)
    session = view.session
    chosen = replace(_titrated(scenario, program, 0.7), slot=1)
    stim.worker.write_programs((chosen,), DEFAULT_PIN, 1)
    wait_device(qtbot, lambda: stim.model.slots[1].electrodes == chosen.electrodes)
    _stim_on(qtbot, stim)
    wait_device(qtbot, lambda: session.program is not None and session.program.electrodes == chosen.electrodes)
    session.advance(1800.0)
    view.finish_button.click()
    result = session.result
    assert result is not None
    assert result.grade == grade, [p.reason for p in result.parts]
    assert words in result.part(part).reason
    assert result.responder is (grade == "good")
    text = view.score_text.toPlainText()
    assert f": {grade}" in text and result.part(part).reason in text
    scored = [a for a in seen if a.what == "score"]
    dialogue = [a for a in seen if a.what == "dialogue"]
    assert len(scored) == 1 and scored[0].data["grade"] == grade
    assert len(dialogue) == 1 and len(dialogue[0].data["lines"]) == len(session.dialogue)
    assert not session.active and not view.finish_button.isEnabled()


def test_a_confirmed_charge_warning_and_discomfort_cost_safety_points(qtbot: QtBot, stim: StimsimApp) -> None:
    view, scenario = _start(qtbot, stim, LOW_BACK)
    session = view.session
    stim.model.record_action("clinician", "confirm_charge", "Charge density confirmed on contact 5")
    hot = replace(_titrated(scenario, scenario.programs[0], 1.3), slot=1)
    stim.worker.write_programs((hot,), DEFAULT_PIN, 1)
    wait_device(qtbot, lambda: stim.model.slots[1].amplitude_ua == hot.amplitude_ua)
    _stim_on(qtbot, stim)
    wait_device(qtbot, lambda: session.response is not None)
    assert session.response is not None and session.response.sensation == "uncomfortable"
    view.finish_button.click()
    assert session.result is not None
    reason = session.result.part("safety").reason
    assert "a charge-density warning was confirmed (1 time)" in reason
    assert "the patient was hurt" in reason and "the final program is uncomfortable" in reason


def test_marks_are_compared_with_the_models_regions(qtbot: QtBot, stim: StimsimApp) -> None:
    view, _ = _start(qtbot, stim, LOW_BACK)
    session = view.session
    _stim_on(qtbot, stim)
    _raise_until_felt(qtbot, stim, session)
    assert session.response is not None
    felt = sorted(session.response.regions)
    qtbot.mouseClick(view.body, Qt.MouseButton.LeftButton,
                     pos=view.body.region_centre(felt[0]).toPoint())
    assert session.marks == {felt[0]}
    assert view.marks_label.text().endswith("agree 1") and "agreeing: 1" in view.marks_label.toolTip()
    view.clear_marks.click()
    assert session.marks == set()


def test_the_session_refuses_questions_and_scores_before_a_start(qtbot: QtBot, stim: StimsimApp) -> None:
    session = PatientSession(stim.model)
    with pytest.raises(ValueError, match="start a scenario first"):
        session.ask("where")
    with pytest.raises(ValueError, match="start a scenario first"):
        session.finish()
    view = _view(stim)
    view.finish()
    assert not view.finish_button.isEnabled()
    view.ask("where")
    assert view.state_label.text() == "Start a scenario first."


def test_the_same_words_again_are_counted_on_one_line(qtbot: QtBot, stim: StimsimApp) -> None:
    view = _view(stim)
    view.conversation.clear()
    for text in ("Tingling in my left buttock, mild.", "Tingling in my left buttock, mild.", "That's uncomfortable."):
        view._add_line(Exchange("patient", text, 1.0, 1.0))
    assert [view.conversation.item(i).text() for i in range(view.conversation.count())] == [
        "Patient: Tingling in my left buttock, mild. (×2)", "Patient: That's uncomfortable."]


def test_the_leads_show_the_active_programs_polarity_and_the_trainer_marks_hide(qtbot: QtBot,
                                                                                 stim: StimsimApp) -> None:
    view, scenario = _start(qtbot, stim, LOW_BACK)
    assert view.leads.polarity() == scenario.programs[0].electrodes.as_dict() == {"4": 50, "5": -100, "6": 50}
    assert "Lead A top at T8" in view.leads.describe()
    _stim_on(qtbot, stim)
    wait_device(qtbot, lambda: view.session.response is not None)
    assert view.trainer_label.text().startswith("Cathode T8.98")
    view.trainer_box.click()
    assert not view.leads.show_trainer and view.trainer_label.text() == ""
    view.leads.grab()  # paints without the marks


def test_a_program_on_a_lead_the_patient_lacks_is_explained_and_not_scored(qtbot: QtBot, stim: StimsimApp) -> None:
    view, _ = _start(qtbot, stim, "posture-lateral-lying-down")  # lead A only
    on_b = Program(Mode.TONIC, 2000, 300, 50, Electrodes.of({"12": -100, "case": 100}), slot=1)
    stim.worker.write_programs((on_b,), DEFAULT_PIN, 1)
    wait_device(qtbot, lambda: stim.model.slots[1].electrodes == on_b.electrodes)
    _stim_on(qtbot, stim)
    wait_device(qtbot, lambda: view.session.program is not None)
    assert view.session.response is None and "lead B" in view.session.problem
    assert "lead B" in view.session.dialogue[-1].text
    view.finish_button.click()
    assert view.session.result is None and view.session.active
    assert view.state_label.text().startswith("Cannot score yet:") and "lead B" in view.state_label.text()


def test_the_report_shows_the_score_and_the_conversation_not_each_line_as_a_change(qtbot: QtBot,
                                                                                     stim: StimsimApp) -> None:
    seen = _actions(stim)
    view, scenario = _start(qtbot, stim, LOW_BACK)
    _stim_on(qtbot, stim)
    wait_device(qtbot, lambda: view.session.program is not None)
    view.ask_buttons["where"].click()
    view.finish_button.click()
    assert view.session.result is not None
    entries = tuple({"t": "2026-12-04T06:00:00Z", "who": a.who, "what": a.what, "text": a.text, "data": dict(a.data),
                     "source": a.source} for a in seen)
    text = report_html(RecordContent(Path("session.jsonl"), entries, None), with_plot=False)
    changes = text.split("<h2>Changes</h2>")[1].split("<h2>")[0]
    assert "Where do you feel it?" not in changes and "Scenario started" in changes
    section = text.split("<h2>Virtual patient</h2>")[1].split("<h2>")[0]
    assert scenario.name in section and view.session.result.grade in section
    for part in view.session.result.parts:
        assert html.escape(part.reason) in section
    assert "Where do you feel it?" in section and html.escape(view.session.dialogue[-1].text) in section


def test_the_open_contact_scenario_puts_its_open_contact_and_battery_on_the_stimulator(
        qtbot: QtBot, stim: StimsimApp) -> None:
    _start(qtbot, stim, "open-contact")  # the implant reads 5200 ohm at contact 4, its battery 70 %
    qtbot.waitUntil(lambda: 690 <= (stim.model.status.battery_permille or 0) <= 700, timeout=5_000)  # it drains
    clinician = stim.window.clinician
    clinician.log_in(DEFAULT_PIN)
    qtbot.waitUntil(lambda: clinician.logged_in, timeout=5_000)
    clinician.check_impedance()
    qtbot.waitUntil(lambda: len(clinician.impedances) == 17, timeout=5_000)
    assert clinician.impedances["4"] == "OPEN" and clinician.impedances["5"] != "OPEN"


DRG = "drg-knee-foot-l4-l5"


def _blue_columns(image: QImage, top: int, bottom: int) -> list[int]:
    """The x of every pixel in rows top..bottom painted in the lead view's cathode colour."""
    return [x for y in range(max(0, top), min(image.height(), bottom)) for x in range(image.width())
            if image.pixelColor(x, y) == CATHODE]


def test_a_drg_scenario_shows_its_leads_at_their_roots_and_the_models_coverage(qtbot: QtBot,
                                                                               stim: StimsimApp) -> None:
    """The built-in generator takes the DRG scenario's program (its contacts exist there too);
    the lead view draws the two leads on the left at L4 and L5, the map the model's regions."""
    view, scenario = _start(qtbot, stim, DRG)
    assert view.leads.polarity() == {"2": -50, "3": 50, "6": -50, "7": 50}
    assert view.leads.describe() == "Lead A at the left L4 root; Lead B at the left L5 root"
    assert "lead A at the left L4 root; lead B at the left L5 root" in view.brief.toPlainText()
    _stim_on(qtbot, stim)
    _raise_until_felt(qtbot, stim, view.session)
    delivered = stim.model.output_program()
    assert delivered is not None
    expected = evaluate(scenario.patient, delivered, delivered_ma(delivered, stim.model.device_model))
    assert view.body.felt_regions() == set(expected.regions) == {"left_knee", "left_leg", "left_foot"}
    assert view.leads.describe().endswith("; most cathodic lead at L4")
    assert view.trainer_label.text().startswith("Most cathodic lead at L4 ◆\nPT 0.69 · DT 1.11")
    view.leads.resize(240, 360)
    image = view.leads.grab().toImage()
    detail_left = int(240 * OVERVIEW_SHARE)
    blue = [x for x in _blue_columns(image, 0, image.height()) if x > detail_left]
    bone = [x for y in range(image.height()) for x in range(detail_left, 240) if image.pixelColor(x, y) == BONE]
    assert blue and bone and max(blue) < min(bone)  # both leads' cathodes left of the spine


def test_the_drg_leads_show_the_implants_impedances_and_its_faults(qtbot: QtBot, stim: StimsimApp) -> None:
    """DRG contacts read 800 ohm unless the scenario says otherwise; a fault the device reports is added."""
    view, scenario = _start(qtbot, stim, DRG)
    notes = view.leads.contact_notes()
    assert set(notes) == {str(c) for c in range(1, 17)} and notes["2"] == "800Ω"
    stim.model.faults = {"6": "OPEN"}
    assert view.leads.contact_notes()["6"] == "800Ω OPEN"
    view.leads.grab()


def test_the_drg_drawing_puts_four_leads_on_their_sides_at_their_roots(qapp: QApplication) -> None:
    """Drawn directly: leads on both sides at roots far apart; each cathode lies on its lead's side, at its root."""
    leads = DrgLeads((DrgLead("A", "L2", "left"), DrgLead("B", "L3", "right"), DrgLead("C", "L4", "left"),
                      DrgLead("D", "S1", "right")))
    image = QImage(200, 500, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    rect = QRectF(0, 0, 200, 500)
    shown = drg.span(leads)
    painter = QPainter(image)
    drg.draw(painter, rect, shown, LeadView._y, leads, {"2": -50, "3": 50, "14": -50, "15": 50}, {"2": "800Ω"},
             None)
    painter.end()

    def rows(level: float) -> tuple[int, int]:
        return int(LeadView._y(rect, *shown, level)), int(LeadView._y(rect, *shown, level + 1.0))

    assert shown == (20.5, 26.0)
    a = _blue_columns(image, *rows(21.0))  # L2: lead A, left
    d = _blue_columns(image, *rows(25.0))  # S1: lead D, right
    assert a and max(a) < 100 and d and min(d) > 100
    assert not _blue_columns(image, *rows(22.0)) and not _blue_columns(image, *rows(23.0))  # B and C: off


def test_a_scenario_of_another_family_switches_to_the_built_in_implant_of_that_family(
        qtbot: QtBot, stim: StimsimApp) -> None:
    view, scenario = _start(qtbot, stim, "drg-knee-foot-l4-l5")
    assert scenario.family == "DRG"
    wait_device(qtbot, lambda: stim.model.device_model.family == "DRG", timeout=5_000)
    assert stim.worker.link.url == "virtual://builtin-drg"
    assert stim.model.identity.label == "Built-in virtual generator (DRG)"


def test_a_scenario_of_another_family_is_not_played_on_a_stimulator_of_the_wrong_one(
        qtbot: QtBot, stim: StimsimApp) -> None:
    view = _view(stim)
    view.implant_for = lambda _family: None  # as on a board or an emulator: never swapped
    slots = dict(stim.model.slots)
    view.select("drg-knee-foot-l4-l5")
    view.start_button.click()
    assert "is played on a DRG implant; the stimulator connected is SCS-R" in view.state_label.text()
    assert view.session.scenario is None and stim.model.slots == slots
