"""`stimsim conformance -- stimfw-host --pty` passes every check: the C stub and the
Python virtual generator answer the host alike."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

import pytest

from stimsim.engine import params as P

from .stub_support import HOST, REPO

pytestmark = pytest.mark.usefixtures("stub_build")


#: The family run in full; the others run --quick (without the 10 s TEST lease check) to keep CI short.
_FULL = P.Family.SCS_CL


@pytest.mark.skipif(importlib.util.find_spec("stimsim.conformance") is None,
                    reason="the conformance suite (stimsim.conformance) is not there yet")
@pytest.mark.parametrize("family", list(P.Family), ids=[f.value for f in P.Family])
def test_stub_passes_the_conformance_suite(family: P.Family) -> None:
    # The lockout checks lock a second stub they start from the same command, so the stub
    # under test needs no bench option to be usable again.
    quick = [] if family is _FULL else ["--quick"]
    result = subprocess.run([sys.executable, "-m", "stimsim", "conformance", *quick, "--", str(HOST), "--pty",
                             "--family", family.value],
                            capture_output=True, text=True, timeout=240, cwd=REPO, check=False)
    lines = result.stdout.splitlines()
    failed = [line for line in lines if line.startswith("FAIL")]
    assert not failed, "\n".join(failed)
    summary = re.search(r"^(\d+) passed, (\d+) failed", result.stdout, re.MULTILINE)
    assert summary, result.stdout + result.stderr
    assert int(summary.group(2)) == 0 and int(summary.group(1)) >= 50
    assert result.returncode == 0, result.stdout + result.stderr
    loop_checks = [line for line in lines if " loop." in line]
    assert loop_checks, result.stdout
    if family is P.Family.SCS_CL:  # the closed loop's checks all run, and pass
        assert all(line.startswith("PASS loop.") for line in loop_checks), loop_checks
    else:  # and are skipped elsewhere, naming the family
        assert all(line.startswith("SKIP loop.") and f"FAMILY={family.value}" in line for line in loop_checks)


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
