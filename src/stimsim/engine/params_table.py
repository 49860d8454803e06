"""The parameter table as Markdown, for docs/model.md (a test keeps the doc in step)."""

from __future__ import annotations

from .params import PARAMS, RECHARGE, Mode, ParamSpec


def _cell(spec: ParamSpec | None) -> str:
    if spec is None:
        return "-"
    step = f", step {spec.fmt(spec.step)}" if spec.file_scale > 1 else ""
    return f"{spec.range_text()}{step}"


def markdown_table() -> str:
    """One row per parameter, one column per mode, ranges in program-file units."""
    keys: list[str] = []
    for table in PARAMS.values():
        keys.extend(k for k in table if k not in keys)
    lines = [
        "| parameter (file key / wire key) | tonic | burst | hf |",
        "|---|---|---|---|",
    ]
    for key in keys:
        wire = next(t[key].wire for t in PARAMS.values() if key in t)
        cells = [_cell(PARAMS[m].get(key)) for m in Mode]
        lines.append(f"| `{key}` / `{wire}` | " + " | ".join(cells) + " |")
    rech = [" or ".join(r.value for r in RECHARGE[m]) for m in Mode]
    lines.append("| `recharge` / `RECHARGE` (first = default) | " + " | ".join(rech) + " |")
    return "\n".join(lines)
