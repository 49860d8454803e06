"""Scenario files (``*.scenario.json``): a patient, their implant, their pain and the session's goals.

Read with the program files' safeguards (size and depth limits, no duplicate keys, no NaN)
and refused the same way: one line per problem with its key path. Keys left out take the
defaults of the patient table (``defaults``) and of this module; the scenario's ``device``
block describes the patient's implant and wins over any program file's.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..engine import files
from ..engine.files import FileError, check_header, quote_key, shown
from ..engine.params import FAMILIES as EP_FAMILIES
from ..engine.params import Family, fmt_number
from ..engine.program import DeviceModel, Program
from ..resources import scenarios_dir
from . import regions as RG
from . import spine
from .defaults import POSTURES, TABLE, Params
from .drg_leads import DrgLeads, drg_leads_from_data
from .leads import LEAD_CONTACTS, Lead, Leads
from .model import Patient

FORMAT = "stimsim.scenario"
VERSION = 1
SUFFIX = ".scenario.json"
_TOP_KEYS = ("format", "version", "title", "brief", "patient", "leads", "device", "pain", "programs", "goals")
_LEAD_KEYS = ("top", "offset_mm", "spacing_mm")
_GOAL_KEYS = ("coverage", "paresthesia_free", "minutes")
OFFSET_MAX_MM = 10.0
TITLE_MAX = 120
BRIEF_MAX = 4000
DEFAULT_BATTERY_PCT = 80.0
PAIN_MAX = 10.0
MINUTES_MAX = 600.0


@dataclass(frozen=True)
class Goals:
    """What the session aims at: pain-map coverage, no paresthesia (sub-perception), a time budget."""

    coverage: float = 0.8
    paresthesia_free: bool = False
    minutes: float = 30.0


@dataclass(frozen=True)
class Scenario:
    """A loaded scenario: ``name`` is the file name without ``.scenario.json``."""

    name: str
    title: str
    brief: str
    patient: Patient
    device: DeviceModel
    battery_pct: float
    programs: tuple[Program, ...] = ()
    goals: Goals = field(default_factory=Goals)

    @property
    def params(self) -> Params:
        return self.patient.params

    @property
    def family(self) -> Family:
        """The implant's device family (the device block's ``family``, SCS-R when left out)."""
        return self.device.family


def name_of(path: str | os.PathLike[str]) -> str:
    base = Path(path).name
    return base[: -len(SUFFIX)] if base.endswith(SUFFIX) else Path(base).stem


def shipped() -> list[Path]:
    """The scenarios that come with stimsim, by name."""
    folder = scenarios_dir()
    return sorted(folder.glob(f"*{SUFFIX}")) if folder.is_dir() else []


def find(name_or_path: str) -> Path:
    """A shipped scenario's name or a path; FileError when it is neither."""
    path = Path(name_or_path)
    if path.exists() or name_or_path.endswith(".json") or os.sep in name_or_path:
        return path
    for candidate in shipped():
        if name_of(candidate) == name_or_path:
            return candidate
    names = ", ".join(name_of(p) for p in shipped())
    raise FileError(name_or_path, [f"no such file and no shipped scenario of that name (shipped: {names})"])


def load(path: str | os.PathLike[str]) -> Scenario:
    """Read and validate a scenario file; FileError with one line per problem."""
    return loads(files.read_text(path, "a scenario file"), path)


def loads(text: str, path: str | os.PathLike[str] = "<text>") -> Scenario:
    data = files.parse(text, path, "a scenario file")
    problems: list[str] = []
    scenario = from_data(data, problems, name_of(path))
    if problems or scenario is None:
        raise FileError(path, problems)
    return scenario


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _number(raw: Any, where: str, low: float, high: float, problems: list[str], unit: str = "") -> float | None:
    allowed = f"{fmt_number(float(low))}..{fmt_number(float(high))}{' ' + unit if unit else ''}"
    if not _is_number(raw):
        problems.append(f"{where}: {shown(raw)} is not a number (allowed {allowed})")
        return None
    if not low <= raw <= high:
        problems.append(f"{where}: {shown(raw)} is outside {allowed}")
        return None
    return float(raw)


def _object(raw: Any, where: str, keys: tuple[str, ...] | None, problems: list[str]) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be an object")
        return None
    if keys is not None:
        for key in raw:
            if key not in keys:
                problems.append(f"{where}.{quote_key(key)}: unknown key (allowed: {', '.join(keys)})")
    return raw


def from_data(data: Any, problems: list[str], name: str = "scenario") -> Scenario | None:
    """Build a Scenario from parsed JSON, appending one line per problem."""
    if not check_header(data, _TOP_KEYS, FORMAT, VERSION, problems):
        return None
    title = _text(data.get("title", name), "title", TITLE_MAX, problems)
    brief = _text(data.get("brief", ""), "brief", BRIEF_MAX, problems)
    params = _params(data.get("patient", {}), problems)
    family = _family_of(data.get("device", {}))
    leads: Leads | DrgLeads | None
    if family is Family.DRG:
        leads = drg_leads_from_data(data.get("leads"), problems)
    else:
        leads = _leads(data.get("leads"), params or Params(), problems)
    device, battery_pct = _device(data.get("device", {}), problems)
    pain = _pain(data.get("pain"), problems)
    raw_leads = data.get("leads")
    lead_names = EP_FAMILIES[family].leads if family is not None else ()
    named = ({name for name in raw_leads if any(lead.name == name for lead in lead_names)}
             if isinstance(raw_leads, dict) else None)
    programs = _programs(data.get("programs", []), device, named, problems)
    goals = _goals(data.get("goals", {}), problems)
    if problems or None in (title, brief, params, leads, device, battery_pct, pain, programs, goals):
        return None
    assert params is not None and leads is not None and device is not None and pain is not None
    assert title is not None and brief is not None and battery_pct is not None and programs is not None
    assert goals is not None
    return Scenario(name, title, brief, Patient.of(params, leads, pain), device, battery_pct, programs, goals)


def _text(raw: Any, where: str, longest: int, problems: list[str]) -> str | None:
    if not isinstance(raw, str) or len(raw) > longest or not all(c.isprintable() or c == "\n" for c in raw):
        problems.append(f"{where}: must be printable text of at most {longest} characters")
        return None
    return raw


def _params(raw: Any, problems: list[str]) -> Params | None:
    block = _object(raw, "patient", None, problems)
    if block is None:
        return None
    start = len(problems)
    values: dict[str, Any] = {}
    for key, value in block.items():
        where = f"patient.{quote_key(key)}"
        row = TABLE.get(key)
        if row is None:
            problems.append(f"{where}: unknown key (see the patient table in docs/patient.md)")
        elif row.kind == "label":
            try:
                values[key] = spine.parse_label(value) if isinstance(value, str) else spine.parse_label("?")
            except ValueError:
                problems.append(f"{where}: {shown(value)} is not a spine level (C1..C7, T1..T12, L1..L5 or S1, "
                                "with an optional fraction such as T9.5)")
        elif row.kind == "posture":
            if value not in POSTURES:
                problems.append(f"{where}: {shown(value)} is not one of {', '.join(POSTURES)}")
            else:
                values[key] = value
        elif row.kind == "days" and value is None:
            values[key] = None
        else:
            number = _number(value, where, row.low, row.high, problems, row.unit)
            values[key] = number
    if len(problems) > start:
        return None
    return Params().with_values(**values)


def _leads(raw: Any, params: Params, problems: list[str]) -> Leads | None:
    if raw is None:
        problems.append("leads: missing (required): an object with lead A, lead B or both")
        return None
    block = _object(raw, "leads", tuple(LEAD_CONTACTS), problems)
    if block is None:
        return None
    if not block:
        problems.append("leads: give at least one lead (A or B)")
        return None
    start = len(problems)
    out: list[Lead] = []
    for name in LEAD_CONTACTS:
        if name not in block:
            continue
        where = f"leads.{name}"
        lead = _object(block[name], where, _LEAD_KEYS, problems)
        if lead is None:
            continue
        top = lead.get("top")
        level = None
        if top is None:
            problems.append(f"{where}.top: missing (required): a spine level such as \"T8\"")
        else:
            try:
                level = spine.parse_label(top) if isinstance(top, str) else spine.parse_label("?")
            except ValueError:
                problems.append(f"{where}.top: {shown(top)} is not a spine level (C1..C7, T1..T12, L1..L5 or S1, "
                                "with an optional fraction such as T9.5)")
        offset = _number(lead.get("offset_mm", 0.0), f"{where}.offset_mm", -OFFSET_MAX_MM, OFFSET_MAX_MM, problems,
                         "mm")
        row = TABLE["spacing_mm"]
        spacing = _number(lead.get("spacing_mm", params.spacing_mm), f"{where}.spacing_mm", row.low, row.high,
                          problems, "mm")
        if level is not None and offset is not None and spacing is not None:
            out.append(Lead(name, level, offset, spacing))
    if len(problems) > start:
        return None
    return Leads(tuple(out))


def _family_of(raw: Any) -> Family | None:
    """The family a device block names (SCS-R when it names none; None when it is no family:
    ``_device`` says why)."""
    if not isinstance(raw, dict):
        return Family.SCS_R
    try:
        return Family(raw.get("family", Family.SCS_R.value))
    except (ValueError, TypeError):
        return None


def _device(raw: Any, problems: list[str]) -> tuple[DeviceModel | None, float | None]:
    if not isinstance(raw, dict):
        problems.append("device: must be an object")
        return None, None
    engine_part = {k: v for k, v in raw.items() if k != "battery_pct"}
    start = len(problems)
    device = files.device_from_data(engine_part, problems)
    for i in range(start, len(problems)):
        if "unknown key" in problems[i]:
            problems[i] = problems[i].replace("(allowed: family, chemistry, contact_impedance_ohm)",
                                              "(allowed: family, chemistry, contact_impedance_ohm, battery_pct)")
    pct = _number(raw.get("battery_pct", DEFAULT_BATTERY_PCT), "device.battery_pct", 0.0, 100.0, problems, "%")
    return device, pct


def _pain(raw: Any, problems: list[str]) -> dict[str, float] | None:
    if raw is None:
        problems.append("pain: missing (required): region id to intensity 0..10")
        return None
    block = _object(raw, "pain", None, problems)
    if block is None:
        return None
    start = len(problems)
    out: dict[str, float] = {}
    for rid, value in block.items():
        where = f"pain.{quote_key(rid)}"
        if rid not in RG.BY_ID:
            problems.append(f"{where}: not a region id (left_ or right_ and one of {', '.join(RG.NAMES)})")
            continue
        number = _number(value, where, 0.0, PAIN_MAX, problems)
        if number is not None:
            out[rid] = number
    if len(problems) == start and not any(v > 0 for v in out.values()):
        problems.append("pain: must name at least one region with pain above 0")
    return out if len(problems) == start else None


def _programs(raw: Any, device: DeviceModel | None, leads: set[str] | None,
              problems: list[str]) -> tuple[Program, ...] | None:
    """Program-file programs, checked under the rules of the scenario's device family and
    against its leads (by name)."""
    if not isinstance(raw, list):
        problems.append("programs: must be a list of program-file programs")
        return None
    if not raw:
        return ()
    dev = device or DeviceModel()
    device_data: dict[str, Any] = {"family": dev.family.value, "chemistry": dev.chemistry,
                                   "contact_impedance_ohm": dict(dev.impedance_overrides)}
    start = len(problems)
    found: list[str] = []  # from_data judges by its own list being empty
    pf = files.from_data({"format": files.FORMAT, "version": files.VERSION, "device": device_data, "programs": raw},
                         found)
    problems.extend(found)
    if pf is None or found:
        return None
    if leads is not None:
        for i, prog in enumerate(pf.programs):
            for contact, _ in prog.electrodes.pairs:
                found_lead = dev.spec.lead_of(contact)
                lead = found_lead.name if found_lead is not None else None
                if lead is not None and lead not in leads:
                    problems.append(f"programs[{i}].electrodes.{contact}: contact {contact} is on lead {lead}, "
                                    "which this patient does not have")
    return pf.programs if len(problems) == start else None


def _goals(raw: Any, problems: list[str]) -> Goals | None:
    block = _object(raw, "goals", _GOAL_KEYS, problems)
    if block is None:
        return None
    start = len(problems)
    base = Goals()
    coverage = _number(block.get("coverage", base.coverage), "goals.coverage", 0.0, 1.0, problems)
    free = block.get("paresthesia_free", base.paresthesia_free)
    if not isinstance(free, bool):
        problems.append(f"goals.paresthesia_free: {shown(free)} is not true or false")
    minutes = _number(block.get("minutes", base.minutes), "goals.minutes", 1.0, MINUTES_MAX, problems, "min")
    if len(problems) > start or coverage is None or minutes is None:
        return None
    return Goals(coverage, bool(free), minutes)
