"""``stimsim gui``: the screenshot path, scaling, and clear refusals of bad options."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from stimsim.resources import example_programs


def _gui(*args: str, scale: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    if scale:
        env["QT_SCALE_FACTOR"] = scale
    return subprocess.run([sys.executable, "-m", "stimsim", "gui", *args], capture_output=True, text=True,
                          env=env, timeout=60)


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_screenshot_writes_the_window_and_exits(tmp_path: Path) -> None:
    out = tmp_path / "app.png"
    done = _gui("--screenshot", str(out))
    assert done.returncode == 0, done.stderr
    assert _png_size(out) == (1280, 800)


@pytest.mark.parametrize("scale", ["2"])
def test_screenshot_at_display_scaling(tmp_path: Path, scale: str) -> None:
    out = tmp_path / "app.png"
    done = _gui("--screenshot", str(out), "--presentation", scale=scale)
    assert done.returncode == 0, done.stderr
    width, height = _png_size(out)
    # drawn at the display's scale (presentation mode may widen the window a little)
    assert height == int(800 * float(scale)) and 1280 * float(scale) <= width <= 1500 * float(scale)


def test_programs_file_is_written_to_the_device(tmp_path: Path) -> None:
    data = json.loads(example_programs()[0].read_text())
    data["programs"][0]["slot"] = 7
    path = tmp_path / "mine.stimsim.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "app.png"
    done = _gui("--programs", str(path), "--screenshot", str(out))
    assert done.returncode == 0, done.stderr
    assert out.exists()


def test_a_bad_programs_file_is_refused_with_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.stimsim.json"
    path.write_text('{"format": "stimsim.programs", "version": 1, "programs": [{"mode": "tonic"}]}')
    done = _gui("--programs", str(path), "--screenshot", str(tmp_path / "x.png"))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.stimsim.json" in lines[0] and "missing" in lines[0]
    assert not (tmp_path / "x.png").exists()


def test_screenshot_must_be_a_png(tmp_path: Path) -> None:
    done = _gui("--screenshot", str(tmp_path / "x.jpg"))
    assert done.returncode == 2 and "must end in .png" in done.stderr
