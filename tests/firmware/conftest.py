"""Build the firmware stub once per session; skip the firmware tests without a C compiler."""

from __future__ import annotations

import pytest

from .stub_support import c_compiler, make


def _build(*targets: str) -> None:
    if c_compiler() is None:
        pytest.skip("no C compiler (cc, gcc or clang) on this machine: the firmware stub cannot be built")
    result = make(*targets)
    if result.returncode != 0:
        pytest.fail(f"make -C firmware_stub {' '.join(targets)} failed:\n{result.stdout}\n{result.stderr}")


@pytest.fixture(scope="session")
def stub_build() -> None:
    """build/stimfw-host, build/stimfw-edges and build/stimfw-loop (warnings are errors)."""
    _build("host", "edges", "loop")


@pytest.fixture(scope="session")
def asan_build() -> None:
    """The sanitizer build: build/asan/{stimfw-host,stimfw-soak,test_core}."""
    _build("build/asan/stimfw-host", "build/asan/stimfw-soak")
