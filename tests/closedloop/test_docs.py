"""docs/closed-loop.md keeps the defaults table and the per-update API in step with the code."""

from __future__ import annotations

from pathlib import Path

import stimsim.closedloop as CL
from stimsim.closedloop.defaults import markdown_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "closed-loop.md"


def test_the_docs_show_the_defaults_table() -> None:
    assert markdown_table() in DOC.read_text(encoding="utf-8"), (
        "docs/closed-loop.md's defaults table differs from the code; regenerate it with "
        "python -c 'from stimsim.closedloop.defaults import markdown_table; print(markdown_table())'")


def test_the_docs_name_the_api_the_package_exports() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in ("VirtualNerve", "clamp_for", "step", "update_pulse", "reference"):
        assert f"`{name}" in text or f"{name}(" in text
        assert hasattr(CL, name) or hasattr(CL.VirtualNerve, name)


def test_the_readme_links_the_docs() -> None:
    readme = DOC.parents[1] / "README.md"
    assert "(docs/closed-loop.md)" in readme.read_text(encoding="utf-8")
