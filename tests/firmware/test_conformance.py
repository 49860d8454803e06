"""`stimsim conformance -- stimfw-host --pty` passes every check: the C stub and the
Python virtual generator answer the host alike."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

import pytest

from .stub_support import HOST, REPO

pytestmark = pytest.mark.usefixtures("stub_build")


@pytest.mark.skipif(importlib.util.find_spec("stimsim.conformance") is None,
                    reason="the conformance suite (stimsim.conformance) is not there yet")
def test_stub_passes_the_conformance_suite() -> None:
    # login.lockout ends with SIM RESET to make the device usable again; the stub keeps the
    # lockout over a reset unless told otherwise on its command line (a bench option).
    result = subprocess.run([sys.executable, "-m", "stimsim", "conformance", "--", str(HOST), "--pty",
                             "--reset-clears-lockout"],
                            capture_output=True, text=True, timeout=180, cwd=REPO, check=False)
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert not failed, "\n".join(failed)
    summary = re.search(r"^(\d+) passed, (\d+) failed", result.stdout, re.MULTILINE)
    assert summary, result.stdout + result.stderr
    assert int(summary.group(2)) == 0 and int(summary.group(1)) >= 50
    assert result.returncode == 0, result.stdout + result.stderr
