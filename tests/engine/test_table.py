"""The parameter table is the one home of every parameter: the rest is derived from it.

The Program and Limits dataclasses are written out for type checkers; these tests hold
them to the table (tests/test_throwaway_mode.py adds a mode and follows it everywhere).
"""

from __future__ import annotations

import dataclasses

from stimsim.engine import params as P
from stimsim.engine.describe import mode_line
from stimsim.engine.program import PROGRAM_FIELDS, Electrodes, Limits, Program


def test_program_has_one_field_per_parameter_and_no_other_numbers() -> None:
    fields = {f.name for f in dataclasses.fields(Program)}
    assert fields == {p.attr for p in P.TABLE} | set(PROGRAM_FIELDS)


def test_limits_has_one_field_per_clinician_limit() -> None:
    assert [f.name for f in dataclasses.fields(Limits)] == [lim.attr for lim in P.LIMITS.values()]


def test_every_face_of_a_parameter_is_named_once() -> None:
    for face in ("attr", "key", "wire", "c_name", "label"):
        names = [getattr(p, face) for p in P.TABLE]
        assert len(set(names)) == len(names), face
    for param in P.TABLE:
        assert param.label and (param.unit or param.key == "burst_pulses")
        assert param.editor_step % param.step == 0


def test_every_mode_has_a_label_a_summary_of_its_own_parameters_and_recharge() -> None:
    for mode, spec in P.MODES.items():
        assert spec.label and spec.recharge
        assert set(spec.ranges) <= set(P.BY_KEY)
        program = Program(mode, 1000, 100, 50, Electrodes.of({"1": -100, "2": 100}))
        for key in spec.ranges:
            program = program.with_values({key: spec.ranges[key].minimum})
        assert mode_line(program)


def test_closed_loop_has_one_field_per_closed_loop_key_and_its_faces_are_named_once() -> None:
    from stimsim.engine.program import ClosedLoop

    assert [f.name for f in dataclasses.fields(ClosedLoop)] == [row.attr for row in P.LOOP_TABLE]
    defaults = ClosedLoop()
    for row in P.LOOP_TABLE:
        value = getattr(defaults, row.attr)
        assert (value.value if isinstance(value, P.LoopMode) else value) == row.default, row.key
        assert row.label and (row.range is not None) == (row.kind is P.ValueKind.NUMBER)
        assert bool(row.choices) == (row.kind is P.ValueKind.CHOICE)
    every = (*P.TABLE, *P.LOOP_TABLE)
    for face in ("attr", "key", "wire", "c_name", "label"):
        names = [getattr(p, face) for p in every]
        assert len(set(names)) == len(names), face
    assert {k.value for k in P.ValueKind} == {row.kind.value for row in P.LOOP_TABLE}
