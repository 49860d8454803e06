"""Program files (``*.stimsim.json``): read with full validation, write atomically.

Reading refuses anything unknown, out of range or infeasible and names every problem
with its key path. Writing goes to a temporary file in the same folder and is renamed
over the target, so a file is written whole or not at all.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from . import params as P
from .params import Mode, Recharge
from .program import (
    BAD_ARG,
    DeviceModel,
    Electrodes,
    Limits,
    Problem,
    Program,
    ValidationError,
    check_program,
)

FORMAT = "stimsim.programs"
VERSION = 1
_PROGRAM_KEYS = (
    "slot", "name", "mode", "amplitude_ma", "pulse_width_us", "rate_hz", "interphase_us",
    "recharge", "burst_pulses", "intraburst_rate_hz", "cycle_on_s", "cycle_off_s", "ramp_s",
    "electrodes", "limits",
)
_REQUIRED = ("mode", "amplitude_ma", "pulse_width_us", "rate_hz", "electrodes")
_TOP_KEYS = ("format", "version", "device", "programs")
_DEVICE_KEYS = ("chemistry", "contact_impedance_ohm")
CHEMISTRIES = ("liion", "primary")


@dataclass(frozen=True)
class ProgramFile:
    """The content of a program file: a device model and its programs."""

    device: DeviceModel
    programs: tuple[Program, ...]

    def program(self, slot: int | None = None) -> Program:
        """The program of ``slot``, or the first one; KeyError names the slots there are."""
        if slot is None:
            return self.programs[0]
        for prog in self.programs:
            if prog.slot == slot:
                return prog
        have = ", ".join(str(p.slot) for p in self.programs)
        raise KeyError(f"no program in slot {slot} (the file has slots {have})")


class FileError(ValueError):
    """A program file that cannot be used; ``lines`` has one line per problem."""

    def __init__(self, path: str | os.PathLike[str], lines: Sequence[str]) -> None:
        self.path = str(path)
        self.lines = list(lines)
        super().__init__("\n".join(f"{self.path}: {line}" for line in self.lines))


# --- reading -------------------------------------------------------------------------


def load(path: str | os.PathLike[str]) -> ProgramFile:
    """Read and validate a program file; raises FileError with one line per problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileError(path, ["no such file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FileError(path, [f"cannot read: {exc}"]) from None
    return loads(text, path)


def loads(text: str, path: str | os.PathLike[str] = "<text>") -> ProgramFile:
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise FileError(path, [f"line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg})"]) from None
    except ValueError as exc:
        raise FileError(path, [str(exc)]) from None
    problems: list[str] = []
    result = from_data(data, problems)
    if problems or result is None:
        raise FileError(path, problems)
    return result


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"key '{key}' appears twice in one object")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a program file may hold")


def from_data(data: Any, problems: list[str]) -> ProgramFile | None:
    """Build a ProgramFile from parsed JSON, appending one line per problem."""
    if not isinstance(data, dict):
        problems.append("the file must hold a JSON object")
        return None
    for key in data:
        if key not in _TOP_KEYS:
            problems.append(f"{key}: unknown key (allowed: {', '.join(_TOP_KEYS)})")
    if data.get("format") != FORMAT:
        problems.append(f"format: must be \"{FORMAT}\" (found {json.dumps(data.get('format'))})")
    if data.get("version") != VERSION:
        problems.append(f"version: must be {VERSION} (found {json.dumps(data.get('version'))})")
    device = _device(data.get("device", {}), problems)
    raw_programs = data.get("programs")
    if not isinstance(raw_programs, list) or not raw_programs:
        problems.append("programs: must be a list of at least one program")
        return None
    programs: list[Program] = []
    slots: dict[int, int] = {}
    for i, raw in enumerate(raw_programs):
        prefix = f"programs[{i}]"
        prog = _program(raw, prefix, i, problems)
        if prog is None:
            continue
        if prog.slot in slots:
            problems.append(f"{prefix}.slot: slot {prog.slot} is already used by programs[{slots[prog.slot]}]")
        slots[prog.slot] = i
        if device is not None:
            problems.extend(ValidationError(check_program(prog, device), prefix).lines())
        programs.append(prog)
    if problems or device is None:
        return None
    return ProgramFile(device, tuple(programs))


def _device(raw: Any, problems: list[str]) -> DeviceModel | None:
    if not isinstance(raw, dict):
        problems.append("device: must be an object")
        return None
    ok = True
    for key in raw:
        if key not in _DEVICE_KEYS:
            problems.append(f"device.{key}: unknown key (allowed: {', '.join(_DEVICE_KEYS)})")
            ok = False
    chem = raw.get("chemistry", "liion")
    if chem not in CHEMISTRIES:
        problems.append(f"device.chemistry: {json.dumps(chem)} is not one of {', '.join(CHEMISTRIES)}")
        ok = False
    imp = raw.get("contact_impedance_ohm", {})
    overrides: dict[str, float] = {}
    if not isinstance(imp, dict):
        problems.append("device.contact_impedance_ohm: must be an object of contact to ohms")
        ok = False
    else:
        for contact, value in imp.items():
            where = f"device.contact_impedance_ohm.{contact}"
            if contact not in P.CONTACTS:
                problems.append(f"{where}: not a contact (1..16 or case)")
                ok = False
            elif not _is_number(value) or not 1 <= value <= 100_000:
                problems.append(f"{where}: {json.dumps(value)} is not an impedance in 1..100000 ohm")
                ok = False
            else:
                overrides[contact] = float(value)
    if not ok:
        return None
    return DeviceModel(chem).with_impedances(overrides)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _canonical(value: Any, spec: P.ParamSpec, where: str, problems: list[str]) -> int | None:
    """File value to canonical integer, refusing non-numbers and finer-than-resolution values."""
    if not _is_number(value):
        problems.append(f"{where}: {json.dumps(value)} is not a number")
        return None
    scaled = value * spec.file_scale
    nearest = round(scaled)
    if abs(scaled - nearest) > 1e-6 * max(1.0, abs(scaled)):
        step = spec.fmt(spec.step) if spec.file_scale > 1 else "1"
        problems.append(f"{where}: {value} is finer than the resolution ({step} {spec.file_unit})".rstrip())
        return None
    return int(nearest)


def _program(raw: Any, prefix: str, index: int, problems: list[str]) -> Program | None:
    if not isinstance(raw, dict):
        problems.append(f"{prefix}: must be an object")
        return None
    for key in raw:
        if key not in _PROGRAM_KEYS:
            problems.append(f"{prefix}.{key}: unknown key")
    start = len(problems)  # unknown keys are reported but do not stop the other checks
    for key in _REQUIRED:
        if key not in raw:
            problems.append(f"{prefix}.{key}: missing (required)")
    if len(problems) > start:
        return None

    mode_text = raw["mode"]
    try:
        mode = Mode(mode_text)
    except ValueError:
        problems.append(f"{prefix}.mode: {json.dumps(mode_text)} is not one of tonic, burst, hf")
        return None
    table = P.PARAMS[mode]

    slot = raw.get("slot", index + 1)
    if not isinstance(slot, int) or isinstance(slot, bool) or not 1 <= slot <= P.N_SLOTS:
        problems.append(f"{prefix}.slot: {json.dumps(slot)} is not a slot 1..{P.N_SLOTS}")
    name = raw.get("name", "")
    if not isinstance(name, str):
        problems.append(f"{prefix}.name: must be text")
    recharge_text = raw.get("recharge", P.RECHARGE[mode][0].value)
    try:
        recharge = Recharge(recharge_text)
    except ValueError:
        problems.append(f"{prefix}.recharge: {json.dumps(recharge_text)} is not active or passive")
        recharge = P.RECHARGE[mode][0]

    values: dict[str, int | None] = {}
    for key in P.all_keys():
        spec = table.get(key)
        raw_value = raw.get(key)
        if spec is None:
            if raw_value is not None:
                problems.append(f"{prefix}.{key}: is not used in {mode.value} mode (leave it out or null)")
            values[key] = None
            continue
        if raw_value is None:
            if key in ("burst_pulses", "intraburst_rate_hz"):
                problems.append(f"{prefix}.{key}: missing (required for burst)")
                continue
            values[key] = 0
            continue
        values[key] = _canonical(raw_value, spec, f"{prefix}.{key}", problems)

    electrodes = _electrodes(raw["electrodes"], f"{prefix}.electrodes", problems)
    limits = _limits(raw.get("limits", {}), mode, f"{prefix}.limits", problems)
    if len(problems) > start or electrodes is None or limits is None:
        return None
    def num(key: str) -> int:
        return values.get(key) or 0

    return Program(
        mode, num("amplitude_ma"), num("pulse_width_us"), num("rate_hz"), electrodes,
        interphase_us=num("interphase_us"), recharge=recharge,
        burst_pulses=values.get("burst_pulses"), intraburst_rate_hz=values.get("intraburst_rate_hz"),
        cycle_on_ms=num("cycle_on_s"), cycle_off_ms=num("cycle_off_s"), ramp_ms=num("ramp_s"),
        limits=limits, name=name, slot=slot,
    )


def _electrodes(raw: Any, where: str, problems: list[str]) -> Electrodes | None:
    if not isinstance(raw, dict) or not raw:
        problems.append(f"{where}: must be an object of contact to signed percent, e.g. {{\"4\": -100, \"5\": 100}}")
        return None
    ok = True
    for contact, value in raw.items():
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{where}.{contact}: {json.dumps(value)} is not a whole percent")
            ok = False
    return Electrodes.of(raw) if ok else None


def _limits(raw: Any, mode: Mode, where: str, problems: list[str]) -> Limits | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be an object")
        return None
    ok = True
    values: dict[str, int | None] = {}
    for key, value in raw.items():
        if key not in P.LIMIT_KEYS:
            problems.append(f"{where}.{key}: unknown key (allowed: {', '.join(P.LIMIT_KEYS)})")
            ok = False
            continue
        spec = P.PARAMS[mode].get(P.LIMIT_KEYS[key][0])
        if spec is None or value is None:
            values[key] = None
            continue
        canon = _canonical(value, spec, f"{where}.{key}", problems)
        ok = ok and canon is not None
        values[key] = canon
    if not ok:
        return None
    return Limits(
        amplitude_min_ua=values.get("amplitude_min_ma"),
        amplitude_max_ua=values.get("amplitude_max_ma"),
        pulse_width_min_us=values.get("pulse_width_min_us"),
        pulse_width_max_us=values.get("pulse_width_max_us"),
        rate_min_hz=values.get("rate_min_hz"),
        rate_max_hz=values.get("rate_max_hz"),
    )


# --- writing -------------------------------------------------------------------------


def program_to_data(prog: Program) -> dict[str, Any]:
    """A program as its program-file object, every key written out."""
    table = P.PARAMS[prog.mode]
    out: dict[str, Any] = {"slot": prog.slot, "name": prog.name, "mode": prog.mode.value}
    for key in ("amplitude_ma", "pulse_width_us", "rate_hz", "interphase_us"):
        out[key] = table[key].to_file(prog.canonical(key) or 0)
    out["recharge"] = prog.recharge.value
    for key in ("burst_pulses", "intraburst_rate_hz"):
        value = prog.canonical(key)
        out[key] = None if value is None else value
    for key in ("cycle_on_s", "cycle_off_s", "ramp_s"):
        out[key] = table[key].to_file(prog.canonical(key) or 0)
    out["electrodes"] = prog.electrodes.as_dict()
    limits: dict[str, Any] = {}
    for key, (param_key, _side, _wire) in P.LIMIT_KEYS.items():
        value = prog.limits.get(key)
        if value is not None:
            limits[key] = table[param_key].to_file(value)
    out["limits"] = limits
    return out


def to_data(pf: ProgramFile) -> dict[str, Any]:
    device: dict[str, Any] = {"chemistry": pf.device.chemistry}
    if pf.device.impedance_overrides:
        device["contact_impedance_ohm"] = {c: _int_if_whole(z) for c, z in pf.device.impedance_overrides}
    return {
        "format": FORMAT,
        "version": VERSION,
        "device": device,
        "programs": [program_to_data(p) for p in pf.programs],
    }


def _int_if_whole(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def dumps(pf: ProgramFile) -> str:
    return json.dumps(to_data(pf), indent=2) + "\n"


def save(pf: ProgramFile, path: str | os.PathLike[str]) -> None:
    """Validate, then write ``pf`` whole or not at all (temporary file, fsync, rename)."""
    problems: list[str] = []
    from_data(to_data(pf), problems)
    if problems:
        raise FileError(path, problems)
    atomic_write_text(path, dumps(pf))


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` so readers see the old file or the new one, never a part."""
    atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> None:
    """Let ``write`` fill a temporary file beside ``path``, flush it to disk, rename it over
    ``path``: whole or not at all. If ``write`` raises, ``path`` is untouched."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


__all__ = [
    "BAD_ARG", "FileError", "ProgramFile", "Problem", "dumps", "load", "loads", "save",
    "program_to_data", "to_data", "atomic_write", "atomic_write_text",
]
