"""Pain relief over time: wash-in while a program runs, wash-out after it stops.

Two parts build toward their targets: relief through paresthesia (tonic, or any mode felt
above threshold; wash-in 5 min) and sub-perception relief (burst, high frequency; wash-in
12 h or 24 h). Each part moves toward its target by ``1 - exp(-dt/tau)`` per step, so a
program run from no relief for t gives exactly ``target * (1 - exp(-t/tau))`` however the
time is cut into steps. A part above its target falls with the wash-out constant. Relief is
``min(cap, responsiveness * max(parts) * exp(-days_on/tolerance_days))``.
"""

from __future__ import annotations

import math

from .defaults import Params
from .model import Response


class Relief:
    """The relief state of one patient; ``advance`` it by a time step with a program on or off."""

    def __init__(self, params: Params) -> None:
        self.params = params
        self.paresthesia = 0.0
        self.sub = 0.0
        self.days_on = 0.0  #: days of stimulation so far (tolerance fades relief with them)
        self._on = False

    def advance(self, seconds: float, response: Response | None) -> float:
        """Run ``seconds`` with stimulation giving ``response`` (None: stimulation off); the relief after."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"a time step must be 0 or more seconds, not {seconds!r}")
        p = self.params
        if response is None:
            if self._on:
                self._clip_to_cap()
            self._on = False
            self.paresthesia *= math.exp(-seconds / (p.tau_off_tonic_min * 60.0))
            self.sub *= math.exp(-seconds / (p.tau_off_sub_min * 60.0))
            return self.value
        self._on = True
        self.paresthesia = _toward(self.paresthesia, response.relief_paresthesia, seconds,
                                   response.tau_paresthesia_s, p.tau_off_tonic_min * 60.0)
        self.sub = _toward(self.sub, response.relief_sub, seconds, response.tau_sub_s, p.tau_off_sub_min * 60.0)
        self.days_on += seconds / 86400.0
        return self.value

    def _fade(self) -> float:
        tol = self.params.tolerance_days
        return 1.0 if tol is None else math.exp(-self.days_on / tol)

    def _clip_to_cap(self) -> None:
        """At switch-off, parts above the cap are brought to it, so wash-out starts from the relief felt."""
        scale = self.params.responsiveness * self._fade()
        top = max(self.paresthesia, self.sub) * scale
        if top > self.params.relief_max and top > 0:
            factor = self.params.relief_max / top
            self.paresthesia *= factor
            self.sub *= factor

    @property
    def value(self) -> float:
        """Relief now, 0..``relief_max``."""
        p = self.params
        return min(p.relief_max, p.responsiveness * max(self.paresthesia, self.sub) * self._fade())

    @property
    def vas(self) -> float:
        return self.params.baseline_vas * (1.0 - self.value)

    @property
    def responder(self) -> bool:
        return self.value >= self.params.responder_relief

    @property
    def remission(self) -> bool:
        return self.vas <= self.params.remission_vas


def _toward(value: float, target: float, seconds: float, tau_in: float, tau_out: float) -> float:
    tau = tau_in if target >= value else tau_out
    if tau <= 0:
        return target
    return target + (value - target) * math.exp(-seconds / tau)


def relief_after(params: Params, response: Response, seconds: float) -> Relief:
    """The relief state after ``response``'s program ran ``seconds`` from no relief."""
    state = Relief(params)
    state.advance(seconds, response)
    return state
