"""A throwaway mode added only to the parameter table reaches validation, the program-file
format, the wire, the C header generator and the remote's mode line, with no other edit."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import pytest

from stimsim.engine import files
from stimsim.engine import params as P
from stimsim.engine.describe import mode_line
from stimsim.engine.program import Electrodes, Program
from stimsim.engine.validate import check_program
from stimsim.protocol import program_args


@pytest.fixture
def throwaway_mode() -> Iterator[P.Mode]:
    """A mode that exists only in the table: tonic's parameters without cycling, 5..50 Hz."""
    mode = P.Mode.new("slowtest")
    ranges = {k: r for k, r in P.MODES[P.Mode.TONIC].ranges.items() if k not in ("cycle_on_s", "cycle_off_s")}
    ranges["rate_hz"] = P.Range(5, 50)
    P.MODES[mode] = P.ModeSpec("Slow test", ranges, (P.Recharge.ACTIVE,), summary="{rate_hz} slow · {pulse_width_us}")
    yield mode
    del P.MODES[mode]


def _program(mode: P.Mode, rate: int) -> Program:
    return Program(mode, 2000, 300, rate, Electrodes.of({"4": -100, "5": 100}), cycle_on_ms=None,  # type: ignore[arg-type]
                   cycle_off_ms=None)  # type: ignore[arg-type]


def test_a_throwaway_mode_reaches_validation(throwaway_mode: P.Mode) -> None:
    assert P.Mode("slowtest") is throwaway_mode and throwaway_mode in list(P.Mode)
    assert check_program(_program(throwaway_mode, 40)) == []
    [problem] = check_program(_program(throwaway_mode, 60))
    assert (problem.key, problem.wire, problem.maximum) == ("rate_hz", "RATE", 50)
    with_cycle = dataclasses.replace(_program(throwaway_mode, 40), cycle_on_ms=1000, cycle_off_ms=1000)
    assert {p.key for p in check_program(with_cycle)} == {"cycle_on_s", "cycle_off_s"}


def test_a_throwaway_mode_reaches_the_file_format(throwaway_mode: P.Mode) -> None:
    program = {"mode": "slowtest", "amplitude_ma": 2, "pulse_width_us": 300, "rate_hz": 40,
               "electrodes": {"4": -100, "5": 100}}
    data = {"format": files.FORMAT, "version": files.VERSION, "programs": [program]}
    pf = files.loads(json.dumps(data))
    assert pf.programs[0].mode is throwaway_mode and pf.programs[0].rate_hz == 40
    written = files.to_data(pf)["programs"][0]
    assert written["cycle_on_s"] is None and written["rate_hz"] == 40
    assert files.loads(files.dumps(pf)) == pf
    with pytest.raises(files.FileError) as err:
        files.loads(json.dumps({**data, "programs": [{**program, "rate_hz": 60, "cycle_on_s": 1}]}))
    assert err.value.lines == [
        "programs[0].cycle_on_s: is not used in slowtest mode (leave it out or null)",
    ]


def test_a_throwaway_mode_reaches_the_summary(throwaway_mode: P.Mode) -> None:
    assert mode_line(_program(throwaway_mode, 40)) == "Slow test · 40 Hz slow · 300 µs"


def test_a_throwaway_mode_reaches_the_c_header(throwaway_mode: P.Mode) -> None:
    from tests.firmware.test_params_header import _generator

    text = _generator().render()
    assert "#define FW_MODE_SLOWTEST 3" in text and "#define FW_MODE_COUNT 4" in text
    # every family's row has the mode's ranges; only the rechargeable implant offers it (ModeSpec.families)
    rows = [line for line in text.splitlines() if "/* SLOWTEST */ {{" in line]
    assert len(rows) == len(P.FAMILIES) and all("{1, 5, 50, 0}" in row for row in rows)
    assert text.count("(1u << FW_MODE_SLOWTEST)") == 1


def test_a_throwaway_mode_reaches_the_wire(throwaway_mode: P.Mode) -> None:
    program = _program(throwaway_mode, 40)
    args = program_args.read_args(3, program)
    assert args[:2] == [("SLOT", "3"), ("MODE", "SLOWTEST")]
    assert "CYCLE_ON_MS" not in dict(args) and dict(args)["RATE"] == "40"
    decoded, ack = program_args.program_from_values(dict(args), with_slot=True)
    assert not ack and decoded.limits.amp_range(throwaway_mode) == program.limits.amp_range(throwaway_mode)
    assert dataclasses.replace(decoded, limits=program.limits) == dataclasses.replace(program, slot=3)
    from stimsim.engine.program import DeviceModel
    from stimsim.generator.refusal import Refusal, program_from_values

    with pytest.raises(Refusal) as refused:
        program_from_values({**dict(args), "RATE": "60"}, DeviceModel(), with_slot=True)
    assert refused.value.code == "OUT_OF_RANGE"
    assert refused.value.wire_args == (("KEY", "RATE"), ("MIN", "5"), ("MAX", "50"))


def test_a_throwaway_mode_reaches_the_remote(throwaway_mode: P.Mode) -> None:
    from stimsim.app.widgets.remote import mode_line as remote_line

    assert remote_line(_program(throwaway_mode, 40)) == "Slow test · 40 Hz slow · 300 µs"


def test_a_throwaway_mode_is_offered_by_the_default_family_alone(throwaway_mode: P.Mode) -> None:
    from stimsim.engine.program import DeviceModel

    assert throwaway_mode in P.family_modes(P.Family.SCS_R)
    assert check_program(_program(throwaway_mode, 10)) == []
    for family in P.Family:
        if family is not P.Family.SCS_R:
            assert throwaway_mode not in P.family_modes(family)
            problems = check_program(_program(throwaway_mode, 10), DeviceModel(family=family))
            assert [(p.code, p.wire) for p in problems] == [("BAD_ARG", "MODE")]
