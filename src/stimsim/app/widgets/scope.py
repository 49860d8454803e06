"""The live scope: the stimulation current the device delivers now, exact at any zoom.

Every pixel column shows the min and max of the current over its time span, computed by
the engine's envelope from the program the device reports (never sampled), so a 10 kHz
train, a single 20 us pulse and a 60 s cycling view are all drawn truthfully. Live
scrolling computes only the newly elapsed pixels (``timeline.LiveWindow``); pausing, or
touching the plot with the mouse, freezes the view for zooming and panning.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...engine.load import program_compliance
from ...engine.program import Program
from ..messages import fmt_ma
from ..model import AppModel, Link
from ..style import icon, repolish
from ..timeline import DisplayClock, EnvelopeFn, LiveWindow, Timeline
from .annotations import Annotator, PulseStartsFn
from .raster import EnvelopeRaster

#: Time per screen: (seconds, label). 1 ms to 60 s, the usual 1-2-5 ladder.
TIME_SCALES: tuple[tuple[float, str], ...] = (
    (0.001, "1 ms"), (0.002, "2 ms"), (0.005, "5 ms"), (0.01, "10 ms"), (0.02, "20 ms"), (0.05, "50 ms"),
    (0.1, "100 ms"), (0.2, "200 ms"), (0.5, "500 ms"), (1.0, "1 s"), (2.0, "2 s"), (5.0, "5 s"),
    (10.0, "10 s"), (20.0, "20 s"), (60.0, "60 s"),
)
DEFAULT_SCALE = 0.2
SPEEDS: tuple[tuple[float, str], ...] = ((1.0, "1x"), (0.1, "0.1x"), (0.01, "0.01x"))
FRAME_MS = 16  #: about 60 frames per second while live
_Y_LADDER = (0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0, 25.0)
TRACE = "#1f4e79"
GRID = "#e3e8ee"
LIVE_LABEL = "Time (ms)   ·   0 = now"
PAUSED_LABEL = "Time (ms)   ·   0 = the moment the scope was paused"
TRACE_LIMITED = "#c25e00"


class MsAxis(pg.AxisItem):  # type: ignore[misc]  # pyqtgraph ships no type hints
    """A time axis in milliseconds with readable tick labels (no 1e6 exponents)."""

    def __init__(self, orientation: str = "bottom") -> None:
        super().__init__(orientation)
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values: Sequence[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        decimals = max(0, min(6, -math.floor(math.log10(spacing)))) if spacing > 0 else 0
        return [f"{v:,.{decimals}f}".replace(",", " ") for v in values]


class LiveScope(QWidget):
    """Scope panel: controls row, plot, banner. Collaborators come in as arguments."""

    pausedChanged = Signal(bool)

    def __init__(self, model: AppModel, envelope: EnvelopeFn, *, pulse_starts: PulseStartsFn | None = None,
                 clock: DisplayClock | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.clock = clock or DisplayClock()
        self.timeline = Timeline(envelope, model.device_model)
        self.live = LiveWindow(self.timeline)
        self.span = DEFAULT_SCALE
        self.paused = False
        self._ymax = 0.0
        self.reference = 0.0  #: display time (s) at x = 0 of the plot
        self._inspect_pending = False
        self.frame_times: list[float] = []  #: recent frame costs (s), for the benchmark
        #: the window last drawn: (t0, t1, per-pixel min, per-pixel max), display seconds and mA
        self.shown: tuple[float, float, np.ndarray, np.ndarray] = (0.0, 0.0, np.zeros(0), np.zeros(0))
        self.setAccessibleName("Live scope")
        self.setToolTip("Stimulation current of the active program as the stimulator delivers it")

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        lay.addLayout(self._build_controls())
        self.summary = QLabel(self)
        self.summary.setObjectName("scopeSummary")
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Annotation summary")
        self.summary.setToolTip("The program's timing in words")
        self.summary.setVisible(False)
        lay.addWidget(self.summary)
        self.plot = self._build_plot()
        lay.addWidget(self.plot, 1)
        self.annotator = Annotator(self.plot.getPlotItem(), self.content, self.timeline, pulse_starts,
                                   self._show_summary)

        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self.frame)
        self._inspect_timer = QTimer(self)
        self._inspect_timer.setSingleShot(True)
        self._inspect_timer.setInterval(0)
        self._inspect_timer.timeout.connect(self._draw_inspect)

        for sig in (model.statusChanged, model.slotsChanged, model.linkChanged):
            sig.connect(self.follow_model)
        model.stimTurnedOn.connect(lambda: self.follow_model(turned_on=True))
        self.follow_model()
        self._timer.start()

    # --- construction ------------------------------------------------------------
    def _build_controls(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(6)
        row.addWidget(QLabel("Time/screen", self))
        self.scale_box = QComboBox(self)
        for seconds, text in TIME_SCALES:
            self.scale_box.addItem(text, seconds)
        self.scale_box.setCurrentIndex([s for s, _ in TIME_SCALES].index(DEFAULT_SCALE))
        self.scale_box.setAccessibleName("Time per screen")
        self.scale_box.setToolTip("How much time one screen width shows, from 1 ms to 60 s")
        self.scale_box.currentIndexChanged.connect(lambda _i: self.set_span(float(self.scale_box.currentData())))
        row.addWidget(self.scale_box)

        row.addWidget(QLabel("Speed", self))
        self.speed_box = QComboBox(self)
        for speed, text in SPEEDS:
            self.speed_box.addItem(text, speed)
        self.speed_box.setAccessibleName("Slow motion")
        self.speed_box.setToolTip("Play the stimulation slower (0.1x, 0.01x) to follow single pulses")
        self.speed_box.currentIndexChanged.connect(lambda _i: self.set_speed(float(self.speed_box.currentData())))
        row.addWidget(self.speed_box)

        self.pause_button = QToolButton(self)
        self.pause_button.setCheckable(True)
        self.pause_button.setIcon(icon("pause"))
        self.pause_button.setText("Pause")
        self.pause_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.pause_button.setAccessibleName("Pause the scope")
        self.pause_button.setToolTip("Freeze the view to zoom (mouse wheel) and pan (drag); press again to go live")
        self.pause_button.toggled.connect(self.set_paused)
        row.addWidget(self.pause_button)

        self.annotate_button = QToolButton(self)
        self.annotate_button.setCheckable(True)
        self.annotate_button.setIcon(icon("annotate"))
        self.annotate_button.setText("Annotate")
        self.annotate_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.annotate_button.setAccessibleName("Show annotations")
        self.annotate_button.setToolTip("Mark pulse width, interphase gap, period, burst, ramp and cycling")
        self.annotate_button.toggled.connect(self.set_annotations)
        row.addWidget(self.annotate_button)

        row.addStretch(1)
        self.banner = QLabel(self)
        self.banner.setObjectName("scopeBanner")
        self.banner.setAccessibleName("Scope status")
        self.banner.setToolTip("What the trace shows now")
        row.addWidget(self.banner)
        for w in (self.pause_button, self.annotate_button):
            w.setIconSize(QSize(18, 18))
        return row

    def _build_plot(self) -> pg.PlotWidget:
        pw = pg.PlotWidget(parent=self, background="w", axisItems={"bottom": MsAxis("bottom")})
        pw.setAccessibleName("Stimulation current plot")
        pw.setToolTip("Current in mA against time in ms; wheel to zoom, drag to pan (pauses the scope)")
        item = pw.getPlotItem()
        item.setLabel("bottom", LIVE_LABEL)
        item.setLabel("left", "Current (mA)")
        item.getAxis("left").enableAutoSIPrefix(False)
        item.setMenuEnabled(False)
        item.hideButtons()
        vb = item.getViewBox()
        vb.setMouseEnabled(x=True, y=True)
        vb.enableAutoRange(enable=False)
        vb.setDefaultPadding(0.0)
        vb.sigRangeChangedManually.connect(self._manual_range)
        vb.sigRangeChanged.connect(self._range_changed)
        # A light graticule of plain 1-pixel lines: pyqtgraph's own grid repaints with every frame.
        self.grid = pg.PlotCurveItem(pen=pg.mkPen(GRID, width=1), connect="pairs", antialias=False)
        item.addItem(self.grid, ignoreBounds=True)
        self.zero_line = pg.InfiniteLine(0, angle=0, pen=pg.mkPen("#9aa7b4", width=1))
        item.addItem(self.zero_line, ignoreBounds=True)
        # Everything drawn in display time lives in one group that is shifted by the
        # reference time, so live scrolling moves one item instead of re-laying the axes.
        self.content = pg.ItemGroup()
        item.addItem(self.content, ignoreBounds=True)
        self.trace = EnvelopeRaster(TRACE)
        self.trace.setParentItem(self.content)
        self.programmed_line = pg.InfiniteLine(0, angle=0, pen=pg.mkPen(TRACE_LIMITED, width=1, style=Qt.PenStyle.DashLine),
                                               label="programmed", labelOpts={"position": 0.02, "color": TRACE_LIMITED})
        self.programmed_line.setVisible(False)
        item.addItem(self.programmed_line, ignoreBounds=True)
        return pw

    def _update_grid(self) -> None:
        vb = self.plot.getPlotItem().getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        xs = _grid_values(self.plot.getPlotItem().getAxis("bottom"), x0, x1, vb.width())
        ys = _grid_values(self.plot.getPlotItem().getAxis("left"), y0, y1, vb.height())
        gx = np.concatenate([np.repeat(xs, 2), np.tile([x0, x1], len(ys))])
        gy = np.concatenate([np.tile([y0, y1], len(xs)), np.repeat(ys, 2)])
        self.grid.setData(gx, gy)

    # --- controls ----------------------------------------------------------------
    def set_span(self, seconds: float) -> None:
        self.span = seconds
        idx = self.scale_box.findData(seconds)
        if idx >= 0 and idx != self.scale_box.currentIndex():
            self.scale_box.setCurrentIndex(idx)
        if self.paused:
            vb = self.plot.getPlotItem().getViewBox()
            (x0, x1), _ = vb.viewRange()
            mid = (x0 + x1) / 2
            vb.setXRange(mid - seconds * 500, mid + seconds * 500, padding=0)
        else:
            self.frame()

    def set_speed(self, speed: float) -> None:
        self.clock.set_speed(speed)
        idx = self.speed_box.findData(speed)
        if idx >= 0 and idx != self.speed_box.currentIndex():
            self.speed_box.setCurrentIndex(idx)

    def set_paused(self, paused: bool) -> None:
        if paused == self.paused:
            return
        self.paused = paused
        self.pause_button.setChecked(paused)
        self.pause_button.setText("Live" if paused else "Pause")
        self.pause_button.setIcon(icon("live" if paused else "pause"))
        self.pause_button.setToolTip("Back to the live view" if paused else
                                     "Freeze the view to zoom (mouse wheel) and pan (drag)")
        self.plot.getPlotItem().setLabel("bottom", PAUSED_LABEL if paused else LIVE_LABEL)
        if paused:
            self._timer.stop()
            self._draw_inspect()
        else:
            self.live.invalidate()
            self.frame()
            self._timer.start()
        self.pausedChanged.emit(paused)

    def _show_summary(self, text: str) -> None:
        self.summary.setText(text)
        self.summary.setVisible(bool(text))

    def set_annotations(self, on: bool) -> None:
        self.annotate_button.setChecked(on)
        self.annotator.set_enabled(on)
        self._update_y_range()
        self._refresh_annotations(force=True)

    # --- following the device ----------------------------------------------------
    def follow_model(self, turned_on: bool = False) -> None:
        """Record what the device reports now as the output from this display moment on."""
        m = self.model
        self.timeline.set_device(m.device_model)
        prog = m.output_program()
        self.timeline.set_output(self.clock.now(), prog, turned_on=turned_on, known=m.link is Link.CONNECTED)
        self._update_banner()
        self._update_y_range()
        if self.paused:
            self._inspect_timer.start()

    def _delivered(self, prog: Program) -> tuple[float, float, bool]:
        comp = program_compliance(prog, self.model.device_model)
        return comp.programmed_ma, comp.delivered_ma, comp.limited

    def _update_banner(self) -> None:
        m = self.model
        prog = m.active_program()
        level, text = "info", ""
        limited = False
        if m.link is not Link.CONNECTED:
            text = "No link: the stimulator's output is unknown" if m.link in (Link.LOST, Link.NOT_ANSWERING) \
                else "No stimulator connected"
        elif prog is None:
            text = "The active slot is empty"
        elif not m.status.stim_on:
            text = "Stimulation is off"
        else:
            programmed, delivered, limited = self._delivered(prog)
            if limited or m.status.compliance_limited:
                level = "warning"
                limited = True
                text = (f"Compliance limited: {delivered:.2f} mA delivered of {fmt_ma(prog.amplitude_ua)} programmed"
                        if delivered < programmed else "The stimulator reports compliance-limited output")
        self.banner.setText(text)
        self.banner.setVisible(bool(text))
        self.banner.setProperty("level", level)
        repolish(self.banner)
        self.trace.set_color(TRACE_LIMITED if limited else TRACE)
        if limited and prog is not None:
            self.programmed_line.setValue(-prog.amplitude_ma)
            self.programmed_line.setVisible(True)
        else:
            self.programmed_line.setVisible(False)

    def _update_y_range(self) -> None:
        prog = self.model.active_program()
        amp = prog.amplitude_ma if prog else 0.0
        need = amp * (1.75 if self.annotator.enabled else 1.15)
        ymax = next((v for v in _Y_LADDER if v >= need), _Y_LADDER[-1])
        if ymax != self._ymax and not self.paused:
            self._ymax = ymax
            self.plot.getPlotItem().getViewBox().setYRange(-ymax, ymax, padding=0)

    # --- drawing -----------------------------------------------------------------
    def _pixels(self) -> int:
        vb = self.plot.getPlotItem().getViewBox()
        ratio = self.plot.devicePixelRatioF()
        return max(16, int(vb.width() * ratio))

    def frame(self) -> None:
        """One live frame: bring the window up to the display clock and redraw."""
        if self.paused:
            return
        start = _perf()
        t0, t1 = self.live.update(self.clock.now(), self.span, self._pixels())
        self._set_reference(t1)
        self._draw(t0, t1, self.live.lo, self.live.hi)
        self._refresh_annotations()
        self.frame_times.append(_perf() - start)
        if len(self.frame_times) > 600:
            del self.frame_times[:300]

    def _set_reference(self, ref: float) -> None:
        """Make display time ``ref`` the 0 of the x axis (the right edge while live)."""
        self.reference = ref
        self.content.setPos(-ref * 1000.0, 0.0)
        if not self.paused:
            vb = self.plot.getPlotItem().getViewBox()
            want = (-self.span * 1000.0, 0.0)
            if vb.viewRange()[0] != list(want):
                vb.setXRange(*want, padding=0)

    def _draw(self, t0: float, t1: float, lo: np.ndarray, hi: np.ndarray) -> None:
        vb = self.plot.getPlotItem().getViewBox()
        ratio = self.plot.devicePixelRatioF()
        _, (y0, y1) = vb.viewRange()
        rows = max(1, int(vb.height() * ratio))
        self.trace.set_data(t0 * 1000.0, t1 * 1000.0, lo, hi, y1, y0, rows, thickness=max(1, round(1.5 * ratio)))
        self.shown = (t0, t1, lo, hi)

    def _manual_range(self, *_args: object) -> None:
        if not self.paused:
            self.set_paused(True)

    def _range_changed(self, *_args: object) -> None:
        self._update_grid()
        if self.paused:
            self._inspect_timer.start()

    def view_window(self) -> tuple[float, float]:
        """The display times (s) at the left and right edges of the plot."""
        (x0, x1), _ = self.plot.getPlotItem().getViewBox().viewRange()
        return self.reference + x0 / 1000.0, self.reference + x1 / 1000.0

    def _draw_inspect(self) -> None:
        """Paused: draw the exact envelope of whatever window the view shows."""
        t0, t1 = self.view_window()
        if t1 <= t0:
            return
        pixels = self._pixels()
        w = (t1 - t0) / pixels
        # Only what has happened: pixels after the display clock's "now" stay empty.
        shown = max(0, min(pixels, math.floor((self.clock.now() - t0) / w)))
        lo, hi = self.timeline.envelope(t0, t0 + shown * w, shown)
        self._draw(t0, t0 + shown * w, lo, hi)
        self._refresh_annotations(force=True)

    def show_window(self, t0: float, t1: float) -> None:
        """Pause and show display times [t0, t1] (seconds) exactly: for inspection and tests."""
        self.set_paused(True)
        ref = self.reference
        self.plot.getPlotItem().getViewBox().setXRange((t0 - ref) * 1000.0, (t1 - ref) * 1000.0, padding=0)
        self._draw_inspect()

    def _refresh_annotations(self, force: bool = False) -> None:
        if not self.annotator.enabled:
            return
        t0, t1 = self.shown[0], self.shown[1]
        self.annotator.refresh(t0, t1, self._pixels(), force=force)

    # --- lifecycle ---------------------------------------------------------------
    def stop_timers(self) -> None:
        self._timer.stop()
        self._inspect_timer.stop()


def _perf() -> float:
    return time.perf_counter()


def _grid_values(axis: pg.AxisItem, lo: float, hi: float, size: float) -> np.ndarray:
    """The axis's major and minor tick values between ``lo`` and ``hi``: where grid lines go."""
    if hi <= lo or size <= 0:
        return np.zeros(0)
    levels = axis.tickValues(lo, hi, size)
    values = [v for _spacing, ticks in levels[:2] for v in ticks]
    return np.unique(np.asarray(values, dtype=float))


def count_pulses(lo: np.ndarray, threshold: float) -> int:
    """Runs of pixels whose minimum is below ``-threshold``: the cathodic pulses drawn."""
    below = lo < -threshold
    if not below.any():
        return 0
    return int(np.count_nonzero(below[1:] & ~below[:-1]) + (1 if below[0] else 0))

