"""Closed-loop stimulation (family SCS-CL): the loop's program keys and their refusals, ECAP,
its sweep and stream, and the virtual nerve's SIM controls. Skipped, with the reason, on a
device whose HELLO names another family; the nerve's checks need the emulator's SIM.

The checks set the nerve back to its defaults (sitting, 3 uV of noise, eps 1) and stop the
stream when they end: SIM has no way to read what they were before.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ...engine import params as P
from ...protocol.codec import Event
from ..context import Check, Ctx, collector
from ..expect import err, expect, ok
from ..link import Link, Skip

CHECKS: list[Check] = []
check = collector(CHECKS)

FAMILY = P.Family.SCS_CL.value
BASE = "MODE=TONIC AMP=5000 PW=300 RATE=50 ELEC=4:-100,5:+50,6:+50"  #: cathode on lead A, 7 and 8 free
NERVE_DEFAULTS = ("SIM POSTURE=SITTING", "SIM ECAP_NOISE=3", "SIM EPS=1")
_TARGET = P.LOOP_BY_KEY["target_uv"]
_GAIN = P.LOOP_BY_KEY["gain_ua_per_uv"]


def _need_closed_loop(ctx: Ctx) -> None:
    family = ctx.hello().get("FAMILY") or P.Family.SCS_R.value
    if family != FAMILY:
        raise Skip(f"HELLO says FAMILY={family}; these checks are for the closed-loop family {FAMILY}")


@contextmanager
def _nerve(ctx: Ctx, *controls: str) -> Iterator[Link]:
    """The emulator's nerve set by ``controls`` for the check, and set back to its defaults after."""
    ctx.need_sim()
    link = ctx.link
    try:
        for control in controls:
            ok(link.req(control))
        yield link
    finally:
        link.req("ECAP STREAM=0")
        for control in NERVE_DEFAULTS:
            link.req(control)


def _ecap(link: Link) -> dict[str, str]:
    reply = ok(link.req("ECAP"), ECAP_UV=None, AMP=None, T_UA=None, SLOPE=None, TARGET_UV=None, LOOP=None)
    return {k: v for k, v in reply.args if k is not None}


def _exact(reading: dict[str, str]) -> float:
    """The noise-free ECAP of a reading: SLOPE x (AMP - T) above the threshold."""
    return float(reading["SLOPE"]) * max(0.0, int(reading["AMP"]) - int(reading["T_UA"])) / 1000.0


@check("loop.keys")
def _keys(ctx: Ctx) -> None:
    _need_closed_loop(ctx)
    link, n = ctx.on_slot(f"{BASE} LOOP=ECAP SENSE=7,8 TARGET_UV=60 GAIN=12")
    back = ok(link.req(f"READ SLOT={n}"), LOOP="ECAP", TARGET_UV=60, GAIN=12, SENSE="7,8")
    keys = [k for k, _ in back.args]
    expect(keys.index("ELEC") < keys.index("LOOP") < keys.index("SENSE"), f"READ's order: {keys}")
    ctx.prog(n, f"{BASE} LOOP=OPEN")
    ok(link.req(f"READ SLOT={n}"), LOOP="OPEN", TARGET_UV=None, GAIN=None)
    ctx.prog(n, BASE)
    expect("LOOP" not in dict(ok(link.req(f"READ SLOT={n}")).args), "READ reports LOOP= for a program without it")
    before = ok(link.req(f"READ SLOT={n}")).args
    prog = f"PROG SLOT={n}"
    refusals: list[tuple[str, str, dict[str, str | int]]] = [
        (f"{BASE} LOOP=ECAP", "BAD_ARG", {"KEY": "SENSE"}),
        (f"{BASE} LOOP=SOMETIMES SENSE=7,8", "BAD_ARG", {"KEY": "LOOP"}),
        ("MODE=BURST AMP=1000 PW=200 RATE=40 BURST_N=5 INTRA_HZ=500 ELEC=4:-100,5:+100 LOOP=ECAP SENSE=7,8",
         "BAD_ARG", {"KEY": "LOOP"}),
        (f"{BASE} LOOP=ECAP SENSE=9,10", "OUT_OF_RANGE", {"RULE": "SENSE", "KEY": "SENSE"}),
        (f"{BASE} LOOP=ECAP SENSE=5,7", "OUT_OF_RANGE", {"RULE": "SENSE", "KEY": "SENSE"}),
        (f"{BASE} LOOP=ECAP SENSE=7,7", "OUT_OF_RANGE", {"RULE": "SENSE", "KEY": "SENSE"}),
        (f"{BASE} LOOP=OPEN SENSE=9,10", "OUT_OF_RANGE", {"RULE": "SENSE", "KEY": "SENSE"}),
        ("MODE=TONIC AMP=4000 PW=300 RATE=50 ELEC=4:-50,12:-50,CASE:+100 SENSE=10,11", "OUT_OF_RANGE",
         {"RULE": "SENSE", "KEY": "SENSE"}),  # equal cathodic current: lead A is the cathode's lead
        ("MODE=TONIC AMP=3000 PW=300 RATE=50 ELEC=4:-100 LOOP=ECAP SENSE=9,10", "OUT_OF_RANGE",
         {"RULE": "ELECTRODES", "KEY": "ELEC"}),  # SENSE is the last cause named
    ]
    for row in (_TARGET, _GAIN):
        assert row.range is not None
        for value in (row.range.minimum - 1, row.range.maximum + 1):
            refusals.append((f"{BASE} LOOP=ECAP SENSE=7,8 {row.wire}={value}", "OUT_OF_RANGE",
                             {"KEY": row.wire, "MIN": row.range.minimum, "MAX": row.range.maximum}))
    for rest, code, args in refusals:
        err(link.req(f"{prog} {rest}"), code, **args)
    expect(ok(link.req(f"READ SLOT={n}")).args == before, "a refused PROG changed the slot")
    ctx.prog(n, "MODE=TONIC AMP=4000 PW=300 RATE=50 ELEC=4:-50,12:-50,CASE:+100 LOOP=ECAP SENSE=6,7")
    ctx.prog(n, "MODE=HF AMP=2000 PW=30 RATE=10000 ELEC=4:-100,5:+100 LOOP=OPEN SENSE=7,8")


@check("loop.ecap")
def _ecap_reply(ctx: Ctx) -> None:
    _need_closed_loop(ctx)
    link, n = ctx.on_slot(f"{BASE} LOOP=OPEN TARGET_UV=70", patient=True)
    off = _ecap(link)
    expect(off["LOOP"] == "0" and off["TARGET_UV"] == "70", f"ECAP with LOOP=OPEN TARGET_UV=70: {off}")
    expect(float(off["ECAP_UV"]) == 0.0, f"ECAP while not stimulating: ECAP_UV={off['ECAP_UV']}, expected 0")
    ok(link.req("STIM ON"))
    on = _ecap(link)
    expect(on["AMP"] == "5000" and int(on["T_UA"]) > 0 and float(on["SLOPE"]) > 0, f"ECAP while stimulating: {on}")
    ctx.login()
    ctx.prog(n, f"{BASE} LOOP=ECAP SENSE=7,8")
    expect(_ecap(link)["LOOP"] == "1", "ECAP does not say LOOP=1 for LOOP=ECAP")
    ctx.stim_off()


@check("loop.noise_zero_is_exact")
def _noise(ctx: Ctx) -> None:
    _need_closed_loop(ctx)
    ctx.on_slot(f"{BASE} LOOP=OPEN")
    with _nerve(ctx, "SIM ECAP_NOISE=0") as link:
        ok(link.req("AMP SET=7000"))
        ok(link.req("STIM ON"))
        readings = [_ecap(link) for _ in range(5)]
        for reading in readings:
            expect(abs(float(reading["ECAP_UV"]) - _exact(reading)) <= 0.1,
                   f"with SIM ECAP_NOISE=0 ECAP_UV={reading['ECAP_UV']}, expected SLOPE x (AMP - T_UA) = "
                   f"{_exact(reading):.1f} ({reading})")
        ok(link.req("SIM ECAP_NOISE=3"))
        noisy = {_ecap(link)["ECAP_UV"] for _ in range(10)}
        expect(len(noisy) > 1, f"with SIM ECAP_NOISE=3 ten ECAPs read the same: {noisy}")
        err(link.req("SIM ECAP_NOISE=x"), "BAD_ARG", KEY="ECAP_NOISE")
        ctx.stim_off()


@check("loop.eps_range")
def _eps(ctx: Ctx) -> None:
    _need_closed_loop(ctx)
    ctx.on_slot(f"{BASE} LOOP=OPEN")
    with _nerve(ctx, "SIM ECAP_NOISE=0") as link:
        for bad in ("0.49", "2.01", "5"):
            err(link.req(f"SIM EPS={bad}"), "OUT_OF_RANGE", KEY="EPS", MIN="0.5", MAX="2")
        err(link.req("SIM EPS=one"), "BAD_ARG", KEY="EPS")
        ok(link.req("AMP SET=9000"))
        ok(link.req("STIM ON"))
        plain = _ecap(link)
        ok(link.req("SIM EPS=1.5"), EPS="1.5")
        higher = _ecap(link)
        expect(int(higher["T_UA"]) > int(plain["T_UA"]) and float(higher["ECAP_UV"]) < float(plain["ECAP_UV"]),
               f"SIM EPS=1.5 should raise the threshold and lower the ECAP: {plain} then {higher}")
        ctx.stim_off()


@check("loop.sweep")
def _sweep(ctx: Ctx) -> None:
    _need_closed_loop(ctx)
    ctx.on_slot(f"{BASE} LOOP=OPEN")
    with _nerve(ctx, "SIM ECAP_NOISE=0") as link:
        err(link.req("ECAP SWEEP FROM=3000 TO=6000 STEP=500"), "STATE")
        ok(link.req("STIM ON"))
        amp = ctx.status().get("AMP")
        for low, high, step, want in ((3000, 6000, 500, list(range(3000, 6001, 500))),
                                      (3000, 6200, 1000, [3000, 4000, 5000, 6000])):
            a = link.req(f"ECAP SWEEP FROM={low} TO={high} STEP={step}")
            count = int(ok(a, N=len(want)).get("N") or "0")
            points = _events(link, "ECAPPT", a.index, count)
            got = [int(p.get("AMP") or "-1") for p in points]
            expect(got == want, f"ECAP SWEEP FROM={low} TO={high} STEP={step} measured at {got}, expected {want}")
            uv = [float(p.get("UV") or "nan") for p in points]
            expect(all(x <= y for x, y in zip(uv, uv[1:], strict=False)) and uv[-1] > uv[0],
                   f"the growth curve does not grow with SIM ECAP_NOISE=0: {uv}")
        expect(ctx.status().get("AMP") == amp, f"the amplitude did not return to {amp} after the sweep")
        ok(link.req("LOGOUT"))
        err(link.req("ECAP SWEEP FROM=3000 TO=6000 STEP=500"), "DENIED", NEED="CLINICIAN")
        ctx.stim_off()


def _events(link: Link, name: str, after: int, count: int) -> list[Event]:
    """The ``count`` events ``name`` an ``N=`` announced after reply ``after``."""
    found: list[Event] = []
    scanned = after
    deadline = time.monotonic() + 1.0 + count * 0.01
    while len(found) < count and time.monotonic() < deadline:
        hit = link.wait_event(name, scanned, deadline - time.monotonic())
        if hit is None:
            break
        scanned = hit[0] + 1
        found.append(hit[1])
    expect(len(found) == count, f"N={count} announced, {len(found)} !{name} events came")
    return found


@check("loop.stream")
def _stream(ctx: Ctx) -> None:
    _need_closed_loop(ctx)
    link, _n = ctx.on_slot(f"{BASE} LOOP=ECAP SENSE=7,8", patient=True)
    try:
        ok(link.req("ECAP STREAM=1"), STREAM=1)
        mark = link.mark()
        _listen(link, 0.5)
        expect(not link.events("ECAP", mark), "!ECAP events while not stimulating")
        ok(link.req("STIM ON"))
        _listen(link, 0.25)
        mark = link.mark()
        _listen(link, 1.0)
        events = link.events("ECAP", mark)
        expect(8 <= len(events) <= 12, f"{len(events)} !ECAP events in 1 s of streaming, expected about 10")
        expect(all(e.get("UV") is not None and (e.get("AMP") or "").isdigit() for e in events),
               f"an !ECAP event without UV= and AMP=: {events[:3]}")
        ok(link.req("ECAP STREAM=0"), STREAM=0)
        _listen(link, 0.2)
        mark = link.mark()
        _listen(link, 0.5)
        expect(not link.events("ECAP", mark), "!ECAP events after ECAP STREAM=0")
        err(link.req("ECAP STREAM=2"), "BAD_ARG", KEY="STREAM")
    finally:
        link.req("ECAP STREAM=0")
        ctx.stim_off()


@check("loop.posture_and_cough")
def _posture(ctx: Ctx) -> None:
    _need_closed_loop(ctx)
    ctx.on_slot(f"{BASE} LOOP=OPEN")
    with _nerve(ctx, "SIM ECAP_NOISE=0", "SIM POSTURE=SITTING") as link:
        ok(link.req("AMP SET=7000"))
        ok(link.req("STIM ON"))
        sitting = _value(link)
        ok(link.req("SIM POSTURE=SUPINE"), POSTURE="SUPINE")
        supine = _value(link)
        expect(supine > sitting + 5, f"SIM POSTURE=SUPINE did not raise the ECAP ({sitting} then {supine} uV)")
        ok(link.req("SIM POSTURE=PRONE"))
        expect(_value(link) < sitting, "SIM POSTURE=PRONE did not lower the ECAP below sitting")
        err(link.req("SIM POSTURE=HEADSTAND"), "BAD_ARG", KEY="POSTURE")
        ok(link.req("SIM POSTURE=SITTING"))
        ok(link.req("SIM COUGH"))
        cough = _value(link)
        expect(cough > sitting + 5, f"SIM COUGH did not raise the ECAP ({sitting} then {cough} uV)")
        ok(link.req("SIM COUGH"))
        expect(abs(_value(link) - cough) <= 0.1, "a cough during a cough moved the ECAP again (coughs do not stack)")
        _wait_until(lambda: abs(_value(link) - sitting) <= 0.1, 2.5)
        expect(abs(_value(link) - sitting) <= 0.1, "the ECAP did not return after the cough")
        ctx.stim_off()


def _listen(link: Link, seconds: float) -> None:
    """Take what arrives for ``seconds`` (a stream is never quiet, so ``settle`` would not end)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        link.pump(end)


def _value(link: Link) -> float:
    return float(_ecap(link)["ECAP_UV"])


def _wait_until(cond: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not cond():
        time.sleep(0.1)


@check("loop.settles_at_target")
def _settles(ctx: Ctx) -> None:
    _need_closed_loop(ctx)
    ctx.on_slot(f"{BASE} LOOP=ECAP SENSE=7,8 TARGET_UV=40 GAIN=10")
    with _nerve(ctx, "SIM ECAP_NOISE=0") as link:
        ok(link.req("STIM ON"))
        _wait_until(lambda: abs(_value(link) - 40.0) <= 0.5, 3.0)
        reading = _ecap(link)
        expect(abs(float(reading["ECAP_UV"]) - 40.0) <= 0.5, f"LOOP=ECAP TARGET_UV=40 did not settle: {reading}")
        amp = ctx.status().get("AMP")
        expect(amp is not None and amp != "5000", f"STATUS AMP={amp}: not the loop's amplitude")
        ctx.stim_off()
