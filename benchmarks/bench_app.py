"""Desktop app benchmark: live scope frame times and app start to first painted window.

Run alone (``python benchmarks/bench_app.py``) or import ``run()``; each row is
(figure, value, unit and target). Offscreen by default, so it needs no display.

- Scope: the live scope scrolls at 60 frames per second on a 2000-pixel-wide plot for
  a tonic, a burst and a 10 kHz program. A frame is what the timer does every 16 ms:
  bring the envelope up to the display clock and repaint the plot (both timed, painting
  forced synchronously). Target p95 <= 16 ms.
- Start: a fresh ``python`` process builds the app on the built-in generator and shows
  the window; the time from launching the process to the window's first paint event.
  Target <= 2 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

PLOT_PIXELS = 2000
FRAMES = 180  #: 3 s of live scrolling per program
FRAME_MS = 16
Row = tuple[str, float, str]

_START_SCRIPT = r"""
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication
from stimsim.app.launch import AppOptions, StimsimApp, drop_offscreen_noise
from stimsim.app.style import apply_style
drop_offscreen_noise()

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            print(f"PAINTED {time.monotonic():.6f}", flush=True)
            app.removeEventFilter(self)
            QTimer.singleShot(0, app.quit)
        return False

app = QApplication(sys.argv[:1])
apply_style(app)
watch = FirstPaint()
stim = StimsimApp(AppOptions(), ports=lambda: [])
stim.window.installEventFilter(watch)
app.installEventFilter(watch)
stim.start()
app.exec()
stim.shutdown()
"""


def _percentiles(values: list[float]) -> tuple[float, float]:
    arr = np.asarray(values) * 1000.0
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 95))


def bench_scope() -> list[Row]:
    """Live frames on a 2000-pixel plot: tonic, burst and 10 kHz, at 200 ms per screen."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from stimsim.app.launch import default_envelope, default_pulse_starts, drop_offscreen_noise, example_slot_programs
    from stimsim.app.model import AppModel, Link, Status
    from stimsim.app.style import apply_style
    from stimsim.app.widgets.scope import LiveScope

    drop_offscreen_noise()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_style(app)  # type: ignore[arg-type]
    programs = {p.mode.value if p.rate_hz != 10_000 else "10 kHz": p for p in example_slot_programs()}
    cases = (("tonic 50 Hz", programs["tonic"]), ("burst 40 Hz x5", programs["burst"]),
             ("10 kHz", programs["10 kHz"]))
    rows: list[Row] = []
    for name, prog in cases:
        model = AppModel()
        model.set_slots({prog.slot: prog})
        model.set_link(Link.CONNECTED)
        model.set_status(Status(stim_on=True, slot=prog.slot, amplitude_ua=prog.amplitude_ua, role="PATIENT"))
        scope = LiveScope(model, default_envelope(), pulse_starts=default_pulse_starts())
        scope.resize(PLOT_PIXELS + 80, 500)
        scope.show()
        for _ in range(3):  # the axes settle their widths over a couple of layouts
            app.processEvents()
            scope.resize(scope.width() + PLOT_PIXELS - scope._pixels(), 500)
        app.processEvents()
        scope.stop_timers()  # frames are driven and timed here
        scope.set_span(0.2)
        pixels = scope._pixels()
        times: list[float] = []
        viewport = scope.plot.viewport()

        def tick(scope: LiveScope = scope, times: list[float] = times, viewport: object = viewport) -> None:
            start = time.perf_counter()
            scope.frame()
            viewport.repaint()  # type: ignore[attr-defined]
            times.append(time.perf_counter() - start)
            if len(times) >= FRAMES:
                app.quit()  # type: ignore[union-attr]

        timer = QTimer()
        timer.setInterval(FRAME_MS)
        timer.timeout.connect(tick)
        timer.start()
        app.exec()  # type: ignore[union-attr]
        timer.stop()
        p50, p95 = _percentiles(times[10:])
        rows.append((f"scope frame p50, {name}, {pixels} px, 200 ms/screen", round(p50, 2), "ms"))
        rows.append((f"scope frame p95, {name}, {pixels} px, 200 ms/screen", round(p95, 2), "ms (target <= 16)"))
        full = []
        for _ in range(20):
            start = time.perf_counter()
            scope.timeline.envelope(1.0, 61.0, pixels)
            full.append(time.perf_counter() - start)
        rows.append((f"full envelope, {name}, 60 s on {pixels} px (zoom/pan redraw)",
                     round(_percentiles(full)[0], 2), "ms"))
        scope.close()
        scope.deleteLater()
    return rows


def bench_start() -> list[Row]:
    """Launch a fresh process and time it to the main window's first paint."""
    env = dict(os.environ)
    runs = []
    for _ in range(3):
        launched = time.monotonic()
        done = subprocess.run([sys.executable, "-c", _START_SCRIPT], capture_output=True, text=True, env=env,
                              timeout=60)
        line = next((ln for ln in done.stdout.splitlines() if ln.startswith("PAINTED")), None)
        if line is None:
            raise RuntimeError(f"the app did not paint: {done.stderr.strip()[-400:]}")
        runs.append(float(line.split()[1]) - launched)
    return [("app start to first painted window (best of 3)", round(min(runs), 3), "s (target <= 2)"),
            ("app start to first painted window (worst of 3)", round(max(runs), 3), "s")]


def run() -> list[Row]:
    return bench_scope() + bench_start()


def main() -> None:
    for figure, value, unit in run():
        print(f"{figure:<70} {value:>10} {unit}")


if __name__ == "__main__":
    main()
