"""What the patient feels through DRG leads: one threshold for every lead, the roots' regions.

A DRG lead sits on the ganglion, outside the CSF, so its threshold does not depend on depth
or posture: ``PT = drg_rheobase_ma * (1 + c/PW) * eps`` and ``DT = dt_ratio * PT``. The one
amplitude of the program drives every lead that has a contact in it; each such lead at or
above PT covers its root's regions on its side (the amplitude does not widen them), and
relief is tonic's with ``drg_r_tonic`` (docs/patient.md, "DRG leads").
"""

from __future__ import annotations

import numpy as np

from ..engine.params import Mode
from ..engine.program import Electrodes, Program
from . import regions as RG
from .batch import Batch
from .defaults import Params
from .drg_leads import DrgLead, DrgLeads


def leads_in_use(leads: DrgLeads, electrodes: Electrodes) -> tuple[DrgLead, ...]:
    """The leads with a contact in the configuration, in lead order; ValueError for a contact
    the patient's leads do not carry or a configuration without a cathode."""
    if not electrodes.cathodes:
        raise ValueError("the configuration needs a cathode on a DRG lead")
    names = {leads.lead_of(contact).name for contact, _ in electrodes.pairs}
    return tuple(lead for lead in leads.leads if lead.name in names)


def most_cathodic(leads: DrgLeads, electrodes: Electrodes) -> DrgLead:
    """The lead carrying the largest share of cathodic current (the first in lead order on a tie)."""
    used = leads_in_use(leads, electrodes)
    share = {lead.name: 0 for lead in used}
    for contact, value in electrodes.cathodes:
        share[leads.lead_of(contact).name] += -value
    return max(used, key=lambda lead: (share[lead.name], -used.index(lead)))


def drg_pt_ma(params: Params, pulse_width_us: float) -> float:
    """The perception threshold of a DRG lead for ``eps`` 1 (multiply by the patient's eps)."""
    return params.drg_rheobase_ma * (1.0 + params.chronaxie_us / float(pulse_width_us))


def drg_core(params: Params, leads: DrgLeads, pain: tuple[tuple[str, float], ...], program: Program,
             amp: np.ndarray, eps: np.ndarray) -> Batch:
    """Thresholds, sensation, covered regions, coverage and relief for many amplitudes and eps
    at once (``csf_depth_mm`` is NaN: a root has none). ValueError for a mode other than tonic."""
    if program.mode != Mode.TONIC:
        raise ValueError(f"DRG leads are driven in tonic only, not {program.mode.value}")
    used = leads_in_use(leads, program.electrodes)
    pt = drg_pt_ma(params, program.pulse_width_us) * eps
    dt = params.dt_ratio * pt
    felt = amp >= pt
    sensation = np.where(amp >= dt, 2, np.where(felt, 1, 0))
    intensity = np.where(sensation == 1, (amp - pt) / (dt - pt), np.nan)
    reached = {rid for lead in used for rid in lead.region_ids}
    mask = np.array([rid in reached for rid in RG.IDS])
    covered = felt[:, None] & mask[None, :]
    weights = RG.pain_vector(pain)
    total = weights.sum()
    coverage = covered @ weights / total if total > 0 else np.zeros(felt.shape)
    return Batch(pt, dt, np.full(felt.shape, np.nan), sensation, intensity, covered, coverage,
                 params.drg_r_tonic * coverage, np.zeros(felt.shape))
