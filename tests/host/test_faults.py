"""Faults on the link: bit flips, a link dropped mid-write, device resets, garbage from the device."""

from __future__ import annotations

import random
import time

import pytest

from stimsim.generator.urlhandler.protocol_virtual import VirtualSerial
from stimsim.generator.virtual_generator import VirtualGenerator
from stimsim.host.client import Client, DeviceRestarted, DeviceTimeout, LimitError, LinkLost
from stimsim.protocol import codec

from ..host_support import (  # noqa: F401
    DroppingPort,
    FakeClock,
    FlippingPort,
    PortWrapper,
    generator,
    no_leaks,
    wait_until,
)

pytestmark = pytest.mark.usefixtures("no_leaks")

SETUP = "PROG SLOT=1 MODE=TONIC AMP=3000 PW=100 RATE=50 ELEC=4:-100,5:+100 AMP_MIN=1000 AMP_MAX=5000"


def prepared() -> VirtualGenerator:
    """A generator (frozen fake clock) with slot 1 written and active, set up over a clean link."""
    gen = generator(FakeClock())
    with Client.open(VirtualSerial.attach(gen)) as c:
        c.login("0000")
        c.call("PROG", SETUP.split()[1:])
        c.select(1)
    return gen


def amplitude(gen: VirtualGenerator) -> int:
    slot = gen.slots[0]
    assert slot is not None
    return slot.program.amplitude_ua


def last_log_i(gen: VirtualGenerator) -> int:
    return gen.log[-1].i if gen.log else 0


def test_ten_thousand_commands_over_a_link_flipping_one_percent_of_bytes() -> None:
    gen = prepared()
    port = FlippingPort(VirtualSerial.attach(gen, boot=False, timeout=0.02), rate=0.01, seed=20240601)
    client = Client.open(port, timeout=0.003, retries=20)  # type: ignore[arg-type]
    rng = random.Random(7)
    expected = amplitude(gen)
    log0 = last_log_i(gen)
    applied = refused = unresolved_applied = 0
    try:
        for _ in range(10_000):
            step = rng.choice((+1, -1))
            before = expected
            try:
                got = client.amp_step(step)
            except LimitError:
                refused += 1
                assert not 1000 <= before + 100 * step <= 5000, "a step inside the limits was refused"
                continue
            except DeviceTimeout:
                # Outcome unknown to the host; look at the device itself (not through the link).
                now = amplitude(gen)
                assert now in (before, before + 100 * step), f"amplitude {now} after one step from {before}"
                if now != before:
                    unresolved_applied += 1
                expected = now
                continue
            expected = before + 100 * step
            assert got == expected, f"device answered AMP={got}, expected {expected}"
            applied += 1
    finally:
        client.close()
    assert port.flipped > 10_000 * 0.01 * 40, "the link was not noisy"
    assert client.stats.resends > 2000 and client.stats.skipped_lines > 500
    assert amplitude(gen) == expected, "a change was applied twice or lost"
    # One audit entry per applied change: none executed twice by a resend, none lost.
    assert last_log_i(gen) - log0 == applied + unresolved_applied
    assert [e.what for e in gen.log[-5:]] == ["AMP:1"] * 5
    assert applied + refused > 9_990 and refused > 0
    assert gen.internal_errors == []


def test_a_link_dropped_in_the_middle_of_a_write() -> None:
    gen = prepared()
    port = DroppingPort(VirtualSerial.attach(gen, boot=False), at=3)
    client = Client.open(port)  # type: ignore[arg-type]  # write 1: HELLO
    try:
        assert client.amp_step(+1) == 3100  # write 2
        with pytest.raises(LinkLost, match="link lost"):
            client.amp_step(+1)  # write 3: half a line reaches the device, then the port fails
        assert client.closed
        with pytest.raises(LinkLost):
            client.status()
    finally:
        client.close()
    assert amplitude(gen) == 3100, "half a line was executed"
    # Reconnected, the half line left in the device's buffer costs one damaged exchange.
    with Client.open(VirtualSerial.attach(gen, boot=False)) as again:
        assert again.amp_step(+1) == 3200
        assert again.status().amp_ua == 3200
        assert again.stats.resends == 1


def test_a_device_reset_in_the_middle_of_a_request_is_reported_not_resent() -> None:
    gen = prepared()

    class Rebooting(PortWrapper):
        """The device resets as the AMP line arrives: the line is lost, !BOOT follows."""

        def write(self, data: bytes) -> int:
            self.written.append(bytes(data))
            if b"AMP STEP" in data and sum(b"AMP STEP" in w for w in self.written) == 1:
                self.inner.push(gen.reset())
                return len(data)
            return self.inner.write(data)

    port = Rebooting(VirtualSerial.attach(gen, boot=False))
    client = Client.open(port, timeout=0.3)  # type: ignore[arg-type]
    try:
        old = client.boot
        t0 = time.monotonic()
        with pytest.raises(DeviceRestarted) as info:
            client.amp_step(+1)
        assert time.monotonic() - t0 < 0.3, "the restart was noticed only after a timeout"
        assert info.value.old_boot == old and info.value.new_boot == gen.boot_id
        assert sum(b"AMP STEP" in w for w in port.written) == 1, "the request was re-sent after the reboot"
        assert amplitude(gen) == 3000
        assert gen.strict and info.value.status is not None and info.value.status.stim is False
        assert client.amp_step(+1) == 3100  # usable again, strict
    finally:
        client.close()


def test_a_reset_between_requests_is_caught_by_the_next_one() -> None:
    gen = prepared()
    inner = VirtualSerial.attach(gen, boot=False)
    with Client.open(inner) as client:
        client.login("0000")
        inner.push(gen.reset())
        wait_until(lambda: client.restart_pending, what="the !BOOT to be read")
        with pytest.raises(DeviceRestarted):
            client.amp_step(+1)
        assert amplitude(gen) == 3000 and gen.role == "PATIENT"
        assert client.amp_step(+1) == 3100


def test_garbage_half_lines_and_unknown_events_from_the_device_are_skipped() -> None:
    gen = prepared()
    junk = [
        b"\x00\xff\xfe garbage without sense\r\n",
        codec.encode_event("FROB", [("X", "1")]),  # well formed, unknown
        b"#77 OK AMP=99",  # a half line, finished by the next junk's CR LF
        b"\r\n",
        b"Z" * 700 + b"\r\n",  # over 512 bytes
        b"#5 OK STIM=OFF *0000\r\n",  # bad CRC
        codec.encode_reply(60000, True, None, [("AMP", "1")]),  # a reply nobody waits for
    ]

    class Chatty(PortWrapper):
        n = 0

        def incoming(self, data: bytes) -> bytes:
            if not data:
                return data
            self.n += 1
            return junk[self.n % len(junk)] + data

    port = Chatty(VirtualSerial.attach(gen, boot=False))
    seen: list[codec.Event] = []
    with Client.open(port, on_event=seen.append) as client:  # type: ignore[arg-type]
        for i in range(30):
            assert client.amp_step(+1 if i % 2 == 0 else -1) in (3000, 3100)
        assert client.status().amp_ua == 3000
        assert client.stats.skipped_lines >= 10 and client.stats.unmatched_replies >= 2
        assert client.stats.timeouts == 0
    assert all(e.name != "FROB" for e in seen)
    assert amplitude(gen) == 3000


def test_stop_is_resent_until_answered() -> None:
    gen = prepared()

    class LoseFirstStop(PortWrapper):
        def write(self, data: bytes) -> int:
            self.written.append(bytes(data))
            if data.startswith(b"STOP") and sum(w.startswith(b"STOP") for w in self.written) == 1:
                return len(data)  # lost on the way
            return self.inner.write(data)

    port = LoseFirstStop(VirtualSerial.attach(gen, boot=False))
    with Client.open(port, timeout=0.05) as client:  # type: ignore[arg-type]
        client.stim(True)
        client.stop()
        assert not gen.stimulating
        assert [w for w in port.written if w.startswith(b"STOP")] == [codec.encode_request("STOP")] * 2
