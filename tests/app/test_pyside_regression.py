"""Guard against the PySide6 build that corrupts the refcount of None.

PySide6-Essentials 6.12.0 on Python 3.11 drops a reference to None on every call of a
void Qt method; after a few thousand repaints None is freed and the interpreter aborts.
pyproject pins PySide6 below 6.12; this test fails loudly if such a build comes back.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

CALLS = 100_000


def test_void_qt_calls_keep_the_refcount_of_none(qtbot: QtBot) -> None:
    obj = QObject()
    widget = QWidget()
    qtbot.addWidget(widget)
    before = sys.getrefcount(None)
    for i in range(CALLS // 2):
        obj.setObjectName("x" if i & 1 else "y")  # returns void
        widget.update()  # returns void
    after = sys.getrefcount(None)
    # Other code may take a few references meanwhile; the broken build loses one per call.
    assert after >= before - 100, f"refcount of None fell by {before - after} over {CALLS} void calls"
