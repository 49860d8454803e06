"""App fixtures: the whole app on a fresh in-process virtual generator per test.

Each test gets its own registered generator, so stimulation, amplitude and slots never
leak between tests; ``gen`` is that device, for checking what it really did.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from stimsim.app.launch import AppOptions, StimsimApp
from stimsim.app.model import Link
from stimsim.app.style import apply_style
from stimsim.generator import urlhandler
from stimsim.generator.virtual_generator import VirtualGenerator

urlhandler.register()  # the app tests reach their generators by virtual:// URL

_names = itertools.count(1)


@pytest.fixture
def gen() -> Iterator[VirtualGenerator]:
    generator = urlhandler.new_generator(rng_seed=11)
    yield generator


@pytest.fixture
def stim(qtbot: QtBot, qapp: QApplication, gen: VirtualGenerator) -> Iterator[StimsimApp]:
    """The app connected to ``gen`` with the example programs in slots 1..5."""
    apply_style(qapp)
    name = f"test-{next(_names)}"
    url = urlhandler.register_generator(name, gen)
    app = StimsimApp(AppOptions(), builtin_url=url, ports=lambda: [])
    qtbot.addWidget(app.window)
    with qtbot.waitSignal(app.worker.setupFinished, timeout=10_000):
        app.start()
    qtbot.waitUntil(lambda: app.model.link is Link.CONNECTED and len(app.model.slots) == 5, timeout=5_000)
    yield app
    app.shutdown()
    urlhandler.unregister_generator(name)


def wait_device(qtbot: QtBot, predicate: object, timeout: int = 3_000) -> None:
    qtbot.waitUntil(predicate, timeout=timeout)  # type: ignore[arg-type]


class LoopWatch:
    """Measures the longest gap between event-loop turns (a blocked loop shows as a long gap)."""

    def __init__(self, interval_ms: int = 5) -> None:
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.last = 0.0
        self.worst = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        if self.last:
            self.worst = max(self.worst, now - self.last)
        self.last = now

    def __enter__(self) -> LoopWatch:
        self.last = 0.0
        self.worst = 0.0
        self.timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.timer.stop()
