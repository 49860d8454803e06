"""Transfer to the implant: two virtual generators, an ETS (the trial) and an SCS-R (the implant)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stimsim.engine.params import Family, Mode, Recharge
from stimsim.engine.program import Electrodes, Limits, Program
from stimsim.generator.urlhandler.protocol_virtual import VirtualSerial
from stimsim.generator.virtual_generator import VirtualGenerator
from stimsim.host.client import Client
from stimsim.host.transfer import read_programs, transfer
from stimsim.protocol.limits import DEFAULT_PIN

from ..host_support import FakeClock, generator, no_leaks  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_leaks")

HF = Program(Mode.HF, 2000, 30, 10000, Electrodes.of({"7": -100, "8": 100}), slot=1, name="Trial 10 kHz",
             limits=Limits(amplitude_min_ua=1000, amplitude_max_ua=5000))
TONIC = Program(Mode.TONIC, 4500, 300, 50, Electrodes.of({"7": -100, "6": 50, "8": 50}), slot=2, name="Trial tonic")
BURST = Program(Mode.BURST, 600, 1000, 40, Electrodes.of({"4": -100, "5": 100}), slot=3, name="Trial burst",
                recharge=Recharge.PASSIVE,
                burst_pulses=5, intraburst_rate_hz=500)


def _open(gen: VirtualGenerator) -> Client:
    return Client.open(VirtualSerial.attach(gen), timeout=0.5)


@pytest.fixture()
def ets() -> Iterator[Client]:
    c = _open(generator(FakeClock(), family=Family.ETS, sn="ETS-0042", model="SIM-ETS"))
    try:
        c.login(DEFAULT_PIN)
        for prog in (HF, TONIC, BURST):
            c.prog(prog)
        c.config(impedance_default=1200)
        yield c
    finally:
        c.close()


def _identity(c: Client) -> tuple[object, ...]:
    h = c.hello()
    return h.model, h.fw, h.sn, h.family, h.slots, h.contacts


def _config(c: Client) -> int:
    c.login(DEFAULT_PIN)
    return c.config()


def test_programs_go_and_nothing_else(ets: Client) -> None:
    implant = _open(generator(FakeClock(), family=Family.SCS_R, sn="IPG-7777", model="SIM-IPG"))
    try:
        before = (_identity(implant), _config(implant), implant.impedance())
        programs = read_programs(ets)
        assert [p.slot for p in programs] == [1, 2, 3]
        steps: list[tuple[int, int, str]] = []
        report = transfer(implant, programs, pin=DEFAULT_PIN, progress=lambda d, t, s: steps.append((d, t, s)))
        assert report.ok and report.target_sn == "IPG-7777" and report.target_family == "SCS-R"
        assert [(s.slot, s.ok, s.text) for s in report.slots] == [
            (1, True, "written, read back and identical"), (2, True, "written, read back and identical"),
            (3, True, "written, read back and identical")]
        assert steps[-1] == (3, 3, "Done") and any("slot 2 (Trial tonic)" in s for _, _, s in steps)
        for prog in programs:
            assert implant.read(prog.slot) == prog
        after = (_identity(implant), _config(implant), implant.impedance())
        assert after == before  # identity, serial number, configuration, calibration (impedances) unchanged
        assert before[0][2] == "IPG-7777" and before[1] != 1200
        assert _identity(ets)[2] == "ETS-0042"
    finally:
        implant.close()


def test_a_refused_program_is_reported_in_words_and_the_others_still_go(ets: Client) -> None:
    primary = _open(generator(FakeClock(), family=Family.SCS_P, sn="IPG-P1"))  # no 10 kHz on a primary cell
    try:
        before = (_identity(primary), _config(primary))
        report = transfer(primary, read_programs(ets), pin=DEFAULT_PIN)
        assert not report.ok and not report.failed
        first, *rest = report.slots
        assert first.slot == 1 and not first.ok
        assert first.text == "refused: the implant does not offer this program's mode (BAD_ARG KEY=MODE)"
        assert [(s.slot, s.ok) for s in rest] == [(2, True), (3, True)]
        assert report.lines()[0] == f"Slot 1 (Trial 10 kHz): {first.text}"
        assert (_identity(primary), _config(primary)) == before
    finally:
        primary.close()


def test_the_target_must_be_an_implant_and_a_clinician(ets: Client) -> None:
    other = _open(generator(FakeClock(), family=Family.ETS, sn="ETS-0043"))
    implant = _open(generator(FakeClock(), family=Family.SCS_R))
    try:
        report = transfer(other, (HF,), pin=DEFAULT_PIN)
        assert report.failed == "STIMSIM-VG SN ETS-0043 is a trial stimulator, not an implant"
        assert report.slots == ()
        unlogged = transfer(implant, (TONIC,))
        assert unlogged.slots[0].text.startswith("refused: the implant needs a clinician login")
        wrong = transfer(implant, (TONIC,), pin="0000" if DEFAULT_PIN != "0000" else "1111")
        assert wrong.failed.startswith("login refused") and wrong.slots == ()
    finally:
        other.close()
        implant.close()
