"""The installed package carries its resources, not only a source checkout."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from stimsim.resources import example_programs, example_scenarios

REPO = Path(__file__).resolve().parents[1]


def test_the_wheel_ships_examples_styles_and_icons(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(REPO)],
        check=True, capture_output=True,
    )
    (wheel,) = tmp_path.glob("stimsim-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for program in example_programs():
        assert f"stimsim/resources/programs/{program.name}" in names
    for scenario in example_scenarios():
        assert f"stimsim/resources/scenarios/{scenario.name}" in names
    assert "stimsim/resources/styles/app.qss" in names
    assert any(n.startswith("stimsim/resources/icons/") and n.endswith(".svg") for n in names)
