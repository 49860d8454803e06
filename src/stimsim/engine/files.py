"""Program files (``*.stimsim.json``): read with full validation, write atomically.

Reading refuses anything unknown, out of range or infeasible and names every problem
with its key path; a key or value from the file is quoted when echoed, so no file can
forge a message line or reach the terminal with control characters. Writing goes
through ``atomic_file``: a file is written whole or not at all. Keys and units come from
the parameter table, and the rules from ``validate``.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from . import params as P
from .atomic_file import atomic_write, atomic_write_text
from .params import Mode, Recharge
from .program import ClosedLoop, DeviceModel, Electrodes, Limits, Program
from .validate import BAD_ARG, Problem, ValidationError, check_program, missing, not_used

FORMAT = "stimsim.programs"
VERSION = 1
MAX_BYTES = 1 << 20  #: a program file is refused above this size, before it is parsed
MAX_DEPTH = 32  #: objects and lists nested deeper than this are refused
_TOP_KEYS = ("format", "version", "device", "programs")
_DEVICE_KEYS = ("family", "chemistry", "contact_impedance_ohm")
CHEMISTRIES = ("liion", "primary", "pack")
_MAX_DIGITS = 30  #: longer integer literals are refused, not converted
_LARGEST = 1e15  #: canonical magnitudes beyond this are no setting of any device


def program_keys() -> tuple[str, ...]:
    """A program object's keys in the order files are written (a READ reply's order)."""
    def section(s: P.Section) -> list[str]:
        return [p.key for p in P.TABLE if p.section is s]

    return ("slot", "name", "mode", *section(P.Section.PULSE), "recharge", *section(P.Section.SHAPE),
            *section(P.Section.TIMING), "electrodes", *(row.key for row in P.LOOP_TABLE), "limits")


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


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_]{1,40}")


def quote_key(key: object) -> str:
    """A key as it may be echoed: plain names as they are, anything else JSON-quoted (ASCII)."""
    text = str(key)
    if _PLAIN_KEY.fullmatch(text):
        return text
    return _short(json.dumps(text))


def shown(value: object) -> str:
    """A value from a file as it may be echoed: JSON, ASCII only, at most 60 characters."""
    if isinstance(value, _Huge):
        return value.text
    try:
        text = json.dumps(value, default=lambda o: o.text if isinstance(o, _Huge) else "?")
    except (ValueError, RecursionError):
        text = "a value"
    return _short(text)


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:40] + f"... ({len(text)} characters)"


class _Huge:
    """A number literal too large to be any setting: kept as text so it can be named."""

    def __init__(self, literal: str) -> None:
        self.literal = literal
        digits = sum(c.isdigit() for c in literal)
        self.text = literal if len(literal) <= 24 else f"{literal[:12]}... (a number of {digits} digits)"


def _parse_int(text: str) -> int | _Huge:
    return _Huge(text) if len(text.lstrip("-")) > _MAX_DIGITS else int(text)


def _parse_float(text: str) -> float | _Huge:
    value = float(text)
    return value if math.isfinite(value) else _Huge(text)


# --- reading -------------------------------------------------------------------------


def load(path: str | os.PathLike[str]) -> ProgramFile:
    """Read and validate a program file; raises FileError with one line per problem."""
    text = read_text(path)
    return loads(text, path)


def loads(text: str, path: str | os.PathLike[str] = "<text>") -> ProgramFile:
    data = parse(text, path)
    problems: list[str] = []
    result = from_data(data, problems)
    if problems or result is None:
        raise FileError(path, problems)
    return result


def read_text(path: str | os.PathLike[str], what: str = "a program file") -> str:
    """A file's text with the size and encoding checks of program files (FileError otherwise)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise FileError(path, ["no such file"]) from None
    except IsADirectoryError:
        raise FileError(path, [f"is a folder, not {what}"]) from None
    except OSError as exc:
        raise FileError(path, [f"cannot read: {exc.strerror or exc}"]) from None
    if len(raw) > MAX_BYTES:
        raise FileError(path, [f"larger than {MAX_BYTES // 1024} KiB: not {what}"])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileError(path, [f"byte {exc.start}: not UTF-8 text"]) from None


def parse(text: str, path: str | os.PathLike[str] = "<text>", what: str = "a program file") -> Any:
    """JSON text parsed as program files are: size and depth limits, no duplicate keys, no
    NaN or Infinity, huge numbers kept as text to be named; FileError otherwise."""
    if len(text) > MAX_BYTES:
        raise FileError(path, [f"larger than {MAX_BYTES // 1024} KiB: not {what}"])
    deep = _too_deep(text, MAX_DEPTH)
    if deep is not None:
        raise FileError(path, [f"{deep}: nested deeper than {MAX_DEPTH} levels"])
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant,
                          parse_int=_parse_int, parse_float=_parse_float)
    except json.JSONDecodeError as exc:
        raise FileError(path, [f"line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg})"]) from None
    except ValueError as exc:
        raise FileError(path, [str(exc)]) from None
    return data


def _too_deep(text: str, limit: int) -> str | None:
    """The key path where ``text`` nests deeper than ``limit``, or None.

    A light scan of the JSON structure (strings skipped, object keys and list positions
    tracked), so a file cannot exhaust the parser's recursion before it is judged.
    """
    frames: list[list[str | int]] = []  # per open container: [kind, position]
    last = ""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            last = text[i + 1:j]
            i = j + 1
            continue
        if c in "[{":
            if len(frames) >= limit:
                return _path_text([f[1] for f in frames]) or "the file"
            frames.append([c, 0 if c == "[" else ""])
        elif c in "]}" and frames:
            frames.pop()
        elif c == ":" and frames and frames[-1][0] == "{":
            frames[-1][1] = last
        elif c == "," and frames and frames[-1][0] == "[":
            frames[-1][1] = int(frames[-1][1]) + 1
        i += 1
    return None


def _path_text(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{quote_key(part)}" if out else quote_key(part))
    return out


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"key {quote_key(key)} appears twice in one object")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a program file may hold")


def check_header(data: Any, top_keys: tuple[str, ...], file_format: str, version: int,
                 problems: list[str]) -> bool:
    """A stimsim JSON file's frame: an object of known keys with its ``format`` and the whole
    number ``version``. Appends one line per problem; False when ``data`` is no object."""
    if not isinstance(data, dict):
        problems.append("the file must hold a JSON object")
        return False
    for key in data:
        if key not in top_keys:
            problems.append(f"{quote_key(key)}: unknown key (allowed: {', '.join(top_keys)})")
    if data.get("format") != file_format:
        problems.append(f"format: must be \"{file_format}\" (found {shown(data.get('format'))})")
    found = data.get("version")
    if type(found) is not int or found != version:
        problems.append(f"version: must be {version} (found {shown(found)})")
    return True


def from_data(data: Any, problems: list[str]) -> ProgramFile | None:
    """Build a ProgramFile from parsed JSON, appending one line per problem."""
    if not check_header(data, _TOP_KEYS, FORMAT, VERSION, problems):
        return None
    device = _device(data.get("device", {}), problems)
    raw_programs = data.get("programs")
    if not isinstance(raw_programs, list) or not raw_programs:
        problems.append("programs: must be a list of at least one program")
        return None
    programs: list[Program] = []
    slots: dict[int, int] = {}
    for i, raw in enumerate(raw_programs):
        prefix = f"programs[{i}]"
        prog = _program(raw, prefix, i, problems, device.family if device is not None else P.Family.SCS_R)
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


def device_from_data(raw: Any, problems: list[str], *, with_family: bool = True) -> DeviceModel | None:
    """A ``device`` block (family, chemistry, contact impedances) as a DeviceModel, appending
    one line per problem (key paths from ``device.``); other files that carry a device block
    use it. ``with_family`` False: the block may not name a family (the default's only)."""
    return _device(raw, problems, _DEVICE_KEYS if with_family else _DEVICE_KEYS[1:])


def _device(raw: Any, problems: list[str], keys: tuple[str, ...] = _DEVICE_KEYS) -> DeviceModel | None:
    if not isinstance(raw, dict):
        problems.append("device: must be an object")
        return None
    ok = True
    for key in raw:
        if key not in keys:
            problems.append(f"device.{quote_key(key)}: unknown key (allowed: {', '.join(keys)})")
            ok = False
    family_text = raw.get("family", P.Family.SCS_R.value)
    try:
        family = P.Family(family_text) if isinstance(family_text, str) else None
    except ValueError:
        family = None
    if family is None:
        problems.append(f"device.family: {shown(family_text)} is not one of {', '.join(P.Family)}")
        return None
    spec = P.FAMILIES[family]
    chem = raw.get("chemistry", spec.chemistry)
    if chem not in spec.chemistries:
        allowed = ", ".join(spec.chemistries)
        text = (f"is not one of {allowed}" if family is P.Family.SCS_R
                else f"is not a battery of the {family.value} ({allowed})")
        problems.append(f"device.chemistry: {shown(chem)} {text}")
        ok = False
    imp = raw.get("contact_impedance_ohm", {})
    overrides: dict[str, float] = {}
    if not isinstance(imp, dict):
        problems.append("device.contact_impedance_ohm: must be an object of contact to ohms")
        ok = False
    else:
        for contact, value in imp.items():
            where = f"device.contact_impedance_ohm.{quote_key(contact)}"
            if contact not in spec.contacts:
                case = f" or {P.CASE}" if spec.case_anode else ""
                problems.append(f"{where}: not a contact ({spec.contacts[0]}..{spec.leads[-1].contacts[-1]}{case})")
                ok = False
            elif not _is_number(value) or not 1 <= value <= 100_000:
                problems.append(f"{where}: {shown(value)} is not an impedance in 1..100000 ohm")
                ok = False
            else:
                overrides[contact] = float(value)
    if not ok:
        return None
    return DeviceModel(chem, family=family).with_impedances(overrides)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _canonical(value: Any, param: P.Param, spec: P.ParamSpec | None, where: str, problems: list[str]) -> int | None:
    """File value to canonical integer, refusing non-numbers, numbers far beyond any
    range and finer-than-resolution values."""
    if isinstance(value, _Huge) or (_is_number(value) and abs(value * param.file_scale) > _LARGEST):
        allowed = f" (allowed {spec.range_text()})" if spec is not None else ""
        problems.append(f"{where}: {shown(value)} is far outside any range{allowed}")
        return None
    if not _is_number(value):
        problems.append(f"{where}: {shown(value)} is not a number")
        return None
    scaled = value * param.file_scale
    nearest = round(scaled)
    if abs(scaled - nearest) > 1e-6 * max(1.0, abs(scaled)):
        step = param.fmt(param.step) if param.file_scale > 1 else "1"
        problems.append(f"{where}: {value} is finer than the resolution ({step} {param.file_unit})".rstrip())
        return None
    return int(nearest)


def parse_program(raw: Any, problems: list[str], family: P.Family = P.Family.SCS_R) -> Program | None:
    """One program object as a program file holds it, built but not judged (a work in progress
    may break rules); appends one line per problem of form."""
    return _program(raw, "program", 0, problems, family)


def _program(raw: Any, prefix: str, index: int, problems: list[str], family: P.Family) -> Program | None:
    if not isinstance(raw, dict):
        problems.append(f"{prefix}: must be an object")
        return None
    known = program_keys()
    for key in raw:
        if key not in known:
            problems.append(f"{prefix}.{quote_key(key)}: unknown key")
    start = len(problems)  # unknown keys are reported but do not stop the other checks
    mode_text = raw.get("mode")
    if mode_text is None:
        problems.append(f"{prefix}.mode: missing (required)")
        return None
    try:
        mode = Mode(mode_text) if isinstance(mode_text, str) else None
    except ValueError:
        mode = None
    if mode is None:
        problems.append(f"{prefix}.mode: {shown(mode_text)} is not one of {', '.join(Mode)}")
        return None
    table = P.family_params(family, mode)

    slot = raw.get("slot", index + 1)
    if not isinstance(slot, int) or isinstance(slot, bool) or not 1 <= slot <= P.N_SLOTS:
        problems.append(f"{prefix}.slot: {shown(slot)} is not a slot 1..{P.N_SLOTS}")
    name = raw.get("name", "")
    if not isinstance(name, str):
        problems.append(f"{prefix}.name: must be text")
        name = ""
    recharge_text = raw.get("recharge", P.RECHARGE[mode][0].value)
    try:
        recharge = Recharge(recharge_text)
    except ValueError:
        problems.append(f"{prefix}.recharge: {shown(recharge_text)} is not one of {', '.join(Recharge)}")
        recharge = P.RECHARGE[mode][0]

    values: dict[str, int | None] = {}
    for param in P.TABLE:
        spec = table.get(param.key)
        raw_value = raw.get(param.key)
        where = f"{prefix}.{param.key}"
        if raw_value is None:
            if spec is not None and param.required:
                problems.append(f"{where}: {missing(param, mode).message}")
            values[param.key] = None if spec is None or param.required else 0
            continue
        if spec is None:
            problems.append(f"{where}: {not_used(param, mode).message}")
            continue
        values[param.key] = _canonical(raw_value, param, spec, where, problems)

    raw_electrodes = raw.get("electrodes")
    electrodes = None
    if raw_electrodes is None:
        problems.append(f"{prefix}.electrodes: missing (required)")
    else:
        electrodes = _electrodes(raw_electrodes, f"{prefix}.electrodes", problems)
    limits = _limits(raw.get("limits", {}), mode, f"{prefix}.limits", problems)
    closed_loop = _closed_loop(raw, prefix, problems)
    if len(problems) > start or electrodes is None or limits is None:
        return None
    base = Program(mode, 0, 0, 0, electrodes, recharge=recharge, limits=limits, name=name, slot=slot,
                   closed_loop=closed_loop)
    return base.with_values(values)


def _closed_loop(raw: dict[str, Any], prefix: str, problems: list[str]) -> ClosedLoop | None:
    """The closed-loop keys of a program object (None when it gives none; the table's defaults
    fill those left out); one line per malformed value. Their rules are ``validate``'s."""
    given = [row for row in P.LOOP_TABLE if raw.get(row.key) is not None]
    if not given:
        return None
    fields: dict[str, Any] = {}
    for row in given:
        value, where = raw[row.key], f"{prefix}.{row.key}"
        if row.kind is P.ValueKind.CHOICE:
            if value not in row.choices:
                problems.append(f"{where}: {shown(value)} is not one of {', '.join(row.choices)}")
                continue
            fields[row.attr] = P.LoopMode(value)
        elif row.kind is P.ValueKind.NUMBER:
            if not _is_number(value) or value != int(value):
                problems.append(f"{where}: {shown(value)} is not a whole number ({row.fmt_range()})")
                continue
            fields[row.attr] = int(value)
        else:
            pair = _contact_pair(value)
            if pair is None:
                problems.append(f"{where}: {shown(value)} is not a list of two contacts, e.g. [\"6\", \"7\"]")
                continue
            fields[row.attr] = pair
    return replace(ClosedLoop(), **fields)


def _contact_pair(value: Any) -> tuple[str, str] | None:
    """``["6", "7"]`` (or ``[6, 7]``) as a pair of contact names; None for anything else."""
    if not isinstance(value, list) or len(value) != 2:
        return None
    names: list[str] = []
    for item in value:
        if isinstance(item, int) and not isinstance(item, bool) and 0 <= item < 100:
            names.append(str(item))
        elif isinstance(item, str) and item.isdigit() and len(item) <= 2:
            names.append(str(int(item)))
        else:
            return None
    return names[0], names[1]


def _electrodes(raw: Any, where: str, problems: list[str]) -> Electrodes | None:
    if not isinstance(raw, dict) or not raw:
        problems.append(f"{where}: must be an object of contact to signed percent, e.g. {{\"4\": -100, \"5\": 100}}")
        return None
    ok = True
    for contact, value in raw.items():
        if contact not in P.CONTACTS:
            problems.append(f"{where}.{quote_key(contact)}: is not a contact ({P.CONTACTS[0]}..{P.N_CONTACTS} "
                            f"or {P.CASE})")
            ok = False
        elif not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{where}.{contact}: {shown(value)} is not a whole percent")
            ok = False
    return Electrodes.of(raw) if ok else None


def _limits(raw: Any, mode: Mode, where: str, problems: list[str]) -> Limits | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be an object")
        return None
    ok = True
    values: dict[str, int | None] = {}
    for key, value in raw.items():
        limit = P.LIMITS.get(key)
        if limit is None:
            problems.append(f"{where}.{quote_key(key)}: unknown key (allowed: {', '.join(P.LIMITS)})")
            ok = False
            continue
        spec = P.PARAMS[mode].get(limit.param.key)
        if spec is None or value is None:
            values[limit.attr] = None
            continue
        canon = _canonical(value, limit.param, spec, f"{where}.{key}", problems)
        ok = ok and canon is not None
        values[limit.attr] = canon
    if not ok:
        return None
    return Limits(**values)


# --- writing -------------------------------------------------------------------------


def program_to_data(prog: Program) -> dict[str, Any]:
    """A program as its program-file object, every key written out (null where the mode
    does not take a parameter)."""
    table = P.PARAMS[prog.mode]
    out: dict[str, Any] = {}
    for key in program_keys():
        if key in P.BY_KEY:
            value = prog.canonical(key)
            out[key] = None if key not in table else P.BY_KEY[key].to_file(value or 0)
        elif key == "mode":
            out[key] = prog.mode.value
        elif key == "recharge":
            out[key] = prog.recharge.value
        elif key == "electrodes":
            out[key] = prog.electrodes.as_dict()
        elif key == "limits":
            out[key] = {k: P.LIMITS[k].param.to_file(v) for k, v in prog.limits.set_values().items()
                        if P.LIMITS[k].param.key in table}
        elif key in P.LOOP_BY_KEY:
            if prog.closed_loop is not None:  # a program with no closed-loop key is written without them
                out[key] = _loop_file_value(getattr(prog.closed_loop, P.LOOP_BY_KEY[key].attr))
        else:
            out[key] = getattr(prog, key)
    return out


def _loop_file_value(value: object) -> object:
    """A closed-loop value as the file holds it: ``"ecap"``, ``80``, ``["6", "7"]`` or null."""
    if isinstance(value, P.LoopMode):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    return value


def to_data(pf: ProgramFile) -> dict[str, Any]:
    device: dict[str, Any] = {"chemistry": pf.device.chemistry}
    if pf.device.family is not P.Family.SCS_R:  # the default is left out: older files stay byte for byte
        device = {"family": pf.device.family.value, **device}
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


__all__ = [
    "BAD_ARG", "FileError", "device_from_data", "parse", "read_text", "ProgramFile", "Problem", "dumps", "load", "loads", "save",
    "program_to_data", "to_data", "atomic_write", "atomic_write_text", "quote_key", "shown",
]
