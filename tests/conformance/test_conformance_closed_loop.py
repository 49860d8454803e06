"""The closed-loop checks: they pass on the emulator as SCS-CL, are skipped with the reason on
another family, and fail on a closed-loop device that breaks their rules."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

import pytest

from stimsim.conformance import CHECKS, run_checks
from stimsim.conformance.checks import closed_loop
from stimsim.engine.params import Family
from stimsim.generator.virtual_generator import VirtualGenerator

from ..host_support import PY, no_leaks, thread_emulator  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_leaks")
LOOP_CHECKS = [name for name, _ in closed_loop.CHECKS]


def test_the_loop_checks_pass_against_the_closed_loop_emulator_on_a_pty() -> None:
    # (the whole suite against every family, SCS-CL included, is tests/conformance/test_conformance.py)
    done = subprocess.run([PY, "-m", "stimsim", "conformance", "--quick", "-k", "loop.", "--", PY, "-m", "stimsim",
                           "emulate", "--pty", "--family", "SCS-CL"], capture_output=True, text=True, timeout=180)
    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stdout + done.stderr
    assert lines[-1] == f"{len(LOOP_CHECKS) + 1} passed, 0 failed", lines[-1]  # setup and the loop checks
    assert [f"PASS {name}" for name in LOOP_CHECKS] == [x for x in lines if x.split()[1].startswith("loop.")]
    assert len(LOOP_CHECKS) >= 8 and all(name in dict(CHECKS) for name in LOOP_CHECKS)


def test_the_closed_loop_checks_are_skipped_on_another_family_saying_why() -> None:
    with thread_emulator(VirtualGenerator(time.monotonic, rng_seed=3, family=Family.DRG)) as (url, _emu):
        results = run_checks(url, quick=True, only=lambda n: n.startswith("loop."))
    skipped = {r.name: r.why for r in results if r.outcome == "SKIP"}
    assert sorted(skipped) == sorted(LOOP_CHECKS)
    assert all(why == "HELLO says FAMILY=DRG; these checks are for the closed-loop family SCS-CL"
               for why in skipped.values())


class _Bent:
    """A closed-loop generator whose answers are bent by ``out``."""

    def __init__(self, out: Callable[[bytes], bytes]) -> None:
        self.gen = VirtualGenerator(time.monotonic, rng_seed=5, family=Family.SCS_CL)
        self.out = out

    def receive(self, data: bytes) -> bytes:
        return self.out(self.gen.receive(data))

    def poll(self) -> bytes:
        return self.out(self.gen.poll())

    def boot_bytes(self) -> bytes:
        return self.gen.boot_bytes()

    def __getattr__(self, name: str) -> object:
        return getattr(self.gen, name)


def _drop(prefix: bytes) -> Callable[[bytes], bytes]:
    return lambda data: b"".join(x for x in data.splitlines(keepends=True) if not x.startswith(prefix))


def _no_sense_rule(data: bytes) -> bytes:
    return data.replace(b"ERR OUT_OF_RANGE RULE=SENSE KEY=SENSE", b"OK SLOT=1") if b"RULE=SENSE" in data else data


@pytest.mark.parametrize(("out", "failing"), [
    (_drop(b"!ECAP "), "loop.stream"),
    (_drop(b"!ECAPPT AMP=6000 "), "loop.sweep"),
    (_no_sense_rule, "loop.keys"),
])
def test_the_closed_loop_checks_catch_a_device_that_breaks_a_rule(out: Callable[[bytes], bytes],
                                                                  failing: str) -> None:
    with thread_emulator(_Bent(out)) as (url, _emu):  # type: ignore[arg-type]
        results = {r.name: r for r in run_checks(url, quick=True, only=lambda n: n == failing)}
    assert results[failing].outcome == "FAIL", results[failing]
