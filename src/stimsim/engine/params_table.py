"""The parameter and family tables as Markdown, for docs/model.md (a test keeps the doc in step)."""

from __future__ import annotations

from .params import (
    FAMILIES,
    LOOP_TABLE,
    PARAMS,
    RECHARGE,
    Family,
    Grid,
    Mode,
    ParamSpec,
    ValueKind,
    family_modes,
    family_params,
    fmt_number,
)


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


def _grid_text(grid: Grid, spec: ParamSpec) -> str:
    unit = f" {spec.file_unit}" if spec.file_unit else ""
    bands = [f"{spec.fmt(spacing)}{unit}" + (f" from {spec.fmt(start)}{unit}" if start else "")
             for start, spacing in grid.bands]
    return ", ".join(bands)


def _family_ranges(family: Family) -> str:
    fam = FAMILIES[family]
    out: list[str] = []
    for mode in family_modes(family):
        params = family_params(family, mode)
        for key in params:
            spec = params[key]
            overridden = key in fam.ranges.get(mode, {})
            if not overridden and spec.grid is None:
                continue
            text = f"{mode.value} `{key}` {spec.range_text()}"
            if spec.grid is not None:
                text += f" on a grid of {_grid_text(spec.grid, spec)}"
            out.append(text)
    return "; ".join(out) or "as the modes"


def family_markdown_table() -> str:
    """One row per device family: leads, case, modes, battery, contacts, its own rules and
    the modes that may run closed loop."""
    lines = [
        "| family | what | leads (contacts) | case anode | modes | battery (first = default) | contact area, impedance "
        "| ranges and grids | each lead bipolar | closed loop |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for family, fam in FAMILIES.items():
        leads = ", ".join(f"{lead.name} {lead.contacts[0]}..{lead.contacts[-1]}" for lead in fam.leads)
        patient = (f"; patient steps {', '.join(f'`{k}`' for k in sorted(fam.patient_grid_steps))} "
                   "to the next grid point" if fam.patient_grid_steps else "")
        cells = [
            f"`{family.value}`", fam.label, leads, "yes" if fam.case_anode else "no",
            ", ".join(m.value for m in family_modes(family)), " or ".join(_chemistry_text(c) for c in fam.chemistries),
            f"{fmt_number(fam.contact_area_cm2)} cm2, {fmt_number(fam.contact_impedance_ohm)} ohm",
            _family_ranges(family) + patient, "yes" if fam.bipolar_per_lead else "no",
            f"in {', '.join(m.value for m in fam.closed_loop_modes)}" if fam.closed_loop else "no",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _chemistry_text(chemistry: str) -> str:
    return {"liion": "Li-ion", "primary": "primary cell", "pack": "replaceable pack"}.get(chemistry, chemistry)


def loop_markdown_table() -> str:
    """One row per closed-loop key: its faces, what it takes and its default."""
    lines = ["| closed-loop key (file key / wire key) | what | values | default |", "|---|---|---|---|"]
    for row in LOOP_TABLE:
        if row.kind is ValueKind.CONTACT_PAIR:
            values = 'two contacts: file `["6", "7"]`, wire `6,7`'
        elif row.kind is ValueKind.CHOICE:
            values = " or ".join(f"`{c}`" for c in row.choices) + " (wire upper case)"
        else:
            values = row.fmt_range()
        default = "-" if row.default is None else f"`{row.default}`"
        lines.append(f"| `{row.key}` / `{row.wire}` | {row.label} | {values} | {default} |")
    return "\n".join(lines)
