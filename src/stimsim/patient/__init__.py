"""The virtual patient: what they feel, where, and how their pain changes (docs/patient.md).

Beside the engine and built on it (numpy only, no Qt). The app feeds it what the device
reports it delivers: ``evaluate`` for one moment, ``Relief`` stepped through time,
``score`` at the end of a session.
"""

from __future__ import annotations

from .batch import Batch
from .defaults import POSTURES, TABLE, Params
from .drg_leads import DrgLead, DrgLeads
from .leads import Cathode, Lead, Leads, cathode
from .model import Patient, Response, delivered_ma, evaluate, evaluate_many
from .relief import Relief, relief_after
from .scenario import Goals, Scenario
from .score import Event, EventKind, Part, Score, SessionRecord, score

__all__ = [
    "POSTURES", "TABLE", "Batch", "Cathode", "DrgLead", "DrgLeads",
    "Event", "EventKind", "Goals", "Lead", "Leads", "Params", "Part",
    "Patient", "Relief", "Response", "Scenario", "Score", "SessionRecord", "cathode", "delivered_ma", "evaluate",
    "evaluate_many", "relief_after", "score",
]
