"""Leads and contacts in the dorsal epidural space, and where the cathode sits.

Lead A carries contacts 1..8 and lead B 9..16, the lowest number most rostral. A contact's
centre lies ``(k-1)*spacing + contact/2`` mm below the lead's top; its level follows from
the millimetres, vertebra by vertebra. The cathode position is the current-weighted mean
of the cathodes' levels and lateral offsets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from ..engine import params as EP
from ..engine.program import Electrodes
from . import spine
from .defaults import Params

LEAD_CONTACTS = {"A": EP.LEAD_A, "B": EP.LEAD_B}


class _Named(Protocol):
    @property
    def name(self) -> str: ...


L = TypeVar("L", bound=_Named)


def lead_carrying(contact: str, leads: Sequence[L], lead_contacts: Mapping[str, Sequence[str]]) -> L | None:
    """The implanted lead carrying ``contact`` (SCS or DRG leads alike); None when ``contact``
    is on no lead of ``lead_contacts``; ValueError when it is on a lead the patient lacks."""
    for name, contacts in lead_contacts.items():
        if contact in contacts:
            for lead in leads:
                if lead.name == name:
                    return lead
            raise ValueError(f"contact {contact} is on lead {name}, which this patient does not have")
    return None
MONOPOLE = "monopole"
LONGITUDINAL = "longitudinal"
TRANSVERSE = "transverse"


@dataclass(frozen=True)
class Lead:
    """One lead: ``top`` the level ordinal of its rostral contact's upper edge, ``offset_mm``
    lateral (negative = left), ``spacing_mm`` centre to centre."""

    name: str
    top: float
    offset_mm: float = 0.0
    spacing_mm: float = 7.0

    @property
    def contacts(self) -> tuple[str, ...]:
        return LEAD_CONTACTS[self.name]

    def contact_level(self, contact: str, contact_mm: float) -> float:
        k = self.contacts.index(contact) + 1
        centre = (k - 1) * self.spacing_mm + contact_mm / 2.0
        return float(spine.mm_to_level(spine.level_to_mm(self.top) + centre))


@dataclass(frozen=True)
class Leads:
    """The implanted leads (one or two)."""

    leads: tuple[Lead, ...]

    def lead_of(self, contact: str) -> Lead:
        """The lead carrying ``contact``; ValueError when the patient has no such lead."""
        lead = lead_carrying(contact, self.leads, LEAD_CONTACTS)
        if lead is None:
            raise ValueError(f"{contact} is not a lead contact")
        return lead

    def contact_levels(self, params: Params) -> dict[str, float]:
        """Every contact's level ordinal, by contact."""
        return {c: lead.contact_level(c, params.contact_mm) for lead in self.leads for c in lead.contacts}


@dataclass(frozen=True)
class Cathode:
    """Where the stimulation starts: level ordinal ``z``, lateral offset ``x`` (mm), the
    configuration's name and its threshold factor ``s_cfg``."""

    z: float
    x: float
    configuration: str
    s_cfg: float


def cathode(leads: Leads, electrodes: Electrodes, params: Params) -> Cathode:
    """The cathode position and configuration of ``electrodes`` on ``leads``.

    Monopole when the case is among the anodes; longitudinal when every anode lies on a
    lead that carries a cathode; transverse otherwise. ValueError for a contact on a lead
    the patient does not have, or a configuration without a lead cathode.
    """
    cathodes = electrodes.cathodes
    if not cathodes or any(c == EP.CASE for c, _ in cathodes):
        raise ValueError("the configuration needs its cathodes on the leads")
    weights = [abs(share) for _, share in cathodes]
    total = float(sum(weights))
    lead_of = {c: leads.lead_of(c) for c, _ in electrodes.pairs if c != EP.CASE}
    z = sum(w * lead_of[c].contact_level(c, params.contact_mm) for (c, _), w in zip(cathodes, weights, strict=True))
    x = sum(w * lead_of[c].offset_mm for (c, _), w in zip(cathodes, weights, strict=True))
    anodes = [c for c, _ in electrodes.anodes]
    cathode_leads = {lead_of[c].name for c, _ in cathodes}
    if EP.CASE in anodes:
        configuration, s_cfg = MONOPOLE, 1.0
    elif all(lead_of[a].name in cathode_leads for a in anodes):
        configuration, s_cfg = LONGITUDINAL, params.s_longitudinal
    else:
        configuration, s_cfg = TRANSVERSE, params.s_transverse
    return Cathode(z / total, x / total, configuration, s_cfg)
