"""The generator's verbs: one table from the wire's verb to its function and its role."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..protocol.codec import ArgPair, Request
from . import verbs_ecap as ecap
from . import verbs_session as session
from . import verbs_sim as sim
from . import verbs_therapy as therapy
from .state import GeneratorState

Handler = Callable[[GeneratorState, Request], list[ArgPair]]


@dataclass(frozen=True)
class Verb:
    handler: Handler
    clinician: bool = False  #: refused with DENIED NEED=CLINICIAN to a patient


VERBS: dict[str, Verb] = {
    "HELLO": Verb(session.verb_hello),
    "STATUS": Verb(session.verb_status),
    "PROG": Verb(therapy.verb_prog, clinician=True),
    "TEST": Verb(therapy.verb_test, clinician=True),
    "READ": Verb(therapy.verb_read),
    "ERASE": Verb(therapy.verb_erase, clinician=True),
    "SELECT": Verb(therapy.verb_select),
    "STIM": Verb(therapy.verb_stim),
    "AMP": Verb(therapy.verb_amp),
    "IMPEDANCE": Verb(session.verb_impedance, clinician=True),
    "BATT": Verb(session.verb_batt),
    "CONFIG": Verb(session.verb_config, clinician=True),
    "STOP": Verb(therapy.verb_stop),
    "LOGIN": Verb(session.verb_login),
    "LOGOUT": Verb(session.verb_logout),
    "MRI": Verb(therapy.verb_mri),
    "LOG": Verb(session.verb_log),
    "SIM": Verb(sim.verb_sim),
    "ECAP": Verb(ecap.verb_ecap),  #: the closed-loop family's; SWEEP checks the clinician role itself
}
