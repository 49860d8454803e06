"""Slots: PROG read back, defaults, BAD_ARG, OUT_OF_RANGE, fit, rules, UNSAFE, READ, SELECT and ERASE."""

from __future__ import annotations

from ...engine import params as P
from ...engine.params import Mode, Recharge
from ...engine.program import Electrodes
from ..context import Check, Ctx, collector, zone_program
from ..expect import err, expect, ok
from ..link import Skip

CHECKS: list[Check] = []
check = collector(CHECKS)


@check("prog.read_back")
def _read_back(ctx: Ctx) -> None:
    f = ctx.fam
    anode = "CASE" if f.has_case else f.contact(0, 1)
    elec = f"{anode}:+100,{f.contact(0, 3)}:-60,{f.contact(0, 2)}:-40"  # out of order: READ sorts it
    values = [("AMP", f.value("amplitude_ma", 3250)), ("PW", f.value("pulse_width_us", 210)),
              ("RATE", f.value("rate_hz", 60)), ("IPG", f.value("interphase_us", 20))]
    timing = [("CYCLE_ON_MS", 2000), ("CYCLE_OFF_MS", 3000), ("RAMP_MS", 500)]
    limits = [(wire, f.value(key, want)) for wire, key, want in (
        ("AMP_MIN", "amplitude_ma", 1000), ("AMP_MAX", "amplitude_ma", 6000), ("PW_MIN", "pulse_width_us", 100),
        ("PW_MAX", "pulse_width_us", 400), ("RATE_MIN", "rate_hz", 40), ("RATE_MAX", "rate_hz", 80))]
    text = " ".join(f"{k}={v}" for k, v in [*values, ("RECHARGE", "PASSIVE"), *timing])
    link, n = ctx.on_slot(f"MODE=TONIC {text} ELEC={elec} " + " ".join(f"{k}={v}" for k, v in limits)
                          + " NAME=Low_back_2", select=False)
    reply = ok(link.req(f"READ SLOT={n}"))
    want = [("SLOT", str(n)), ("MODE", "TONIC"), *((k, str(v)) for k, v in values), ("RECHARGE", "PASSIVE"),
            *((k, str(v)) for k, v in timing), ("ELEC", Electrodes.from_wire(elec).to_wire()),
            *((k, str(v)) for k, v in limits), ("NAME", "Low_back_2")]
    expect(list(reply.args) == want, f"READ answered {reply}, expected OK "
                                     + " ".join(f"{k}={v}" for k, v in want))


@check("prog.burst_read_back")
def _burst(ctx: Ctx) -> None:
    ctx.need_mode(Mode.BURST)
    f = ctx.fam

    def v(key: str, want: int) -> int:
        return f.value(key, want, Mode.BURST)

    values = [("AMP", v("amplitude_ma", 1500)), ("PW", v("pulse_width_us", 500)), ("RATE", v("rate_hz", 40))]
    shape = [("BURST_N", v("burst_pulses", 5)), ("INTRA_HZ", v("intraburst_rate_hz", 500))]
    elec = f.bipole(1, 0)
    text = " ".join(f"{k}={x}" for k, x in [*values, *shape])
    link, n = ctx.on_slot(f"MODE=BURST {text} ELEC={elec}", n=1, select=False)
    reply = ok(link.req(f"READ SLOT={n}"))
    want = [("SLOT", str(n)), ("MODE", "BURST"), *((k, str(x)) for k, x in values), ("IPG", "0"),
            ("RECHARGE", "PASSIVE"), *((k, str(x)) for k, x in shape), ("CYCLE_ON_MS", "0"),
            ("CYCLE_OFF_MS", "0"), ("RAMP_MS", "0"), ("ELEC", elec), ("AMP_MIN", "0"),
            ("AMP_MAX", str(f.param("amplitude_ma", Mode.BURST).maximum))]
    expect(list(reply.args) == want, f"READ answered {reply}, expected OK " + " ".join(f"{k}={v}" for k, v in want))


@check("prog.defaults")
def _defaults(ctx: Ctx) -> None:
    ctx.need_mode(Mode.HF)
    f = ctx.fam
    elec = f.bipole(0, 4)
    amp, pw, rate = (f.value(key, want, Mode.HF) for key, want in
                     (("amplitude_ma", 2000), ("pulse_width_us", 30), ("rate_hz", 10000)))
    link, n = ctx.on_slot(f"MODE=HF AMP={amp} PW={pw} RATE={rate} ELEC={elec}", n=2, select=False)
    reply = ok(link.req(f"READ SLOT={n}"))
    hf_max = f.param("amplitude_ma", Mode.HF).maximum
    want = [("SLOT", str(n)), ("MODE", "HF"), ("AMP", str(amp)), ("PW", str(pw)), ("RATE", str(rate)), ("IPG", "0"),
            ("RECHARGE", P.RECHARGE[Mode.HF][0].wire), ("CYCLE_ON_MS", "0"), ("CYCLE_OFF_MS", "0"),
            ("RAMP_MS", "0"), ("ELEC", elec), ("AMP_MIN", "0"), ("AMP_MAX", str(hf_max))]
    expect(list(reply.args) == want, f"READ answered {reply}, expected OK " + " ".join(f"{k}={v}" for k, v in want))


@check("prog.bad_arg")
def _prog_bad_arg(ctx: Ctx) -> None:
    link, n = ctx.on_slot(select=False)
    before = link.req(f"READ SLOT={n}").reply.args
    base, elec = ctx.plain().rsplit(" ", 1)
    amp = base.split("AMP=", 1)[1].split()[0]
    cases = [
        (f"PROG SLOT={n} {base}", "ELEC"),
        (f"PROG SLOT={n} {base} {elec} FOO=1", "FOO"),
        (f"PROG SLOT={n} {base} AMP={amp} {elec}", "AMP"),
        (f"PROG SLOT={n} {base} BURST_N=3 {elec}", "BURST_N"),
        (f"PROG SLOT={n} {base.replace(f'AMP={amp}', 'AMP=abc')} {elec}", "AMP"),
        (f"PROG SLOT={n} {base.replace('MODE=TONIC', 'MODE=SINE')} {elec}", "MODE"),
        (f"PROG SLOT={n} {base} {elec} ACK=YES", "ACK"),
        (f"PROG SLOT={n} {base} {elec} ON", None),
    ]
    for text, key in cases:
        err(link.req(text), "BAD_ARG", **({"KEY": key} if key else {}))
    expect(link.req(f"READ SLOT={n}").reply.args == before, "a refused PROG changed the slot")


@check("prog.out_of_range")
def _prog_range(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    f = ctx.fam
    tonic = f.params(Mode.TONIC)
    base = {"AMP": f.value("amplitude_ma", 3000), "PW": f.value("pulse_width_us", 200), "RATE": f.value("rate_hz", 50)}

    def plain(**over: int) -> str:
        return f.program_of({**base, **over})

    cases = [
        (plain(PW=tonic["pulse_width_us"].maximum + 1), tonic["pulse_width_us"]),
        (plain(RATE=tonic["rate_hz"].minimum - 1), tonic["rate_hz"]),
        (plain(AMP=tonic["amplitude_ma"].maximum + 1), tonic["amplitude_ma"]),
        (plain(RAMP_MS=tonic["ramp_s"].maximum + 1), tonic["ramp_s"]),
        (plain(CYCLE_ON_MS=tonic["cycle_on_s"].minimum - 1, CYCLE_OFF_MS=tonic["cycle_off_s"].minimum),
         tonic["cycle_on_s"]),
    ]
    if f.offers(Mode.HF):
        hf = f.params(Mode.HF)
        cases.append((f.program(Mode.HF, AMP=hf["amplitude_ma"].maximum + 1), hf["amplitude_ma"]))
    if f.offers(Mode.BURST):
        burst = f.params(Mode.BURST)
        cases.append((f.program(Mode.BURST, BURST_N=burst["burst_pulses"].maximum + 1), burst["burst_pulses"]))
    for text, spec in cases:
        err(link.req(f"PROG SLOT={n} {text}"), "OUT_OF_RANGE", KEY=spec.wire, MIN=spec.minimum, MAX=spec.maximum)
    for slot in (0, P.N_SLOTS + 1):
        err(link.req(f"PROG SLOT={slot} {plain()}"), "OUT_OF_RANGE", KEY="SLOT", MIN=1, MAX=P.N_SLOTS)
    err(link.req(f"READ SLOT={P.N_SLOTS + 1}"), "OUT_OF_RANGE", KEY="SLOT", MIN=1, MAX=P.N_SLOTS)


@check("prog.fit")
def _fit(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    f = ctx.fam
    unfit = f.unfit_pulse()
    if unfit is None:
        raise Skip(f"every pulse width of the {f.name} fits its period (up to {f.param('pulse_width_us').maximum} us "
                   f"at {f.param('rate_hz').maximum} Hz, the fastest tonic rate)")
    rate, max_pw, unfit_pw = unfit
    fits = max(pw for pw in f.grid_points("pulse_width_us") if pw <= max_pw)
    amp = f.value("amplitude_ma", 1000)
    cathode, anode = f.bipole_contacts()
    err(link.req(f"PROG SLOT={n} {f.program(AMP=amp, PW=unfit_pw, RATE=rate)}"), "OUT_OF_RANGE", RULE="FIT", KEY="PW",
        MAX=max_pw)
    ok(link.req(f"PROG SLOT={n} {f.program(AMP=amp, PW=fits, RATE=rate)}"))
    if f.offers(Mode.BURST):
        burst = f.params(Mode.BURST)
        b_rate, intra = burst["rate_hz"].maximum, f.value("intraburst_rate_hz", 500, Mode.BURST)
        max_n = P.max_fitting_burst(b_rate, intra)
        err(link.req(f"PROG SLOT={n} " + f.program(Mode.BURST, AMP=amp, RATE=b_rate, BURST_N=max_n + 1,
                                                    INTRA_HZ=intra)),
            "OUT_OF_RANGE", RULE="FIT", KEY="BURST_N", MAX=max_n)
    # Among OUT_OF_RANGE causes the electrodes come before the fit, and the fit before the limits.
    err(link.req(f"PROG SLOT={n} {f.program(AMP=amp, PW=unfit_pw, RATE=rate, elec=f'{cathode}:-100,{anode}:+50')}"),
        "OUT_OF_RANGE", RULE="ELECTRODES", KEY="ELEC")
    below = f.amp_after_steps(amp, -1)
    err(link.req(f"PROG SLOT={n} {f.program(AMP=amp, PW=unfit_pw, RATE=rate, AMP_MAX=below)}"),
        "OUT_OF_RANGE", RULE="FIT", KEY="PW", MAX=max_pw)


@check("prog.rules")
def _rules(ctx: Ctx) -> None:
    link = ctx.session(clinician=True)
    n = ctx.slot(0)
    f = ctx.fam
    amp_spec, pw_spec, cyc = f.param("amplitude_ma"), f.param("pulse_width_us"), f.param("cycle_on_s")
    a = {want: f.value("amplitude_ma", want) for want in (3000, 3500, 4000, 5000)}
    pw, rate = f.value("pulse_width_us", 200), f.value("rate_hz", 50)
    cathode, anode = f.bipole_contacts()

    def prog(amp: int, elec: str | None = None, **more: int) -> str:
        return f"PROG SLOT={n} {f.program_of({'AMP': amp, 'PW': pw, 'RATE': rate, **more}, elec=elec)}"

    err(link.req(prog(a[5000], AMP_MAX=a[4000])), "OUT_OF_RANGE", RULE="LIMITS", KEY="AMP",
        MIN=amp_spec.minimum, MAX=a[4000])
    err(link.req(prog(a[3000], AMP_MIN=a[4000], AMP_MAX=a[3500])), "OUT_OF_RANGE", RULE="LIMITS",
        KEY="AMP_MIN", MIN=amp_spec.minimum, MAX=a[3500])
    err(link.req(prog(a[3000], CYCLE_ON_MS=2000)), "OUT_OF_RANGE", RULE="CYCLE",
        KEY="CYCLE_OFF_MS", MIN=cyc.minimum, MAX=cyc.maximum)
    err(link.req(prog(a[3000], CYCLE_OFF_MS=2000)), "OUT_OF_RANGE", RULE="CYCLE",
        KEY="CYCLE_ON_MS", MIN=cyc.minimum, MAX=cyc.maximum)
    err(link.req(prog(a[3000], f"{cathode}:-100,{anode}:+50")), "OUT_OF_RANGE", RULE="ELECTRODES", KEY="ELEC")
    if f.has_case:  # the case is never a cathode (a family without one refuses it: family.case)
        err(link.req(prog(a[3000], f"{cathode}:-100,CASE:-50,{anode}:+100")), "OUT_OF_RANGE", RULE="ELECTRODES",
            KEY="ELEC")
    for mode in f.modes:  # a recharge the mode does not take (hf: active only)
        refused = [r for r in Recharge if r not in P.RECHARGE[mode]]
        if refused:
            err(link.req(f"PROG SLOT={n} {f.program(mode, RECHARGE=refused[0].wire)}"),
                "OUT_OF_RANGE", KEY="RECHARGE", ALLOWED=",".join(r.wire for r in P.RECHARGE[mode]))
    pw_min = f.value("pulse_width_us", 300)
    err(link.req(prog(a[3000], PW_MIN=pw_min)), "OUT_OF_RANGE", RULE="LIMITS", KEY="PW", MIN=pw_min,
        MAX=pw_spec.maximum)


@check("prog.unsafe_contact_current")
def _unsafe(ctx: Ctx) -> None:
    f = ctx.fam
    cap = P.CONTACT_CURRENT_MAX_UA
    top = f.param("amplitude_ma").maximum
    if top <= cap:
        raise Skip(f"the {f.name}'s amplitude (at most {top} uA) cannot reach the {cap} uA per-contact interlock")
    link, n = ctx.on_slot(select=False)
    before = link.req(f"READ SLOT={n}").reply.args
    lead = f.lead(0)
    pw = f.value("pulse_width_us", 60)
    cathode, elec = f.single_cathode(0, 6)
    err(link.req(f"PROG SLOT={n} {f.program(AMP=cap + 300, PW=pw, elec=elec)}"), "UNSAFE",
        RULE="CONTACT_CURRENT", CONTACT=cathode, MAX=cap)
    # Anodes count too, and where several contacts are over, the highest current is named.
    elec = f"{lead[1]}:-60,{lead[2]}:-40,{lead[4]}:+100"
    err(link.req(f"PROG SLOT={n} {f.program(AMP=f.value('amplitude_ma', 20000), PW=pw, elec=elec)} ACK=CHARGE"),
        "UNSAFE", RULE="CONTACT_CURRENT", CONTACT=lead[4], MAX=cap)
    anodes = f"{lead[4]}:+70,CASE:+30" if f.has_case else f"{lead[4]}:+70,{lead[5]}:+30"
    elec = f"{lead[1]}:-100,{anodes}"
    err(link.req(f"PROG SLOT={n} {f.program(AMP=f.value('amplitude_ma', 19000), PW=pw, elec=elec)} ACK=CHARGE"),
        "UNSAFE", RULE="CONTACT_CURRENT", CONTACT=lead[1], MAX=cap)
    expect(link.req(f"READ SLOT={n}").reply.args == before, "a refused PROG changed the slot")
    if f.has_case:  # the case is exempt from the per-contact interlock
        elec = f"{lead[1]}:-50,{lead[2]}:-50,CASE:+100"
        ok(link.req(f"PROG SLOT={n} {f.program(AMP=cap + 1000, PW=pw, elec=elec)} ACK=CHARGE"))


@check("prog.unsafe_charge_density")
def _unsafe_density(ctx: Ctx) -> None:
    link, n = ctx.on_slot(select=False)
    before = link.req(f"READ SLOT={n}").reply.args
    amp, pw, elec, zone = zone_program(ctx)
    contact, k, d = zone
    err(link.req(f"PROG SLOT={n} {ctx.fam.program(AMP=amp, PW=pw, elec=elec)}"), "UNSAFE",
        RULE="CHARGE_DENSITY", CONTACT=contact, K=k, D=d)
    expect(link.req(f"READ SLOT={n}").reply.args == before, "a refused PROG changed the slot")
    ctx.prog(n, ctx.fam.program(AMP=amp, PW=pw, elec=elec), ack=True)


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
    f = ctx.fam
    amp = f.value("amplitude_ma", 2000)
    ctx.prog(b, f.program(AMP=amp, PW=f.value("pulse_width_us", 150), RATE=f.value("rate_hz", 40),
                          elec=f.bipole(-1, 3)))
    ok(link.req(f"SELECT SLOT={a}"), SLOT=a)
    ok(link.req("STIM ON"), STIM="ON")
    ok(link.req(f"SELECT SLOT={b}"), SLOT=b)
    st = ctx.status()
    expect(st.get("SLOT") == str(b) and st.get("STIM") == "ON" and st.get("AMP") == str(amp),
           f"after SELECT while on, STATUS is {st} (expected SLOT={b} STIM=ON AMP={amp})")
    err(link.req(f"ERASE SLOT={b}"), "STATE", REASON="ACTIVE")
    ok(link.req(f"ERASE SLOT={a}"), SLOT=a)
    ctx.stim_off()
    ok(link.req(f"ERASE SLOT={b}"), SLOT=b)
    err(link.req("STIM ON"), "STATE", REASON="EMPTY")
    err(link.req("AMP STEP=+1"), "STATE", REASON="EMPTY")
