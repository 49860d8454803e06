"""The closed-loop family's ECAP verbs: ``ECAP``, ``ECAP SWEEP`` and ``ECAP STREAM``.

``ECAP`` reports the ECAP of the moment and the loop's figures (any role); ``ECAP SWEEP
FROM= TO= STEP=`` measures the growth curve (clinician, stimulation on), one ``!ECAPPT`` per
amplitude, and leaves the amplitude where it was; ``ECAP STREAM=1/0`` sends ``!ECAP`` ten
times a second while stimulating (any role). A family without a closed loop does not know
the verb (UNKNOWN_VERB). Each checks everything before it changes anything.
"""

from __future__ import annotations

from ..engine import params as P
from ..protocol.codec import ArgPair, Request
from .ecap_loop import STREAM_PERIOD_S, EcapLoop, fmt_uv
from .refusal import Refusal, bad_arg, out_of_range, parse_int, split_args, state
from .state import CLINICIAN, GeneratorState
from .verbs_session import flag

SWEEP_MAX_POINTS = 100  #: the most amplitudes one sweep measures


def _loop(gen: GeneratorState) -> EcapLoop:
    if gen.ecap is None:
        raise Refusal("UNKNOWN_VERB")
    return gen.ecap


def verb_ecap(gen: GeneratorState, req: Request) -> list[ArgPair]:
    loop = _loop(gen)
    first = next((value.upper() for key, value in req.args if key is None), None)
    if first == "SWEEP":
        return _sweep(gen, loop, req)
    values, _ = split_args(req, ("STREAM",))
    if "STREAM" in values:
        if values["STREAM"] not in ("0", "1"):
            raise bad_arg("STREAM")
        on = values["STREAM"] == "1"
        if on and not loop.stream:
            loop.stream_next = gen.t + STREAM_PERIOD_S
        loop.stream = on
        return [("STREAM", flag(on))]
    gen.loop_sync()
    program = gen.active_program()
    reading = loop.reading(gen.t)
    amp = reading.amplitude_ua if gen.stim else gen.output_amp_ua()
    closed_loop = program.closed_loop if program is not None else None
    target = closed_loop.target_uv if closed_loop is not None else P.LOOP_TARGET_DEFAULT_UV
    t_ua = 0 if program is None else loop.threshold_ua(gen.t, program, gen.device_model())
    return [("ECAP_UV", fmt_uv(reading.ecap_uv)), ("AMP", str(amp)), ("T_UA", str(t_ua)),
            ("SLOPE", P.fmt_number(loop.slope_uv_per_ma)), ("TARGET_UV", str(target)),
            ("LOOP", flag(closed_loop is not None and closed_loop.closed))]


def _sweep(gen: GeneratorState, loop: EcapLoop, req: Request) -> list[ArgPair]:
    if gen.role != CLINICIAN:
        raise Refusal("DENIED", [("NEED", CLINICIAN)])
    values, _ = split_args(req, ("FROM", "TO", "STEP"), ("SWEEP",))
    for key in ("FROM", "TO", "STEP"):
        if key not in values:
            raise bad_arg(key)
    low = parse_int("FROM", values["FROM"])
    high = parse_int("TO", values["TO"])
    step = parse_int("STEP", values["STEP"])
    program = gen.active_program()
    if program is None:
        raise state("EMPTY")
    device = gen.device_model()
    top = loop.sweep_max_ua(program, device, gen.acknowledged())
    spec = P.family_params(gen.family, program.mode)["amplitude_ma"]
    if not spec.minimum <= low <= top:
        raise out_of_range("FROM", spec.minimum, top)
    if not low <= high <= top:
        raise out_of_range("TO", low, top)
    fewest = max(1, -(-(high - low) // (SWEEP_MAX_POINTS - 1)))  # the smallest step giving at most 100 points
    if not fewest <= step <= max(fewest, high - low):
        raise out_of_range("STEP", fewest, max(fewest, high - low))
    if not gen.stim:
        raise state("STIM_OFF")
    gen.loop_sync()
    amplitudes = list(range(low, high + 1, step))
    for reading in loop.sweep(gen.t, program, device, amplitudes):
        gen.emit("ECAPPT", [("AMP", str(reading.amplitude_ua)), ("UV", fmt_uv(reading.ecap_uv))])
    return [("N", str(len(amplitudes)))]
