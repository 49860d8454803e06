"""The ECAP view on a closed-loop (SCS-CL) generator: the stream, posture and cough moving the
device's nerve with the patient, the growth curve and its fit, writing the loop as a clinician,
open against closed, and the closed-loop scenario played both ways through the app."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from stimsim.app.ecap.view import LOGIN_WORDS, EcapView
from stimsim.app.launch import AppOptions, StimsimApp, example_slot_programs
from stimsim.app.model import ConsoleLine, Link
from stimsim.app.patient.session import PatientSession
from stimsim.app.style import apply_style
from stimsim.engine import params as P
from stimsim.generator import urlhandler
from stimsim.host.results import EcapPoint, EcapReading
from stimsim.patient.model import UNCOMFORTABLE

from .conftest import wait_device

_names = itertools.count(1)
SCENARIO = "closed-loop-lying-down"


@pytest.fixture
def cl(qtbot: QtBot, qapp: QApplication) -> Iterator[StimsimApp]:
    """The app on a fresh SCS-CL generator with its examples, the ECAP noise off."""
    apply_style(qapp)
    gen = urlhandler.new_generator(rng_seed=11, family=P.Family.SCS_CL)
    name = f"ecap-{next(_names)}"
    url = urlhandler.register_generator(name, gen)
    app = StimsimApp(AppOptions(family=P.Family.SCS_CL), builtin_url=url, ports=lambda: [])
    qtbot.addWidget(app.window)
    with qtbot.waitSignal(app.worker.setupFinished, timeout=10_000):
        app.start()
    count = len(example_slot_programs(P.Family.SCS_CL))
    qtbot.waitUntil(lambda: app.model.link is Link.CONNECTED and len(app.model.slots) == count, timeout=5_000)
    app.worker.send_line("SIM ECAP_NOISE=0")
    yield app
    app.shutdown()
    urlhandler.unregister_generator(name)


def _view(stim: StimsimApp) -> EcapView:
    stim.window.show_face("ecap")
    return stim.window.ecap_view


def _reading(qtbot: QtBot, stim: StimsimApp) -> EcapReading:
    got: list[EcapReading | None] = []
    stim.worker.read_ecap(got.append)
    wait_device(qtbot, lambda: bool(got))
    assert got[0] is not None
    return got[0]


def _login(qtbot: QtBot, stim: StimsimApp) -> None:
    stim.worker.login("0000")
    wait_device(qtbot, lambda: stim.model.status.role == "CLINICIAN")


def _stim_on(qtbot: QtBot, stim: StimsimApp) -> None:
    if not stim.model.status.stim_on:
        stim.worker.toggle_stimulation()
    wait_device(qtbot, lambda: stim.model.status.stim_on)


def test_on_another_family_the_view_says_what_it_needs(qtbot: QtBot, stim: StimsimApp) -> None:
    view = _view(stim)
    assert not view.pages.isEnabled()
    assert "needs a closed-loop stimulator (SCS-CL); the one connected is SCS-R" in view.need_label.text()
    assert "stimsim gui --family SCS-CL" in view.need_label.text()
    view.set_posture("supine")  # the app's posture moves; nothing is sent to an SCS-R
    assert stim.model.posture == "supine"


def test_the_stream_reaches_the_bar_and_the_rolling_plot_and_stays_out_of_the_busy_console(
        qtbot: QtBot, cl: StimsimApp) -> None:
    lines: list[ConsoleLine] = []
    cl.model.consoleLine.connect(lines.append)
    view = _view(cl)
    assert view.pages.isEnabled() and not view.need_label.isVisible()
    _stim_on(qtbot, cl)
    wait_device(qtbot, lambda: len(view.live) >= 5)
    assert view.bar.ecap_uv is not None and view.bar.window_uv is not None
    assert "ECAP" in view.readout.text() and "window" in view.readout.text()
    stream = [line for line in lines if line.text.startswith("!ECAP ")]
    assert stream and all(line.poll for line in stream)  # hidden with the status polls
    cl.window.show_face("scope")  # the stream stops when the view is hidden
    wait_device(qtbot, lambda: any("ECAP STREAM=0" in line.text for line in lines))


def test_posture_and_cough_move_the_devices_nerve_and_the_one_posture_of_the_app(
        qtbot: QtBot, cl: StimsimApp) -> None:
    view = _view(cl)
    sitting = _reading(qtbot, cl)
    view.posture_buttons["supine"].click()
    assert cl.model.posture == "supine" and view.posture_buttons["supine"].isChecked()
    wait_device(qtbot, lambda: _reading(qtbot, cl).threshold_ua < sitting.threshold_ua * 0.7)
    cl.model.set_posture("standing")  # the Patient view's buttons set the same state
    assert view.posture_buttons["standing"].isChecked()
    wait_device(qtbot, lambda: _reading(qtbot, cl).threshold_ua > sitting.threshold_ua)
    lines: list[ConsoleLine] = []
    cl.model.consoleLine.connect(lines.append)
    view.cough_button.click()
    wait_device(qtbot, lambda: any("SIM COUGH" in line.text for line in lines))


def test_the_growth_curve_is_swept_as_a_clinician_and_fitted(qtbot: QtBot, cl: StimsimApp) -> None:
    view = _view(cl)
    view.run_sweep()
    assert "clinician" in view.fit_label.text()
    _login(qtbot, cl)
    view.run_sweep()
    assert "stimulation on" in view.fit_label.text().lower()
    _stim_on(qtbot, cl)
    truth = _reading(qtbot, cl)
    view.sweep_from.setValue(1.0)
    view.sweep_to.setValue(9.0)
    view.sweep_step.setValue(0.5)
    view.run_sweep()
    wait_device(qtbot, lambda: view.fit is not None, timeout=5_000)
    assert view.fit is not None and len(view.sweep) == 17
    assert view.fit.threshold_ua == pytest.approx(truth.threshold_ua, abs=15)
    assert view.fit.slope_uv_per_ma == pytest.approx(truth.slope_uv_per_ma, rel=0.01)
    assert "ECAP threshold" in view.fit_label.text()
    view.target_from_curve()
    th = view.nerve()
    assert th is not None
    assert view.fit.ecap_uv(th.pt_ma * 1000) < view.target_spin.value() < view.fit.ecap_uv(th.dt_ma * 1000)


def test_setting_up_the_loop_writes_it_through_the_clinicians_path(qtbot: QtBot, cl: StimsimApp) -> None:
    view = _view(cl)
    slot = cl.model.status.slot
    view.write_loop()
    assert view.setup_label.text() == LOGIN_WORDS
    assert cl.model.slots[slot].closed_loop is None or not cl.model.slots[slot].closed_loop.closed
    _login(qtbot, cl)
    assert view.sense_a.currentText() and view.sense_b.currentText()
    view.target_spin.setValue(45)
    view.gain_spin.setValue(20)
    view.write_loop()
    wait_device(qtbot, lambda: view.setup_label.text().startswith("Written"))
    loop = cl.model.slots[slot].closed_loop
    assert loop is not None and loop.closed and (loop.target_uv, loop.gain_ua_per_uv) == (45, 20)
    assert loop.sense == (view.sense_a.currentText(), view.sense_b.currentText())


def test_open_against_closed_and_a_gain_too_high_oscillates(qtbot: QtBot, cl: StimsimApp) -> None:
    view = _view(cl)
    view.pages.setCurrentIndex(2)
    assert view.comparison is not None
    open_, closed = view.comparison.open.figures, view.comparison.closed.figures
    assert closed.mean_abs_dev_uv < open_.mean_abs_dev_uv / 3
    assert closed.time_in_window > open_.time_in_window
    assert "time in window" in view.side_figures[1].text()
    view.gain_spin.setValue(24)
    view.run_comparison()
    calm = view.comparison.closed.amplitude_ma
    view.gain_spin.setValue(60)
    assert "too high" in view.gain_label.text()
    view.run_comparison()
    wild = view.comparison.closed.amplitude_ma
    lying = slice(250, 550)  # lying down, a second after the change (50 updates a second)

    def swing(amp: np.ndarray) -> float:
        return float(np.mean(np.abs(np.diff(amp[lying]))))
    assert swing(wild) > 1.0 > 0.1 > swing(calm)  # mA from one update to the next


def _scenario(qtbot: QtBot, stim: StimsimApp) -> PatientSession:
    patient = stim.window.patient_view
    stim.window.show_face("patient")
    patient.select(SCENARIO)
    patient.start_button.click()
    wait_device(qtbot, lambda: 2 in stim.model.slots and stim.model.status.slot == 1, timeout=5_000)
    assert stim.model.posture == "supine"
    return patient.session


def _on_slot(qtbot: QtBot, stim: StimsimApp, slot: int) -> None:
    while stim.model.status.slot != slot:
        before = stim.model.status.slot
        stim.worker.select_relative(+1)
        wait_device(qtbot, lambda b=before: stim.model.status.slot != b)  # type: ignore[misc]


def test_the_scenario_lying_down_is_over_stimulated_open_and_comfortable_closed(
        qtbot: QtBot, cl: StimsimApp) -> None:
    session = _scenario(qtbot, cl)
    _stim_on(qtbot, cl)
    wait_device(qtbot, lambda: session.response is not None)
    assert session.response is not None and session.response.sensation == UNCOMFORTABLE  # open loop, lying down
    _on_slot(qtbot, cl, 2)  # the same program, the loop closed
    wait_device(qtbot, lambda: session.response is not None and session.response.sensation != UNCOMFORTABLE,
                timeout=1_000)
    assert session.response is not None and session.response.felt
    assert session.program is not None and session.program.amplitude_ua < 5_000  # the loop turned it down


def test_under_the_loop_the_patient_answers_a_posture_change_within_a_second(qtbot: QtBot, cl: StimsimApp) -> None:
    session = _scenario(qtbot, cl)
    _on_slot(qtbot, cl, 2)
    _stim_on(qtbot, cl)
    view = _view(cl)
    view.posture_buttons["sitting"].click()
    wait_device(qtbot, lambda: session.posture == "sitting" and session.program is not None
                and session.program.amplitude_ua > 5_500, timeout=1_000)  # the loop's amplitude, sitting
    said = len(session.dialogue)
    view.posture_buttons["supine"].click()
    wait_device(qtbot, lambda: session.posture == "supine" and session.program is not None
                and session.program.amplitude_ua < 5_000, timeout=1_000)
    assert session.response is not None and session.response.sensation != UNCOMFORTABLE
    qtbot.wait(800)
    words = [e.text for e in session.dialogue[said:]]
    assert words[0] == "Please lie down on your back." and any("lying on my back" in w for w in words)
    assert not any("uncomfortable" in w or "Ouch" in w for w in words), words  # the loop answered first
    assert session.program.amplitude_ua == cl.model.status.amplitude_ua  # what the device reports


def test_an_open_loop_amplitude_is_answered_at_once(qtbot: QtBot, cl: StimsimApp) -> None:
    session = _scenario(qtbot, cl)
    _stim_on(qtbot, cl)
    cl.window.patient_view.session.ask("sitting")
    assert session.posture == "sitting" and session.response is not None
    assert session.response.sensation != UNCOMFORTABLE and session.dialogue[-1].who == "patient"
    assert isinstance(EcapPoint(1, 1.0), EcapPoint)
