"""A check's context: the link, what the suite found on the device, and the openings
checks share (a fresh session, a written and selected slot)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..engine.load import contact_charges
from ..engine.params import Mode
from ..engine.program import DeviceModel, Electrodes, Program
from ..protocol.codec import Event, Reply
from ..protocol.limits import DEFAULT_PIN
from ..protocol.login import proof as login_proof
from .device_family import DeviceFamily
from .expect import err, ok
from .link import Answer, Fail, Link, Skip


@dataclass
class Ctx:
    link: Link
    pin: str = DEFAULT_PIN
    quick: bool = False
    sim: bool | None = None
    slots: list[int] = field(default_factory=list)  #: slots the suite may write
    saved: dict[int, str] = field(default_factory=dict)  #: slot -> READ args it held before
    active0: int = 1
    active0_empty: bool = True
    impedance_default0: int | None = None
    battery0: int | None = None
    chemistry: str = "LIION"
    charging0: bool = False
    mri0: bool = False
    fam: DeviceFamily = field(default_factory=DeviceFamily)  #: the family HELLO names (none: SCS-R)
    device: DeviceModel = field(default_factory=DeviceModel)
    log_top: int = 0
    #: the command that started the device (``stimsim conformance -- COMMAND``), if any:
    #: checks that would leave the device unusable (a LOGIN lockout) start one of their own
    command: list[str] | None = None

    # sessions ------------------------------------------------------------------------------

    def hello(self, strict: bool = True) -> Reply:
        a = self.link.req(f"HELLO STRICT={1 if strict else 0}")
        reply = ok(a, NEXT=None)
        self.link.seq = int(reply.get("NEXT") or "1")
        return reply

    def login(self) -> None:
        nonce = ok(self.link.req("LOGIN"), NONCE=None).get("NONCE") or ""
        ok(self.link.req(f"LOGIN PROOF={login_proof(self.pin, nonce)}"), ROLE="CLINICIAN")

    def session(self, clinician: bool = False) -> Link:
        """A fresh start for a check: HELLO STRICT=1 (role PATIENT, no TEST), MRI off."""
        self.link.settle(0.01)
        self.hello()
        if self.status().get("MRI") == "1":
            self.link.req("MRI OFF")  # put back at cleanup if the device was found in MRI mode
        if clinician:
            self.login()
        return self.link

    def plain(self) -> str:
        """A plain tonic program a check writes: 3 mA, 200 us, 50 Hz, a bipole on lead A (each
        on the family's grid)."""
        f = self.fam
        return f.program(AMP=f.value("amplitude_ma", 3000), PW=f.value("pulse_width_us", 200),
                         RATE=f.value("rate_hz", 50))

    def need_mode(self, mode: Mode) -> None:
        """Skip (naming the family) where the family has no ``mode``, after checking that a
        program of that mode is refused with ``ERR BAD_ARG KEY=MODE``."""
        if self.fam.offers(mode):
            return
        link = self.session(clinician=True)
        err(link.req(f"PROG SLOT={self.slot(0)} {self.fam.program(mode)}"), "BAD_ARG", KEY="MODE")
        raise Skip(f"the {self.fam.name} has no {mode.value} mode (its PROG MODE={mode.wire} is refused with "
                   "ERR BAD_ARG KEY=MODE, as it should be)")

    def on_slot(self, rest: str | None = None, *, n: int = 0, ack: bool = False, select: bool = True,
                patient: bool = False) -> tuple[Link, int]:
        """The opening most checks share: a fresh clinician session, the suite's slot ``n``
        written with ``rest`` (PROG) and selected; ``patient`` logs the clinician out.
        Returns the link and the slot number."""
        link = self.session(clinician=True)
        slot = self.slot(n)
        self.prog(slot, self.plain() if rest is None else rest, ack=ack)
        if select:
            ok(link.req(f"SELECT SLOT={slot}"))
        if patient:
            ok(link.req("LOGOUT"))
        return link, slot

    def need_sim(self) -> None:
        if self.sim is None:
            self.session()
            a = self.link.req("SIM")
            self.sim = a.reply.ok or a.reply.code != "UNKNOWN_VERB"
        if not self.sim:
            raise Skip("the device answers SIM with UNKNOWN_VERB (no emulator controls)")

    def slot(self, n: int) -> int:
        if len(self.slots) <= n:
            raise Skip("not enough slots to write to")
        return self.slots[n]

    def prog(self, slot: int, rest: str | None = None, *, ack: bool = False) -> Reply:
        suffix = " ACK=CHARGE" if ack else ""
        return ok(self.link.req(f"PROG SLOT={slot} {self.plain() if rest is None else rest}{suffix}"), SLOT=slot)

    def status(self) -> Reply:
        return ok(self.link.req("STATUS"))

    def stim_off(self) -> None:
        self.link.req("STOP", seq=None)


CheckFn = Callable[[Ctx], None]
Check = tuple[str, CheckFn]  #: a check's name (``area.rule``) and its function


def collector(checks: list[Check]) -> Callable[[str], Callable[[CheckFn], CheckFn]]:
    """A ``@check(name)`` decorator appending to ``checks`` (each area module keeps its list)."""

    def check(name: str) -> Callable[[CheckFn], CheckFn]:
        def register(fn: CheckFn) -> CheckFn:
            checks.append((name, fn))
            return fn
        return register

    return check


def density(ctx: Ctx, amp: int, pw: int, elec: str) -> tuple[str, str, str] | None:
    program = Program(Mode.TONIC, amp, pw, 50, Electrodes.from_wire(elec))
    over = [c for c in contact_charges(program, ctx.device) if c.warning]
    if not over:
        return None
    c = max(over, key=lambda c: c.shannon_k)
    return c.contact.upper(), f"{c.shannon_k:.2f}", f"{c.density_uc_cm2:.1f}"


def zone_program(ctx: Ctx) -> tuple[int, int, str, tuple[str, str, str]]:
    """(AMP, PW, ELEC, (CONTACT, K, D)) of a tonic program in the charge-density zone, one
    patient step below the top of the family's amplitude range or lower (about 10 mA x 500 us
    on one cathode); Skip where the family's ranges reach no such program."""
    f = ctx.fam
    amp = f.value("amplitude_ma", 10_000)
    if f.amp_after_steps(amp, 1) > f.param("amplitude_ma").maximum:
        amp = f.amp_after_steps(amp, -1)
    pw = f.value("pulse_width_us", 500)
    _cathode, elec = f.single_cathode()
    zone = density(ctx, amp, pw, elec)
    if zone is None:
        raise Skip(f"no tonic program of the {f.name} within its ranges is in the charge-density zone")
    return amp, pw, elec, zone


def read_log(link: Link, text: str = "LOG") -> tuple[Answer, list[Event]]:
    """Send LOG (or ``text``) and collect the !LOG events its N= announces."""
    a = link.req(text)
    n = int(ok(a, N=None).get("N") or "0")
    got: list[Event] = []
    deadline = time.monotonic() + 1.0 + n * 0.01
    scanned = a.index + 1
    while len(got) < n and time.monotonic() < deadline:
        found = link.wait_event("LOG", scanned, deadline - time.monotonic())
        if found is None:
            break
        scanned = found[0] + 1
        got.append(found[1])
    if len(got) != n:
        raise Fail(f"{text} announced N={n} and sent {len(got)} !LOG events")
    return a, got


def sim_reset(ctx: Ctx) -> tuple[Answer, Event]:
    """SIM RESET, and the !BOOT that follows it."""
    link = ctx.link
    a = link.req("SIM RESET")
    ok(a)
    ev = link.wait_event("BOOT", a.index, 2.0)
    if ev is None:
        raise Fail("SIM RESET: no !BOOT event followed the OK")
    link.settle(0.05)
    return a, ev[1]
