"""``evaluate_many``'s answer for many patients at once, whichever leads they have (SCS or DRG)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Batch:
    """``evaluate_many``'s answer: one row per patient, regions in ``regions.IDS`` order."""

    pt_ma: np.ndarray
    dt_ma: np.ndarray
    csf_depth_mm: np.ndarray  #: NaN for DRG leads (a root has no CSF depth)
    sensation: np.ndarray  #: index into SENSATIONS
    intensity: np.ndarray  #: NaN unless tingling
    covered: np.ndarray  #: (patients, 30) booleans
    coverage: np.ndarray
    relief_paresthesia: np.ndarray
    relief_sub: np.ndarray
