"""Shared test setup: Qt runs offscreen, and hypothesis is repeatable in CI."""

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# CI runs the same examples every time (a failure there reproduces locally with
# HYPOTHESIS_PROFILE=ci); on a developer's machine hypothesis explores afresh each run.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default"))


@pytest.fixture(autouse=True, scope="session")
def _data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Session records, autosave and recent files go to a temporary folder, never the user's
    (``stimsim`` started as a subprocess inherits the variable). Tests that look at these files
    give the app a folder of their own (``AppOptions.data_dir``)."""
    before = os.environ.get("STIMSIM_DATA_DIR")
    os.environ["STIMSIM_DATA_DIR"] = str(tmp_path_factory.mktemp("stimsim-data"))
    yield
    if before is None:
        os.environ.pop("STIMSIM_DATA_DIR", None)
    else:
        os.environ["STIMSIM_DATA_DIR"] = before
