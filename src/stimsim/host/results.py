"""What a device reports, as the client hands it on: HELLO, STATUS, BATT, LOG entries and the
closed-loop family's ECAP readings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HelloInfo:
    proto: str
    model: str
    fw: str
    sn: str
    boot: str
    role: str
    slots: int
    contacts: int
    strict: bool
    next_seq: int
    state_defaults: bool  #: the device found its stored state corrupt and started from defaults
    family: str = "SCS-R"  #: the device family (FAMILY=; a device that does not say is an SCS-R)


@dataclass(frozen=True)
class Status:
    stim: bool
    slot: int
    amp_ua: int
    batt_permille: int
    charging: bool
    role: str
    compliance_limited: bool
    mri: bool
    test: bool


@dataclass(frozen=True)
class Battery:
    permille: int
    vbat_mv: int
    chemistry: str  #: LIION or PRIMARY
    charging: bool
    state: str  #: OK, LOW, EMPTY, ERI, EOS
    est_h: float


@dataclass(frozen=True)
class LogEntry:
    i: int
    t_ms: int
    role: str
    what: str


@dataclass(frozen=True)
class EcapReading:
    """``ECAP``: the ECAP of the moment and the amplitude that evoked it, the nerve's threshold
    and slope, the program's target and whether the loop is closed (``LOOP=1``)."""

    ecap_uv: float
    amp_ua: int
    threshold_ua: int
    slope_uv_per_ma: float
    target_uv: int
    closed_loop: bool


@dataclass(frozen=True)
class EcapPoint:
    """One ECAP and its amplitude: a point of ``ECAP SWEEP`` (``!ECAPPT``) or of the stream (``!ECAP``)."""

    amp_ua: int
    ecap_uv: float
