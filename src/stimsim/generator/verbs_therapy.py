"""Verbs that write or run therapy: PROG, ERASE, READ, SELECT, STIM, AMP, TEST, STOP, MRI.

Each is ``verb_x(gen, req) -> reply arguments``: it checks everything (raising Refusal)
before it changes anything, then changes the state, queues its events and audits itself;
the generator adds the reply and the events.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..engine import params as P
from ..engine.validate import UNSAFE, check_program
from ..protocol.codec import ArgPair, Request
from ..protocol.limits import AMP_STEP_MAX as STEP_MAX
from ..protocol.program_args import read_args
from .memory import Slot
from .refusal import Refusal, bad_arg, one_token, out_of_range, parse_int, parse_program, refusal_for, split_args, state
from .state import GeneratorState, TestSession

_STEP_RE = re.compile(r"^[+-][0-9]+$")


def _slot_arg(req: Request) -> int:
    """The SLOT= a verb names, checked: BAD_ARG if absent, OUT_OF_RANGE outside 1..16."""
    values, _ = split_args(req, ("SLOT",))
    if "SLOT" not in values:
        raise bad_arg("SLOT")
    n = parse_int("SLOT", values["SLOT"])
    if not 1 <= n <= P.N_SLOTS:
        raise out_of_range("SLOT", 1, P.N_SLOTS)
    return n


def verb_prog(gen: GeneratorState, req: Request) -> list[ArgPair]:
    program, ack = parse_program(req, gen.device_model(), with_slot=True)
    n = program.slot
    gen.slots[n - 1] = Slot(program, program.amplitude_ua, ack)
    gen.defaults_flag = False
    gen.audit_add(f"PROG:{n}")
    gen.save()
    return [("SLOT", str(n))]


def verb_read(gen: GeneratorState, req: Request) -> list[ArgPair]:
    n = _slot_arg(req)
    slot = gen.slots[n - 1]
    if slot is None:
        raise state("EMPTY")
    return read_args(n, slot.program)


def verb_erase(gen: GeneratorState, req: Request) -> list[ArgPair]:
    n = _slot_arg(req)
    if n == gen.active and gen.test is not None:
        raise state("TEST")
    if n == gen.active and gen.stim:
        raise state("ACTIVE")
    gen.slots[n - 1] = None
    gen.audit_add(f"ERASE:{n}")
    gen.save()
    return [("SLOT", str(n))]


def verb_select(gen: GeneratorState, req: Request) -> list[ArgPair]:
    n = _slot_arg(req)
    if gen.test is not None:
        raise state("TEST")
    if gen.slots[n - 1] is None:
        raise state("EMPTY")
    gen.active = n
    gen.audit_add(f"SELECT:{n}")
    gen.save()
    return [("SLOT", str(n))]


def verb_stim(gen: GeneratorState, req: Request) -> list[ArgPair]:
    on = one_token(req, ("ON", "OFF")) == "ON"
    if on:
        program = gen.active_program()
        if program is None:
            raise state("EMPTY")
        if gen.mri:
            raise state("MRI")
        if gen.battery.stopped:
            raise state("BATTERY")
        bad = gen.faulted(program)
        if bad:
            raise state("FAULT", ("CONTACT", bad[0].upper()))
    gen.stim = on
    gen.audit_add(f"STIM:{gen.active}")
    gen.save()
    return [("STIM", "ON" if on else "OFF")]


def verb_amp(gen: GeneratorState, req: Request) -> list[ArgPair]:
    values, _ = split_args(req, ("SET", "STEP"))
    if not values:
        raise bad_arg("SET")
    if len(values) > 1:
        raise bad_arg(list(values)[1])
    if "SET" in values:
        step = None
        target = parse_int("SET", values["SET"])
    else:
        if not _STEP_RE.match(values["STEP"]):
            raise bad_arg("STEP")
        step = int(values["STEP"])
        if not 1 <= abs(step) <= STEP_MAX:
            raise out_of_range("STEP", 1, STEP_MAX)
    if gen.test is not None:
        program, clinician, acknowledged = gen.test.program, gen.test.clinician_amp_ua, gen.test.acknowledged
    else:
        slot = gen.slots[gen.active - 1]
        if slot is None:
            raise state("EMPTY")
        program, clinician, acknowledged = slot.program, slot.clinician_amp_ua, slot.acknowledged
    if step is not None:
        target = P.patient_step(gen.family, program.mode, "amplitude_ma", program.amplitude_ua, step)
    spec = P.family_params(gen.family, program.mode)["amplitude_ma"]
    if not spec.allows(target):
        raise out_of_range("AMP", spec.minimum, spec.maximum)
    if spec.grid is not None and not spec.on_grid(target):
        raise Refusal("OUT_OF_RANGE", [("KEY", "AMP"), ("MIN", str(spec.minimum)), ("MAX", str(spec.maximum)),
                                       ("STEP", str(spec.grid.spacing(target)))])
    changed = program.with_amplitude(target)
    # The charge-density zone is refused only when raising above the clinician's amplitude.
    zone_checked = target > program.amplitude_ua and target > clinician
    unsafe = [p for p in check_program(changed, gen.device_model(), acknowledged=not zone_checked)
              if p.code == UNSAFE]
    if unsafe:
        raise refusal_for(unsafe[0], program.mode)
    lo, hi = program.limits.amp_range(program.mode, gen.family)
    if not lo <= target <= hi:
        raise Refusal("LIMIT", [("KEY", "AMP"), ("MIN", str(lo)), ("MAX", str(hi))])
    if gen.test is not None:
        gen.test.program = changed
    else:
        gen.slots[gen.active - 1] = Slot(changed, clinician, acknowledged)
    gen.audit_add(f"AMP:{gen.active}")
    gen.save()
    return [("AMP", str(target))]


def verb_test(gen: GeneratorState, req: Request) -> list[ArgPair]:
    if any(key is None for key, _ in req.args):
        one_token(req, ("END",))
        if gen.test is None:
            return [("TEST", "OFF")]
        gen.end_test("END")
        gen.audit_add(f"TEST:{gen.active}")
        gen.save()
        return [("TEST", "OFF")]
    program, ack = parse_program(req, gen.device_model(), with_slot=False)
    if gen.slots[gen.active - 1] is None:
        raise state("EMPTY")
    gen.test = TestSession(replace(program, slot=gen.active), program.amplitude_ua, gen.t, ack)
    gen.audit_add(f"TEST:{gen.active}")
    gen.save()
    return [("TEST", "ON")]


def verb_stop(gen: GeneratorState, req: Request) -> list[ArgPair]:
    """Always executed and never refused: its arguments, SEQ and CRC do not matter."""
    gen.stop_output("STOP")
    gen.audit_add("STOP")
    gen.save()
    return [("STIM", "OFF")]


def verb_mri(gen: GeneratorState, req: Request) -> list[ArgPair]:
    on = one_token(req, ("ON", "OFF")) == "ON"
    if on:
        gen.stop_output("MRI")
    gen.mri = on
    gen.audit_add("MRI")
    gen.save()
    return [("MRI", "1" if on else "0")]
