"""What the patient feels for a delivered program: thresholds, sensation, words, regions, coverage.

``evaluate`` answers for one patient and one posture; ``evaluate_many`` answers for many
patients at once (each with its own threshold factor ``eps`` and posture shift), all in
numpy arrays. The model is fed what the device reports it delivers: the program as read
back and the amplitude after compliance limiting. A patient with DRG leads is answered by
``drg_model`` (no CSF, no posture, each root's own regions).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..engine.load import program_compliance
from ..engine.params import Mode
from ..engine.program import DeviceModel, Program
from . import regions as RG
from .batch import Batch
from .defaults import Params
from .drg_leads import BIPOLE, DrgLeads
from .drg_model import drg_core, most_cathodic
from .leads import Cathode, Leads, cathode
from .spine import csf_depth_mm

NONE = "none"
TINGLING = "tingling"
UNCOMFORTABLE = "uncomfortable"
SENSATIONS = (NONE, TINGLING, UNCOMFORTABLE)


@dataclass(frozen=True)
class Patient:
    """A virtual patient: the figures, the implanted leads (SCS leads along the spine, or DRG
    leads at their roots) and the pain map (region id to 0..10)."""

    params: Params
    leads: Leads | DrgLeads
    pain: tuple[tuple[str, float], ...] = ()

    @classmethod
    def of(cls, params: Params, leads: Leads | DrgLeads, pain: Mapping[str, float]) -> Patient:
        unknown = [rid for rid in pain if rid not in RG.BY_ID]
        if unknown:
            raise ValueError(f"unknown region ids: {', '.join(unknown)}")
        return cls(params, leads, tuple((rid, float(pain[rid])) for rid in RG.IDS if rid in pain))


@dataclass(frozen=True)
class Response:
    """What the patient feels and says for one program at one moment (no time yet: see ``relief``).

    ``relief_paresthesia`` and ``relief_sub`` are the relief the program would reach once
    washed in (before responsiveness and tolerance); ``tau_sub_s`` its sub-perception wash-in.
    For DRG leads ``cathode_level`` is the most cathodic lead's root and ``cathode_offset_mm``
    and ``csf_depth_mm`` are None (a root has neither).
    """

    posture: str
    mode: str
    amplitude_ma: float
    cathode_level: float
    cathode_offset_mm: float | None
    configuration: str
    csf_depth_mm: float | None
    pt_ma: float
    dt_ma: float
    sensation: str
    intensity: float | None
    says: str
    regions: tuple[str, ...]
    coverage: float
    relief_paresthesia: float
    relief_sub: float
    tau_paresthesia_s: float
    tau_sub_s: float
    tau_off_s: float

    @property
    def felt(self) -> bool:
        return self.sensation != NONE

    @property
    def subperception_mode(self) -> bool:
        """Burst and high frequency are meant to be felt as nothing."""
        return self.mode != Mode.TONIC

    @property
    def paresthesia_in_subperception(self) -> bool:
        """A programming error: a sub-perception mode above the perception threshold."""
        return self.subperception_mode and self.felt


def delivered_ma(program: Program, device: DeviceModel) -> float:
    """The amplitude the device delivers into this patient's load (after compliance limiting)."""
    return program_compliance(program, device).delivered_ma


def intensity_word(intensity: float) -> str:
    """mild below 1/3, moderate below 2/3, strong above."""
    if intensity < 1.0 / 3.0:
        return "mild"
    if intensity < 2.0 / 3.0:
        return "moderate"
    return "strong"


def says(sensation: str, intensity: float | None, regions: tuple[str, ...], lateral: bool) -> str:
    """The patient's words, made from the sensation, the regions' names and the intensity."""
    if sensation == NONE:
        return "I don't feel anything."
    if sensation == UNCOMFORTABLE:
        return "It's jolting, my muscles twitch." if lateral else "That's uncomfortable."
    word = intensity_word(intensity or 0.0)
    where = RG.describe(regions)
    return f"Tingling in {where}, {word}." if where else f"Tingling, but I can't tell where, {word}."


def _is_10k(program: Program, params: Params) -> bool:
    return program.mode == Mode.HF and program.rate_hz >= params.hf10k_min_hz


def _tau_sub_s(program: Program, params: Params) -> float:
    if program.mode == Mode.BURST:
        return params.tau_burst_h * 3600.0
    if program.mode == Mode.HF:
        return params.tau_hf_h * 3600.0
    return 0.0


def _core(patient: Patient, program: Program, cath: Cathode, amp: np.ndarray, eps: np.ndarray,
          dd: np.ndarray) -> Batch:
    p = patient.params
    pw = float(program.pulse_width_us)
    depth = csf_depth_mm(cath.z, p) + dd
    lateral = abs(cath.x) > p.lateral_mm
    m = 1.0 - p.lateral_gain * min(abs(cath.x) / p.lateral_mm, 1.0)
    strength = 1.0 + p.chronaxie_us / pw
    if program.mode == Mode.HF:
        base = p.hf_pt_ma * strength / (1.0 + p.chronaxie_us / p.hf_ref_pw_us)
    else:
        base = p.rheobase_ma * strength * (p.burst_factor if program.mode == Mode.BURST else 1.0)
    pt = base * np.exp((depth - p.d_ref_mm) / p.lambda_mm) * m * cath.s_cfg * eps
    dt = p.dt_ratio * pt * (p.dt_lateral if lateral else 1.0)
    felt = amp >= pt
    above = amp >= dt
    sensation = np.where(above, 2, np.where(felt, 1, 0))
    intensity = np.where(sensation == 1, (amp - pt) / (dt - pt), np.nan)
    spread = np.clip(p.spread_base + p.spread_amp * (amp / pt - 1.0) + p.spread_pw * (pw - 300.0) / 200.0,
                     p.spread_min, p.spread_max)
    keys = RG.KEY_LEVELS
    sides = np.sign(cath.x) == RG.SIDE_SIGN if lateral else np.ones(keys.size, dtype=bool)
    allowed = sides & (lateral | ~RG.LATERAL_ONLY) & (keys >= cath.z - p.spread_rostral)
    covered = felt[:, None] & allowed[None, :] & (keys[None, :] <= cath.z + spread[:, None])
    pain = RG.pain_vector(patient.pain)
    total = pain.sum()
    coverage = covered @ pain / total if total > 0 else np.zeros(felt.shape)
    relief_p = p.r_tonic * coverage
    relief_s = _sub_relief(program, p, cath.z, amp, pt)
    return Batch(pt, dt, depth, sensation, intensity, covered, coverage, relief_p, relief_s)


def _sub_relief(program: Program, p: Params, z: float, amp: np.ndarray, pt: np.ndarray) -> np.ndarray:
    """Sub-perception relief once washed in: the mode's figure, the level's fit and the band."""
    if program.mode == Mode.TONIC:
        return np.zeros(np.broadcast(amp, pt).shape)
    if program.mode == Mode.HF and program.rate_hz >= p.hf10k_min_hz:
        r, band = p.r_hf10k, (amp >= p.hf10k_band_low_ma) & (amp <= p.hf10k_band_high_ma)
    elif program.mode == Mode.HF:
        r, band = p.r_hf1k, (amp >= p.hf1k_band_low * pt) & (amp <= p.hf1k_band_high * pt)
    else:
        r, band = p.r_burst, (amp >= p.burst_band_low * pt) & (amp <= p.burst_band_high * pt)
    level_fit = float(np.exp(-((z - p.best_level) ** 2) / 2.0))
    return np.asarray(r * level_fit * band, dtype=np.float64)


def evaluate_many(patient: Patient, program: Program, delivered: float | np.ndarray, eps: np.ndarray,
                  posture_shift_mm: np.ndarray) -> Batch:
    """Many patients at once: ``eps`` and ``posture_shift_mm`` (``dd``) are per patient,
    ``delivered`` one amplitude or one per patient; the rest comes from ``patient`` (DRG
    leads ignore the posture shift)."""
    eps_a = np.asarray(eps, dtype=np.float64)
    dd = np.asarray(posture_shift_mm, dtype=np.float64)
    shape = np.broadcast_shapes(eps_a.shape, dd.shape, np.shape(delivered))
    amp = np.broadcast_to(np.asarray(delivered, dtype=np.float64), shape)
    if isinstance(patient.leads, DrgLeads):
        return drg_core(patient.params, patient.leads, patient.pain, program, amp, np.broadcast_to(eps_a, shape))
    cath = cathode(patient.leads, program.electrodes, patient.params)
    return _core(patient, program, cath, amp, np.broadcast_to(eps_a, shape), np.broadcast_to(dd, shape))


def evaluate(patient: Patient, program: Program, delivered: float, posture: str | None = None) -> Response:
    """What ``patient`` feels with ``program`` delivering ``delivered`` mA in ``posture``
    (default: the patient's own). ValueError for a contact on a lead the patient lacks."""
    p = patient.params
    posture = p.posture if posture is None else posture
    dd = p.posture_shift_mm(posture)
    if isinstance(patient.leads, DrgLeads):
        return _evaluate_drg(patient, patient.leads, program, delivered, posture)
    cath = cathode(patient.leads, program.electrodes, p)
    amp = np.array([float(delivered)])
    b = _core(patient, program, cath, amp, np.array([p.eps]), np.array([dd]))
    sensation = SENSATIONS[int(b.sensation[0])]
    intensity = float(b.intensity[0]) if sensation == TINGLING else None
    ids = tuple(sorted(rid for rid, on in zip(RG.IDS, b.covered[0], strict=True) if on))
    lateral = abs(cath.x) > p.lateral_mm
    tau_off_min = p.tau_off_tonic_min if program.mode == Mode.TONIC else p.tau_off_sub_min
    return Response(
        posture=posture,
        mode=program.mode.value,
        amplitude_ma=float(delivered),
        cathode_level=cath.z,
        cathode_offset_mm=cath.x,
        configuration=cath.configuration,
        csf_depth_mm=float(b.csf_depth_mm[0]),
        pt_ma=float(b.pt_ma[0]),
        dt_ma=float(b.dt_ma[0]),
        sensation=sensation,
        intensity=intensity,
        says=says(sensation, intensity, ids, lateral),
        regions=ids,
        coverage=float(b.coverage[0]),
        relief_paresthesia=float(b.relief_paresthesia[0]),
        relief_sub=float(b.relief_sub[0]),
        tau_paresthesia_s=p.tau_tonic_min * 60.0,
        tau_sub_s=_tau_sub_s(program, p),
        tau_off_s=tau_off_min * 60.0,
    )


def _evaluate_drg(patient: Patient, leads: DrgLeads, program: Program, delivered: float, posture: str) -> Response:
    """``evaluate`` for DRG leads: the posture is reported but changes nothing."""
    p = patient.params
    b = drg_core(p, leads, patient.pain, program, np.array([float(delivered)]), np.array([p.eps]))
    sensation = SENSATIONS[int(b.sensation[0])]
    intensity = float(b.intensity[0]) if sensation == TINGLING else None
    ids = tuple(sorted(rid for rid, on in zip(RG.IDS, b.covered[0], strict=True) if on))
    return Response(
        posture=posture,
        mode=program.mode.value,
        amplitude_ma=float(delivered),
        cathode_level=most_cathodic(leads, program.electrodes).level,
        cathode_offset_mm=None,
        configuration=BIPOLE,
        csf_depth_mm=None,
        pt_ma=float(b.pt_ma[0]),
        dt_ma=float(b.dt_ma[0]),
        sensation=sensation,
        intensity=intensity,
        says=says(sensation, intensity, ids, False),
        regions=ids,
        coverage=float(b.coverage[0]),
        relief_paresthesia=float(b.relief_paresthesia[0]),
        relief_sub=0.0,
        tau_paresthesia_s=p.tau_tonic_min * 60.0,
        tau_sub_s=0.0,
        tau_off_s=p.tau_off_tonic_min * 60.0,
    )
