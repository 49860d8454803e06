"""Framing, errors, strict mode, idempotent resends, STALE and STOP, as transcripts."""

from __future__ import annotations

from stimsim.generator.virtual_generator import VirtualGenerator
from stimsim.protocol.codec import crc16, seal

from .conftest import TONIC, FakeClock, login, program_slot, send, transcript, unseal

HELLO_OK = "OK PROTO=1 MODEL=STIMSIM-VG FW={fw} SN=VG000001 BOOT={boot} ROLE=PATIENT SLOTS=16 CONTACTS=16 FAMILY=SCS-R"


def hello(gen: VirtualGenerator, strict: int, nxt: int, seq: str = "") -> str:
    head = HELLO_OK.format(fw=gen.fw, boot=gen.boot_id)
    return f"{seq}{head} STRICT={strict} NEXT={nxt}"


def test_boot_event_and_hello(gen: VirtualGenerator) -> None:
    assert unseal(gen.boot_bytes()) == [f"!BOOT BOOT={gen.boot_id} FW={gen.fw}"]
    assert len(gen.boot_id) == 8 and int(gen.boot_id, 16) >= 0
    transcript(gen, [("HELLO", hello(gen, 0, 1)), ("hello strict=1", hello(gen, 1, 1))])


def test_every_framing_error_code(gen: VirtualGenerator) -> None:
    transcript(gen, [
        (b"STATUS" + b" " * 400 + b"\r\n", "ERR TOO_LONG"),
        (b"#7 STATUS\x01\r\n", "#7 ERR BAD_SYNTAX"),
        (b"#7 STATUS \xff\r\n", "#7 ERR BAD_SYNTAX"),
        (b"STATUS =\r\n", "ERR BAD_SYNTAX"),
        (b"#8 STATUS *0000\r\n", "#8 ERR BAD_CRC"),
        ("FROB", "ERR UNKNOWN_VERB"),
        ("#9 FROB X=1", "#9 ERR UNKNOWN_VERB"),
        (b"\r\n   \n", []),
        ("STATUS EXTRA=1", "ERR BAD_ARG KEY=EXTRA"),
        ("STATUS NOW", "ERR BAD_ARG KEY=NOW"),
    ])


def test_lines_split_across_calls_and_several_in_one_call(gen: VirtualGenerator) -> None:
    assert gen.receive(b"STA") == b""
    assert unseal(gen.receive(b"TUS\r\nMRI ON\r\nMRI OFF\r\nST")) == [
        "OK STIM=OFF SLOT=1 AMP=0 BATT=1000 CHG=0 ROLE=PATIENT COMPLIANCE=OK MRI=0 TEST=0",
        "OK MRI=1",
        "OK MRI=0",
    ]
    assert unseal(gen.receive(b"OP\n")) == ["OK STIM=OFF"]


def test_strict_mode_needs_seq_and_crc(gen: VirtualGenerator) -> None:
    transcript(gen, [
        ("HELLO STRICT=1", hello(gen, 1, 1)),
        ("STATUS", "ERR BAD_SYNTAX NEED=SEQ,CRC"),
        ("#1 STATUS", "#1 ERR BAD_SYNTAX NEED=SEQ,CRC"),
        (seal("STATUS"), "ERR BAD_SYNTAX NEED=SEQ,CRC"),
        (b"STATUS *0000\r\n", "ERR BAD_SYNTAX NEED=SEQ,CRC"),
        (seal("#1 MRI ON"), "#1 OK MRI=1"),
        ("HELLO", "ERR BAD_SYNTAX NEED=SEQ,CRC"),
        (seal("#2 HELLO"), hello(gen, 0, 3, "#2 ")),
        ("STATUS", "OK STIM=OFF SLOT=1 AMP=0 BATT=1000 CHG=0 ROLE=PATIENT COMPLIANCE=OK MRI=1 TEST=0"),
    ])


def test_resend_answers_from_memory_without_executing_again(clinician: VirtualGenerator) -> None:
    gen = clinician
    step = seal("#40 AMP STEP=+1")
    first = gen.receive(step)
    assert unseal(first) == ["#40 OK AMP=3100"]
    assert gen.receive(step) == first
    assert gen.receive(step) == first
    assert gen.slots[0] is not None and gen.slots[0].program.amplitude_ua == 3100
    assert [e.what for e in gen.log].count("AMP:1") == 1
    # The same SEQ with other bytes is a new request in non-strict mode ...
    assert send(gen, "#40 AMP STEP=+2", crc=True) == ["#40 OK AMP=3300"]
    # ... and STALE in strict mode.
    send(gen, "HELLO STRICT=1")
    login(gen, seq=41)
    transcript(gen, [
        ("#43 AMP STEP=+1", "#43 OK AMP=3400"),
        ("#43 AMP STEP=+3", "#43 ERR STALE"),
        ("#43 AMP STEP=+1", "#43 OK AMP=3400"),
    ], crc=True)
    assert gen.slots[0].program.amplitude_ua == 3400


def test_an_err_reply_is_remembered_and_advances_the_seq(gen: VirtualGenerator) -> None:
    transcript(gen, [
        ("#1 HELLO STRICT=1", hello(gen, 1, 2, "#1 ")),
        ("#2 PROG SLOT=1 " + TONIC, "#2 ERR DENIED NEED=CLINICIAN"),
        ("#2 PROG SLOT=1 " + TONIC, "#2 ERR DENIED NEED=CLINICIAN"),
        ("#2 STATUS", "#2 ERR STALE"),
        ("#3 STIM ON", "#3 ERR STATE REASON=EMPTY"),
        ("#4 HELLO STRICT=1", hello(gen, 1, 5, "#4 ")),
    ], crc=True)


def test_stale_window_and_wrap(gen: VirtualGenerator) -> None:
    transcript(gen, [
        ("#65000 HELLO STRICT=1", hello(gen, 1, 65001, "#65000 ")),
        ("#64999 STATUS", "#64999 ERR STALE"),
        ("#490 STATUS", "#490 ERR STALE"),  # 1025 ahead of 65000 on the 1..65535 ring
        ("#489 MRI ON", "#489 OK MRI=1"),  # exactly 1024 ahead
        ("#1513 MRI OFF", "#1513 OK MRI=0"),
        ("#2538 MRI ON", "#2538 ERR STALE"),
        ("#1514 HELLO STRICT=1", hello(gen, 1, 1515, "#1514 ")),
    ], crc=True)


def test_65535_is_followed_by_1(gen: VirtualGenerator) -> None:
    transcript(gen, [
        ("#65534 HELLO STRICT=1", hello(gen, 1, 65535, "#65534 ")),
        ("#65535 MRI ON", "#65535 OK MRI=1"),
        ("#1 HELLO STRICT=1", hello(gen, 1, 2, "#1 ")),
        ("#65535 MRI OFF", "#65535 ERR STALE"),
    ], crc=True)


def test_any_seq_is_fresh_until_one_is_accepted_and_hello_is_never_stale(gen: VirtualGenerator) -> None:
    send(gen, "HELLO STRICT=1")
    transcript(gen, [
        ("#30000 MRI ON", "#30000 OK MRI=1"),
        ("#5 HELLO STRICT=1", hello(gen, 1, 30001, "#5 ")),  # out of the window: NEXT unchanged
        ("#29000 MRI OFF", "#29000 ERR STALE"),
        ("#30001 MRI OFF", "#30001 OK MRI=0"),
    ], crc=True)


def test_non_strict_mode_never_answers_stale(gen: VirtualGenerator) -> None:
    transcript(gen, [
        ("#100 MRI ON", "#100 OK MRI=1"),
        ("#3 MRI OFF", "#3 OK MRI=0"),
        ("HELLO", hello(gen, 0, 4)),
    ], crc=True)


def test_the_ring_remembers_eight_replies(gen: VirtualGenerator) -> None:
    send(gen, "HELLO STRICT=1")
    first = seal("#1 MRI ON")
    assert unseal(gen.receive(first)) == ["#1 OK MRI=1"]
    for seq in range(2, 9):
        send(gen, f"#{seq} STATUS", crc=True)
    assert unseal(gen.receive(first)) == ["#1 OK MRI=1"]  # 8 remembered: still there
    send(gen, "#9 STATUS", crc=True)
    assert unseal(gen.receive(first)) == ["#1 ERR STALE"]  # pushed out


def test_stop_runs_in_every_state_of_the_line(clinician: VirtualGenerator) -> None:
    gen = clinician
    stopped = ["OK STIM=OFF", "!STIM STIM=OFF REASON=STOP"]
    transcript(gen, [
        ("#1 HELLO STRICT=1", hello(gen, 1, 2, "#1 ")),
        (seal("#2 STIM ON"), "#2 OK STIM=ON"),
        ("STOP", stopped),  # strict mode without SEQ or CRC
        (seal("#3 STIM ON"), "#3 OK STIM=ON"),
        (b"#3 STOP *0000\r\n", ["#3 OK STIM=OFF", "!STIM STIM=OFF REASON=STOP"]),  # bad CRC
        (seal("#4 STIM ON"), "#4 OK STIM=ON"),
        (seal("#2 STOP"), ["#2 OK STIM=OFF", "!STIM STIM=OFF REASON=STOP"]),  # stale SEQ
        (seal("#5 STIM ON"), "#5 OK STIM=ON"),
        (seal("#6 MRI ON"), ["#6 OK MRI=1", "!STIM STIM=OFF REASON=MRI"]),
        ("stop", "OK STIM=OFF"),  # already off: no event
        (seal("#7 STOP"), "#7 OK STIM=OFF"),
    ])
    # Neither the bad-CRC STOP nor the stale one moved the SEQ state.
    assert gen.status()["next_seq"] == 8


def test_a_stop_line_runs_whatever_else_is_wrong_with_it(clinician: VirtualGenerator) -> None:
    gen = clinician
    for line in (b"#0 STOP\r\n", b"STOP =junk\r\n", b"#99999 STOP *12\r\n"):
        send(gen, "STIM ON")
        assert unseal(gen.receive(line)) == ["OK STIM=OFF", "!STIM STIM=OFF REASON=STOP"], line
        assert not gen.stimulating
    # a verb that merely starts with STOP is not a STOP
    assert unseal(gen.receive(b"STOPX\r\n")) == ["ERR UNKNOWN_VERB"]


def test_a_resent_stop_is_answered_from_memory_and_still_stops(clinician: VirtualGenerator) -> None:
    gen = clinician
    stop = seal("#20 STOP")
    assert unseal(gen.receive(stop)) == ["#20 OK STIM=OFF"]
    send(gen, "#21 STIM ON", crc=True)
    assert unseal(gen.receive(stop)) == ["#20 OK STIM=OFF", "!STIM STIM=OFF REASON=STOP"]
    assert not gen.stimulating


def test_stop_with_bad_crc_leaves_the_seq_state_and_memory_alone(gen: VirtualGenerator) -> None:
    send(gen, "#10 HELLO STRICT=1", crc=True)
    body = b"#11 STOP"
    assert unseal(gen.receive(body + b" *%04X\r\n" % (crc16(body) ^ 1))) == ["#11 OK STIM=OFF"]
    assert send(gen, "#11 MRI ON", crc=True) == ["#11 OK MRI=1"]  # #11 still fresh


def test_events_come_after_the_reply_that_caused_them(clinician: VirtualGenerator) -> None:
    transcript(clinician, [
        ("STIM ON", "OK STIM=ON"),
        ("SIM BATT=40", ["OK BATT=40", "!BATT STATE=LOW BATT=40", "!BATT STATE=EMPTY BATT=40",
                         "!STIM STIM=OFF REASON=BATTERY"]),
    ])


def test_a_reset_drops_the_bytes_in_flight(clock: FakeClock) -> None:
    gen = VirtualGenerator(clock, rng_seed=3)
    old = gen.boot_id
    out = unseal(gen.receive(b"SIM RESET\r\nMRI ON\r\n"))
    assert out == ["OK", f"!BOOT BOOT={gen.boot_id} FW={gen.fw}"] and gen.boot_id != old
    assert send(gen, "STATUS")[0].endswith("MRI=0 TEST=0")


def test_every_verb_is_answered_once_with_a_crc(clinician: VirtualGenerator) -> None:
    program_slot(clinician, 2)
    for line in ["HELLO", "STATUS", "READ SLOT=2", "ERASE SLOT=3", "SELECT SLOT=2", "STIM OFF", "AMP SET=3000",
                 "IMPEDANCE", "BATT", "CONFIG", "STOP", "LOGIN", "LOGOUT", "MRI OFF", "LOG FROM=999", "SIM SPEED=1",
                 "TEST END", "PROG"]:
        out = send(clinician, line)
        assert len([x for x in out if not x.startswith("!")]) == 1, line
    assert not clinician.internal_errors
