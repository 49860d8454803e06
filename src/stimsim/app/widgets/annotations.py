"""Scope annotations on demand: pulse width, gap, recharge, period, burst, ramp, cycling.

Marks are placed in data coordinates on one real pulse of the trace (found with the
engine's pulse schedule), so they scroll with it while live and are rebuilt only when
that pulse leaves the view. A summary in the view's corner says the same in words, and
tells the user to zoom in when a pulse is too narrow to mark.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont

from ...engine.load import program_compliance
from ...engine.params import Mode, Recharge
from ...engine.program import Program
from ..messages import fmt_hz
from ..timeline import Segment, Timeline

PulseStartsFn = Callable[[Program, float, float], np.ndarray]
MARK = "#7b1fa2"
CYCLE = (120, 130, 140, 45)
RAMP = (31, 78, 121, 30)
MIN_MARK_PX = 4  #: a phase narrower than this many pixels is not marked
MAX_REGIONS = 40


def _us(seconds: float) -> str:
    if seconds >= 1.0:
        return f"{seconds:g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:g} ms"
    return f"{seconds * 1e6:g} µs"


def summary_lines(prog: Program, delivered_ma: float, limited: bool) -> list[str]:
    """The annotation summary of a program, one fact a line."""
    lines = []
    if prog.mode is Mode.BURST:
        lines.append(f"Burst of {prog.burst_pulses} pulses at {fmt_hz(prog.intraburst_rate_hz or 0)}, "
                     f"every {_us(1 / prog.rate_hz)} ({fmt_hz(prog.rate_hz)})")
    else:
        lines.append(f"{prog.mode.spec.label} {fmt_hz(prog.rate_hz)}: "
                     f"period {_us(1 / prog.rate_hz)}")
    lines.append(f"Pulse width {prog.pulse_width_us} µs · interphase gap {prog.interphase_us} µs · "
                 f"{prog.recharge.value} recharge")
    amp = f"Amplitude {prog.amplitude_ma:.2f} mA"
    if limited:
        amp += f" · delivered {delivered_ma:.2f} mA (compliance limited)"
    lines.append(amp)
    extra = []
    if prog.ramp_ms:
        extra.append(f"ramp {prog.ramp_ms / 1000:g} s")
    if prog.cycling:
        extra.append(f"cycling {prog.cycle_on_ms / 1000:g} s on / {prog.cycle_off_ms / 1000:g} s off")
    if extra:
        lines.append(" · ".join(extra).capitalize())
    return lines


class Annotator:
    """Owns the annotation items of one plot."""

    def __init__(self, plot: pg.PlotItem, content: pg.ItemGroup, timeline: Timeline,
                 pulse_starts: PulseStartsFn | None, show_summary: Callable[[str], None]) -> None:
        """Marks go into ``content``, the scope's group of items placed in display time (ms)."""
        self.plot = plot
        self.content = content
        self.timeline = timeline
        self._pulse_starts = pulse_starts
        self._show_summary = show_summary
        self.enabled = False
        self._items: list[pg.GraphicsObject] = []
        self._anchor: float | None = None
        self._rev = -1
        self.summary = ""
        self.labels: list[str] = []  #: the texts of the marks now shown (for tests)

    def set_enabled(self, on: bool) -> None:
        self.enabled = on
        if not on:
            self._clear()
            self._set_summary("")

    def _set_summary(self, text: str) -> None:
        if text != self.summary:
            self.summary = text
            self._show_summary(text)

    def _clear(self) -> None:
        scene = self.content.scene()
        for item in self._items:
            item.setParentItem(None)
            if scene is not None:
                scene.removeItem(item)
        self._items.clear()
        self.labels.clear()
        self._anchor = None

    def refresh(self, t0: float, t1: float, pixels: int, force: bool = False) -> None:
        if not self.enabled or t1 <= t0:
            return
        span = t1 - t0
        stale = (self._anchor is None or not t0 <= self._anchor <= t1
                 or self._rev != self.timeline.revision)
        if not (force or stale):
            return
        self._rev = self.timeline.revision
        self._clear()
        seg = self.timeline.segment_at(t1 - span * 1e-6)
        if seg.program is None:
            self._set_summary("No stimulation in view")
            return
        prog = seg.program
        comp = program_compliance(prog, self.timeline.device)
        lines = summary_lines(prog, comp.delivered_ma, comp.limited)
        w = span / pixels
        if prog.pulse_width_us * 1e-6 < MIN_MARK_PX * w:
            lines.append("Zoom in (shorter time/screen) to mark a single pulse")
        else:
            self._mark_pulse(seg, t0, t1, w, comp.delivered_ma)
        self._mark_ramp_and_cycles(seg, t0, t1)
        self._set_summary("  ·  ".join(lines[:2]) + "\n" + "  ·  ".join(lines[2:]))
        self._anchor = self._anchor if self._anchor is not None else t1

    # --- pulse marks ---------------------------------------------------------------
    def _mark_pulse(self, seg: Segment, t0: float, t1: float, w: float, amp: float) -> None:
        prog = seg.program
        assert prog is not None
        if self._pulse_starts is None:
            return
        lo = max(t0, seg.start) - seg.on_since
        hi = t1 - seg.on_since
        starts = np.asarray(self._pulse_starts(prog, max(0.0, lo), hi), dtype=float)
        pw = prog.pulse_width_us * 1e-6
        ipg = prog.interphase_us * 1e-6
        length = pw + ipg + (pw if prog.recharge is Recharge.ACTIVE else 0.0)
        whole = starts[starts + length <= hi]
        if prog.mode is Mode.BURST and prog.intraburst_rate_hz:
            # mark a pulse inside a burst, so the interval to the one before is the intra-burst one
            gap = 1.0 / prog.intraburst_rate_hz
            inner = whole[np.isin(np.round((whole - gap) * 1e7), np.round(starts * 1e7))]
            whole = inner if len(inner) else whole
        if not len(whole):
            return
        target = lo + 0.75 * (hi - lo)
        k = int(np.argmin(np.abs(whole - target)))
        s = float(whole[k])
        a = max(amp * self._ramp_factor(prog, s), 0.05)
        on = seg.on_since
        self._anchor = on + s
        y_pw = -a * 1.12
        self._bracket(on + s, on + s + pw, y_pw, f"PW {_us(pw)}", side=True)
        if ipg >= MIN_MARK_PX * w:
            self._bracket(on + s + pw, on + s + pw + ipg, a * 0.18, f"IPG {_us(ipg)}")
        if prog.recharge is Recharge.ACTIVE:
            self._bracket(on + s + pw + ipg, on + s + 2 * pw + ipg, a * 1.12, f"recharge {_us(pw)}", side=True)
        else:
            self._text(on + s + pw + ipg, a * 0.35, "passive recharge", anchor=(0, 1))
        earlier = starts[starts < s - 1e-12]
        if len(earlier) and earlier[-1] >= lo:
            prev = float(earlier[-1])
            gap = s - prev
            if prog.mode is Mode.BURST and prog.intraburst_rate_hz and abs(gap * prog.intraburst_rate_hz - 1) < 1e-3:
                label = f"intra-burst {_us(gap)} · {fmt_hz(prog.intraburst_rate_hz)}"
            else:
                label = f"period {_us(gap)} · {fmt_hz(1 / gap)}"
            self._bracket(on + prev, on + s, a * 1.4, label)
            self._anchor = on + prev  # rebuilt when the leftmost mark leaves the view
        if prog.mode is Mode.BURST:
            self._mark_burst(prog, on, s, starts, lo, a)

    def _mark_burst(self, prog: Program, on: float, s: float, starts: np.ndarray, lo: float, a: float) -> None:
        j = math.floor(s * prog.rate_hz + 1e-9)
        begin = j / prog.rate_hz
        n = prog.burst_pulses or 0
        intra = prog.intraburst_rate_hz or 1
        end = begin + (n - 1) / intra + prog.pulse_width_us * 1e-6
        if begin >= lo:
            self._bracket(on + begin, on + end, -a * 1.45, f"burst: {n} pulses", below=True)
            self._anchor = min(self._anchor or on + begin, on + begin)

    def _ramp_factor(self, prog: Program, s: float) -> float:
        if not prog.ramp_ms:
            return 1.0
        since = s
        if prog.cycling:
            cycle = (prog.cycle_on_ms + prog.cycle_off_ms) / 1000
            since = s - math.floor(s / cycle) * cycle
        return min(1.0, since / (prog.ramp_ms / 1000))

    # --- ramp and cycling ----------------------------------------------------------
    def _mark_ramp_and_cycles(self, seg: Segment, t0: float, t1: float) -> None:
        prog = seg.program
        assert prog is not None
        on = seg.on_since
        ramp = prog.ramp_ms / 1000
        if prog.cycling:
            cycle = (prog.cycle_on_ms + prog.cycle_off_ms) / 1000
            first = max(0, math.floor((max(t0, seg.start) - on) / cycle))
            last = math.floor((t1 - on) / cycle)
            for n in range(first, min(last, first + MAX_REGIONS) + 1):
                c0 = on + n * cycle
                off0, off1 = c0 + prog.cycle_on_ms / 1000, c0 + cycle
                self._region(max(off0, t0), min(off1, t1), CYCLE, f"cycle off {prog.cycle_off_ms / 1000:g} s")
                if ramp:
                    self._region(max(c0, t0, seg.start), min(c0 + ramp, t1), RAMP, f"ramp {ramp:g} s")
        elif ramp:
            self._region(max(on, t0, seg.start), min(on + ramp, t1), RAMP, f"ramp {ramp:g} s")

    # --- drawing helpers -----------------------------------------------------------
    def _add(self, item: pg.GraphicsObject) -> None:
        item.setParentItem(self.content)
        self._items.append(item)

    def _text(self, x: float, y: float, text: str, anchor: tuple[float, float] = (0.5, 1.0)) -> None:
        label = pg.TextItem(text, color=MARK, anchor=anchor)
        font = QFont()
        font.setPointSizeF(max(7.0, QFont().pointSizeF() * 0.9))
        label.setFont(font)
        label.setPos(x * 1000, y)
        self._add(label)
        self.labels.append(text.strip())

    def _bracket(self, x0: float, x1: float, y: float, text: str, below: bool = False, side: bool = False) -> None:
        """A span marked |---| at height y, labelled above (below=True: under it; side: to its right)."""
        tick = abs(y) * 0.06 + 0.02
        xs = np.array([x0, x1, x0, x0, x1, x1]) * 1000
        ys = np.array([y, y, y - tick, y + tick, y - tick, y + tick])
        self._add(pg.PlotCurveItem(xs, ys, connect="pairs", pen=pg.mkPen(MARK, width=1.5)))
        if side:
            self._text(x1, y, " " + text, anchor=(0.0, 0.5))
        else:
            self._text((x0 + x1) / 2, y, text, anchor=(0.5, 0.0) if below else (0.5, 1.0))

    def _region(self, x0: float, x1: float, rgba: tuple[int, int, int, int], text: str) -> None:
        if x1 <= x0:
            return
        region = pg.LinearRegionItem((x0 * 1000, x1 * 1000), movable=False, brush=pg.mkBrush(*rgba),
                                     pen=pg.mkPen(QColor(*rgba[:3], 120)))
        self._add(region)
        self._text(x0, self.plot.getViewBox().viewRange()[1][1], text, anchor=(0.0, 0.0))
