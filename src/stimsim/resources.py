"""Where the packaged resources (example programs, styles, icons) are found.

An installed wheel carries them as ``stimsim/resources``; a source checkout has them at
the top of the repository.
"""

from __future__ import annotations

from pathlib import Path


def resource_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "resources", here.parent.parent / "resources"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("stimsim resources are missing from this installation")


def programs_dir() -> Path:
    return resource_dir() / "programs"


def example_programs() -> list[Path]:
    return sorted(programs_dir().glob("*.stimsim.json"))


def scenarios_dir() -> Path:
    return resource_dir() / "scenarios"


def example_scenarios() -> list[Path]:
    return sorted(scenarios_dir().glob("*.scenario.json"))
