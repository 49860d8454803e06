"""What the scope draws, as a function of its own clock: no Qt, testable alone.

The scope plays the stimulation at a chosen speed (1x, 0.1x, 0.01x). It keeps its own
*display clock* and records every change the device reports (on, off, program, amplitude)
at the display time it arrived, as a segment. A window of display time is then drawn
exactly by asking the engine's envelope for each segment's part, with t = 0 at the
moment stimulation turned on, so pulse timing and ramps stay those of the device.

Live scrolling snaps pixels to a fixed grid of display time (pixel k covers
``[k*w, (k+1)*w)``) so a pixel once drawn never changes: each frame computes only the
pixels that elapsed since the last one, and dense trains do not shimmer.
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..engine.program import DeviceModel, Program

#: Time per screen: (seconds, label). 1 ms to 60 s, the usual 1-2-5 ladder.
TIME_SCALES: tuple[tuple[float, str], ...] = (
    (0.001, "1 ms"), (0.002, "2 ms"), (0.005, "5 ms"), (0.01, "10 ms"), (0.02, "20 ms"), (0.05, "50 ms"),
    (0.1, "100 ms"), (0.2, "200 ms"), (0.5, "500 ms"), (1.0, "1 s"), (2.0, "2 s"), (5.0, "5 s"),
    (10.0, "10 s"), (20.0, "20 s"), (60.0, "60 s"),
)


def time_scale(text: str) -> float:
    """A time per screen from its label, spaces optional (``50ms``, ``2 s``); ValueError if not one."""
    want = text.replace(" ", "").lower()
    for seconds, label in TIME_SCALES:
        if label.replace(" ", "") == want:
            return seconds
    raise ValueError(f"{text!r} is not a time per screen (one of {', '.join(t for _, t in TIME_SCALES)})")


Envelope = tuple[np.ndarray, np.ndarray]
EnvelopeFn = Callable[[Program, DeviceModel, float, float, int], Envelope]


class DisplayClock:
    """Display time in seconds: wall time scaled by the slow-motion factor, continuous."""

    def __init__(self, wall: Callable[[], float] = time.monotonic) -> None:
        self._wall = wall
        self._base_wall = wall()
        self._base = 0.0
        self._speed = 1.0

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> float:
        return self._base + (self._wall() - self._base_wall) * self._speed

    def set_speed(self, speed: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        now = self.now()
        self._base_wall = self._wall()
        self._base = now
        self._speed = speed


@dataclass(frozen=True)
class Segment:
    """From display time ``start`` on, the output is ``program`` (None: no output)."""

    start: float
    program: Program | None
    on_since: float  #: display time stimulation turned on: the engine's t = 0
    known: bool = True  #: False while the link is down: the output is unknown, drawn as nothing


class Timeline:
    """The output history in display time, and its exact envelope over any window."""

    def __init__(self, envelope: EnvelopeFn, device: DeviceModel | None = None, history_s: float = 900.0) -> None:
        self._envelope = envelope
        self.device = device or DeviceModel()
        self.history_s = history_s
        self._segments: list[Segment] = [Segment(-math.inf, None, 0.0)]
        self._starts: list[float] = [-math.inf]
        self.revision = 0  #: bumps on every change, so caches know to check

    @property
    def segments(self) -> tuple[Segment, ...]:
        return tuple(self._segments)

    def current(self) -> Segment:
        return self._segments[-1]

    def set_output(self, now: float, program: Program | None, *, turned_on: bool = False,
                   known: bool = True) -> None:
        """Record what the device reports from display time ``now`` on.

        ``turned_on``: stimulation (re)started now, so the engine's t = 0 (pulse grid and
        ramp) restarts; otherwise a change keeps the running grid, as the device does.
        ``known=False``: the link is down and the output unknown from now on.
        """
        last = self._segments[-1]
        if not known:
            program = None
        on_since = now if program is None or turned_on or last.program is None else last.on_since
        if last.program == program and last.on_since == on_since and last.known == known:
            return
        now = max(now, last.start)
        segment = Segment(now, program, on_since, known)
        if now == last.start and len(self._segments) > 1:
            self._segments[-1] = segment
        else:
            self._segments.append(segment)
            self._starts.append(now)
        self._prune(now)
        self.revision += 1

    def set_device(self, device: DeviceModel) -> None:
        if device != self.device:
            self.device = device
            self.revision += 1

    def _prune(self, now: float) -> None:
        cut = bisect.bisect_right(self._starts, now - self.history_s) - 1
        if cut > 0:
            del self._segments[:cut]
            del self._starts[:cut]

    def segment_at(self, t: float) -> Segment:
        return self._segments[max(0, bisect.bisect_right(self._starts, t) - 1)]

    def envelope(self, t0: float, t1: float, pixels: int) -> Envelope:
        """Per-pixel (min, max) current in mA over ``[t0, t1)`` cut in ``pixels`` equal parts.

        Pixels wholly in a time the output was unknown (no link) are NaN: nothing to draw.
        """
        if pixels <= 0 or t1 <= t0:
            return np.zeros(max(pixels, 0)), np.zeros(max(pixels, 0))
        lo = np.full(pixels, np.inf)
        hi = np.full(pixels, -np.inf)
        w = (t1 - t0) / pixels
        first = max(0, bisect.bisect_right(self._starts, t0) - 1)
        last = bisect.bisect_left(self._starts, t1)
        for i in range(first, last):
            seg = self._segments[i]
            a = max(seg.start, t0)
            b = min(self._starts[i + 1], t1) if i + 1 < len(self._segments) else t1
            if b <= a:
                continue
            if not seg.known:
                continue
            if seg.program is None:
                # No output: the pixels it touches hold 0 mA.
                k0 = max(0, math.floor((a - t0) / w))
                k1 = min(pixels, max(k0 + 1, math.ceil((b - t0) / w)))
                np.minimum(lo[k0:k1], 0.0, out=lo[k0:k1])
                np.maximum(hi[k0:k1], 0.0, out=hi[k0:k1])
                continue
            self._fill(seg, a, b, t0, w, pixels, lo, hi)
        untouched = np.isinf(lo)
        if untouched.any():
            # Unknown output, or float rounding at a segment edge (then: no output).
            centres = t0 + (np.nonzero(untouched)[0] + 0.5) * w
            where = np.maximum(np.searchsorted(self._starts, centres, side="right") - 1, 0)
            known = np.array([seg.known for seg in self._segments])
            fill = np.where(known[where], 0.0, np.nan)
            lo[untouched] = fill
            hi[untouched] = fill
        return lo, hi

    def _fill(self, seg: Segment, a: float, b: float, t0: float, w: float, pixels: int,
              lo: np.ndarray, hi: np.ndarray) -> None:
        """Merge the segment's envelope over [a, b) into the pixel arrays."""
        assert seg.program is not None
        ka = (a - t0) / w
        kb = (b - t0) / w
        full_a = min(pixels, math.ceil(ka - 1e-9))
        full_b = max(full_a, min(pixels, math.floor(kb + 1e-9)))
        # Times local to the segment's stimulation start; compare them after the subtraction,
        # which can make two distinct instants equal.
        la, lb = max(0.0, t0 + full_a * w - seg.on_since), t0 + full_b * w - seg.on_since
        if full_b > full_a and lb > la:
            mn, mx = self._envelope(seg.program, self.device, la, lb, full_b - full_a)
            np.minimum(lo[full_a:full_b], mn, out=lo[full_a:full_b])
            np.maximum(hi[full_a:full_b], mx, out=hi[full_a:full_b])
        # Pixels the segment covers only in part: exact one-pixel envelopes of that part.
        for k in {math.floor(ka), min(math.ceil(kb) - 1, pixels - 1)}:
            if not 0 <= k < pixels or full_a <= k < full_b:
                continue
            pa = max(a, t0 + k * w) - seg.on_since
            pb = min(b, t0 + (k + 1) * w) - seg.on_since
            if pb <= pa:
                continue
            mn, mx = self._envelope(seg.program, self.device, pa, pb, 1)
            lo[k] = min(lo[k], float(mn[0]))
            hi[k] = max(hi[k], float(mx[0]))


class LiveWindow:
    """Pixel-grid cache for live scrolling: only newly elapsed pixels are computed."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self._w = 0.0
        self._pixels = 0
        self._end = 0  #: absolute index of the first pixel not yet computed
        self._rev = -1
        self.lo = np.zeros(0)
        self.hi = np.zeros(0)
        self.computed_last = 0  #: pixels computed by the last update (for tests and benchmarks)

    def update(self, now: float, span: float, pixels: int) -> tuple[float, float]:
        """Bring the window ending at ``now`` up to date; returns its (t0, t1) in display time."""
        w = span / pixels
        end = math.floor(now / w)
        fresh = w != self._w or pixels != self._pixels or end - self._end >= pixels or end < self._end
        if not fresh and self._rev != self.timeline.revision:
            # A change stamped before the cached edge (e.g. a device-model update) voids the cache.
            changed_from = self.timeline.current().start
            fresh = changed_from < self._end * w or self._device_changed()
        if fresh:
            self._w, self._pixels = w, pixels
            self.lo, self.hi = self.timeline.envelope((end - pixels) * w, end * w, pixels)
            self.computed_last = pixels
        elif end > self._end:
            n = end - self._end
            mn, mx = self.timeline.envelope(self._end * w, end * w, n)
            self.lo = np.concatenate((self.lo[n:], mn))
            self.hi = np.concatenate((self.hi[n:], mx))
            self.computed_last = n
        else:
            self.computed_last = 0
        self._end = end
        self._rev = self.timeline.revision
        self._device = self.timeline.device
        return (end - pixels) * w, end * w

    def _device_changed(self) -> bool:
        return getattr(self, "_device", None) != self.timeline.device

    def invalidate(self) -> None:
        self._w = 0.0
