"""Every default of the virtual patient, once: the one table a scenario's ``patient`` block overrides.

Each row names a figure of the model (docs/patient.md), its unit, the range a scenario may
set it to and where it comes from (a published figure, or this project's choice). ``Params``
has one field per row, so the model reads its numbers from one place and a scenario that
changes one of them changes it everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from types import MappingProxyType
from typing import Any

#: Postures, each with its CSF-depth shift row ``dd_<posture>``.
POSTURES = ("supine", "sitting", "standing", "prone")


@dataclass(frozen=True)
class Default:
    """One row: ``kind`` is ``number``, ``label`` (a spine level such as ``"T9.5"``), ``posture``
    or ``days`` (a number or null for none)."""

    key: str
    value: float | str | None
    unit: str
    low: float
    high: float
    meaning: str
    source: str = ""
    kind: str = "number"


_ROWS: tuple[Default, ...] = (
    # --- the patient's own factors ---------------------------------------------------------
    Default("eps", 1.0, "", 0.2, 5.0, "the patient's own threshold factor"),
    Default("dt_ratio", 1.6, "", 1.3, 2.0, "discomfort threshold over perception threshold"),
    Default("best_level", "T9.5", "level", 1.0, 25.99, "the level where sub-perception relief is best",
            kind="label"),
    Default("responsiveness", 1.0, "", 0.0, 2.0, "how much relief this patient gets from a given program"),
    Default("tolerance_days", None, "days", 0.1, 3650.0, "relief fades with days of use (null: never)",
            kind="days"),
    Default("posture", "sitting", "", 0.0, 0.0, "posture during the session", kind="posture"),
    Default("baseline_vas", 7.5, "0..10", 0.0, 10.0, "pain score without stimulation"),
    # --- CSF depth behind the cord and posture ------------------------------------------
    Default("csf_c5_mm", 2.75, "mm", 0.5, 15.0, "dorsal CSF depth at C5", "Holsheimer 1994"),
    Default("csf_t6_mm", 6.2, "mm", 0.5, 15.0, "dorsal CSF depth at T6", "Holsheimer 1994"),
    Default("csf_t11_mm", 4.0, "mm", 0.5, 15.0, "dorsal CSF depth at T11", "Holsheimer 1994"),
    Default("dd_supine", -1.0, "mm", -5.0, 5.0, "CSF depth change lying on the back",
            "direction: Cameron & Alo 1998"),
    Default("dd_sitting", 0.0, "mm", -5.0, 5.0, "CSF depth change sitting"),
    Default("dd_standing", 0.3, "mm", -5.0, 5.0, "CSF depth change standing"),
    Default("dd_prone", 2.2, "mm", -5.0, 5.0, "CSF depth change lying on the front"),
    # --- thresholds --------------------------------------------------------------------------
    Default("rheobase_ma", 2.5, "mA", 0.1, 20.0, "rheobase of the perception threshold", "Yearwood 2010"),
    Default("chronaxie_us", 295.0, "us", 10.0, 2000.0, "chronaxie of the perception threshold", "Yearwood 2010"),
    Default("d_ref_mm", 5.0, "mm", 0.5, 15.0, "CSF depth where the threshold is the rheobase curve's"),
    Default("lambda_mm", 2.0, "mm", 0.2, 20.0, "CSF depth that multiplies the threshold by e"),
    Default("lateral_gain", 0.2, "", 0.0, 0.9, "threshold drop of a cathode 2 mm or more off the midline"),
    Default("lateral_mm", 2.0, "mm", 0.1, 10.0, "offset beyond which a cathode is lateral"),
    Default("burst_factor", 0.8, "", 0.1, 2.0, "burst threshold over tonic (temporal summation)"),
    Default("hf_pt_ma", 7.5, "mA", 0.5, 30.0, "high-frequency threshold at the reference pulse width",
            "above the 1..5 mA band: Lempka 2015"),
    Default("hf_ref_pw_us", 30.0, "us", 10.0, 200.0, "reference pulse width of hf_pt_ma"),
    Default("s_longitudinal", 1.2, "", 0.5, 3.0, "threshold factor when every anode is on a cathode's lead"),
    Default("s_transverse", 1.5, "", 0.5, 3.0, "threshold factor when an anode is on the other lead only"),
    Default("dt_lateral", 0.85, "", 0.5, 1.0, "discomfort threshold factor of a lateral cathode"),
    # --- where it is felt --------------------------------------------------------------------
    Default("spread_rostral", 0.5, "levels", 0.0, 3.0, "paresthesia reaches this far above the cathode"),
    Default("spread_base", 0.5, "levels", 0.0, 4.0, "paresthesia below the cathode at threshold, 300 us"),
    Default("spread_amp", 1.5, "levels", 0.0, 10.0, "more levels per unit of I/PT above 1", "direction: Holsheimer 2011"),
    Default("spread_pw", 0.5, "levels", 0.0, 4.0, "more levels per 200 us above 300 us", "direction: Yearwood 2010"),
    Default("spread_min", 0.25, "levels", 0.0, 4.0, "the least caudal spread"),
    Default("spread_max", 4.0, "levels", 0.25, 10.0, "the most caudal spread"),
    # --- relief -------------------------------------------------------------------------------
    Default("r_tonic", 0.55, "", 0.0, 1.0, "relief of full paresthesia coverage", "SENZA-RCT tonic 44..56 %"),
    Default("tau_tonic_min", 5.0, "min", 0.1, 600.0, "wash-in of paresthesia relief"),
    Default("r_hf10k", 0.65, "", 0.0, 1.0, "relief of 10 kHz in its band at the best level", "SENZA-RCT"),
    Default("hf10k_band_low_ma", 1.0, "mA", 0.0, 15.0, "10 kHz therapeutic band, bottom"),
    Default("hf10k_band_high_ma", 5.0, "mA", 0.0, 15.0, "10 kHz therapeutic band, top"),
    Default("hf10k_min_hz", 5000.0, "Hz", 1000.0, 10000.0, "from this rate up, hf is \"10 kHz\""),
    Default("r_hf1k", 0.60, "", 0.0, 1.0, "relief of 1 kHz sub-perception in its band"),
    Default("hf1k_band_low", 0.3, "PT", 0.0, 1.0, "1 kHz band, bottom, as a share of PT"),
    Default("hf1k_band_high", 0.9, "PT", 0.0, 1.0, "1 kHz band, top, as a share of PT"),
    Default("tau_hf_h", 24.0, "h", 0.01, 1000.0, "wash-in of high-frequency relief"),
    Default("r_burst", 0.60, "", 0.0, 1.0, "relief of burst in its band", "SUNBURST; Chakravarthy 2019"),
    Default("burst_band_low", 0.2, "PT", 0.0, 1.0, "burst band, bottom, as a share of PT"),
    Default("burst_band_high", 0.9, "PT", 0.0, 1.0, "burst band, top, as a share of PT"),
    Default("tau_burst_h", 12.0, "h", 0.01, 1000.0, "wash-in of burst relief"),
    Default("relief_max", 0.95, "", 0.0, 1.0, "no program relieves more than this"),
    Default("tau_off_tonic_min", 5.0, "min", 0.1, 6000.0, "wash-out after tonic stops"),
    Default("tau_off_sub_min", 60.0, "min", 0.1, 6000.0, "wash-out after burst or high frequency stops"),
    Default("responder_relief", 0.5, "", 0.0, 1.0, "relief that makes a responder", "SENZA-RCT"),
    Default("remission_vas", 2.5, "0..10", 0.0, 10.0, "pain score at or below which pain is in remission",
            "SENZA-RCT"),
    # --- dorsal root ganglion (DRG) leads ------------------------------------------------
    Default("drg_rheobase_ma", 0.35, "mA", 0.01, 5.0, "rheobase of a DRG lead's perception threshold "
            "(no posture, no CSF)", "this project's choice: DRG thresholds an order below SCS"),
    Default("drg_r_tonic", 0.70, "", 0.0, 1.0, "relief of full paresthesia coverage from DRG leads",
            "ACCURATE: 81 % vs 56 % responders at 3 months"),
    # --- lead geometry ------------------------------------------------------------------------
    Default("spacing_mm", 7.0, "mm", 3.5, 30.0, "contact spacing, centre to centre (a lead may set its own)"),
    Default("contact_mm", 3.0, "mm", 1.0, 10.0, "contact length"),
)

#: The table by key.
TABLE = MappingProxyType({row.key: row for row in _ROWS})


def _d(key: str) -> Any:
    """A field's default, read from the table (a label is kept as text, converted by ``Params``)."""
    return TABLE[key].value


@dataclass(frozen=True)
class Params:
    """The patient's figures: one field per table row, defaults from the table.

    ``best_level`` is a level ordinal (``"T9.5"`` in a file, 16.5 here).
    """

    eps: float = _d("eps")
    dt_ratio: float = _d("dt_ratio")
    best_level: float = 16.5  # TABLE["best_level"] is "T9.5"; a test holds the two together
    responsiveness: float = _d("responsiveness")
    tolerance_days: float | None = _d("tolerance_days")
    posture: str = _d("posture")
    baseline_vas: float = _d("baseline_vas")
    csf_c5_mm: float = _d("csf_c5_mm")
    csf_t6_mm: float = _d("csf_t6_mm")
    csf_t11_mm: float = _d("csf_t11_mm")
    dd_supine: float = _d("dd_supine")
    dd_sitting: float = _d("dd_sitting")
    dd_standing: float = _d("dd_standing")
    dd_prone: float = _d("dd_prone")
    rheobase_ma: float = _d("rheobase_ma")
    chronaxie_us: float = _d("chronaxie_us")
    d_ref_mm: float = _d("d_ref_mm")
    lambda_mm: float = _d("lambda_mm")
    lateral_gain: float = _d("lateral_gain")
    lateral_mm: float = _d("lateral_mm")
    burst_factor: float = _d("burst_factor")
    hf_pt_ma: float = _d("hf_pt_ma")
    hf_ref_pw_us: float = _d("hf_ref_pw_us")
    s_longitudinal: float = _d("s_longitudinal")
    s_transverse: float = _d("s_transverse")
    dt_lateral: float = _d("dt_lateral")
    spread_rostral: float = _d("spread_rostral")
    spread_base: float = _d("spread_base")
    spread_amp: float = _d("spread_amp")
    spread_pw: float = _d("spread_pw")
    spread_min: float = _d("spread_min")
    spread_max: float = _d("spread_max")
    r_tonic: float = _d("r_tonic")
    tau_tonic_min: float = _d("tau_tonic_min")
    r_hf10k: float = _d("r_hf10k")
    hf10k_band_low_ma: float = _d("hf10k_band_low_ma")
    hf10k_band_high_ma: float = _d("hf10k_band_high_ma")
    hf10k_min_hz: float = _d("hf10k_min_hz")
    r_hf1k: float = _d("r_hf1k")
    hf1k_band_low: float = _d("hf1k_band_low")
    hf1k_band_high: float = _d("hf1k_band_high")
    tau_hf_h: float = _d("tau_hf_h")
    r_burst: float = _d("r_burst")
    burst_band_low: float = _d("burst_band_low")
    burst_band_high: float = _d("burst_band_high")
    tau_burst_h: float = _d("tau_burst_h")
    relief_max: float = _d("relief_max")
    tau_off_tonic_min: float = _d("tau_off_tonic_min")
    tau_off_sub_min: float = _d("tau_off_sub_min")
    responder_relief: float = _d("responder_relief")
    remission_vas: float = _d("remission_vas")
    drg_rheobase_ma: float = _d("drg_rheobase_ma")
    drg_r_tonic: float = _d("drg_r_tonic")
    spacing_mm: float = _d("spacing_mm")
    contact_mm: float = _d("contact_mm")

    def posture_shift_mm(self, posture: str) -> float:
        """``dd`` of a posture; ValueError names the postures there are."""
        if posture not in POSTURES:
            raise ValueError(f"{posture!r} is not a posture (allowed: {', '.join(POSTURES)})")
        value: float = getattr(self, f"dd_{posture}")
        return value

    def with_values(self, **values: Any) -> Params:
        return replace(self, **values)


def field_names() -> tuple[str, ...]:
    return tuple(f.name for f in fields(Params))


def markdown_table() -> str:
    """The table as docs/patient.md shows it (a test keeps the two in step)."""
    lines = ["| key | default | unit | a scenario may set | meaning | source |", "|---|---|---|---|---|---|"]
    for row in _ROWS:
        value = "null" if row.value is None else str(row.value)
        if row.kind == "number" or row.kind == "days":
            allowed = f"{row.low:g}..{row.high:g}" + (" or null" if row.kind == "days" else "")
        elif row.kind == "label":
            allowed = "a level C1..S1"
        else:
            allowed = ", ".join(POSTURES)
        lines.append(f"| `{row.key}` | {value} | {row.unit} | {allowed} | {row.meaning} | {row.source} |")
    return "\n".join(lines)
