"""Immutable program, electrode configuration and device models.

``Program`` and ``Limits`` have one field per row of the parameter table (``params``); a
test holds the fields and the table together. Their rules live in ``validate``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from . import params as P
from .params import Mode, Recharge


@dataclass(frozen=True)
class Electrodes:
    """Signed percentages of the stimulation current per contact (cathodes negative).

    ``pairs`` is sorted by contact order (1..16, then ``case``).
    """

    pairs: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, mapping: Mapping[str, int]) -> Electrodes:
        order = {c: i for i, c in enumerate(P.CONTACTS)}
        items = sorted(mapping.items(), key=lambda kv: order.get(kv[0], len(order)))
        return cls(tuple((c, int(v)) for c, v in items))

    def as_dict(self) -> dict[str, int]:
        return dict(self.pairs)

    @property
    def cathodes(self) -> tuple[tuple[str, int], ...]:
        return tuple(p for p in self.pairs if p[1] < 0)

    @property
    def anodes(self) -> tuple[tuple[str, int], ...]:
        return tuple(p for p in self.pairs if p[1] > 0)

    def to_wire(self) -> str:
        """``4:-100,5:+50,CASE:+100`` as the protocol writes it."""
        return ",".join(f"{c.upper()}:{v:+d}" for c, v in self.pairs)

    @classmethod
    def from_wire(cls, text: str) -> Electrodes:
        """Parse ``4:-100,CASE:+100``; raises ValueError naming the bad item."""
        out: dict[str, int] = {}
        for item in text.split(","):
            contact, sep, value = item.partition(":")
            contact = contact.strip().lower()
            if not sep or not contact:
                raise ValueError(f"'{item}' is not CONTACT:PERCENT")
            if contact in out:
                raise ValueError(f"contact {contact.upper()} is given twice")
            try:
                out[contact] = int(value)
            except ValueError:
                raise ValueError(f"'{value}' is not a whole percent") from None
        return cls.of(out)


@dataclass(frozen=True)
class Limits:
    """The clinician's limits on patient changes, canonical units; None = not set.

    Amplitude limits default to the mode's full range when left out. Pulse-width and
    rate limits unlock patient changes of those only when set.
    """

    amplitude_min_ua: int | None = None
    amplitude_max_ua: int | None = None
    pulse_width_min_us: int | None = None
    pulse_width_max_us: int | None = None
    rate_min_hz: int | None = None
    rate_max_hz: int | None = None

    def get(self, limit_key: str) -> int | None:
        """Value by program-file limit key (``amplitude_max_ma`` ...)."""
        value: int | None = getattr(self, P.LIMITS[limit_key].attr)
        return value

    def range_of(self, key: str, mode: Mode, family: P.Family = P.Family.SCS_R) -> tuple[int, int]:
        """The patient's allowed range of parameter ``key`` (unset sides: the mode's range
        on ``family``)."""
        spec = P.family_params(family, mode)[key]
        param = P.BY_KEY[key]
        lo = self.get(P.Limit(param, "min").key)
        hi = self.get(P.Limit(param, "max").key)
        return (spec.minimum if lo is None else lo), (spec.maximum if hi is None else hi)

    def amp_range(self, mode: Mode, family: P.Family = P.Family.SCS_R) -> tuple[int, int]:
        """The patient's allowed amplitude range in uA (defaults: the mode's range)."""
        return self.range_of("amplitude_ma", mode, family)

    def set_values(self) -> dict[str, int]:
        """The limits that are set, by program-file limit key, in table order."""
        out: dict[str, int] = {}
        for key in P.LIMITS:
            value = self.get(key)
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True)
class ClosedLoop:
    """A program's closed-loop settings (``params.LOOP_TABLE``: one field per row): whether
    the loop holds the ECAP to ``target_uv``, its gain in uA per uV, and the two contacts
    it senses on (None: not given). Only the closed-loop family takes them."""

    loop: P.LoopMode = P.LoopMode.OPEN
    target_uv: int = P.LOOP_TARGET_DEFAULT_UV
    gain_ua_per_uv: int = P.LOOP_GAIN_DEFAULT
    sense: tuple[str, str] | None = None

    @property
    def closed(self) -> bool:
        return self.loop is P.LoopMode.ECAP

    def sense_wire(self) -> str:
        """``6,7`` as the wire writes the pair ("" when not given)."""
        return "" if self.sense is None else ",".join(self.sense)


@dataclass(frozen=True)
class DeviceModel:
    """What the program runs on: battery chemistry, contact impedances (ohm) and the device
    family, whose rules (``params.FAMILIES``) apply. ``chemistry`` left empty is the family's."""

    chemistry: str = ""
    impedance_overrides: tuple[tuple[str, float], ...] = ()
    family: P.Family = P.Family.SCS_R

    def __post_init__(self) -> None:
        if not self.chemistry:
            object.__setattr__(self, "chemistry", self.spec.chemistry)

    @property
    def spec(self) -> P.FamilySpec:
        return P.FAMILIES[self.family]

    def impedance(self, contact: str) -> float:
        for c, z in self.impedance_overrides:
            if c == contact:
                return z
        return P.CASE_IMPEDANCE_OHM if contact == P.CASE else self.spec.contact_impedance_ohm

    def contact_area_cm2(self, contact: str) -> float:
        return P.CASE_AREA_CM2 if contact == P.CASE else self.spec.contact_area_cm2

    def impedances(self) -> dict[str, float]:
        """Every contact of the family (the case only where it has one)."""
        return {c: self.impedance(c) for c in self.spec.contacts}

    def with_impedances(self, values: Mapping[str, float]) -> DeviceModel:
        merged = dict(self.impedance_overrides)
        merged.update(values)
        return replace(self, impedance_overrides=tuple(sorted(merged.items(), key=_contact_order)))


def _contact_order(item: tuple[str, object]) -> int:
    try:
        return P.CONTACTS.index(item[0])
    except ValueError:
        return len(P.CONTACTS)


@dataclass(frozen=True)
class Program:
    """One stimulation program (a slot's content), canonical integer units.

    Amplitude in uA, times in us (pulse width, gap) or ms (cycling, ramp), rates in Hz.
    ``rate_hz`` is the burst rate in burst mode.
    """

    mode: Mode
    amplitude_ua: int
    pulse_width_us: int
    rate_hz: int
    electrodes: Electrodes
    interphase_us: int = 0
    recharge: Recharge = Recharge.ACTIVE
    burst_pulses: int | None = None
    intraburst_rate_hz: int | None = None
    cycle_on_ms: int = 0
    cycle_off_ms: int = 0
    ramp_ms: int = 0
    limits: Limits = field(default_factory=Limits)
    name: str = ""
    slot: int = 1
    closed_loop: ClosedLoop | None = None  #: None: no closed-loop key given (open loop)

    # Friendly views in the units people use.
    @property
    def amplitude_ma(self) -> float:
        return self.amplitude_ua / 1000.0

    @property
    def cycling(self) -> bool:
        return bool(self.cycle_on_ms) and bool(self.cycle_off_ms)

    def canonical(self, key: str) -> int | None:
        """A numeric parameter by program-file key, in canonical units."""
        value: int | None = getattr(self, P.BY_KEY[key].attr)
        return value

    def values(self) -> dict[str, int | None]:
        """Every numeric parameter by program-file key, in table order."""
        return {p.key: self.canonical(p.key) for p in P.TABLE}

    def with_amplitude(self, amplitude_ua: int) -> Program:
        return replace(self, amplitude_ua=amplitude_ua)

    def with_values(self, values: Mapping[str, int | None]) -> Program:
        """A copy with numeric parameters replaced, by program-file key."""
        changes: dict[str, Any] = {P.BY_KEY[key].attr: value for key, value in values.items()}
        return replace(self, **changes)


def canonical_field(key: str) -> str:
    """Program attribute name of a program-file key (``amplitude_ma`` -> ``amplitude_ua``)."""
    return P.BY_KEY[key].attr


#: Program fields that are not numeric parameters of the table.
PROGRAM_FIELDS = ("mode", "electrodes", "recharge", "limits", "name", "slot", "closed_loop")
