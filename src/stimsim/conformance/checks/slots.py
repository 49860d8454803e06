"""Slots: PROG read back, defaults, BAD_ARG, OUT_OF_RANGE, fit, rules, UNSAFE, READ, SELECT and ERASE."""

from __future__ import annotations

from ...engine import params as P
from ...engine.params import Mode, Recharge
from ..context import Check, Ctx, collector, density
from ..expect import err, expect, ok

CHECKS: list[Check] = []
check = collector(CHECKS)


_TONIC = "MODE=TONIC AMP=3250 PW=210 RATE=60 IPG=20 RECHARGE=PASSIVE CYCLE_ON_MS=2000 CYCLE_OFF_MS=3000 " \
         "RAMP_MS=500 ELEC=CASE:+100,4:-60,3:-40 AMP_MIN=1000 AMP_MAX=6000 PW_MIN=100 PW_MAX=400 RATE_MIN=40 " \
         "RATE_MAX=80 NAME=Low_back_2"


@check("prog.read_back")
def _read_back(ctx: Ctx) -> None:
    link, n = ctx.on_slot(_TONIC, select=False)
    reply = ok(link.req(f"READ SLOT={n}"))
    want = [("SLOT", str(n)), ("MODE", "TONIC"), ("AMP", "3250"), ("PW", "210"), ("RATE", "60"), ("IPG", "20"),
            ("RECHARGE", "PASSIVE"), ("CYCLE_ON_MS", "2000"), ("CYCLE_OFF_MS", "3000"), ("RAMP_MS", "500"),
            ("ELEC", "3:-40,4:-60,CASE:+100"), ("AMP_MIN", "1000"), ("AMP_MAX", "6000"), ("PW_MIN", "100"),
            ("PW_MAX", "400"), ("RATE_MIN", "40"), ("RATE_MAX", "80"), ("NAME", "Low_back_2")]
    expect(list(reply.args) == want, f"READ answered {reply}, expected OK "
                                     + " ".join(f"{k}={v}" for k, v in want))


@check("prog.burst_read_back")
def _burst(ctx: Ctx) -> None:
    link, n = ctx.on_slot("MODE=BURST AMP=1500 PW=500 RATE=40 BURST_N=5 INTRA_HZ=500 ELEC=9:-100,10:+100", n=1, select=False)
    reply = ok(link.req(f"READ SLOT={n}"))
    want = [("SLOT", str(n)), ("MODE", "BURST"), ("AMP", "1500"), ("PW", "500"), ("RATE", "40"), ("IPG", "0"),
            ("RECHARGE", "PASSIVE"), ("BURST_N", "5"), ("INTRA_HZ", "500"), ("CYCLE_ON_MS", "0"),
            ("CYCLE_OFF_MS", "0"), ("RAMP_MS", "0"), ("ELEC", "9:-100,10:+100"), ("AMP_MIN", "0"),
            ("AMP_MAX", str(P.PARAMS[Mode.BURST]["amplitude_ma"].maximum))]
    expect(list(reply.args) == want, f"READ answered {reply}, expected OK " + " ".join(f"{k}={v}" for k, v in want))


@check("prog.defaults")
def _defaults(ctx: Ctx) -> None:
    link, n = ctx.on_slot("MODE=HF AMP=2000 PW=30 RATE=10000 ELEC=5:-100,6:+100", n=2, select=False)
    reply = ok(link.req(f"READ SLOT={n}"))
    hf_max = P.PARAMS[Mode.HF]["amplitude_ma"].maximum
    want = [("SLOT", str(n)), ("MODE", "HF"), ("AMP", "2000"), ("PW", "30"), ("RATE", "10000"), ("IPG", "0"),
            ("RECHARGE", P.RECHARGE[Mode.HF][0].wire), ("CYCLE_ON_MS", "0"), ("CYCLE_OFF_MS", "0"),
            ("RAMP_MS", "0"), ("ELEC", "5:-100,6:+100"), ("AMP_MIN", "0"), ("AMP_MAX", str(hf_max))]
    expect(list(reply.args) == want, f"READ answered {reply}, expected OK " + " ".join(f"{k}={v}" for k, v in want))


@check("prog.bad_arg")
def _prog_bad_arg(ctx: Ctx) -> None:
    link, n = ctx.on_slot(select=False)
    before = link.req(f"READ SLOT={n}").reply.args
    base = "MODE=TONIC AMP=3000 PW=200 RATE=50"
    cases = [
        (f"PROG SLOT={n} {base}", "ELEC"),
        (f"PROG SLOT={n} {base} ELEC=4:-100,5:+100 FOO=1", "FOO"),
        (f"PROG SLOT={n} {base} AMP=2000 ELEC=4:-100,5:+100", "AMP"),
        (f"PROG SLOT={n} {base} BURST_N=3 ELEC=4:-100,5:+100", "BURST_N"),
        (f"PROG SLOT={n} MODE=TONIC AMP=abc PW=200 RATE=50 ELEC=4:-100,5:+100", "AMP"),
        (f"PROG SLOT={n} MODE=SINE AMP=3000 PW=200 RATE=50 ELEC=4:-100,5:+100", "MODE"),
        (f"PROG SLOT={n} {base} ELEC=4:-100,5:+100 ACK=YES", "ACK"),
        (f"PROG SLOT={n} {base} ELEC=4:-100,5:+100 ON", None),
    ]
    for text, key in cases:
        err(link.req(text), "BAD_ARG", **({"KEY": key} if key else {}))
    expect(link.req(f"READ SLOT={n}").reply.args == before, "a refused PROG changed the slot")


@check("prog.out_of_range")
def _prog_range(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    elec = "ELEC=4:-100,5:+100"
    tonic, burst, hf = (P.PARAMS[m] for m in (Mode.TONIC, Mode.BURST, Mode.HF))
    cases = [
        (f"MODE=TONIC AMP=3000 PW={tonic['pulse_width_us'].maximum + 1} RATE=50", tonic["pulse_width_us"]),
        (f"MODE=TONIC AMP=3000 PW=200 RATE={tonic['rate_hz'].minimum - 1}", tonic["rate_hz"]),
        (f"MODE=HF AMP={hf['amplitude_ma'].maximum + 1} PW=30 RATE=10000", hf["amplitude_ma"]),
        (f"MODE=BURST AMP=1000 PW=500 RATE=40 BURST_N={burst['burst_pulses'].maximum + 1} INTRA_HZ=500",
         burst["burst_pulses"]),
        ("MODE=TONIC AMP=3000 PW=200 RATE=50 RAMP_MS=10001", tonic["ramp_s"]),
        ("MODE=TONIC AMP=3000 PW=200 RATE=50 CYCLE_ON_MS=999 CYCLE_OFF_MS=2000", tonic["cycle_on_s"]),
    ]
    for text, spec in cases:
        err(link.req(f"PROG SLOT={n} {text} {elec}"), "OUT_OF_RANGE", KEY=spec.wire, MIN=spec.minimum,
            MAX=spec.maximum)
    for slot in (0, P.N_SLOTS + 1):
        err(link.req(f"PROG SLOT={slot} MODE=TONIC AMP=3000 PW=200 RATE=50 {elec}"), "OUT_OF_RANGE", KEY="SLOT",
            MIN=1, MAX=P.N_SLOTS)
    err(link.req(f"READ SLOT={P.N_SLOTS + 1}"), "OUT_OF_RANGE", KEY="SLOT", MIN=1, MAX=P.N_SLOTS)


@check("prog.fit")
def _fit(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    max_pw = P.max_fitting_pw(1200, 0, Recharge.ACTIVE)
    err(link.req(f"PROG SLOT={n} MODE=TONIC AMP=1000 PW={max_pw + 1} RATE=1200 ELEC=4:-100,5:+100"),
        "OUT_OF_RANGE", RULE="FIT", KEY="PW", MAX=max_pw)
    ok(link.req(f"PROG SLOT={n} MODE=TONIC AMP=1000 PW={max_pw} RATE=1200 ELEC=4:-100,5:+100"))
    max_n = P.max_fitting_burst(100, 500)
    err(link.req(f"PROG SLOT={n} MODE=BURST AMP=1000 PW=100 RATE=100 BURST_N={max_n + 1} INTRA_HZ=500 "
                 "ELEC=4:-100,5:+100"), "OUT_OF_RANGE", RULE="FIT", KEY="BURST_N", MAX=max_n)
    # Among OUT_OF_RANGE causes the electrodes come before the fit, and the fit before the limits.
    err(link.req(f"PROG SLOT={n} MODE=TONIC AMP=1000 PW={max_pw + 1} RATE=1200 ELEC=4:-100,5:+50"),
        "OUT_OF_RANGE", RULE="ELECTRODES", KEY="ELEC")
    err(link.req(f"PROG SLOT={n} MODE=TONIC AMP=1000 PW={max_pw + 1} RATE=1200 AMP_MAX=500 ELEC=4:-100,5:+100"),
        "OUT_OF_RANGE", RULE="FIT", KEY="PW", MAX=max_pw)


@check("prog.rules")
def _rules(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    p = f"PROG SLOT={n} MODE=TONIC PW=200 RATE=50"
    tonic_amp = P.PARAMS[Mode.TONIC]["amplitude_ma"]
    cyc = P.PARAMS[Mode.TONIC]["cycle_on_s"]
    err(link.req(f"{p} AMP=5000 AMP_MAX=4000 ELEC=4:-100,5:+100"), "OUT_OF_RANGE", RULE="LIMITS", KEY="AMP",
        MIN=tonic_amp.minimum, MAX=4000)
    err(link.req(f"{p} AMP=3000 AMP_MIN=4000 AMP_MAX=3500 ELEC=4:-100,5:+100"), "OUT_OF_RANGE", RULE="LIMITS",
        KEY="AMP_MIN", MIN=tonic_amp.minimum, MAX=3500)
    err(link.req(f"{p} AMP=3000 CYCLE_ON_MS=2000 ELEC=4:-100,5:+100"), "OUT_OF_RANGE", RULE="CYCLE",
        KEY="CYCLE_OFF_MS", MIN=cyc.minimum, MAX=cyc.maximum)
    err(link.req(f"{p} AMP=3000 CYCLE_OFF_MS=2000 ELEC=4:-100,5:+100"), "OUT_OF_RANGE", RULE="CYCLE",
        KEY="CYCLE_ON_MS", MIN=cyc.minimum, MAX=cyc.maximum)
    err(link.req(f"{p} AMP=3000 ELEC=4:-100,5:+50"), "OUT_OF_RANGE", RULE="ELECTRODES", KEY="ELEC")
    err(link.req(f"{p} AMP=3000 ELEC=4:-100,CASE:-50,5:+100"), "OUT_OF_RANGE", RULE="ELECTRODES", KEY="ELEC")
    err(link.req(f"PROG SLOT={n} MODE=HF AMP=2000 PW=30 RATE=10000 RECHARGE=PASSIVE ELEC=4:-100,5:+100"),
        "OUT_OF_RANGE", KEY="RECHARGE", ALLOWED="ACTIVE")
    err(link.req(f"PROG SLOT={n} MODE=TONIC AMP=3000 PW=200 RATE=50 PW_MIN=300 ELEC=4:-100,5:+100"),
        "OUT_OF_RANGE", RULE="LIMITS", KEY="PW", MIN=300, MAX=P.PARAMS[Mode.TONIC]["pulse_width_us"].maximum)


@check("prog.unsafe")
def _unsafe(ctx: Ctx) -> None:
    link, n = ctx.on_slot(select=False)
    before = link.req(f"READ SLOT={n}").reply.args
    cap = P.CONTACT_CURRENT_MAX_UA
    err(link.req(f"PROG SLOT={n} MODE=TONIC AMP={cap + 300} PW=60 RATE=50 ELEC=7:-100,CASE:+100"), "UNSAFE",
        RULE="CONTACT_CURRENT", CONTACT=7, MAX=cap)
    # Anodes count too, and where several contacts are over, the highest current is named.
    err(link.req(f"PROG SLOT={n} MODE=TONIC AMP=20000 PW=60 RATE=50 ELEC=2:-60,3:-40,5:+100 ACK=CHARGE"),
        "UNSAFE", RULE="CONTACT_CURRENT", CONTACT=5, MAX=cap)
    err(link.req(f"PROG SLOT={n} MODE=TONIC AMP=19000 PW=60 RATE=50 ELEC=2:-100,5:+70,CASE:+30 ACK=CHARGE"),
        "UNSAFE", RULE="CONTACT_CURRENT", CONTACT=2, MAX=cap)
    elec = "4:-100,CASE:+100"
    zone = density(ctx, 10000, 500, elec)
    expect(zone is not None, "internal: 10 mA x 500 us should be in the charge-density zone")
    assert zone is not None
    contact, k, d = zone
    err(link.req(f"PROG SLOT={n} MODE=TONIC AMP=10000 PW=500 RATE=50 ELEC={elec}"), "UNSAFE",
        RULE="CHARGE_DENSITY", CONTACT=contact, K=k, D=d)
    expect(link.req(f"READ SLOT={n}").reply.args == before, "a refused PROG changed the slot")
    ctx.prog(n, f"MODE=TONIC AMP=10000 PW=500 RATE=50 ELEC={elec}", ack=True)
    # The case is exempt from the per-contact interlock.
    ok(link.req(f"PROG SLOT={n} MODE=TONIC AMP={cap + 1000} PW=60 RATE=50 ELEC=2:-50,3:-50,CASE:+100 ACK=CHARGE"))


@check("read.empty_slot")
def _read_empty(ctx: Ctx) -> None:
    link, n = ctx.on_slot(select=False)
    ok(link.req(f"ERASE SLOT={n}"), SLOT=n)
    err(link.req(f"READ SLOT={n}"), "STATE", REASON="EMPTY")
    err(link.req(f"SELECT SLOT={n}"), "STATE", REASON="EMPTY")
    err(link.req(f"ERASE SLOT={P.N_SLOTS + 1}"), "OUT_OF_RANGE", KEY="SLOT", MIN=1, MAX=P.N_SLOTS)


@check("select_and_erase")
def _select_erase(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    a, b = ctx.slot(0), ctx.slot(1)
    ctx.prog(a)
    ctx.prog(b, "MODE=TONIC AMP=2000 PW=150 RATE=40 ELEC=12:-100,13:+100")
    ok(link.req(f"SELECT SLOT={a}"), SLOT=a)
    ok(link.req("STIM ON"), STIM="ON")
    ok(link.req(f"SELECT SLOT={b}"), SLOT=b)
    st = ctx.status()
    expect(st.get("SLOT") == str(b) and st.get("STIM") == "ON" and st.get("AMP") == "2000",
           f"after SELECT while on, STATUS is {st} (expected SLOT={b} STIM=ON AMP=2000)")
    err(link.req(f"ERASE SLOT={b}"), "STATE", REASON="ACTIVE")
    ok(link.req(f"ERASE SLOT={a}"), SLOT=a)
    ctx.stim_off()
    ok(link.req(f"ERASE SLOT={b}"), SLOT=b)
    err(link.req("STIM ON"), "STATE", REASON="EMPTY")
    err(link.req("AMP STEP=+1"), "STATE", REASON="EMPTY")
