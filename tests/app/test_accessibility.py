"""Every control can be found by a screen reader and explains itself on hover."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

from stimsim.app.launch import StimsimApp

CONTROLS = (QAbstractButton, QComboBox, QLineEdit, QPlainTextEdit, QListWidget)


def test_every_control_has_an_accessible_name_and_a_tooltip(qtbot: QtBot, stim: StimsimApp) -> None:
    controls = [w for w in stim.window.findChildren(QWidget) if isinstance(w, CONTROLS)]
    assert len(controls) >= 15
    missing = [f"{type(w).__name__} {w.objectName()!r} {getattr(w, 'text', lambda: '')()!r}"
               for w in controls
               if not w.accessibleName() or not w.toolTip()]
    # Qt's own sub-widgets (the tab bar's scroll arrows, a combo box's inner list) are exempt.
    missing = [m for m in missing if "qt_" not in m and "ScrollLeft" not in m and "ScrollRight" not in m]
    assert not missing, "controls without an accessible name or tooltip:\n" + "\n".join(missing)


def test_menu_actions_have_tooltips(stim: StimsimApp) -> None:
    assert stim.window.reconnect_action.toolTip().startswith("Open the port again")
    assert stim.window.mri_action.toolTip()


def test_remote_buttons_are_not_clipped(stim: StimsimApp) -> None:
    remote = stim.window.remote
    for button in (remote.prev_button, remote.next_button, remote.power_button, remote.up_button,
                   remote.down_button, remote.stop_button):
        assert button.width() >= button.minimumSizeHint().width(), button.objectName()


def test_remote_buttons_are_not_clipped_in_presentation_mode(qtbot: QtBot, qapp: QApplication) -> None:
    from stimsim.app.launch import AppOptions
    from stimsim.app.style import apply_style

    apply_style(qapp, presentation=True)
    try:
        app = StimsimApp(AppOptions(presentation=True), ports=lambda: [])
        qtbot.addWidget(app.window)
        app.window.resize(1280, 800)
        app.window.show()
        qtbot.waitExposed(app.window)
        remote = app.window.remote
        for button in (remote.prev_button, remote.next_button, remote.power_button, remote.up_button,
                       remote.down_button, remote.stop_button):
            assert button.width() >= button.sizeHint().width(), button.objectName()
        remote.power_button.setText("Turn off")
        assert remote.power_button.width() >= remote.power_button.sizeHint().width()
        app.shutdown()
    finally:
        apply_style(qapp)


def test_help_keyboard_lists_every_shortcut(stim: StimsimApp) -> None:
    from PySide6.QtGui import QAction, QShortcut

    from stimsim.app.main_window import keys_help

    text = keys_help(stim.window.face_titles())
    keys = {a.shortcut().toString() for a in stim.window.findChildren(QAction) if not a.shortcut().isEmpty()}
    keys |= {s.key().toString() for s in stim.window.findChildren(QShortcut)}
    assert {"Ctrl+R", "Ctrl+Q", "Esc", "Space", "Up", "Left"} <= keys
    words = {"Up": "Up / Down", "Down": "Up / Down", "Left": "Left / Right", "Right": "Left / Right"}
    missing = [k for k in keys if words.get(k, k) not in text]
    assert not missing, f"Help > Keyboard does not list {missing}"
