"""The client's closed-loop calls against the virtual generator as SCS-CL: programs with loop
keys written and read back, ECAP, ECAP SWEEP, ECAP STREAM and the nerve's SIM controls."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stimsim.closedloop import VirtualNerve
from stimsim.engine.params import Family, LoopMode, Mode
from stimsim.engine.program import ClosedLoop, DeviceModel, Electrodes, Program
from stimsim.generator.urlhandler.protocol_virtual import VirtualSerial
from stimsim.generator.virtual_generator import VirtualGenerator
from stimsim.host.client import Client, EcapPoint, ReadBackMismatch, UnknownVerbError, ecap_point
from stimsim.protocol.codec import Event

from ..host_support import FakeClock, generator, no_leaks  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_leaks")
LOOPED = Program(Mode.TONIC, 5000, 300, 50, Electrodes.of({"4": -100, "5": 50, "6": 50}), slot=2,
                 closed_loop=ClosedLoop(LoopMode.ECAP, 40, 10, ("7", "8")))


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def client(clock: FakeClock) -> Iterator[Client]:
    gen: VirtualGenerator = generator(clock, family=Family.SCS_CL)
    c = Client.open(VirtualSerial.attach(gen), timeout=0.2)
    assert c.login("0000") == "CLINICIAN"
    yield c
    c.close()


def test_a_closed_loop_program_is_written_and_read_back_equal(client: Client) -> None:
    assert client.family is Family.SCS_CL
    back = client.prog(LOOPED)  # read back and compared field by field, the loop included
    assert back.closed_loop == LOOPED.closed_loop
    plain = Program(Mode.TONIC, 5000, 300, 50, LOOPED.electrodes, slot=3)
    assert client.prog(plain).closed_loop is None


def test_ecap_sweep_and_the_nerve_controls(client: Client, clock: FakeClock) -> None:
    client.prog(LOOPED)
    client.select(2)
    client.sim_ecap_noise(0)
    client.stim(True)
    reading = client.ecap()
    assert (reading.amp_ua, reading.target_uv, reading.closed_loop, reading.slope_uv_per_ma) == (5000, 40, True, 40.0)
    clock.advance(3.0)
    assert client.ecap().ecap_uv == pytest.approx(40.0, abs=0.1)
    nerve = VirtualNerve.reference(LOOPED, device=DeviceModel(family=Family.SCS_CL), noise_uv=0.0)
    amp = client.status().amp_ua
    points = client.ecap_sweep(3000, 6000, 1000)
    assert points == [EcapPoint(a, round(nerve.ecap_uv(a), 1)) for a in (3000, 4000, 5000, 6000)]
    assert client.status().amp_ua == amp
    assert client.ecap().threshold_ua == round(nerve.threshold_ma * 1000)
    assert client.sim_posture("supine") == "SUPINE"
    supine = client.ecap().threshold_ua
    client.sim_cough()
    assert client.ecap().threshold_ua < supine < round(nerve.threshold_ma * 1000)
    clock.advance(1.5)
    client.sim_eps(1.5)
    assert abs(client.ecap().threshold_ua - 1.5 * supine) <= 1


def test_the_stream_reaches_the_event_queue(client: Client, clock: FakeClock) -> None:
    client.prog(LOOPED)
    client.select(2)
    assert client.ecap_stream(True) is True
    client.stim(True)
    for _ in range(5):
        clock.advance(0.1)
        client.status()
    points = [p for p in (ecap_point(e) for e in client.pending_events()) if p is not None]
    assert len(points) == 6 and all(p.amp_ua > 0 for p in points)
    assert client.ecap_stream(False) is False
    assert ecap_point(Event(args=(("UV", "x"), ("AMP", "1")), name="ECAP")) is None
    assert ecap_point(Event(name="BATT")) is None


def test_another_family_does_not_know_ecap() -> None:
    c = Client.open(VirtualSerial.attach(generator(FakeClock())), timeout=0.2)
    try:
        with pytest.raises(UnknownVerbError):
            c.ecap()
    finally:
        c.close()


def test_a_read_back_that_lost_the_loop_is_a_mismatch() -> None:
    from stimsim.host.client import differences

    assert differences(LOOPED, LOOPED) == []
    [(name, _a, _b)] = differences(LOOPED, Program(Mode.TONIC, 5000, 300, 50, LOOPED.electrodes, slot=2))
    assert name == "closed_loop" and issubclass(ReadBackMismatch, Exception)
