"""Verbs that write or run therapy: PROG, ERASE, READ, SELECT, STIM, AMP, TEST, STOP, MRI.

Each handler checks everything (raising Refusal) before it changes anything, then changes
state, queues its events and audits itself; the generator adds the reply and the events.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..engine import params as P
from ..engine.validate import UNSAFE, check_program
from .codec import ArgPair, Request
from .generator_core import GeneratorCore, TestSession
from .limits import AMP_STEP_MAX as STEP_MAX
from .refusal import Refusal, bad_arg, one_token, out_of_range, parse_int, split_args, state
from .wire_program import Slot, parse_program, read_args, refusal_for

_STEP_RE = re.compile(r"^[+-][0-9]+$")


class TherapyVerbs(GeneratorCore):
    def _slot_arg(self, req: Request) -> int:
        values, _ = split_args(req, ("SLOT",))
        if "SLOT" not in values:
            raise bad_arg("SLOT")
        n = parse_int("SLOT", values["SLOT"])
        if not 1 <= n <= P.N_SLOTS:
            raise out_of_range("SLOT", 1, P.N_SLOTS)
        return n

    def do_prog(self, req: Request) -> list[ArgPair]:
        program, _ack = parse_program(req, self.device_model(), with_slot=True)
        n = program.slot
        self._slots[n - 1] = Slot(program, program.amplitude_ua)
        self._defaults_flag = False
        self._audit_add(f"PROG:{n}")
        self._save()
        return [("SLOT", str(n))]

    def do_read(self, req: Request) -> list[ArgPair]:
        n = self._slot_arg(req)
        slot = self._slots[n - 1]
        if slot is None:
            raise state("EMPTY")
        return read_args(n, slot.program)

    def do_erase(self, req: Request) -> list[ArgPair]:
        n = self._slot_arg(req)
        if n == self._active and self._test is not None:
            raise state("TEST")
        if n == self._active and self._stim:
            raise state("ACTIVE")
        self._slots[n - 1] = None
        self._audit_add(f"ERASE:{n}")
        self._save()
        return [("SLOT", str(n))]

    def do_select(self, req: Request) -> list[ArgPair]:
        n = self._slot_arg(req)
        if self._test is not None:
            raise state("TEST")
        if self._slots[n - 1] is None:
            raise state("EMPTY")
        self._active = n
        self._audit_add(f"SELECT:{n}")
        self._save()
        return [("SLOT", str(n))]

    def do_stim(self, req: Request) -> list[ArgPair]:
        on = one_token(req, ("ON", "OFF")) == "ON"
        if on:
            program = self.active_program()
            if program is None:
                raise state("EMPTY")
            if self._mri:
                raise state("MRI")
            if self._battery.stopped:
                raise state("BATTERY")
            bad = self._faulted(program)
            if bad:
                raise state("FAULT", ("CONTACT", bad[0].upper()))
        self._stim = on
        self._audit_add(f"STIM:{self._active}")
        self._save()
        return [("STIM", "ON" if on else "OFF")]

    def do_amp(self, req: Request) -> list[ArgPair]:
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
        if self._test is not None:
            program, clinician = self._test.program, self._test.clinician_amp_ua
        else:
            slot = self._slots[self._active - 1]
            if slot is None:
                raise state("EMPTY")
            program, clinician = slot.program, slot.clinician_amp_ua
        if step is not None:
            target = program.amplitude_ua + step * P.AMP_PATIENT_STEP_UA
        spec = P.PARAMS[program.mode]["amplitude_ma"]
        if not spec.allows(target):
            raise out_of_range("AMP", spec.minimum, spec.maximum)
        changed = program.with_amplitude(target)
        # The charge-density zone is refused only when raising above the clinician's amplitude.
        zone_checked = target > program.amplitude_ua and target > clinician
        unsafe = [p for p in check_program(changed, self.device_model(), acknowledged=not zone_checked)
                  if p.code == UNSAFE]
        if unsafe:
            raise refusal_for(unsafe[0], program.mode)
        lo, hi = program.limits.amp_range(program.mode)
        if not lo <= target <= hi:
            raise Refusal("LIMIT", [("KEY", "AMP"), ("MIN", str(lo)), ("MAX", str(hi))])
        if self._test is not None:
            self._test.program = changed
        else:
            self._slots[self._active - 1] = Slot(changed, clinician)
        self._audit_add(f"AMP:{self._active}")
        self._save()
        return [("AMP", str(target))]

    def do_test(self, req: Request) -> list[ArgPair]:
        if any(key is None for key, _ in req.args):
            one_token(req, ("END",))
            if self._test is None:
                return [("TEST", "OFF")]
            self._end_test("END")
            self._audit_add(f"TEST:{self._active}")
            self._save()
            return [("TEST", "OFF")]
        program, _ack = parse_program(req, self.device_model(), with_slot=False)
        if self._slots[self._active - 1] is None:
            raise state("EMPTY")
        self._test = TestSession(replace(program, slot=self._active), program.amplitude_ua, self._t)
        self._audit_add(f"TEST:{self._active}")
        self._save()
        return [("TEST", "ON")]

    def do_stop(self, req: Request) -> list[ArgPair]:
        """Always executed and never refused: its arguments, SEQ and CRC do not matter."""
        self._stop_output("STOP")
        self._audit_add("STOP")
        self._save()
        return [("STIM", "OFF")]

    def do_mri(self, req: Request) -> list[ArgPair]:
        on = one_token(req, ("ON", "OFF")) == "ON"
        if on:
            self._stop_output("MRI")
        self._mri = on
        self._audit_add("MRI")
        self._save()
        return [("MRI", "1" if on else "0")]
