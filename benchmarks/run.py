"""Run every benchmark and print its figures: ``python benchmarks/run.py [NAME...]``.

Each ``bench_*.py`` module beside this file has ``run() -> list[(figure, value, target)]``.
Targets are checked here, in benchmarks, never in timed unit tests.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the benchmarks share timing.py


def _load(path: Path):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(names: list[str]) -> int:
    paths = sorted(HERE.glob("bench_*.py"))
    if names:
        paths = [p for p in paths if any(n in p.stem for n in names)]
    failed = 0
    for path in paths:
        print(f"== {path.stem}", flush=True)
        started = time.perf_counter()
        try:
            rows = _load(path).run()
        except Exception as exc:  # a broken benchmark is reported, the others still run
            print(f"   could not run: {type(exc).__name__}: {exc}")
            failed += 1
            continue
        for figure, value, target in rows:
            print(f"   {figure:<58} {value:>12.4g}  {target}")
        print(f"   ({time.perf_counter() - started:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
