"""How every benchmark times a call: the best of a few repeats, so a busy machine's
stalls do not count against the code."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_ms(fn: Callable[[], object], repeats: int = 7, number: int = 1) -> float:
    """The fastest of ``repeats`` runs of ``number`` calls of ``fn``, in ms per call."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best * 1000.0


def best_s(fn: Callable[[], object], repeats: int = 3) -> float:
    """The fastest of ``repeats`` single calls of ``fn``, in seconds (for the long runs)."""
    return best_ms(fn, repeats) / 1000.0
