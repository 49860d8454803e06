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
    # The lockout checks lock a second stub they start from the same command, so the stub
    # under test needs no bench option to be usable again.
    result = subprocess.run([sys.executable, "-m", "stimsim", "conformance", "--", str(HOST), "--pty"],
                            capture_output=True, text=True, timeout=180, cwd=REPO, check=False)
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert not failed, "\n".join(failed)
    summary = re.search(r"^(\d+) passed, (\d+) failed", result.stdout, re.MULTILINE)
    assert summary, result.stdout + result.stderr
    assert int(summary.group(2)) == 0 and int(summary.group(1)) >= 50
    assert result.returncode == 0, result.stdout + result.stderr


def test_stub_passes_the_hardening_checks_over_tcp() -> None:
    """Over TCP with its command the suite can show a new connection and an idle client too."""
    result = subprocess.run([sys.executable, "-m", "stimsim", "conformance", "--", str(HOST), "--tcp", "0"],
                            capture_output=True, text=True, timeout=180, cwd=REPO, check=False)
    lines = result.stdout.splitlines()
    for name in ("login.lockout", "login.lockout_survives_reset", "session.new_connection_patient",
                 "session.idle_client_dropped"):
        assert f"PASS {name}" in lines, result.stdout
    assert re.fullmatch(r"\d+ passed, 0 failed(, \d+ skipped)?", lines[-1]), result.stdout + result.stderr
    # Only what the stub's family lacks is skipped (a stub without FAMILY= is an SCS-R), and the skip says so.
    skips = [line for line in lines if line.startswith("SKIP")]
    assert all("the SCS-R" in line or "FAMILY=SCS-R" in line for line in skips), skips
