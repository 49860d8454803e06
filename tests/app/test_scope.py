"""The live scope draws what the device delivers: right pulse counts, follows every change."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from stimsim.app.launch import StimsimApp, default_envelope, default_pulse_starts
from stimsim.app.model import AppModel, Link, Status
from stimsim.app.widgets.raster import raster_columns
from stimsim.app.widgets.scope import LiveScope, count_pulses
from stimsim.engine.params import Mode
from stimsim.engine.program import DeviceModel, Electrodes, Limits, Program
from stimsim.generator.virtual_generator import VirtualGenerator

THRESHOLD_MA = 0.01


def _on(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator, slot: int = 1) -> float:
    """Select ``slot``, turn stimulation on, return the scope's display time of 'on'."""
    if slot != 1:
        for _ in range(slot - 1):
            stim.worker.select_relative(+1)
        qtbot.waitUntil(lambda: stim.model.status.slot == slot, timeout=3_000)
    stim.worker.toggle_stimulation()
    qtbot.waitUntil(lambda: stim.window.scope.timeline.current().program is not None, timeout=3_000)
    assert gen.status()["stim"]
    return stim.window.scope.timeline.current().on_since


def _pulses_in(qtbot: QtBot, stim: StimsimApp, t0: float, t1: float) -> int:
    scope = stim.window.scope
    qtbot.waitUntil(lambda: scope.clock.now() > t1, timeout=5_000)
    scope.show_window(t0, t1)
    start, end, lo, _hi = scope.shown
    assert (start, end) == (t0, scope.shown[1]) and end > t1 - (t1 - t0) / len(lo) - 1e-12
    return count_pulses(lo, THRESHOLD_MA)


def test_50_hz_window_shows_every_pulse(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    on = _on(qtbot, stim, gen)
    # Pulses start at on + k/50; the window [on + 0.03, on + 0.25) holds k = 2..12.
    assert _pulses_in(qtbot, stim, on + 0.03, on + 0.25) == 11


def test_10_khz_window_shows_every_pulse(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    on = _on(qtbot, stim, gen, slot=3)
    assert stim.model.active_program().rate_hz == 10_000  # type: ignore[union-attr]
    # 10 kHz: pulses every 100 us; [on + 0.10005, on + 0.10505) holds 50 pulse starts.
    assert _pulses_in(qtbot, stim, on + 0.10005, on + 0.10505) == 50


def test_burst_window_shows_every_pulse_of_every_burst(qtbot: QtBot, stim: StimsimApp,
                                                       gen: VirtualGenerator) -> None:
    on = _on(qtbot, stim, gen, slot=2)
    prog = stim.model.active_program()
    assert prog is not None and prog.mode is Mode.BURST and prog.burst_pulses == 5
    # 40 Hz bursts of 5 pulses at 500 Hz: [on + 0.0125, on + 0.1125) holds bursts 1..4.
    assert _pulses_in(qtbot, stim, on + 0.0125, on + 0.1125) == 20


def test_scope_follows_amplitude_steps_without_restarting_the_pulse_grid(
        qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    scope = stim.window.scope
    on = _on(qtbot, stim, gen)
    stim.worker.step_amplitude(+1)
    qtbot.waitUntil(lambda: scope.timeline.current().program.amplitude_ua == 3600, timeout=3_000)  # type: ignore
    assert scope.timeline.current().on_since == on  # the same train goes on
    stim.worker.select_relative(+1)
    qtbot.waitUntil(lambda: scope.timeline.current().program.mode is Mode.BURST, timeout=3_000)  # type: ignore
    stim.worker.stop()
    qtbot.waitUntil(lambda: scope.timeline.current().program is None, timeout=3_000)
    stim.worker.toggle_stimulation()
    qtbot.waitUntil(lambda: scope.timeline.current().program is not None, timeout=3_000)
    assert scope.timeline.current().on_since > on  # on again: t = 0 (and the ramp) restart


def test_live_frames_cover_1_ms_to_60_s_per_screen(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    scope = stim.window.scope
    _on(qtbot, stim, gen, slot=3)
    qtbot.wait(150)
    for span in (0.001, 60.0):
        scope.set_span(span)
        scope.frame()
        t0, t1, lo, hi = scope.shown
        assert abs((t1 - t0) - span) < 1e-9 and len(lo) == scope._pixels()
        # 10 kHz at 2.5 mA: the pulses are drawn at full height (NaN: times before the link
        # was up, when the output was unknown and nothing is drawn)
        assert np.nanmin(lo) < -2.0 and np.nanmax(hi) > 2.0


def test_stimulation_off_draws_a_flat_line_and_says_so(qtbot: QtBot, stim: StimsimApp) -> None:
    scope = stim.window.scope
    qtbot.wait(100)
    scope.frame()
    recent_lo, recent_hi = scope.shown[2][-50:], scope.shown[3][-50:]  # since the device was read
    assert (recent_lo == 0).all() and (recent_hi == 0).all()
    assert scope.banner.text() == "Stimulation is off"


def test_after_the_link_drops_the_scope_draws_nothing(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    scope = stim.window.scope
    _on(qtbot, stim, gen)
    stim.worker.disconnect_device()
    qtbot.waitUntil(lambda: not scope.timeline.current().known, timeout=3_000)
    qtbot.wait(100)
    scope.frame()
    assert np.isnan(scope.shown[2][-20:]).all()  # unknown, not a reassuring 0 mA
    assert scope.banner.text() == "No stimulator connected"


def test_annotations_mark_pulse_width_and_period(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    scope = stim.window.scope
    on = _on(qtbot, stim, gen)
    scope.set_annotations(True)
    qtbot.waitUntil(lambda: scope.clock.now() > on + 0.09, timeout=3_000)
    scope.show_window(on + 0.05, on + 0.09)
    labels = scope.annotator.labels
    assert "PW 300 µs" in labels
    assert "period 20 ms · 50 Hz" in labels
    assert "Ramp 2 s" in scope.summary.text() and scope.summary.isVisible()


def test_annotations_mark_bursts(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    scope = stim.window.scope
    on = _on(qtbot, stim, gen, slot=2)
    scope.set_annotations(True)
    qtbot.waitUntil(lambda: scope.clock.now() > on + 0.04, timeout=3_000)
    scope.show_window(on + 0.024, on + 0.036)
    labels = scope.annotator.labels
    assert "burst: 5 pulses" in labels
    assert "intra-burst 2 ms · 500 Hz" in labels
    assert "passive recharge" in labels


def _limited_model() -> tuple[AppModel, Program]:
    prog = Program(Mode.TONIC, 10_000, 200, 50, Electrodes.of({"4": -100, "5": 100}),
                   limits=Limits(), name="High", slot=1)
    model = AppModel()
    model.set_device_model(DeviceModel().with_impedances({"4": 2000.0, "5": 2000.0}))
    model.set_slots({1: prog})
    model.set_link(Link.CONNECTED)
    model.set_status(Status(stim_on=True, slot=1, amplitude_ua=10_000, compliance_limited=True, role="PATIENT"))
    return model, prog


def test_compliance_limited_output_is_shown_as_such(qtbot: QtBot) -> None:
    model, _prog = _limited_model()
    scope = LiveScope(model, default_envelope(), pulse_starts=default_pulse_starts())
    qtbot.addWidget(scope)
    scope.resize(900, 400)
    scope.show()
    on = scope.timeline.current().on_since
    qtbot.waitUntil(lambda: scope.clock.now() > on + 0.1, timeout=3_000)
    scope.show_window(on + 0.001, on + 0.1)
    delivered = 11_000 / 4000  # 12 V rail less 1 V headroom into 4000 ohm
    assert scope.banner.text() == f"Compliance limited: {delivered:.2f} mA delivered of 10.0 mA programmed"
    assert scope.banner.property("level") == "warning"
    assert np.isclose(scope.shown[2].min(), -delivered)
    assert scope.programmed_line.isVisible() and scope.programmed_line.value() == -10.0
    scope.stop_timers()


def test_mouse_range_change_pauses_the_live_view(qtbot: QtBot, stim: StimsimApp) -> None:
    scope = stim.window.scope
    vb = scope.plot.getPlotItem().getViewBox()
    vb.sigRangeChangedManually.emit([True, False])
    assert scope.paused and scope.pause_button.isChecked() and scope.pause_button.text() == "Live"
    scope.pause_button.click()
    assert not scope.paused


def test_raster_columns_cover_each_pixel_min_to_max_and_join_edges() -> None:
    lo = np.array([0.0, -4.0, -4.0, 0.0])
    hi = np.array([0.0, 0.0, 4.0, 0.0])
    top, bottom = raster_columns(lo, hi, y_top=5.0, y_bottom=-5.0, rows=10)
    # rows of 1 mA from +5 down: value v sits in row floor(5 - v)
    assert top.tolist() == [5, 5, 1, 5]
    assert bottom.tolist() == [5, 9, 9, 5]
    # a jump between two columns is joined: the second column reaches back to the first one's value
    top, bottom = raster_columns(np.array([0.0, -4.0]), np.array([0.0, -4.0]), 5.0, -5.0, 10)
    assert (top[1], bottom[1]) == (5, 9)


def test_raster_draws_nothing_where_the_output_is_unknown() -> None:
    top, bottom = raster_columns(np.array([0.0, np.nan, -2.0]), np.array([0.0, np.nan, 0.0]), 5.0, -5.0, 10)
    assert top[1] > bottom[1]  # empty column
    assert (top[2], bottom[2]) == (5, 7)  # not joined to the unknown column


def test_count_pulses() -> None:
    assert count_pulses(np.array([0, -1, -1, 0, -1, 0, 0, -2]), 0.5) == 3
    assert count_pulses(np.array([-1, 0]), 0.5) == 1
    assert count_pulses(np.zeros(5), 0.5) == 0


def test_the_y_range_follows_what_is_in_view(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    """6 mA on P1, then P3 at 60 s per screen: the old 6 mA trace is still in view, and fits."""
    scope = stim.window.scope
    stim.worker.send_line("AMP SET=6000")
    qtbot.waitUntil(lambda: stim.model.status.amplitude_ua == 6000, timeout=3_000)
    on = _on(qtbot, stim, gen)
    qtbot.waitUntil(lambda: scope.clock.now() > on + 2.2, timeout=5_000)  # past P1's 2 s ramp
    stim.worker.select_relative(+1)
    stim.worker.select_relative(+1)
    qtbot.waitUntil(lambda: stim.model.status.slot == 3, timeout=3_000)
    scope.set_span(60.0)
    qtbot.wait(100)
    _t0, _t1, lo, hi = scope.shown
    peak = max(np.nanmax(np.abs(lo)), np.nanmax(np.abs(hi)))
    assert peak > 5.9  # the 6 mA train is in view
    y_top = scope.plot.getPlotItem().getViewBox().viewRange()[1][1]
    assert y_top >= peak * 1.15 and scope.y_range == y_top


def test_wide_views_are_labelled_in_seconds(qtbot: QtBot, stim: StimsimApp) -> None:
    scope = stim.window.scope
    scope.set_span(60.0)
    axis = scope.time_axis
    assert axis.tickStrings([-50_000.0, -40_000.0], 1.0, 10_000.0) == ["-50", "-40"]
    assert axis.labelText.startswith("Time (s)")
    scope.set_span(0.2)
    assert axis.tickStrings([-150.0], 1.0, 50.0) == ["-150"] and axis.labelText.startswith("Time (ms)")


def test_time_per_screen_follows_a_mouse_zoom(qtbot: QtBot, stim: StimsimApp) -> None:
    scope = stim.window.scope
    vb = scope.plot.getPlotItem().getViewBox()
    scope.set_paused(True)
    vb.setXRange(-37.0, 0.0, padding=0)
    qtbot.wait(20)
    assert scope.scale_box.currentText() == "37 ms" and abs(scope.span - 0.037) < 1e-9
    vb.setXRange(-500.0, 0.0, padding=0)
    qtbot.wait(20)
    assert scope.scale_box.currentText() == "500 ms"
    assert scope.scale_box.findText("37 ms") < 0  # the custom entry is gone again


def test_the_scope_exports_png_svg_and_csv(qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator,
                                           tmp_path: Path) -> None:
    scope = stim.window.scope
    _on(qtbot, stim, gen)
    qtbot.wait(200)
    scope.set_paused(True)
    png = scope.export_image(tmp_path / "view.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = scope.export_image(tmp_path / "view.svg")
    assert b"<svg" in svg.read_bytes()[:2000]
    csv = scope.export_csv(tmp_path / "view.csv").read_text().splitlines()
    assert csv[0] == "time_s,min_mA,max_mA" and len(csv) == 1 + len(scope.shown[2])
    assert min(float(row.split(",")[1]) for row in csv[1:] if row.split(",")[1]) < -0.1  # the (ramping) pulses
    with pytest.raises(ValueError, match="png or .svg"):
        scope.export_image(tmp_path / "view.jpg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["view.csv", "view.png", "view.svg"]  # no leftovers
    window = stim.window
    assert window.export_image_action.shortcut().toString() == "Ctrl+E"
    assert window.export_csv_action.shortcut().toString() == "Ctrl+Shift+E"


def test_presentation_mode_draws_a_thicker_trace(qtbot: QtBot) -> None:
    model, _prog = _limited_model()
    plain = LiveScope(model, default_envelope())
    big = LiveScope(model, default_envelope(), presentation=True)
    for scope in (plain, big):
        qtbot.addWidget(scope)
        scope.stop_timers()
    assert big.trace_px >= 2 * plain.trace_px


def test_burst_annotations_never_call_the_gap_between_bursts_a_period(
        qtbot: QtBot, stim: StimsimApp, gen: VirtualGenerator) -> None:
    scope = stim.window.scope
    on = _on(qtbot, stim, gen, slot=2)
    scope.set_annotations(True)
    qtbot.waitUntil(lambda: scope.clock.now() > on + 0.06, timeout=3_000)
    scope.show_window(on + 0.03, on + 0.0566)  # the pulse nearest 3/4 of the view starts a burst
    labels = scope.annotator.labels
    assert "intra-burst 2 ms · 500 Hz" in labels
    assert not [label for label in labels if label.startswith("period")]
