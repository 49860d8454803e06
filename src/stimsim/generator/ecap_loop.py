"""The closed-loop family's ECAP loop, run in the generator's time.

A closed-loop generator senses the evoked compound action potential (ECAP) after its
pulses and, with ``LOOP=ECAP``, moves the amplitude to hold the ECAP at the program's
target. The nerve and the loop's update are the ``closedloop`` package's (``VirtualNerve``,
``step``, ``clamp_for``, ``update_pulse``); this module only runs them in the generator's
time: the first update on the first pulse after stimulation starts (or its program changes),
then one per pulse, at most every 10 ms, and ``!ECAP`` events ten times a second while
streaming. What the emulator's SIM controls set (posture, cough, noise, eps) is environment:
it survives SIM RESET and is never saved.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

from ..closedloop import Clamp, VirtualNerve, clamp_for, step, update_pulse
from ..closedloop import defaults as D
from ..closedloop.loop import first_update_at
from ..closedloop.nerve import EPS_RANGE
from ..engine.params import fmt_number
from ..engine.program import DeviceModel, Limits, Program
from ..patient.defaults import POSTURES, Params
from ..protocol.codec import ArgPair

#: ``emit(name, args)``: how the loop queues an event (the generator state's ``emit``)
EmitFn = Callable[[str, Sequence[ArgPair]], None]
STREAM_PERIOD_S = 0.1  #: ``!ECAP`` ten times a second while streaming
CATCH_UP_S = 5.0  #: after a longer silence only the last 5 s of loop time are played (bounded work)
NOISE_RANGE_UV = (0.0, 100.0)  #: what ``SIM ECAP_NOISE=`` accepts
EPS_LIMITS = EPS_RANGE  #: what ``SIM EPS=`` accepts


@dataclass(frozen=True)
class Reading:
    """One pulse's ECAP (uV, with noise) and the amplitude (uA) that evoked it."""

    ecap_uv: float
    amplitude_ua: int


@dataclass
class _Run:
    """Stimulation under one program: where the loop stands."""

    program: Program
    device: DeviceModel
    acknowledged: bool
    start_t: float
    clamp: Clamp
    amplitude_ua: int  #: the amplitude of the moment (the loop's, or the program's in open loop)
    next_update: int = 0
    last: Reading | None = None


class EcapLoop:
    """The virtual nerve and the loop of one closed-loop generator (see the module docstring)."""

    def __init__(self) -> None:
        # environment (SIM controls)
        self.posture = Params().posture
        self.cough_until = -math.inf
        self.noise_uv = D.NOISE_UV
        self.eps = 1.0
        # RAM
        self.stream = False
        self.stream_next = 0.0
        self._run: _Run | None = None
        self._nerve: VirtualNerve | None = None
        self._nerve_key: tuple[Program, DeviceModel] | None = None
        self._seed = 0

    def reboot(self) -> None:
        """RAM lost: no stream, no run (the environment stays)."""
        self.stream = False
        self._run = None

    # --- what the device's state says ------------------------------------------------------

    def sync(self, t: float, program: Program | None, device: DeviceModel, stimulating: bool,
             acknowledged: bool) -> None:
        """Follow the output: a run starts (at the program's amplitude) when stimulation starts
        or its program, device or acknowledgement changes, and ends when stimulation stops."""
        if not stimulating or program is None:
            self._run = None
            return
        run = self._run
        if run is not None and (run.program, run.device, run.acknowledged) == (program, device, acknowledged):
            return
        clamp = clamp_for(program, device, acknowledged=acknowledged)
        self._run = _Run(program, device, acknowledged, t, clamp, program.amplitude_ua)
        self.nerve(program, device)
        if self.stream:
            self.stream_next = t

    def nerve(self, program: Program, device: DeviceModel) -> VirtualNerve:
        """The virtual nerve under ``program`` (built again when the device's contacts change)."""
        key = (program, device)
        if self._nerve is None or self._nerve_key is None or self._nerve_key[1] != device:
            self._seed += 1
            self._nerve = VirtualNerve.reference(program, self.eps, device, posture=self.posture,
                                                 noise_uv=self.noise_uv, seed=self._seed)
        elif self._nerve_key != key:
            self._nerve.program = program
        self._nerve_key = key
        return self._nerve

    # --- time ------------------------------------------------------------------------------

    def advance(self, start: float, end: float, emit: EmitFn) -> None:
        """Run the loop's updates and the stream's events falling in (``start``, ``end``]."""
        run = self._run
        if run is None or end <= start:
            return
        closed = _closed(run.program)
        rate = run.program.rate_hz
        if end - start > CATCH_UP_S:  # a long silence: its earlier part changed nothing anyone sees
            since = end - CATCH_UP_S
            run.next_update = max(run.next_update, first_update_at(Fraction(since - run.start_t), rate))
            self.stream_next = max(self.stream_next, since)
        while True:
            t_update = run.start_t + update_pulse(run.next_update, rate) / rate if closed else math.inf
            t_event = self.stream_next if self.stream else math.inf
            t = min(t_update, t_event)
            if t > end:
                return
            self._set_cough(t)
            if t_update <= t_event:
                self._update(run)
            else:
                reading = self.reading(t)
                emit("ECAP", [("UV", fmt_uv(reading.ecap_uv)), ("AMP", str(reading.amplitude_ua))])
                self.stream_next += STREAM_PERIOD_S

    def _update(self, run: _Run) -> None:
        loop = run.program.closed_loop
        assert loop is not None
        nerve = self.nerve(run.program, run.device)
        ecap = nerve.measure(run.amplitude_ua)
        run.last = Reading(ecap, run.amplitude_ua)
        run.amplitude_ua = step(run.amplitude_ua, ecap, loop.target_uv, loop.gain_ua_per_uv, run.clamp)
        run.next_update += 1

    def _set_cough(self, t: float) -> None:
        cough = t < self.cough_until
        if self._nerve is not None and self._nerve.cough != cough:
            self._nerve.cough = cough

    # --- what it reports -------------------------------------------------------------------

    def amplitude_ua(self, program: Program | None) -> int:
        """The amplitude of the moment: the loop's while it runs, else the program's."""
        if self._run is not None:
            return self._run.amplitude_ua
        return 0 if program is None else program.amplitude_ua

    def reading(self, t: float) -> Reading:
        """The ECAP of the moment: the loop's last reading, or (open loop, or no update yet) a
        pulse's measurement now; 0 uV when not stimulating."""
        run = self._run
        if run is None:
            return Reading(0.0, 0)
        if _closed(run.program) and run.last is not None:
            return run.last
        self._set_cough(t)
        nerve = self.nerve(run.program, run.device)
        return Reading(nerve.measure(run.amplitude_ua), run.amplitude_ua)

    def threshold_ua(self, t: float, program: Program, device: DeviceModel) -> int:
        """T, the ECAP threshold, in the posture and cough of the moment."""
        self._set_cough(t)
        return round(self.nerve(program, device).threshold_ma * 1000)

    def sweep(self, t: float, program: Program, device: DeviceModel, amplitudes: list[int]) -> list[Reading]:
        """One measurement at each amplitude (the growth curve); the loop's amplitude is untouched."""
        self._set_cough(t)
        nerve = self.nerve(program, device)
        return [Reading(nerve.measure(a), a) for a in amplitudes]

    def sweep_max_ua(self, program: Program, device: DeviceModel, acknowledged: bool) -> int:
        """The largest amplitude a sweep may deliver: the loop's clamp without the patient's limits."""
        return clamp_for(replace(program, limits=Limits()), device, acknowledged=acknowledged).high_ua

    # --- the emulator's controls ------------------------------------------------------------

    def set_posture(self, posture: str) -> None:
        self.posture = posture
        if self._nerve is not None:
            self._nerve.posture = posture

    def cough(self, t: float) -> None:
        """A cough from now for ``cough_s``; coughs do not stack (the later end holds)."""
        self.cough_until = max(self.cough_until, t + D.COUGH_S)
        self._set_cough(t)

    def set_noise(self, noise_uv: float) -> None:
        self.noise_uv = noise_uv
        if self._nerve is not None:
            self._nerve.noise_uv = noise_uv

    def set_eps(self, eps: float) -> None:
        self.eps = eps
        if self._nerve is not None:
            self._nerve.eps = eps

    @property
    def slope_uv_per_ma(self) -> float:
        return D.SLOPE_UV_PER_MA


def _closed(program: Program) -> bool:
    return program.closed_loop is not None and program.closed_loop.closed


def fmt_uv(value: float) -> str:
    """A microvolt figure on the wire: one decimal (``41.3``, ``0``)."""
    return fmt_number(round(value, 1) + 0.0)


__all__ = ["CATCH_UP_S", "EPS_LIMITS", "NOISE_RANGE_UV", "POSTURES", "STREAM_PERIOD_S", "EcapLoop", "Reading",
           "fmt_uv"]
