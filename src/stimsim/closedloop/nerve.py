"""The virtual nerve: the evoked compound action potential (ECAP) a pulse raises.

``E = S * max(0, I - T) + noise`` uV, ``T = threshold_ratio * PT`` with PT the virtual
patient's perception threshold for the program's configuration and pulse width, in the
posture and cough of the moment (a cough takes ``cough_depth_mm`` of CSF away). ``I`` is
the delivered amplitude (after compliance limiting). The noise is Gaussian, seeded, and
added to every measurement, the first included. The therapeutic window is the ECAP at PT
up to the ECAP at DT, both included.

``VirtualNerve`` is the per-update API a device model drives: set the program, posture,
cough, noise and eps as the device's commands change them, and ``measure`` after a pulse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..engine import params as EP
from ..engine.load import compliance, load_ohm
from ..engine.program import DeviceModel, Program
from ..patient.defaults import Params
from ..patient.leads import Lead, Leads
from ..patient.model import Patient, evaluate_many
from ..patient.spine import parse_label
from . import defaults as D

#: The device's own virtual nerve: both leads' tops at T8, 1 mm either side of the midline.
REFERENCE_TOP = "T8"
REFERENCE_OFFSETS_MM = (-1.0, 1.0)
EPS_RANGE = (0.5, 2.0)  #: the eps a device's virtual nerve may be set to


def reference_patient(eps: float = 1.0) -> Patient:
    """patient.md's reference patient with both leads' tops at T8, offsets -1 and +1 mm."""
    params = Params().with_values(eps=float(eps))
    top = parse_label(REFERENCE_TOP)
    leads = Leads(tuple(Lead(name, top, offset, params.spacing_mm)
                        for name, offset in zip(("A", "B"), REFERENCE_OFFSETS_MM, strict=True)))
    return Patient.of(params, leads, {})


@dataclass(frozen=True)
class Thresholds:
    """The nerve's figures in one posture and cough state, mA and uV."""

    pt_ma: float
    dt_ma: float
    threshold_ma: float  #: T, the ECAP threshold
    slope_uv_per_ma: float
    window_low_uv: float  #: E at PT
    window_high_uv: float  #: E at DT

    def ecap_uv(self, delivered_ma: float) -> float:
        """The noise-free ECAP of a delivered amplitude."""
        return self.slope_uv_per_ma * max(0.0, delivered_ma - self.threshold_ma)

    def in_window(self, ecap_uv: float) -> bool:
        return self.window_low_uv <= ecap_uv <= self.window_high_uv


def posture_shift_mm(params: Params, posture: str, cough: bool, cough_depth_mm: float = D.COUGH_DEPTH_MM) -> float:
    """CSF depth change of a posture, less ``cough_depth_mm`` during a cough."""
    return params.posture_shift_mm(posture) - (cough_depth_mm if cough else 0.0)


def thresholds(patient: Patient, program: Program, posture: str, cough: bool, *,
               slope_uv_per_ma: float = D.SLOPE_UV_PER_MA, threshold_ratio: float = D.THRESHOLD_RATIO,
               cough_depth_mm: float = D.COUGH_DEPTH_MM) -> Thresholds:
    """PT and DT from the patient model, and the ECAP threshold and window they give.
    ValueError for a posture there is not or a contact on a lead the patient lacks."""
    dd = posture_shift_mm(patient.params, posture, cough, cough_depth_mm)
    batch = evaluate_many(patient, program, 0.0, np.array([patient.params.eps]), np.array([dd]))
    pt, dt = float(batch.pt_ma[0]), float(batch.dt_ma[0])
    t = threshold_ratio * pt
    low = slope_uv_per_ma * max(0.0, pt - t)
    high = slope_uv_per_ma * max(0.0, dt - t)
    return Thresholds(pt, dt, t, slope_uv_per_ma, low, high)


@dataclass(frozen=True)
class Output:
    """What the output stage delivers into the configuration's load: the largest amplitude
    (uA) it delivers in full, and what it delivers above that (mA)."""

    load_ohm: float
    full_max_ua: int
    limited_ma: float

    @classmethod
    def of(cls, program: Program, device: DeviceModel) -> Output:
        z = load_ohm(program.electrodes, device)
        top = math.floor((EP.RAIL_MAX_V - EP.RAIL_HEADROOM_V) * 1e6 / z)
        while compliance((top + 1) / 1000.0, z).limited is False:
            top += 1
        while top > 0 and compliance(top / 1000.0, z).limited:
            top -= 1
        return cls(z, top, compliance((top + 1) / 1000.0, z).delivered_ma)

    def delivered_ma(self, amplitude_ua: int) -> float:
        return amplitude_ua / 1000.0 if amplitude_ua <= self.full_max_ua else self.limited_ma

    def delivered_ma_array(self, amplitude_ua: np.ndarray) -> np.ndarray:
        return np.where(amplitude_ua <= self.full_max_ua, amplitude_ua / 1000.0, self.limited_ma)


class VirtualNerve:
    """One patient's nerve under one program, in the posture and cough of the moment.

    ``measure(amplitude_ua)`` is one pulse's ECAP with noise (sigma ``noise_uv``, from a
    generator seeded with ``seed``: one standard normal draw per measurement, whatever the
    sigma, so the sequence of draws does not depend on it). Setting ``program``,
    ``posture``, ``cough`` or ``eps`` moves the thresholds at once.
    """

    def __init__(self, patient: Patient, program: Program, device: DeviceModel | None = None, *,
                 posture: str | None = None, cough: bool = False, noise_uv: float = D.NOISE_UV, seed: int = 0,
                 slope_uv_per_ma: float = D.SLOPE_UV_PER_MA, threshold_ratio: float = D.THRESHOLD_RATIO,
                 cough_depth_mm: float = D.COUGH_DEPTH_MM) -> None:
        self._patient = patient
        self._program = program
        self._device = device or DeviceModel()
        self._posture = patient.params.posture if posture is None else posture
        self._cough = bool(cough)
        self.noise_uv = float(noise_uv)
        self.slope_uv_per_ma = float(slope_uv_per_ma)
        self.threshold_ratio = float(threshold_ratio)
        self.cough_depth_mm = float(cough_depth_mm)
        self._rng = np.random.default_rng(seed)
        self._refresh()

    @classmethod
    def reference(cls, program: Program, eps: float = 1.0, device: DeviceModel | None = None, *,
                  posture: str | None = None, cough: bool = False, noise_uv: float = D.NOISE_UV,
                  seed: int = 0) -> VirtualNerve:
        """A device's virtual nerve: the reference patient with leads at T8 (``reference_patient``)."""
        return cls(reference_patient(eps), program, device, posture=posture, cough=cough, noise_uv=noise_uv,
                   seed=seed)

    def _refresh(self) -> None:
        self._thresholds = thresholds(self._patient, self._program, self._posture, self._cough,
                                      slope_uv_per_ma=self.slope_uv_per_ma, threshold_ratio=self.threshold_ratio,
                                      cough_depth_mm=self.cough_depth_mm)
        self._output = Output.of(self._program, self._device)

    # --- what the device changes ------------------------------------------------------------
    @property
    def program(self) -> Program:
        return self._program

    @program.setter
    def program(self, program: Program) -> None:
        self._program = program
        self._refresh()

    @property
    def posture(self) -> str:
        return self._posture

    @posture.setter
    def posture(self, posture: str) -> None:
        self._patient.params.posture_shift_mm(posture)  # ValueError names the postures
        self._posture = posture
        self._refresh()

    @property
    def cough(self) -> bool:
        return self._cough

    @cough.setter
    def cough(self, cough: bool) -> None:
        self._cough = bool(cough)
        self._refresh()

    @property
    def eps(self) -> float:
        return self._patient.params.eps

    @eps.setter
    def eps(self, eps: float) -> None:
        self._patient = replace(self._patient, params=self._patient.params.with_values(eps=float(eps)))
        self._refresh()

    def reseed(self, seed: int) -> None:
        self._rng = np.random.default_rng(seed)

    # --- what it answers ----------------------------------------------------------------------
    @property
    def thresholds(self) -> Thresholds:
        return self._thresholds

    @property
    def pt_ma(self) -> float:
        return self._thresholds.pt_ma

    @property
    def dt_ma(self) -> float:
        return self._thresholds.dt_ma

    @property
    def threshold_ma(self) -> float:
        """T, the ECAP threshold."""
        return self._thresholds.threshold_ma

    @property
    def window_uv(self) -> tuple[float, float]:
        """The therapeutic window: E at PT .. E at DT, both included."""
        return self._thresholds.window_low_uv, self._thresholds.window_high_uv

    def delivered_ma(self, amplitude_ua: int) -> float:
        """The amplitude delivered into the configuration's load (after compliance limiting)."""
        return self._output.delivered_ma(amplitude_ua)

    def ecap_uv(self, amplitude_ua: int) -> float:
        """The noise-free ECAP of a programmed amplitude."""
        return self._thresholds.ecap_uv(self.delivered_ma(amplitude_ua))

    def measure(self, amplitude_ua: int) -> float:
        """One pulse's measured ECAP: the noise-free value plus one noise draw."""
        return self.ecap_uv(amplitude_ua) + self.noise_uv * float(self._rng.standard_normal())
