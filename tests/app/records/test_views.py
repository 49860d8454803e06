"""``stimsim gui --view NAME --screenshot PNG`` and presentation mode."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QWidget

from stimsim.app.launch import StimsimApp
from stimsim.record import chain


def _gui(*args: str, data: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    if data is not None:
        env["STIMSIM_DATA_DIR"] = str(data)
    return subprocess.run([sys.executable, "-m", "stimsim", "gui", *args], capture_output=True, text=True,
                          env=env, timeout=60)


@pytest.mark.parametrize("view", ["remote", "record"])
def test_view_screenshot_renders_that_view(view: str, tmp_path: Path) -> None:
    out = tmp_path / f"{view}.png"
    done = _gui("--view", view, "--screenshot", str(out), data=tmp_path / "data")
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    records = list((tmp_path / "data" / "records").glob("*.jsonl"))  # a screenshot run keeps its record too
    assert len(records) == 1
    entries = chain.read(records[0])
    assert entries[-1]["what"] == chain.CLOSE and any(e["what"] == "device" for e in entries)


def test_an_unknown_view_exits_2_naming_the_views(tmp_path: Path) -> None:
    out = tmp_path / "x.png"
    done = _gui("--view", "nonsense", "--screenshot", str(out))
    assert done.returncode == 2
    assert "--view nonsense: no such view (views: remote, scope, " in done.stderr and "record" in done.stderr
    assert not out.exists()


class _Editor(QWidget):
    """A view with clinician controls: presentation mode asks it to hide them."""

    def __init__(self) -> None:
        super().__init__()
        self.presenting: list[bool] = []

    def set_presentation(self, on: bool) -> None:
        self.presenting.append(on)


def test_presentation_mode_hides_the_device_panel_and_asks_views_to_hide_clinician_controls(
        rstim: StimsimApp) -> None:
    window = rstim.window
    editor = _Editor()
    window.add_face("clinician", editor, "Clinician", "test view")
    assert window.splitter.sizes()[1] > 0
    rstim.session.presentation_action.setChecked(True)
    assert window.splitter.sizes()[1] == 0 and not window.device_panel_action.isChecked()
    assert editor.presenting == [True] and window.isFullScreen()
    rstim.session.presentation_action.setChecked(False)
    assert window.splitter.sizes()[1] > 0 and window.device_panel_action.isChecked()
    assert editor.presenting == [True, False] and not window.isFullScreen()


def test_presentation_mode_hides_the_clinician_view_and_its_edit_menu(rstim: StimsimApp) -> None:
    window = rstim.window
    clinician = window.face_names().index("clinician")
    window.show_face("clinician")
    rstim.session.presentation_action.setChecked(True)
    assert not window.faces.isTabVisible(clinician) and window.faces.currentIndex() == 0  # the scope instead
    assert not window.edit_menu.menuAction().isVisible()
    rstim.session.presentation_action.setChecked(False)
    assert window.faces.isTabVisible(clinician) and window.edit_menu.menuAction().isVisible()
