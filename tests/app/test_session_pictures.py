"""The README's session pictures come from a walk through the app's own buttons
(tools/session_pictures.py): it must still play through to a score and a report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]


def test_the_scripted_session_plays_through_to_a_score_and_a_report_as_the_readme_shows(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "session_pictures.py"), str(tmp_path)],
                          capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    for name in ("dialogue", "time", "score"):
        made = QImage(str(tmp_path / f"session-{name}.png"))
        assert (made.width(), made.height()) == (1280, 800)
        shown = ROOT / "docs" / f"session-{name}.png"
        if shown.exists():
            assert QImage(str(shown)).size() == made.size()
    assert (tmp_path / "session-report.pdf").read_bytes().startswith(b"%PDF")
    for name in ("trial-view", "trial-transfer"):
        made = QImage(str(tmp_path / f"{name}.png"))
        assert not made.isNull() and made.size() == QImage(str(ROOT / "docs" / f"{name}.png")).size()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/session-dialogue.png" in readme and "docs/session-score.png" in readme
    assert "tools/session_pictures.py" in readme and "docs/trial-view.png" in readme
