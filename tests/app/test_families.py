"""The app under each device family: the built-in generator and its examples, the clinician
editor and electrode diagram, the DRG stimulus-response label, the battery views and the remote."""

from __future__ import annotations

import itertools
import os
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from stimsim.app import launch
from stimsim.app.battery.words import PACK_EMPTY, PACK_NO_CHARGE
from stimsim.app.clinician.response_label import ResponseLabel
from stimsim.app.clinician.view import ClinicianView, new_program
from stimsim.app.launch import AppOptions, StimsimApp, example_slot_programs
from stimsim.app.model import Action, Link
from stimsim.app.style import apply_style
from stimsim.app.widgets.battery_compare import Source, column_values, rows_for
from stimsim.engine import battery as B
from stimsim.engine import params as P
from stimsim.engine.program import DeviceModel
from stimsim.engine.validate import check_program
from stimsim.generator import urlhandler
from stimsim.generator.virtual_generator import VirtualGenerator

_names = itertools.count(1)
AppMaker = Callable[..., tuple[StimsimApp, VirtualGenerator]]


@pytest.fixture
def family_app(qtbot: QtBot, qapp: QApplication) -> Iterator[AppMaker]:
    """Makes the app on a fresh generator of a family (at a battery level), as ``gui --family`` does."""
    made: list[tuple[StimsimApp, str]] = []

    def make(family: P.Family, level: float | None = None) -> tuple[StimsimApp, VirtualGenerator]:
        apply_style(qapp)
        gen = urlhandler.new_generator(rng_seed=11, family=family)
        if level is not None:
            gen.battery.set_level(level)
        name = f"fam-{next(_names)}"
        url = urlhandler.register_generator(name, gen)
        app = StimsimApp(AppOptions(family=family), builtin_url=url, ports=lambda: [])
        qtbot.addWidget(app.window)
        made.append((app, name))
        with qtbot.waitSignal(app.worker.setupFinished, timeout=10_000):
            app.start()
        count = len(example_slot_programs(family))
        qtbot.waitUntil(lambda: app.model.link is Link.CONNECTED and len(app.model.slots) == count
                        and app.model.device_model.family is family, timeout=5_000)
        return app, gen

    yield make
    for app, name in made:
        app.shutdown()
        urlhandler.unregister_generator(name)


def _clinician(qtbot: QtBot, stim: StimsimApp) -> ClinicianView:
    stim.window.show_face("clinician")
    view = stim.window.clinician
    view.confirm = lambda title, text: title == "Battery"
    view.log_in("0000")
    qtbot.waitUntil(lambda: view.logged_in, timeout=3_000)
    return view


# --- the examples and the command line ---------------------------------------------------------

@pytest.mark.parametrize("family", list(P.Family))
def test_the_examples_are_valid_for_each_family(family: P.Family) -> None:
    programs = example_slot_programs(family)
    device = DeviceModel(family=family)
    assert programs and [p.slot for p in programs] == list(range(1, len(programs) + 1))
    for program in programs:
        assert program.mode in P.family_modes(family)
        assert check_program(program, device, acknowledged=False) == [], program.name
    if not P.FAMILIES[family].case_anode:
        assert all(P.CASE not in p.electrodes.as_dict() for p in programs)


def test_the_examples_of_the_rechargeable_implant_are_the_files_unchanged() -> None:
    names = [p.name for p in example_slot_programs()]
    assert len(names) == len(launch.EXAMPLE_ORDER) and names[0] == "Low back tonic"


def test_each_family_keeps_the_examples_of_its_modes_fitted_to_its_table() -> None:
    assert not any(p.mode is P.Mode.HF for p in example_slot_programs(P.Family.SCS_P))
    drg = example_slot_programs(P.Family.DRG)
    assert [p.mode for p in drg] == [P.Mode.TONIC]
    amp = P.family_params(P.Family.DRG, P.Mode.TONIC)["amplitude_ma"]
    program = drg[0]
    assert amp.grid is not None and amp.grid.holds(program.amplitude_ua) and program.amplitude_ua <= amp.maximum
    lead_a = P.FAMILIES[P.Family.DRG].leads[0].contacts
    assert set(program.electrodes.as_dict()) <= set(lead_a)  # bipolar on lead A
    assert new_program(3, P.Family.DRG).electrodes == program.electrodes


def _gui(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-m", "stimsim", "gui", *args], capture_output=True, text=True,
                          env=env, timeout=60)


@pytest.mark.parametrize("family", list(P.Family))
def test_gui_family_starts_that_family_with_its_examples_written(tmp_path: Path, family: P.Family) -> None:
    out = tmp_path / "app.png"
    done = _gui("--family", family.value.lower(), "--view", "clinician", "--login", "--screenshot", str(out))
    assert done.returncode == 0, done.stderr  # a refused example program would exit 1
    head = out.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", head[16:24]) == (1280, 800)


def test_gui_unknown_family_names_the_families_and_exits_2() -> None:
    done = _gui("--family", "XYZ", "--screenshot", "/tmp/never.png")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "stimsim gui: --family XYZ: no such family (families: SCS-R, SCS-P, ETS, DRG, SCS-CL)"]


def test_a_scenario_starts_the_implant_of_its_family(monkeypatch: pytest.MonkeyPatch) -> None:
    assert launch.start_family(AppOptions(scenario="burst-wash-in")) is P.Family.SCS_R  # names none
    assert launch.scenario_family("no-such-scenario") is P.Family.SCS_R  # the Patient view says why
    assert launch.start_family(AppOptions(scenario="drg-knee-foot-l4-l5")) is P.Family.DRG
    assert launch.start_family(AppOptions(scenario="primary-cell-near-eri")) is P.Family.SCS_P
    assert launch.start_family(AppOptions(scenario="drg-knee-foot-l4-l5", family=P.Family.ETS)) is P.Family.ETS


# --- the clinician view -------------------------------------------------------------------------

def test_drg_editor_offers_its_modes_ranges_and_snaps_amplitudes_to_the_grid(qtbot: QtBot,
                                                                             family_app: AppMaker) -> None:
    stim, _gen = family_app(P.Family.DRG)
    view = _clinician(qtbot, stim)
    view.select_slot(1)
    assert [view.mode_box.itemData(i) for i in range(view.mode_box.count())] == [P.Mode.TONIC]
    amp = view._controls["amplitude_ma"]
    assert amp.maximum() == 6.0 and "0.025 mA below 2 mA, 0.05 mA from 2 mA" in amp.toolTip()
    assert view._controls["pulse_width_us"].minimum() == 40 and view._controls["rate_hz"].maximum() == 100
    amp.setValue(1.975)
    amp.stepBy(1)
    assert view.draft.program is not None and view.draft.program.amplitude_ua == 2000
    amp.stepBy(1)
    assert view.draft.program.amplitude_ua == 2050
    amp.stepBy(-2)
    assert view.draft.program.amplitude_ua == 1975
    amp.setValue(1.03)  # typed off the grid: snapped to the nearest point, and shown so
    assert view.draft.program.amplitude_ua == 1025 and amp.value() == pytest.approx(1.025)
    view._controls["rate_hz"].setValue(51)
    assert view.draft.program.rate_hz == 52


def test_the_diagram_draws_the_familys_leads(qtbot: QtBot, family_app: AppMaker) -> None:
    stim, _gen = family_app(P.Family.DRG)
    view = _clinician(qtbot, stim)
    diagram = view.diagram
    assert [lead.name for lead in diagram.family.leads] == ["A", "B", "C", "D"]
    assert diagram.family.contacts == tuple(str(i) for i in range(1, 17))  # no case
    rects = {c: diagram.contact_rect(c) for c in diagram.family.contacts}
    assert rects["1"].left() < rects["5"].left() < rects["9"].left() < rects["13"].left()
    assert rects["4"].top() > rects["1"].top() and rects["5"].top() == rects["1"].top()
    assert diagram.contact_at(rects["13"].center()) == "13"
    diagram.setFocus()
    diagram.select("4")
    qtbot.keyClick(diagram, Qt.Key.Key_Down)
    assert diagram.current == "4"  # no case below a DRG lead
    qtbot.keyClick(diagram, Qt.Key.Key_Right)
    assert diagram.current == "8"
    assert "Lead A is contacts 1-4, lead B 5-8, lead C 9-12, lead D 13-16" in diagram.toolTip()
    view.select_slot(1)
    view.cycle_contact("5")  # a cathode alone on lead B: refused in words under the diagram
    assert "lead B has no anode of its own" in view._errors["electrodes"].text()
    assert not view.save_button.isEnabled()


@pytest.mark.parametrize("family", [P.Family.ETS, P.Family.SCS_P])
def test_scs_families_offer_their_modes_and_case(qtbot: QtBot, family_app: AppMaker, family: P.Family) -> None:
    stim, _gen = family_app(family)
    view = _clinician(qtbot, stim)
    modes = [view.mode_box.itemData(i) for i in range(view.mode_box.count())]
    assert modes == list(P.family_modes(family))
    assert (P.CASE in view.diagram.family.contacts) is P.FAMILIES[family].case_anode
    assert [lead.name for lead in view.diagram.family.leads] == ["A", "B"]


def _actions(stim: StimsimApp) -> list[Action]:
    seen: list[Action] = []
    stim.model.actionRecorded.connect(seen.append)
    return seen


def test_a_drg_program_is_saved_only_with_a_stimulus_response_label(qtbot: QtBot, family_app: AppMaker) -> None:
    stim, gen = family_app(P.Family.DRG)
    view = _clinician(qtbot, stim)
    actions = _actions(stim)
    view.select_slot(1)
    view._controls["amplitude_ma"].setValue(0.8)
    writes = sum(1 for e in gen.log if e.what.startswith("PROG"))
    view.ask_label = lambda _prog: None  # the clinician cancels the label
    view.save()
    qtbot.wait(300)
    assert sum(1 for e in gen.log if e.what.startswith("PROG")) == writes
    assert "stimulus response" in view.notice and not any(a.what == "save" for a in actions)

    label = ResponseLabel("left_knee", "tingling")
    view.ask_label = lambda _prog: label
    view.save()
    qtbot.waitUntil(lambda: any(a.what == "save" for a in actions), timeout=3_000)
    assert stim.model.slots[1].name == "Left knee: tingling" == label.text
    assert stim.model.slots[1].amplitude_ua == 800
    response = next(a for a in actions if a.what == "stimulus_response")
    assert response.data["region"] == "left_knee" and response.data["sensation"] == "tingling"
    assert response.data["amplitude_ma"] == 0.8
    save = next(a for a in actions if a.what == "save")
    assert save.data["response"] == label.data()


def test_other_families_save_without_a_label(qtbot: QtBot, family_app: AppMaker) -> None:
    stim, _gen = family_app(P.Family.ETS)
    view = _clinician(qtbot, stim)
    actions = _actions(stim)
    view.ask_label = lambda _prog: pytest.fail("no label is asked outside DRG")
    view.select_slot(1)
    view._controls["amplitude_ma"].setValue(3.0)
    view.save()
    qtbot.waitUntil(lambda: any(a.what == "save" for a in actions), timeout=3_000)
    assert stim.model.slots[1].name == "Low back tonic"


def test_a_bad_label_is_refused() -> None:
    with pytest.raises(ValueError, match="not a body region"):
        ResponseLabel("left_elbow", "tingling")
    with pytest.raises(ValueError, match="sensation 'none'"):
        ResponseLabel("left_knee", "none")


# --- the battery views and the remote -------------------------------------------------------------

def test_compare_keeps_the_programs_family() -> None:
    program = example_slot_programs(P.Family.DRG)[0]
    device = DeviceModel(family=P.Family.DRG)
    values = column_values(Source("Slot 1", program, device), B.PRIMARY, 24.0)
    expected = B.battery_figures(program, device, B.PRIMARY, 24.0)["battery_power_mw"]
    assert values["battery_power_mw"] == pytest.approx(expected)
    scs = B.battery_figures(program, DeviceModel(B.PRIMARY), B.PRIMARY, 24.0)["battery_power_mw"]
    assert values["battery_power_mw"] != pytest.approx(scs)  # DRG contacts: another load
    pack = column_values(Source("Slot 1", program, DeviceModel(family=P.Family.ETS)), B.PACK, 24.0)
    assert [r.key for r in rows_for(B.PACK)][2:4] == ["days_per_pack", "hours_per_pack"]
    assert isinstance(pack["days_per_pack"], float) and pack["days_per_pack"] > 0


def test_the_battery_views_follow_the_family_and_offer_the_pack(qtbot: QtBot, family_app: AppMaker) -> None:
    stim, _gen = family_app(P.Family.DRG)
    battery = stim.window.battery
    assert battery.projection.device.family is P.Family.DRG
    assert battery.projection.device.impedance("1") == P.DRG_CONTACT_IMPEDANCE_OHM
    for box in (battery.projection.chemistry_box, battery.compare.chemistry_box):
        assert box.findData(B.PACK) >= 0


def test_primary_cell_eri_and_eos_on_the_remote(qtbot: QtBot, family_app: AppMaker) -> None:
    stim, gen = family_app(P.Family.SCS_P, level=8.0)
    remote = stim.window.remote
    qtbot.waitUntil(lambda: "Replace soon" in remote.battery_label.text(), timeout=3_000)
    assert remote.battery_label.property("level") == "warning"
    assert "Elective replacement indicator" in remote.battery_label.toolTip()
    gen.battery.set_level(1.0)
    qtbot.waitUntil(lambda: "End of service" in remote.battery_label.text(), timeout=5_000)
    assert remote.battery_label.property("level") == "error"
    projection = stim.window.battery.projection
    qtbot.waitUntil(lambda: projection.last is not None, timeout=5_000)
    assert "Years to ERI" in projection.figures_label.text()


def test_the_trial_pack_low_empty_and_no_charger(qtbot: QtBot, family_app: AppMaker) -> None:
    stim, gen = family_app(P.Family.ETS, level=15.0)
    remote, gauge = stim.window.remote, stim.window.battery.gauge
    stim.window.show_face("battery")
    qtbot.waitUntil(lambda: "Replace pack soon" in remote.battery_label.text(), timeout=3_000)
    assert gauge.headline.text() == "Replace the battery pack soon"
    assert stim.window.status_bar.battery_label.text().endswith("(battery pack)")
    assert not gauge.start_button.isVisible() and not gauge.stop_button.isVisible()
    assert "battery pack is replaced" in gauge.charger_label.text()
    gauge.set_charging(True)
    assert stim.model.notice.text == PACK_NO_CHARGE and not stim.model.status.charging
    gen.battery.set_level(3.0)
    qtbot.waitUntil(lambda: PACK_EMPTY in remote.battery_label.text(), timeout=5_000)
    assert remote.battery_label.property("level") == "error"
    assert gauge.headline.text() == "Stimulation stopped: replace the battery pack"
    projection = stim.window.battery.projection
    qtbot.waitUntil(lambda: projection.last is not None, timeout=5_000)
    assert "A battery pack lasts" in projection.figures_label.text()


def test_the_remote_buttons_say_the_drg_grid_step(qtbot: QtBot, family_app: AppMaker) -> None:
    stim, _gen = family_app(P.Family.DRG)
    remote = stim.window.remote
    qtbot.waitUntil(lambda: remote.up_button.text() == "25 µA", timeout=3_000)  # 1.05 mA: 25 uA steps
    assert remote.down_button.text() == "25 µA" and "by 25 µA" in remote.up_button.toolTip()
    program = stim.model.active_program()
    assert program is not None
    remote._show_steps(program.with_amplitude(2000))  # from 2 mA up: 50 uA; down: 25 uA
    assert remote.up_button.text() == "50 µA" and remote.down_button.text() == "25 µA"
    stim.worker.step_amplitude(1)
    qtbot.waitUntil(lambda: stim.model.status.amplitude_ua == 1075, timeout=3_000)  # one grid point
