"""The host client against the virtual generator: verbs, errors, retries, STOP, restarts."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from stimsim.engine import files
from stimsim.engine.params import Mode, Recharge
from stimsim.engine.program import Electrodes, Limits, Program
from stimsim.generator.urlhandler.protocol_virtual import VirtualSerial
from stimsim.generator.virtual_generator import VirtualGenerator
from stimsim.host.client import (
    Client,
    DeniedError,
    DeviceError,
    DeviceRestarted,
    DeviceTimeout,
    LimitError,
    OutOfRangeError,
    ProtocolMismatch,
    ReadBackMismatch,
    StateError,
    differences,
    login_proof,
)
from stimsim.protocol import codec
from stimsim.resources import example_programs

from ..host_support import FakeClock, PortWrapper, generator, no_leaks, wait_until  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_leaks")

TONIC = Program(Mode.TONIC, 3000, 200, 50, Electrodes.of({"4": -100, "5": 100}), slot=2,
                limits=Limits(amplitude_min_ua=1000, amplitude_max_ua=4000, pulse_width_max_us=300),
                name="Low back 2", recharge=Recharge.PASSIVE, ramp_ms=500)


class LinePort(PortWrapper):
    """Applies ``transform`` to every complete line from the device (None drops it)."""

    def __init__(self, inner: VirtualSerial, transform: Callable[[bytes], bytes | None]) -> None:
        super().__init__(inner)
        self.transform = transform
        self._partial = b""

    def incoming(self, data: bytes) -> bytes:
        self._partial += data
        *lines, self._partial = self._partial.split(b"\n")
        out = b""
        for line in lines:
            changed = self.transform(line + b"\n")
            if changed is not None:
                out += changed
        return out


def reseal(line: bytes, old: bytes, new: bytes) -> bytes:
    body = line.rsplit(b" *", 1)[0].replace(old, new)
    return codec.seal(body.decode())


@pytest.fixture()
def gen() -> VirtualGenerator:
    return generator(FakeClock())


@pytest.fixture()
def client(gen: VirtualGenerator) -> Iterator[Client]:
    c = Client.open(VirtualSerial.attach(gen), timeout=0.2)
    yield c
    c.close()


def clinician(c: Client) -> Client:
    assert c.login("0000") == "CLINICIAN"
    return c


def test_connect_runs_strict_hello_and_continues_from_next(gen: VirtualGenerator) -> None:
    sent: list[bytes] = []
    c = Client.open(VirtualSerial.attach(gen), on_line=lambda d, b: sent.append(b) if d == ">" else None)
    try:
        assert gen.strict and c.info is not None
        assert c.info.proto == "1" and c.info.model == "STIMSIM-VG" and c.info.strict
        assert c.boot == gen.boot_id and len(c.boot) == 8
        c.status()
        assert sent[0].split()[1] == b"HELLO" and sent[0].split()[2] == b"STRICT=1"
        assert sent[-1].startswith(b"#%d STATUS *" % c.info.next_seq)
    finally:
        c.close()


def test_listeners_are_handed_whole_lines_each_way(gen: VirtualGenerator) -> None:
    got: list[tuple[str, bytes]] = []
    c = Client.open(VirtualSerial.attach(gen), on_line=lambda d, b: got.append((d, b)))
    try:
        clinician(c)
        assert c.log()  # a reply and its !LOG events arrive together
    finally:
        c.close()
    received = [line for d, line in got if d == "<"]
    assert received[0].startswith(b"!BOOT ")  # the power-up event and the HELLO reply are two lines
    for direction, line in got:
        assert line.endswith(b"\r\n") and line.count(b"\n") == 1, (direction, line)
        body = line[:-2]
        if direction == "<":
            codec.parse_incoming(body)
        else:
            codec.parse_request(body)


def test_every_example_program_is_written_and_read_back_equal(client: Client) -> None:
    clinician(client)
    for path in example_programs():
        for program in files.load(path).programs:
            back = client.prog(program, ack=True, slot=3)
            assert differences(replace(program, slot=3), back) == []
            assert client.read(3) == back


def test_prog_reads_back_and_reports_a_differing_field(gen: VirtualGenerator) -> None:
    def tamper(line: bytes) -> bytes:
        if b" OK SLOT=2 MODE=" in line:
            return reseal(line, b" PW=200 ", b" PW=210 ")
        return line

    c = Client.open(LinePort(VirtualSerial.attach(gen), tamper))  # type: ignore[arg-type]
    try:
        clinician(c)
        with pytest.raises(ReadBackMismatch) as info:
            c.prog(TONIC)
        assert info.value.field == "pulse_width_us" and info.value.written == 200 and info.value.read == 210
        assert "slot 2 read back differs in pulse_width_us: wrote 200, read 210" in str(info.value)
    finally:
        c.close()


def test_err_replies_raise_typed_errors_with_every_argument(client: Client) -> None:
    with pytest.raises(DeniedError) as denied:
        client.prog(TONIC)
    assert denied.value.code == "DENIED" and denied.value.wire_args == {"NEED": "CLINICIAN"}
    clinician(client)
    client.prog(TONIC)
    client.select(2)
    with pytest.raises(OutOfRangeError) as bad:
        client.amp_set(20001)
    e = bad.value
    assert (e.code, e.key, e.minimum, e.maximum) == ("OUT_OF_RANGE", "AMP", 0, 20000)
    assert str(e) == "AMP refused: OUT_OF_RANGE KEY=AMP MIN=0 MAX=20000 (value outside the device's range)"
    with pytest.raises(LimitError) as limit:
        client.amp_set(4100)
    assert (limit.value.minimum, limit.value.maximum) == (1000, 4000)
    with pytest.raises(StateError) as state:
        client.read(9)
    assert state.value.reason == "EMPTY"
    assert isinstance(state.value, DeviceError)
    assert client.status().amp_ua == 3000  # nothing changed


def test_typed_verbs(client: Client, gen: VirtualGenerator) -> None:
    clinician(client)
    client.prog(TONIC)
    assert client.select(2) == 2
    assert client.stim(True) is True and gen.stimulating
    assert client.amp_step(+2) == 3200 and client.amp_step(-1) == 3100 and client.amp_set(3500) == 3500
    st = client.status()
    assert (st.stim, st.slot, st.amp_ua, st.role, st.mri, st.test) == (True, 2, 3500, "CLINICIAN", False, False)
    z = client.impedance()
    assert z["1"] == 262 and z["case"] == 60 and len(z) == 17
    b = client.batt()
    assert b.chemistry == "LIION" and 0 <= b.permille <= 1000 and b.state == "OK"
    assert client.config(impedance_default=300) == 300 and client.impedance()["7"] == 300
    assert client.mri(True) is True and not gen.stimulating
    assert client.mri(False) is False
    assert client.stim(False) is False
    assert client.erase(2) == 2
    assert client.logout() == "PATIENT"


def test_login_is_challenge_response(client: Client, gen: VirtualGenerator) -> None:
    nonce = "0123456789ABCDEF"
    key = hashlib.sha256(b"2468").digest()
    assert login_proof("2468", nonce) == hmac.new(key, nonce.encode(), hashlib.sha256).hexdigest()
    with pytest.raises(DeniedError) as info:
        client.login("9999")
    assert info.value.reason == "PROOF" and gen.role == "PATIENT"
    assert client.login("0000") == "CLINICIAN" and gen.role == "CLINICIAN"


def test_a_lost_reply_is_resent_byte_for_byte_and_executed_once(gen: VirtualGenerator) -> None:
    dropped: list[bytes] = []

    def lose_first_amp_reply(line: bytes) -> bytes | None:
        if b" OK AMP=" in line and not dropped:
            dropped.append(line)
            return None
        return line

    port = LinePort(VirtualSerial.attach(gen), lose_first_amp_reply)
    c = Client.open(port, timeout=0.05)  # type: ignore[arg-type]
    try:
        clinician(c)
        c.prog(TONIC)
        c.select(2)
        assert c.amp_step(+1) == 3100
        amp_lines = [w for w in port.written if b"AMP STEP" in w]
        assert len(amp_lines) == 2 and amp_lines[0] == amp_lines[1]
        assert c.stats.resends == 1
        assert gen.slots[1] is not None and gen.slots[1].program.amplitude_ua == 3100
        assert [e.what for e in gen.log].count("AMP:2") == 1
    finally:
        c.close()


def test_silence_raises_device_timeout_after_the_retries(gen: VirtualGenerator) -> None:
    class Deaf(PortWrapper):
        deaf = False

        def outgoing(self, data: bytes) -> bytes:
            return b"" if self.deaf else data

    port = Deaf(VirtualSerial.attach(gen))
    c = Client.open(port, timeout=0.05, retries=2)  # type: ignore[arg-type]
    try:
        port.deaf = True
        t0 = time.monotonic()
        with pytest.raises(DeviceTimeout) as info:
            c.status()
        assert time.monotonic() - t0 >= 0.15
        assert info.value.attempts == 3 and "not answering" in str(info.value)
        status_lines = [w for w in port.written if b"STATUS" in w]
        assert len(status_lines) == 3 and len(set(status_lines)) == 1
    finally:
        c.close()


def test_bad_crc_answer_is_retried_with_the_same_line(gen: VirtualGenerator) -> None:
    class Noisy(PortWrapper):
        hits = 0

        def outgoing(self, data: bytes) -> bytes:
            if b"MRI ON" in data and self.hits == 0:
                self.hits += 1
                return data.replace(b"MRI ON", b"MRI 0N")
            return data

    port = Noisy(VirtualSerial.attach(gen))
    c = Client.open(port, timeout=0.2)  # type: ignore[arg-type]
    try:
        t0 = time.monotonic()
        assert c.mri(True) is True
        assert time.monotonic() - t0 < 0.15  # BAD_CRC is answered at once: no timeout wait
        mri = [w for w in port.written if b"MRI" in w]
        assert len(mri) == 2 and mri[0] == mri[1]
    finally:
        c.close()


def test_stop_from_another_thread_goes_out_while_a_request_waits(gen: VirtualGenerator) -> None:
    class Holding(PortWrapper):
        """Holds sequenced replies while ``hold`` is set (a slow device)."""

        def __init__(self, inner: VirtualSerial) -> None:
            super().__init__(inner)
            self.hold = threading.Event()
            self.kept = b""

        def incoming(self, data: bytes) -> bytes:
            if not self.hold.is_set():
                out, self.kept = self.kept + data, b""
                return out
            passed = b""
            for line in data.splitlines(keepends=True):
                if line.startswith(b"#"):
                    self.kept += line
                else:
                    passed += line
            return passed

    port = Holding(VirtualSerial.attach(gen))
    c = Client.open(port, timeout=2.0)  # type: ignore[arg-type]
    try:
        clinician(c)
        c.prog(TONIC)
        c.select(2)
        c.stim(True)
        port.hold.set()
        result: list[object] = []
        waiter = threading.Thread(target=lambda: result.append(c.status()), name="stimsim-test-status")
        waiter.start()
        wait_until(lambda: any(b"STATUS" in w for w in port.written[-1:]), what="STATUS to be written")
        t0 = time.monotonic()
        c.stop()
        assert time.monotonic() - t0 < 0.5
        assert waiter.is_alive() and not gen.stimulating
        assert port.written[-1] == codec.encode_request("STOP")  # unsequenced: the SEQ order is untouched
        port.hold.clear()
        waiter.join(3.0)
        assert not waiter.is_alive() and len(result) == 1
        assert c.status().stim is False
    finally:
        c.close()


def test_events_reach_the_queue_and_the_callback(gen: VirtualGenerator) -> None:
    seen: list[codec.Event] = []
    c = Client.open(VirtualSerial.attach(gen, boot=False), on_event=seen.append)
    try:
        clinician(c)
        c.prog(TONIC)
        c.select(2)
        c.stim(True)
        mark = c.event_mark()
        c.stop()
        event = c.wait_event("STIM", after=mark, timeout=1.0)
        assert event is not None and event.get("REASON") == "STOP"
        wait_until(lambda: any(e.name == "STIM" for e in seen), what="the callback")
        assert [e.name for e in c.pending_events()] == ["STIM"]
    finally:
        c.close()


def test_callbacks_cannot_make_requests_but_may_stop(gen: VirtualGenerator) -> None:
    outcome: list[object] = []

    def on_event(event: codec.Event) -> None:
        try:
            c.status()
        except RuntimeError as exc:
            outcome.append(exc)
        c.stop()
        outcome.append("stopped")

    c = Client.open(VirtualSerial.attach(gen, boot=False), on_event=on_event)
    try:
        clinician(c)
        c.prog(TONIC)
        c.select(2)
        c.stim(True)
        c.mri(True)  # -> !STIM REASON=MRI -> callback
        wait_until(lambda: len(outcome) == 2, what="the callback")
        assert isinstance(outcome[0], RuntimeError) and outcome[1] == "stopped"
    finally:
        c.close()


def test_a_restart_is_reported_once_and_the_state_re_read(client: Client, gen: VirtualGenerator) -> None:
    clinician(client)
    old = client.boot
    assert isinstance(client.port, VirtualSerial)
    client.port.push(gen.reset())
    wait_until(lambda: client.restart_pending, what="the !BOOT to be seen")
    with pytest.raises(DeviceRestarted) as info:
        client.mri(True)
    assert info.value.old_boot == old and info.value.new_boot == gen.boot_id == client.boot
    assert info.value.status is not None and info.value.status.role == "PATIENT"
    assert not gen.status()["mri"]  # the MRI ON was not sent after the restart
    assert gen.strict  # HELLO STRICT=1 again
    assert client.mri(True) is True


def test_sim_reset_waits_for_the_boot_and_resyncs(client: Client, gen: VirtualGenerator) -> None:
    old = client.boot
    hello = client.sim_reset()
    assert hello.boot != old and hello.boot == gen.boot_id and gen.strict
    assert client.status().role == "PATIENT"


def test_log_collects_the_entries(client: Client) -> None:
    clinician(client)
    client.prog(TONIC)
    client.select(2)
    entries = client.log()
    assert [e.what for e in entries] == ["LOGIN", "PROG:2", "SELECT:2"]
    assert [e.i for e in entries] == [1, 2, 3] and entries[1].role == "CLINICIAN"
    assert [e.what for e in client.log(from_=3)] == ["SELECT:2"]
    assert client.log(from_=100) == []


def test_test_session_keeps_its_lease_alive(gen: VirtualGenerator) -> None:
    sent: list[bytes] = []
    c = Client.open(VirtualSerial.attach(gen), on_line=lambda d, b: sent.append(b) if d == ">" else None)
    c.keepalive_s = 0.02
    try:
        clinician(c)
        c.prog(TONIC)
        c.select(2)
        c.test(replace(TONIC, amplitude_ua=3300))
        assert c.testing and c.status().amp_ua == 3300
        start = len(sent)
        wait_until(lambda: sum(b"STATUS" in s for s in sent[start:]) >= 3, what="keepalive STATUS lines")
        c.test_end()
        assert not c.testing and c.status().amp_ua == 3000
    finally:
        c.close()


def test_another_protocol_version_is_refused(gen: VirtualGenerator) -> None:
    port = LinePort(VirtualSerial.attach(gen), lambda line: reseal(line, b"PROTO=1", b"PROTO=2"))
    with pytest.raises(ProtocolMismatch, match="protocol 2"):
        Client.open(port)  # type: ignore[arg-type]


def test_closed_client_refuses_requests(gen: VirtualGenerator) -> None:
    from stimsim.host.client import LinkLost

    c = Client.open(VirtualSerial.attach(gen))
    c.close()
    c.close()
    assert c.closed
    with pytest.raises(LinkLost):
        c.status()


def test_hello_info_names_the_family_and_a_device_that_does_not_say_is_an_scs_r() -> None:
    from stimsim.engine.params import Family

    c = Client.open(VirtualSerial.attach(generator(FakeClock(), family=Family.DRG)), timeout=0.2)
    try:
        assert c.info is not None and c.info.family == "DRG"
    finally:
        c.close()
    silent = LinePort(VirtualSerial.attach(generator(FakeClock(), family=Family.DRG)),
                      lambda line: reseal(line, b" FAMILY=DRG", b"") if b"FAMILY=" in line else line)
    c = Client.open(silent, timeout=0.2)
    try:
        assert c.info is not None and c.info.family == "SCS-R"
    finally:
        c.close()


def test_a_program_without_amplitude_limits_is_written_within_the_devices_family() -> None:
    # Unset amplitude limits go out as the mode's range on the device's own family (the DRG's
    # 0..6 mA), and the read-back compares with that range, not the SCS modes'.
    from stimsim.engine.params import Family

    gen = VirtualGenerator(FakeClock(), rng_seed=1, family=Family.DRG)
    c = clinician(Client.open(VirtualSerial.attach(gen), timeout=0.2))
    try:
        drg = Program(Mode.TONIC, 400, 300, 20, Electrodes.of({"2": -50, "3": 50, "6": -50, "7": 50}), slot=1)
        back = c.prog(drg)
        assert back.limits.amp_range(Mode.TONIC, Family.DRG) == (0, 6000)
        c.test(drg)  # TEST sends the same arguments
        c.test_end()
        assert differences(drg, back, Family.DRG) == []
    finally:
        c.close()
