"""DRG leads: each of up to four short leads lies at one nerve root (T10..S1) on one side.

A dorsal root ganglion lead is not placed along the spine but at a root, so a DRG scenario
names each lead's ``root`` and ``side`` instead of ``top`` and ``offset_mm``
(``drg_leads_from_data`` reads them). The root's regions are where its paresthesia is felt,
on that side only (docs/patient.md, "DRG leads").
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..engine import params as EP
from ..engine.files import quote_key, shown
from . import regions as RG
from . import spine
from .leads import lead_carrying

#: The roots a DRG lead may lie at, head to foot.
ROOTS = ("T10", "T11", "T12", "L1", "L2", "L3", "L4", "L5", "S1")

#: Each root's regions (names of ``regions.NAMES``); T10 and T11 are this project's reading
#: of the dermatomes (a band round the trunk at and below the navel; T11 reaches the flank).
ROOT_REGIONS = MappingProxyType({
    "T10": ("abdomen",),
    "T11": ("abdomen", "low_back"),
    "T12": ("low_back", "abdomen"),
    "L1": ("low_back",),
    "L2": ("front_thigh",),
    "L3": ("front_thigh", "knee"),
    "L4": ("knee", "leg"),
    "L5": ("leg", "foot"),
    "S1": ("foot",),
})

#: The DRG family's leads by name, contacts distal first (A 1..4, B 5..8, C 9..12, D 13..16).
LEAD_CONTACTS = MappingProxyType({lead.name: lead.contacts for lead in EP.FAMILIES[EP.Family.DRG].leads})

#: The keys of a DRG lead in a scenario file.
LEAD_KEYS = ("root", "side")

#: What ``stimsim patient`` calls a DRG program's configuration: bipolar on each lead.
BIPOLE = "bipole"


@dataclass(frozen=True)
class DrgLead:
    """One DRG lead: its name (A..D), the root it lies at and the side (``left``/``right``)."""

    name: str
    root: str
    side: str

    def __post_init__(self) -> None:
        if self.name not in LEAD_CONTACTS:
            raise ValueError(f"{self.name!r} is not a DRG lead ({', '.join(LEAD_CONTACTS)})")
        if self.root not in ROOT_REGIONS:
            raise ValueError(f"{self.root!r} is not a DRG root ({', '.join(ROOTS)})")
        if self.side not in RG.SIDES:
            raise ValueError(f"{self.side!r} is not a side ({', '.join(RG.SIDES)})")

    @property
    def contacts(self) -> tuple[str, ...]:
        return LEAD_CONTACTS[self.name]

    @property
    def level(self) -> float:
        """The root's level ordinal (L4 = 23.0): the vertebra the root leaves under."""
        return spine.parse_label(self.root)

    @property
    def region_ids(self) -> tuple[str, ...]:
        """The region ids this lead's paresthesia covers, in ``regions.IDS`` order."""
        names = ROOT_REGIONS[self.root]
        return tuple(rid for rid in RG.IDS if RG.BY_ID[rid].side == self.side and RG.BY_ID[rid].name in names)


@dataclass(frozen=True)
class DrgLeads:
    """The implanted DRG leads (one to four), in lead order."""

    leads: tuple[DrgLead, ...]

    def lead_of(self, contact: str) -> DrgLead:
        """The lead carrying ``contact``; ValueError when the patient has no such lead or it is no DRG contact."""
        lead = lead_carrying(contact, self.leads, LEAD_CONTACTS)
        if lead is not None:
            return lead
        if contact == EP.CASE:
            raise ValueError("the DRG implant has no case to use as an anode")
        raise ValueError(f"{contact} is not a contact of a DRG lead")


def _object(raw: Any, where: str, keys: tuple[str, ...], problems: list[str]) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be an object")
        return None
    for key in raw:
        if key not in keys:
            problems.append(f"{where}.{quote_key(key)}: unknown key (allowed: {', '.join(keys)})")
    return raw


def drg_leads_from_data(raw: Any, problems: list[str]) -> DrgLeads | None:
    """A DRG scenario's ``leads`` block: one to four of A..D, each at a root on a side; None
    with one line per problem (key paths from ``leads.``) appended to ``problems``."""
    names = tuple(LEAD_CONTACTS)
    if raw is None:
        problems.append("leads: missing (required): an object with DRG leads A..D, each "
                        "{\"root\": \"L4\", \"side\": \"left\"}")
        return None
    block = _object(raw, "leads", names, problems)
    if block is None:
        return None
    if not block:
        problems.append("leads: give at least one DRG lead (A, B, C or D)")
        return None
    start = len(problems)
    out: list[DrgLead] = []
    for name in names:
        if name not in block:
            continue
        where = f"leads.{name}"
        lead = _object(block[name], where, LEAD_KEYS, problems)
        if lead is None:
            continue
        root, side = lead.get("root"), lead.get("side")
        if root is None:
            problems.append(f"{where}.root: missing (required): a nerve root, one of {', '.join(ROOTS)}")
        elif root not in ROOTS:
            problems.append(f"{where}.root: {shown(root)} is not a root a DRG lead may lie at "
                            f"({', '.join(ROOTS)})")
        if side is None:
            problems.append(f"{where}.side: missing (required): left or right")
        elif side not in RG.SIDES:
            problems.append(f"{where}.side: {shown(side)} is not left or right")
        if root in ROOTS and side in RG.SIDES:
            out.append(DrgLead(name, root, side))
    if len(problems) > start:
        return None
    return DrgLeads(tuple(out))
