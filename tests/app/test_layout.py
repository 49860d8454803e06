"""The window on small and large screens: it fits a 1024x768 projector, the scope takes the room."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from stimsim.app.launch import AppOptions, StimsimApp
from stimsim.app.model import Link
from stimsim.app.style import apply_style
from stimsim.generator import urlhandler as transport

PROJECTOR = (1024, 768)


@pytest.fixture(params=[False, True], ids=["normal", "presentation"])
def shown(request: pytest.FixtureRequest, qtbot: QtBot, qapp: QApplication) -> Iterator[StimsimApp]:
    """The app stimulating on P5 (the longest mode line) with annotations on, in both modes."""
    presentation = bool(request.param)
    apply_style(qapp, presentation=presentation)
    name = f"layout-{int(presentation)}"
    url = transport.register_generator(name, transport.new_generator(rng_seed=2))
    app = StimsimApp(AppOptions(presentation=presentation, slot=5, stim_on=True, annotate=True),
                     builtin_url=url, ports=lambda: [])
    qtbot.addWidget(app.window)
    try:
        with qtbot.waitSignal(app.worker.setupFinished, timeout=10_000, check_params_cb=lambda n, f: n == "start"):
            app.start()
        qtbot.waitUntil(lambda: app.model.link is Link.CONNECTED and app.model.status.stim_on, timeout=5_000)
        qtbot.wait(100)
        yield app
    finally:
        app.shutdown()
        transport.unregister_generator(name)
        apply_style(qapp)


def test_the_window_fits_a_1024x768_projector(qtbot: QtBot, shown: StimsimApp) -> None:
    window = shown.window
    need = window.minimumSizeHint()
    assert need.width() <= PROJECTOR[0] and need.height() <= PROJECTOR[1] - 40, need  # 40: title bar
    window.resize(*PROJECTOR)
    qtbot.wait(50)
    assert window.width() == PROJECTOR[0]
    remote = window.remote
    for button in (remote.prev_button, remote.next_button, remote.power_button, remote.up_button,
                   remote.down_button, remote.stop_button):
        assert button.width() >= button.minimumSizeHint().width(), button.objectName()


def test_a_taller_window_gives_the_height_to_the_scope(qtbot: QtBot, shown: StimsimApp) -> None:
    window = shown.window
    window.resize(1280, 800)
    qtbot.wait(50)
    scope, panel = window.scope.height(), window.device_panel.height()
    window.resize(1920, 1080)
    qtbot.wait(50)
    assert window.device_panel.height() == panel
    assert window.scope.height() >= scope + 250


def test_the_device_panel_collapses_and_comes_back(qtbot: QtBot, shown: StimsimApp) -> None:
    window = shown.window
    if shown.options.presentation:  # presentation mode starts with the panel collapsed; Ctrl+D brings it back
        assert window.splitter.sizes()[1] == 0 and not window.device_panel_action.isChecked()
        window.device_panel_action.trigger()
        qtbot.wait(20)
        assert window.splitter.sizes()[1] > 0 and window.device_panel_action.isChecked()
    scope = window.scope.height()
    window.device_panel_action.trigger()
    qtbot.wait(20)
    assert window.splitter.sizes()[1] == 0 and not window.device_panel_action.isChecked()
    assert window.scope.height() > scope
    window.device_panel_action.trigger()
    qtbot.wait(20)
    assert window.splitter.sizes()[1] > 0 and window.device_panel_action.isChecked()
