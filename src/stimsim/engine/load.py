"""Electrical load of an electrode configuration, compliance limiting, per-contact charge.

These are the figures the safety rules need (model section 4); the train averages built
on them (duty, rms, power) live in ``metrics``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import params as P
from .program import DeviceModel, Electrodes, Program


def _parallel(values: list[float]) -> float:
    return 1.0 / sum(1.0 / z for z in values) if values else 0.0


def load_ohm(electrodes: Electrodes, device: DeviceModel) -> float:
    """``Z = parallel(cathode z) + parallel(anode z)`` in ohms."""
    cath = [device.impedance(c) for c, _ in electrodes.cathodes]
    anod = [device.impedance(c) for c, _ in electrodes.anodes]
    return _parallel(cath) + _parallel(anod)


@dataclass(frozen=True)
class Compliance:
    """What the output stage can deliver into a load."""

    load_ohm: float
    programmed_ma: float
    delivered_ma: float
    rail_v: float
    limited: bool


def compliance(amplitude_ma: float, z_ohm: float) -> Compliance:
    """Rail needed ``A*Z/1000 + 1`` V; above 12 V the amplitude is limited to ``11000/Z``."""
    need = amplitude_ma * z_ohm / 1000.0 + P.RAIL_HEADROOM_V
    if need > P.RAIL_MAX_V:
        delivered = (P.RAIL_MAX_V - P.RAIL_HEADROOM_V) * 1000.0 / z_ohm
        return Compliance(z_ohm, amplitude_ma, delivered, P.RAIL_MAX_V, True)
    return Compliance(z_ohm, amplitude_ma, amplitude_ma, need, False)


def program_compliance(program: Program, device: DeviceModel) -> Compliance:
    return compliance(program.amplitude_ma, load_ohm(program.electrodes, device))


@dataclass(frozen=True)
class ContactCharge:
    """Charge per phase at one contact and the safety figures derived from it."""

    contact: str
    fraction: float  #: signed, -1..1, cathodes negative
    charge_uc: float
    density_uc_cm2: float
    shannon_k: float  #: -inf when no charge flows

    @property
    def warning(self) -> bool:
        return self.shannon_k > P.SHANNON_K_LIMIT or self.density_uc_cm2 > P.DENSITY_LIMIT_UC_CM2


def contact_charges(program: Program, device: DeviceModel) -> list[ContactCharge]:
    """Q, D and Shannon k for every contact of the configuration, at the delivered amplitude."""
    delivered = program_compliance(program, device).delivered_ma
    q = delivered * program.pulse_width_us / 1000.0
    out = []
    for contact, share in program.electrodes.pairs:
        qi = q * abs(share) / 100.0
        area = device.contact_area_cm2(contact)
        d = qi / area
        k = math.log10(d) + math.log10(qi) if qi > 0 else -math.inf
        out.append(ContactCharge(contact, share / 100.0, qi, d, k))
    return out
