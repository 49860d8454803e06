"""The app with its own data folder per test (records, autosave, recent files under tmp_path)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from stimsim.app.launch import AppOptions, StimsimApp
from stimsim.app.model import Link
from stimsim.app.style import apply_style
from stimsim.generator import urlhandler
from stimsim.generator.virtual_generator import VirtualGenerator

_names = itertools.count(1)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def rstim(qtbot: QtBot, qapp: QApplication, gen: VirtualGenerator, data: Path) -> Iterator[StimsimApp]:
    """The app on ``gen`` (example programs in slots 1..5), writing under ``data``."""
    apply_style(qapp)
    name = f"records-{next(_names)}"
    url = urlhandler.register_generator(name, gen)
    app = StimsimApp(AppOptions(data_dir=data), builtin_url=url, ports=lambda: [])
    qtbot.addWidget(app.window)
    told: list[tuple[str, str, str, str]] = []
    app.session.files.tell = lambda *args: told.append(args)  # type: ignore[assignment]
    app.told = told  # type: ignore[attr-defined]
    with qtbot.waitSignal(app.worker.setupFinished, timeout=10_000):
        app.start()
    qtbot.waitUntil(lambda: app.model.link is Link.CONNECTED and len(app.model.slots) == 5, timeout=5_000)
    yield app
    app.shutdown()
    urlhandler.unregister_generator(name)
