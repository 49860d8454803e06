"""What the suite knows of the device's family (HELLO's ``FAMILY=``; none: SCS-R), read from the
parameter table: its modes, ranges and grids, its leads and case, the electrode configurations
and values a check may send, and where a patient step lands.

Checks write no contact, range or step by hand: they ask this view, so one suite judges every
family by the family's own rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from ..engine import params as P
from ..engine.params import Family, Mode


class UnknownFamily(ValueError):
    """HELLO named a family the suite does not know."""


@dataclass(frozen=True)
class DeviceFamily:
    family: Family = Family.SCS_R

    @classmethod
    def named(cls, text: str | None) -> DeviceFamily:
        """The family HELLO's ``FAMILY=`` names (None: the key is absent, an SCS-R)."""
        if text is None:
            return cls()
        try:
            return cls(Family(text))
        except ValueError:
            raise UnknownFamily(f"HELLO FAMILY={text} is not a family the suite knows "
                                f"({', '.join(Family)})") from None

    @property
    def name(self) -> str:
        return self.family.value

    @property
    def spec(self) -> P.FamilySpec:
        return P.FAMILIES[self.family]

    # modes and parameters ----------------------------------------------------------------

    @property
    def modes(self) -> tuple[Mode, ...]:
        return P.family_modes(self.family)

    def offers(self, mode: Mode) -> bool:
        return mode in self.modes

    def params(self, mode: Mode = Mode.TONIC) -> Mapping[str, P.ParamSpec]:
        return P.family_params(self.family, mode)

    def param(self, key: str, mode: Mode = Mode.TONIC) -> P.ParamSpec:
        return self.params(mode)[key]

    def value(self, key: str, want: int, mode: Mode = Mode.TONIC) -> int:
        """``want`` brought into the family's range of ``key`` and onto its grid (a setting a
        check picks freely, made valid for this family)."""
        spec = self.param(key, mode)
        inside: int = min(max(want, spec.minimum), spec.maximum)
        if spec.grid is None:
            return inside
        points = self.grid_points(key, mode)
        return int(min(points, key=lambda p: (abs(p - inside), p)))

    def grid_points(self, key: str, mode: Mode = Mode.TONIC) -> list[int]:
        """Every value of ``key`` in range and on the grid, ascending (the whole range where
        there is no grid)."""
        return list(_grid_points(self.family, mode, key))

    def amp_after_steps(self, amp: int, steps: int, mode: Mode = Mode.TONIC) -> int:
        """Where ``AMP STEP=+n``/``-n`` takes ``amp``: n patient steps of the table's size, or n
        grid points where the family steps from point to point (counted over the grid's own
        points, not by the generator's arithmetic)."""
        key = "amplitude_ma"
        grid = self.param(key, mode).grid
        if key in self.spec.patient_grid_steps and grid is not None:
            points = self.grid_points(key, mode)
            index = points.index(amp) + steps
            if index < 0:
                return points[0] - 1  # below the range
            return points[index] if index < len(points) else points[-1] + 1
        return amp + steps * P.BY_KEY[key].patient_step

    def steps_beyond(self, amp: int, limit: int, mode: Mode = Mode.TONIC) -> int:
        """The fewest patient steps up from ``amp`` that pass ``limit``."""
        n = 1
        while self.amp_after_steps(amp, n, mode) <= limit:
            n += 1
        return n

    def unfit_pulse(self) -> tuple[int, int, int] | None:
        """(RATE, the largest PW that fits, the smallest PW on the grid that does not) of a
        tonic program at the fastest tonic rate with active recharge and no gap; None where
        every pulse width of the family fits."""
        rate = int(self.param("rate_hz").maximum)
        fits = P.max_fitting_pw(rate, 0, P.Recharge.ACTIVE)
        over = [pw for pw in self.grid_points("pulse_width_us") if pw > fits]
        return (rate, fits, over[0]) if over else None

    # contacts and configurations ---------------------------------------------------------

    @property
    def has_case(self) -> bool:
        return self.spec.case_anode

    def lead(self, index: int) -> tuple[str, ...]:
        """The contacts of lead ``index`` (negative: from the last), distal first."""
        return self.spec.leads[index].contacts

    def contact(self, lead: int, at: int) -> str:
        """Contact ``at`` (0-based) of lead ``lead``; its last contact where the lead is shorter."""
        contacts = self.lead(lead)
        return contacts[min(at, len(contacts) - 1)]

    def bipole(self, lead: int = 0, at: int = 3) -> str:
        """A cathode and the next contact as its anode, on one lead (``4:-100,5:+100`` on an
        8-contact lead A)."""
        contacts = self.lead(lead)
        i = min(at, len(contacts) - 2)
        return f"{contacts[i]}:-100,{contacts[i + 1]}:+100"

    def bipole_contacts(self, lead: int = 0, at: int = 3) -> tuple[str, str]:
        """The (cathode, anode) of ``bipole``."""
        cathode, anode = (item.split(":")[0] for item in self.bipole(lead, at).split(","))
        return cathode, anode

    def single_cathode(self, lead: int = 0, at: int = 3) -> tuple[str, str]:
        """(cathode, configuration): one cathode taking all the current, and as its anode the
        case where the family has one, else the next two contacts of its lead at 50 % each,
        so the cathode alone carries the most current (``4:-100,CASE:+100``)."""
        contacts = self.lead(lead)
        if self.has_case:
            cathode = contacts[min(at, len(contacts) - 1)]
            return cathode, f"{cathode}:-100,CASE:+100"
        i = min(at, len(contacts) - 3)
        cathode = contacts[i]
        return cathode, f"{cathode}:-100,{contacts[i + 1]}:+50,{contacts[i + 2]}:+50"

    def spread(self, lead: int = 0) -> str:
        """Two cathodes and two anodes at 50 % each on one lead: no contact carries more
        than half the amplitude (the mode's largest amplitude stays under the contact
        interlock)."""
        c = self.lead(lead)
        return f"{c[0]}:-50,{c[1]}:-50,{c[2]}:+50,{c[3]}:+50"

    def absent_contacts(self) -> list[str]:
        """Contact numbers a configuration may name on the wire that the family does not have
        (the number after its last contact; the case is ``has_case``'s)."""
        last = max(int(c) for lead in self.spec.leads for c in lead.contacts)
        return [str(last + 1)]

    # programs ----------------------------------------------------------------------------

    def program(self, mode: Mode = Mode.TONIC, elec: str | None = None, **values: int | str) -> str:
        """PROG's keys (SLOT aside) of a plain program of ``mode``: ``values`` by wire key
        (``AMP=3000``), the amplitude 1 mA and every other required setting its smallest
        value where not given (each on the family's grid), and ``elec`` (default: ``bipole``).
        The smallest settings fit their periods in every mode of the table."""
        return self.program_of(values, mode, elec)

    def program_of(self, given: Mapping[str, int | str], mode: Mode = Mode.TONIC, elec: str | None = None) -> str:
        """``program`` with its values as a mapping."""
        values = dict(given)
        parts = [f"MODE={mode.wire}"]
        for key, spec in self.params(mode).items():
            if not spec.param.required:
                continue
            picked = values.pop(spec.wire, None)
            chosen = picked if picked is not None else self.value(key, 1000 if key == "amplitude_ma" else 0, mode)
            parts.append(f"{spec.wire}={chosen}")
        parts += [f"{key}={value}" for key, value in values.items()]
        parts.append(f"ELEC={elec or self.bipole()}")
        return " ".join(parts)


@cache
def _grid_points(family: Family, mode: Mode, key: str) -> tuple[int, ...]:
    spec = P.family_params(family, mode)[key]
    values = range(spec.minimum, spec.maximum + 1)
    return tuple(v for v in values if spec.grid is None or spec.grid.holds(v))
