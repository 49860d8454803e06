"""Where the app keeps what it writes for the user: session records, autosave, recent files.

``STIMSIM_DATA_DIR`` (or ``AppOptions.data_dir``) moves all of it, so tests and trials never
touch the real user folder; otherwise it is the user's data folder (platformdirs).
"""

from __future__ import annotations

import os
from pathlib import Path

from ...record import chain

DATA_DIR_ENV = "STIMSIM_DATA_DIR"


def data_folder(override: Path | None = None) -> Path:
    """The folder everything goes under: ``override``, else ``$STIMSIM_DATA_DIR``, else platformdirs."""
    if override is not None:
        return override
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env)
    return chain.default_folder().parent


def records_folder(base: Path) -> Path:
    return base / "records"


def autosave_folder(base: Path) -> Path:
    return base / "autosave"


def recent_file(base: Path) -> Path:
    return base / "recent.json"
