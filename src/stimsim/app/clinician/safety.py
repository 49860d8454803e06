"""The live safety figures of a draft: per-contact charge, compliance, battery power (no Qt)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ...engine import params as P
from ...engine.load import Compliance, ContactCharge, contact_charges, program_compliance
from ...engine.metrics import battery_power_mw
from ...engine.program import DeviceModel, Program


@dataclass(frozen=True)
class SafetyFigures:
    charges: tuple[ContactCharge, ...]
    compliance: Compliance
    battery_mw: float

    def compliance_text(self) -> str:
        c = self.compliance
        text = (f"Load {c.load_ohm:.0f} Ω, rail {c.rail_v:.1f} V: delivers {c.delivered_ma:.2f} mA "
                f"of {c.programmed_ma:.2f} mA programmed")
        return text + " — LIMITED by the 12 V rail" if c.limited else text

    def battery_text(self) -> str:
        return f"Battery power {self.battery_mw:.2f} mW"


def figures(program: Program, device: DeviceModel) -> SafetyFigures | None:
    """The figures, or None where the electrodes have no complete cathode/anode pair."""
    if not program.electrodes.cathodes or not program.electrodes.anodes:
        return None
    return SafetyFigures(tuple(contact_charges(program, device)), program_compliance(program, device),
                         battery_power_mw(program, device))


def k_text(k: float) -> str:
    return "—" if not math.isfinite(k) else f"{k:.2f}"


def limits_text() -> str:
    return f"k ≤ {P.SHANNON_K_LIMIT} and ≤ {P.DENSITY_LIMIT_UC_CM2:g} µC/cm²"


def measured_device(device: DeviceModel, impedances: dict[str, int | str]) -> DeviceModel:
    """``device`` with the contact impedances last measured (OPEN/SHORT are left at the default:
    no current is put on them)."""
    return device.with_impedances({c: float(z) for c, z in impedances.items() if isinstance(z, int)})
