"""The live scope: the stimulation current the device delivers now, exact at any zoom.

Every pixel column shows the min and max of the current over its time span, computed by
the engine's envelope from the program the device reports (never sampled), so a 10 kHz
train, a single 20 us pulse and a 60 s cycling view are all drawn truthfully. Live
scrolling computes only the newly elapsed pixels (``timeline.LiveWindow``); pausing, or
touching the plot with the mouse, freezes the view for zooming and panning.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters as pg_exporters
from PySide6.QtCore import QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QPainter, QResizeEvent
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...engine.load import program_compliance
from ...engine.program import Program
from ..messages import fmt_ma
from ..model import AppModel, Link
from ..style import icon, repolish
from ..timeline import TIME_SCALES, DisplayClock, EnvelopeFn, LiveWindow, Timeline
from .annotations import Annotator, PulseStartsFn
from .raster import EnvelopeRaster

DEFAULT_SCALE = 0.2
SPEEDS: tuple[tuple[float, str], ...] = ((1.0, "1x"), (0.1, "0.1x"), (0.01, "0.01x"))
FRAME_MS = 16  #: about 60 frames per second while live
_Y_LADDER = (0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0, 25.0)
Y_HEADROOM = 1.15  #: the y range leaves this much room above the largest current in view
Y_HEADROOM_ANNOTATED = 1.75  #: ... and this much with annotations, whose labels sit above and below
Y_SHRINK_S = 1.0  #: the y range shrinks only after the view has needed less for this long (steady)
SECONDS_FROM_S = 2.0  #: views wider than this label time in seconds
TRACE = "#1f4e79"
GRID = "#e3e8ee"
TRACE_LIMITED = "#c25e00"
TRACE_PX = 1.5  #: trace thickness in pixels ...
TRACE_PX_PRESENTATION = 3.0  #: ... and in presentation mode, to read on a projector
TICK_DENSITY = 1.6  #: pyqtgraph's tick density (1.0: its default spacing) ...
TICK_DENSITY_PRESENTATION = 1.0  #: ... and with presentation fonts, whose labels need more room
CUSTOM_SPAN = "custom"  #: the Time/screen item that shows a zoom off the 1-2-5 ladder


def fmt_span(seconds: float) -> str:
    """A time per screen in words: ``37 ms``, ``1.5 s``."""
    if seconds >= 1.0:
        return f"{seconds:.3g} s"
    return f"{seconds * 1000:.3g} ms"


class CompactToolButton(QToolButton):
    """A tool button with its text while there is room, its icon alone when the window is narrow.

    It asks the layout for room for its text but accepts the room of its icon, so the
    scope's controls fit a 1024-pixel screen even with presentation fonts; the tooltip and
    the accessible name always say what it does.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def _hint(self, style: Qt.ToolButtonStyle) -> QSize:
        old = self.toolButtonStyle()
        self.blockSignals(True)
        self.setToolButtonStyle(style)
        hint = super().sizeHint()
        self.setToolButtonStyle(old)
        self.blockSignals(False)
        return hint

    def sizeHint(self) -> QSize:  # noqa: N802
        return self._hint(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return self._hint(Qt.ToolButtonStyle.ToolButtonIconOnly)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        roomy = event.size().width() >= self.sizeHint().width()
        style = Qt.ToolButtonStyle.ToolButtonTextBesideIcon if roomy else Qt.ToolButtonStyle.ToolButtonIconOnly
        if style != self.toolButtonStyle():
            self.setToolButtonStyle(style)
        super().resizeEvent(event)


class TimeAxis(pg.AxisItem):  # type: ignore[misc]  # pyqtgraph ships no type hints
    """A time axis whose data are in ms, labelled in ms or, for wide views, in s (no 1e6 exponents)."""

    def __init__(self, orientation: str = "bottom") -> None:
        super().__init__(orientation)
        self.enableAutoSIPrefix(False)
        self.seconds = False  #: label ticks in seconds

    def tickStrings(self, values: Sequence[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        div = 1000.0 if self.seconds else 1.0
        step = spacing / div
        decimals = max(0, min(6, -math.floor(math.log10(step)))) if step > 0 else 0
        return [f"{v / div:,.{decimals}f}".replace(",", " ") for v in values]


def time_label(seconds: bool, paused: bool) -> str:
    unit = "s" if seconds else "ms"
    zero = "the moment the scope was paused" if paused else "now"
    return f"Time ({unit})   ·   0 = {zero}"


class LiveScope(QWidget):
    """Scope panel: controls row, plot, banner. Collaborators come in as arguments."""

    pausedChanged = Signal(bool)

    def __init__(self, model: AppModel, envelope: EnvelopeFn, *, pulse_starts: PulseStartsFn | None = None,
                 clock: DisplayClock | None = None, parent: QWidget | None = None, presentation: bool = False) -> None:
        super().__init__(parent)
        self.model = model
        self.presentation = presentation
        self.trace_px = TRACE_PX_PRESENTATION if presentation else TRACE_PX
        self._shrink_since: float | None = None
        self._asked: tuple[float, float, float, float] | None = None  #: show_window's (t0, t1) and its x range
        self._following_zoom = False
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
        self.banner = QLabel(self)  # a row of its own: a long text never widens the window
        self.banner.setObjectName("scopeBanner")
        self.banner.setAccessibleName("Scope status")
        self.banner.setToolTip("What the trace shows now")
        self.banner.setWordWrap(True)
        lay.addWidget(self.banner)
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
        self.scale_box.setToolTip("How much time one screen width shows, from 1 ms to 60 s; "
                                  "follows a zoom with the mouse wheel")
        self.scale_box.currentIndexChanged.connect(self._scale_chosen)
        row.addWidget(self.scale_box)

        row.addWidget(QLabel("Speed", self))
        self.speed_box = QComboBox(self)
        for speed, text in SPEEDS:
            self.speed_box.addItem(text, speed)
        self.speed_box.setAccessibleName("Slow motion")
        self.speed_box.setToolTip("Play the stimulation slower (0.1x, 0.01x) to follow single pulses")
        self.speed_box.currentIndexChanged.connect(lambda _i: self.set_speed(float(self.speed_box.currentData())))
        row.addWidget(self.speed_box)

        self.pause_button = CompactToolButton(self)
        self.pause_button.setCheckable(True)
        self.pause_button.setIcon(icon("pause"))
        self.pause_button.setText("Pause")
        self.pause_button.setAccessibleName("Pause the scope")
        self.pause_button.setToolTip("Freeze the view to zoom (mouse wheel) and pan (drag); press again to go live")
        self.pause_button.toggled.connect(self.set_paused)
        row.addWidget(self.pause_button)

        self.annotate_button = CompactToolButton(self)
        self.annotate_button.setCheckable(True)
        self.annotate_button.setIcon(icon("annotate"))
        self.annotate_button.setText("Annotate")
        self.annotate_button.setAccessibleName("Show annotations")
        self.annotate_button.setToolTip("Mark pulse width, interphase gap, period, burst, ramp and cycling")
        self.annotate_button.toggled.connect(self.set_annotations)
        row.addWidget(self.annotate_button)

        self.export_button = CompactToolButton(self)
        self.export_button.setIcon(icon("export"))
        self.export_button.setText("Export")
        self.export_button.setAccessibleName("Export the scope")
        self.export_button.setToolTip("Save the view as a PNG or SVG image (Ctrl+E) or its data as CSV (Ctrl+Shift+E)")
        self.export_button.clicked.connect(self.export_image_dialog)
        row.addWidget(self.export_button)

        row.addStretch(1)
        for w in (self.pause_button, self.annotate_button, self.export_button):
            w.setIconSize(QSize(18, 18))
        return row

    def _build_plot(self) -> pg.PlotWidget:
        self.time_axis = TimeAxis("bottom")
        pw = pg.PlotWidget(parent=self, background="w", axisItems={"bottom": self.time_axis})
        pw.setAccessibleName("Stimulation current plot")
        pw.setToolTip("Current in mA against time; wheel to zoom in time, drag to pan (pauses the scope)")
        item = pw.getPlotItem()
        item.setLabel("bottom", time_label(False, False))
        item.setLabel("left", "Current (mA)")
        item.getAxis("left").enableAutoSIPrefix(False)
        for name in ("left", "bottom"):
            # more ticks, and labels on the minor ones while they have room: numbers to read the trace by
            item.getAxis(name).setTickDensity(TICK_DENSITY_PRESENTATION if self.presentation else TICK_DENSITY)
            item.getAxis(name).setStyle(textFillLimits=[(0, 0.7), (2, 0.6), (4, 0.4), (6, 0.2)])
        item.setMenuEnabled(False)
        item.hideButtons()
        vb = item.getViewBox()
        vb.setMouseEnabled(x=True, y=False)  # the y range follows the view; the mouse zooms time
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
    def _scale_chosen(self, _index: int) -> None:
        if not self._following_zoom and self.scale_box.currentData() is not None:
            self.set_span(float(self.scale_box.currentData()))

    def set_span(self, seconds: float) -> None:
        self.span = seconds
        self._show_span(seconds)
        if self.paused:
            vb = self.plot.getPlotItem().getViewBox()
            (x0, x1), _ = vb.viewRange()
            mid = (x0 + x1) / 2
            vb.setXRange(mid - seconds * 500, mid + seconds * 500, padding=0)
        else:
            self.frame()

    def _show_span(self, seconds: float) -> None:
        """Time/screen says ``seconds``: a ladder entry, or the one custom entry after a zoom."""
        box = self.scale_box
        self._following_zoom = True
        try:
            idx = next((i for i, (s, _t) in enumerate(TIME_SCALES) if abs(s - seconds) <= s * 1e-3), -1)
            custom = box.findData(CUSTOM_SPAN, Qt.ItemDataRole.UserRole + 1)
            if idx < 0:
                if custom < 0:
                    box.addItem("", None)
                    custom = box.count() - 1
                    box.setItemData(custom, CUSTOM_SPAN, Qt.ItemDataRole.UserRole + 1)
                box.setItemText(custom, fmt_span(seconds))
                box.setItemData(custom, seconds)
                idx = custom
            elif custom >= 0:
                box.removeItem(custom)
            if idx != box.currentIndex():
                box.setCurrentIndex(idx)
        finally:
            self._following_zoom = False
        seconds_axis = seconds > SECONDS_FROM_S
        if seconds_axis != self.time_axis.seconds:
            self.time_axis.seconds = seconds_axis
            self.time_axis.picture = None  # re-draw the tick labels
            self.time_axis.update()
            self._axis_label()

    def _axis_label(self) -> None:
        self.plot.getPlotItem().setLabel("bottom", time_label(self.time_axis.seconds, self.paused))

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
        self._axis_label()
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
        self._fit_y(self.shown[2], self.shown[3], at_once=True)
        self._refresh_annotations(force=True)

    # --- following the device ----------------------------------------------------
    def follow_model(self, turned_on: bool = False) -> None:
        """Record what the device reports now as the output from this display moment on."""
        m = self.model
        self.timeline.set_device(m.device_model)
        prog = m.output_program()
        self.timeline.set_output(self.clock.now(), prog, turned_on=turned_on, known=m.link is Link.CONNECTED)
        self._update_banner()
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

    def _fit_y(self, lo: np.ndarray, hi: np.ndarray, at_once: bool = False) -> None:
        """Fit the y range to the current in view, on a ladder of round ranges.

        It grows at once (nothing in view is ever clipped) and shrinks only once the view has
        needed less for ``Y_SHRINK_S``, so the scale stays steady and readable.
        """
        peak = 0.0
        if len(lo):
            with np.errstate(invalid="ignore"):
                values = np.abs(np.concatenate((lo, hi)))
            finite = values[np.isfinite(values)]
            peak = float(finite.max()) if len(finite) else 0.0
        need = peak * (Y_HEADROOM_ANNOTATED if self.annotator.enabled else Y_HEADROOM)
        ymax = next((v for v in _Y_LADDER if v >= need), _Y_LADDER[-1])
        if ymax < self._ymax and not at_once:
            now = time.monotonic()
            if self._shrink_since is None:
                self._shrink_since = now
            if now - self._shrink_since < Y_SHRINK_S:
                return
        self._shrink_since = None
        if ymax != self._ymax:
            self._ymax = ymax
            self.plot.getPlotItem().getViewBox().setYRange(-ymax, ymax, padding=0)

    @property
    def y_range(self) -> float:
        """The y axis runs from -y_range to +y_range (mA)."""
        return self._ymax

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
        self._fit_y(self.live.lo, self.live.hi)
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
        self.trace.set_data(t0 * 1000.0, t1 * 1000.0, lo, hi, y1, y0, rows,
                            thickness=max(1, round(self.trace_px * ratio)))
        self.shown = (t0, t1, lo, hi)

    def _manual_range(self, *_args: object) -> None:
        if not self.paused:
            self.set_paused(True)

    def _range_changed(self, *_args: object) -> None:
        self._update_grid()
        if self.paused:
            (x0, x1), _ = self.plot.getPlotItem().getViewBox().viewRange()
            if x1 > x0:
                self.span = (x1 - x0) / 1000.0
                self._show_span(self.span)  # Time/screen follows a zoom
            self._inspect_timer.start()

    def view_window(self) -> tuple[float, float]:
        """The display times (s) at the left and right edges of the plot."""
        (x0, x1), _ = self.plot.getPlotItem().getViewBox().viewRange()
        if self._asked is not None and self._asked[2:] == (x0, x1):
            return self._asked[0], self._asked[1]  # exactly the window asked for, not its ms round trip
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
        self._fit_y(lo, hi, at_once=True)
        self._draw(t0, t0 + shown * w, lo, hi)
        self._refresh_annotations(force=True)

    def show_window(self, t0: float, t1: float) -> None:
        """Pause and show display times [t0, t1] (seconds) exactly: for inspection and tests."""
        self.set_paused(True)
        ref = self.reference
        vb = self.plot.getPlotItem().getViewBox()
        vb.setXRange((t0 - ref) * 1000.0, (t1 - ref) * 1000.0, padding=0)
        (x0, x1), _ = vb.viewRange()
        self._asked = (t0, t1, x0, x1)
        self._draw_inspect()

    def _refresh_annotations(self, force: bool = False) -> None:
        if not self.annotator.enabled:
            return
        t0, t1 = self.shown[0], self.shown[1]
        self.annotator.refresh(t0, t1, self._pixels(), force=force)

    # --- export ------------------------------------------------------------------
    def export_image(self, path: str | os.PathLike[str]) -> Path:
        """Write the plot as it is shown to ``path``: PNG or SVG by its suffix, whole or not at all."""
        target = Path(path)
        kind = target.suffix.lower()
        item = self.plot.getPlotItem()
        if kind == ".png":
            image = pg_exporters.ImageExporter(item).export(toBytes=True)
            _write_whole(target, lambda tmp: image.save(str(tmp), "PNG"))
        elif kind == ".svg":
            # pyqtgraph's SVGExporter cannot parse the paths this Qt writes (pyqtgraph issue
            # 3485), so the plot is drawn through Qt's own SVG generator.
            _write_whole(target, self._write_svg)
        else:
            raise ValueError(f"{target.name}: an image is saved as .png or .svg")
        return target

    def _write_svg(self, path: Path) -> bool:
        size = self.plot.size()
        svg = QSvgGenerator()
        svg.setFileName(str(path))
        svg.setSize(size)
        svg.setViewBox(QRect(0, 0, size.width(), size.height()))
        svg.setTitle("stimsim scope")
        painter = QPainter(svg)
        try:
            self.plot.render(painter)
        finally:
            painter.end()
        return path.stat().st_size > 0

    def export_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write the data in view: per pixel column its time and min and max current.

        The trace is drawn as a raster of per-column envelopes (not as a curve), so the CSV
        holds those envelopes, which is what the picture shows, exactly.
        """
        target = Path(path)
        t0, t1, lo, hi = self.shown
        n = len(lo)
        times = t0 + (np.arange(n) + 0.5) * ((t1 - t0) / n) if n else np.zeros(0)
        lines = ["time_s,min_mA,max_mA"]
        for t, a, b in zip(times - self.reference, lo, hi, strict=True):
            lines.append(f"{t:.9f},{'' if np.isnan(a) else f'{a:.6f}'},{'' if np.isnan(b) else f'{b:.6f}'}")
        text = "\n".join(lines) + "\n"
        _write_whole(target, lambda tmp: tmp.write_text(text, encoding="ascii") > 0)
        return target

    def export_image_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the scope's view", "scope.png",
                                              "PNG image (*.png);;SVG image (*.svg)")
        if path:
            self._export_reporting(lambda: self.export_image(path))

    def export_csv_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the scope's data", "scope.csv", "CSV (*.csv)")
        if path:
            self._export_reporting(lambda: self.export_csv(path))

    def _export_reporting(self, run: object) -> None:
        assert callable(run)
        try:
            run()
        except (OSError, ValueError) as exc:
            QMessageBox.warning(self, "Export", f"Nothing was saved: {exc}")

    # --- lifecycle ---------------------------------------------------------------
    def stop_timers(self) -> None:
        self._timer.stop()
        self._inspect_timer.stop()


def _perf() -> float:
    return time.perf_counter()


def _write_whole(target: Path, write: object) -> None:
    """Write through a temporary file beside ``target`` and rename: whole or not at all."""
    assert callable(write)
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        if not write(tmp):
            raise OSError(f"cannot write {target}")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


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

