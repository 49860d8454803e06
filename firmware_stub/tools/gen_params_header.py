"""Write firmware_stub/src/params_gen.h from the Python parameter table.

The C stub must refuse exactly what the engine refuses, so its ranges and device
constants are generated from ``stimsim.engine.params`` rather than typed twice. A test
(tests/firmware/test_params_header.py) renders the header in memory and fails when the
committed file differs: run this script after changing params.py.

    python firmware_stub/tools/gen_params_header.py          # rewrite the header
    python firmware_stub/tools/gen_params_header.py --check  # exit 1 if it is stale
"""

from __future__ import annotations

import argparse
import sys
from fractions import Fraction
from pathlib import Path

from stimsim.closedloop import defaults as CL
from stimsim.closedloop.nerve import EPS_RANGE, REFERENCE_OFFSETS_MM, reference_patient
from stimsim.engine import battery as B
from stimsim.engine import params as P
from stimsim.generator import ecap_loop as EL
from stimsim.generator.verbs_ecap import SWEEP_MAX_POINTS
from stimsim.patient import defaults as PD
from stimsim.patient import spine
from stimsim.patient.leads import LEAD_CONTACTS, Leads
from stimsim.protocol import limits as L

HEADER = Path(__file__).resolve().parents[1] / "src" / "params_gen.h"

def _exact_int(value: float | int, scale: int, what: str) -> int:
    """``value * scale`` as an integer; refuses a constant that would lose precision."""
    scaled = Fraction(str(value)) * scale
    if scaled.denominator != 1:
        raise ValueError(f"{what} = {value} is not a whole number of 1/{scale} units")
    return int(scaled)


def _c_double(value: float) -> str:
    text = repr(float(value))
    return text if ("." in text or "e" in text) else text + ".0"


def _spec_cell(spec: P.ParamSpec | None) -> str:
    if spec is None:
        return "{0, 0, 0, 0}"
    return f"{{1, {spec.minimum}, {spec.maximum}, {int(spec.zero_off)}}}"


def _grid_cell(grid: P.Grid | None, bands_max: int) -> str:
    bands = () if grid is None else grid.bands
    cells = [f"{{{start}, {spacing}}}" for start, spacing in bands] + ["{0, 0}"] * (bands_max - len(bands))
    return f"{{{len(bands)}, {{{', '.join(cells)}}}}}"


def _c_ident(family: P.Family) -> str:
    return family.name  # SCS_R, DRG: the enum's own name is a C identifier


def _contact_number(contact: str, family: P.Family) -> int:
    number = int(contact)
    if str(number) != contact or not 1 <= number <= P.N_CONTACTS:
        raise ValueError(f"{family.value}: contact {contact!r} is not one of 1..{P.N_CONTACTS}")
    return number


def _family_row(family: P.Family, bands_max: int) -> str:
    """One fw_family_t initializer (program.h): everything the stub needs of the family."""
    fam = P.FAMILIES[family]
    modes = P.family_modes(family)
    lead_of = [0] * (P.N_CONTACTS + 1)
    for index, lead in enumerate(fam.leads, start=1):
        for contact in lead.contacts:
            lead_of[_contact_number(contact, family)] = index
    chems = [f"FW_CHEM_{c.upper()}" for c in fam.chemistries]
    chems += ["0"] * (len(B.CELLS) - len(chems))
    patient = [f"(1u << FW_P_{P.BY_KEY[k].c_name})" for k in sorted(fam.patient_grid_steps)] or ["0u"]
    spec_rows = []
    for mode in P.Mode:
        table = P.family_params(family, mode)
        cells = ", ".join(_spec_cell(table.get(param.key)) for param in P.TABLE)
        spec_rows.append(f"/* {mode.wire} */ {{{cells}}}")
    grids = ", ".join(_grid_cell(fam.grids.get(param.key), bands_max) for param in P.TABLE)
    fields = [
        f'/* wire */ "{family.value}"',
        f"/* case_anode */ {int(fam.case_anode)}",
        f"/* bipolar_per_lead */ {int(fam.bipolar_per_lead)}",
        f"/* nleads */ {len(fam.leads)}",
        "/* modes */ " + (" | ".join(f"(1u << FW_MODE_{m.wire})" for m in modes) or "0u"),
        f"/* nchems */ {len(fam.chemistries)}",
        f"/* chems, the first the default */ {{{', '.join(chems)}}}",
        f"/* contact_ohm */ {_exact_int(fam.contact_impedance_ohm, 1, family.value + ' contact impedance')}",
        f"/* contact_area_cm2 */ {_c_double(fam.contact_area_cm2)}",
        "/* patient_grid */ " + " | ".join(patient),
        f"/* lead_of[contact] */ {{{', '.join(map(str, lead_of))}}}",
        "/* loop_modes */ " + (" | ".join(f"(1u << FW_MODE_{m.wire})" for m in fam.closed_loop_modes) or "0u"),
        "/* spec[mode][param] */ {" + ", \\\n          ".join(spec_rows) + "}",
        f"/* grid[param] */ {{{grids}}}",
    ]
    return f"    /* {family.value} */ {{ \\\n        " + ", \\\n        ".join(fields) + " }"


def _recharge_rows() -> list[str]:
    rows = []
    for mode in P.Mode:
        choices = P.RECHARGE[mode]
        codes = [f"FW_RECHARGE_{r.wire}" for r in choices] + ["0"] * (2 - len(choices))
        rows.append(f"    /* {mode.wire} */ {{{len(choices)}, {{{', '.join(codes)}}}}}")
    return rows


def _limit_rows() -> list[str]:
    rows = []
    for limit in P.LIMITS.values():
        rows.append(f'    {{"{limit.wire}", FW_P_{limit.param.c_name}, {1 if limit.side == "max" else 0}}}')
    return rows


def _ocv_rows(table: tuple[tuple[float, float], ...], what: str) -> str:
    cells = [
        f"{{{_exact_int(pct, 10, what + ' percent')}, {_exact_int(volts, 1000, what + ' volts')}}}"
        for pct, volts in table
    ]
    return ", ".join(cells)


def _loop_lines() -> list[str]:
    """The closed-loop program keys (params.LOOP_TABLE), the loop's and the ECAP verbs' figures."""
    lines = ["/* Closed-loop program keys (params.LOOP_TABLE), in READ's order after ELEC. Per key:",
             " * {has a range, minimum, maximum, default} (a choice's default is its FW_LOOP_MODE_*). */"]
    for i, row in enumerate(P.LOOP_TABLE):
        lines.append(f"#define FW_LK_{row.c_name} {i} /* {row.key} */")
    lines.append(f"#define FW_LK_COUNT {len(P.LOOP_TABLE)}")
    lines.append("#define FW_LOOP_WIRE_LIST " + ", ".join(f'"{row.wire}"' for row in P.LOOP_TABLE))
    lines.append("#define FW_LOOP_WIRE_TABLE {FW_LOOP_WIRE_LIST}")
    cells = []
    for row in P.LOOP_TABLE:
        if row.range is not None:
            cells.append(f"{{1, {row.range.minimum}, {row.range.maximum}, {row.default}}}")
        elif row.choices:
            cells.append(f"{{0, 0, 0, {row.choices.index(str(row.default))}}}")
        else:
            cells.append("{0, 0, 0, 0}")
    lines.append("#define FW_LOOP_SPEC_TABLE {" + ", ".join(cells) + "}")
    choice = next(row for row in P.LOOP_TABLE if row.kind is P.ValueKind.CHOICE)
    for i, name in enumerate(choice.choices):
        lines.append(f"#define FW_LOOP_MODE_{name.upper()} {i}")
    lines.append("#define FW_LOOP_MODE_WIRE_TABLE {" + ", ".join(f'"{c.upper()}"' for c in choice.choices) + "}")
    lines.append("")
    lines.append("/* The loop and the ECAP verbs (stimsim.closedloop.defaults, generator.ecap_loop). */")
    consts = [
        ("FW_LOOP_MAX_UPDATE_HZ", CL.MAX_UPDATE_HZ, "", "one update per pulse up to this rate"),
        ("FW_ECAP_COUGH_US", _exact_int(CL.COUGH_S, 1_000_000, "cough"), "ull", "a cough lasts this long"),
        ("FW_ECAP_STREAM_US", _exact_int(EL.STREAM_PERIOD_S, 1_000_000, "stream"), "ull", "!ECAP period"),
        ("FW_ECAP_CATCH_UP_US", _exact_int(EL.CATCH_UP_S, 1_000_000, "catch up"), "ull",
         "after a longer silence only this much loop time is played"),
        ("FW_ECAP_NOISE_MIN_MICRO", _exact_int(EL.NOISE_RANGE_UV[0], 1_000_000, "noise"), "ull", "SIM ECAP_NOISE x 1e6"),
        ("FW_ECAP_NOISE_MAX_MICRO", _exact_int(EL.NOISE_RANGE_UV[1], 1_000_000, "noise"), "ull", "SIM ECAP_NOISE x 1e6"),
        ("FW_ECAP_NOISE_DEFAULT_MICRO", _exact_int(CL.NOISE_UV, 1_000_000, "noise"), "ull", "sigma at power-up"),
        ("FW_EPS_MIN_MICRO", _exact_int(EPS_RANGE[0], 1_000_000, "eps"), "ull", "SIM EPS x 1e6"),
        ("FW_EPS_MAX_MICRO", _exact_int(EPS_RANGE[1], 1_000_000, "eps"), "ull", "SIM EPS x 1e6"),
        ("FW_SWEEP_MAX_POINTS", SWEEP_MAX_POINTS, "", "ECAP SWEEP measures at most this many amplitudes"),
    ]
    for name, value, suffix, what in consts:
        lines.append(f"#define {name} {value}{suffix} /* {what} */")
    lines.append(f'#define FW_ECAP_SLOPE_TEXT "{P.fmt_number(CL.SLOPE_UV_PER_MA)}" /* ECAP SLOPE= */')
    lines.append(f"#define FW_ECAP_SLOPE_UV_PER_MA_D {_c_double(CL.SLOPE_UV_PER_MA)}")
    lines.append(f"#define FW_ECAP_THRESHOLD_RATIO_D {_c_double(CL.THRESHOLD_RATIO)}")
    lines.append(f"#define FW_ECAP_COUGH_DEPTH_MM_D {_c_double(CL.COUGH_DEPTH_MM)}")
    lines.append("")
    lines.append("/* The device's virtual nerve (host build): the reference patient, leads' tops at "
                 "T8, offsets by lead. */")
    lines.append(f"#define FW_NERVE_POSTURE_COUNT {len(PD.POSTURES)}")
    lines.append("#define FW_NERVE_POSTURE_WIRE_TABLE {" + ", ".join(f'"{x.upper()}"' for x in PD.POSTURES) + "}")
    params = PD.Params()
    lines.append(f"#define FW_NERVE_POSTURE_DEFAULT {PD.POSTURES.index(params.posture)} /* {params.posture} */")
    lines.append("#define FW_NERVE_DD_MM_TABLE {" + ", ".join(_c_double(params.posture_shift_mm(x))
                                                          for x in PD.POSTURES) + "}")
    patient = reference_patient()
    assert isinstance(patient.leads, Leads)
    levels = patient.leads.contact_levels(patient.params)
    lead_index = {lead.name: i for i, lead in enumerate(patient.leads.leads, start=1)}
    lead_of = {c: name for name, contacts in LEAD_CONTACTS.items() for c in contacts}
    contacts = [str(c) for c in range(1, P.N_CONTACTS + 1)]
    lines.append("#define FW_NERVE_LEVEL_TABLE {0.0, " + ", ".join(_c_double(levels[c]) for c in contacts)
                 + "} /* by contact: level ordinal */")
    lines.append("#define FW_NERVE_LEAD_TABLE {0, " + ", ".join(str(lead_index[lead_of[c]]) for c in contacts)
                 + "} /* by contact: the patient's lead */")
    lines.append("#define FW_NERVE_OFFSET_MM_TABLE {0.0, " + ", ".join(_c_double(x) for x in REFERENCE_OFFSETS_MM)
                 + "} /* by lead */")
    lines.append("#define FW_NERVE_CSF_LEVEL_TABLE {" + ", ".join(_c_double(x) for x in spine.CSF_LEVELS) + "}")
    lines.append("#define FW_NERVE_CSF_MM_TABLE {" + ", ".join(
        _c_double(x) for x in (params.csf_c5_mm, params.csf_t6_mm, params.csf_t11_mm)) + "}")
    for key in ("rheobase_ma", "chronaxie_us", "d_ref_mm", "lambda_mm", "lateral_gain", "lateral_mm",
                "burst_factor", "hf_pt_ma", "hf_ref_pw_us", "s_longitudinal", "s_transverse", "eps"):
        lines.append(f"#define FW_NERVE_{key.upper()}_D {_c_double(getattr(params, key))}")
    return lines


def render() -> str:
    """The header's full text."""
    mwh_to_pj = 3_600_000_000  # 1 mWh = 3.6 J = 3.6e12 pJ; scaled by 1000 below
    lines = [
        "/* params_gen.h -- GENERATED by firmware_stub/tools/gen_params_header.py",
        " * DO NOT EDIT: change the Python tables (stimsim.engine.params, protocol.limits, closedloop and the",
        " * patient's defaults) and rerun the script",
        " * (tests/firmware/test_params_header.py fails while this file is stale). */",
        "#ifndef STIMFW_PARAMS_GEN_H",
        "#define STIMFW_PARAMS_GEN_H",
        "",
        "/* Modes and recharge kinds, in the order of params.Mode / params.Recharge. */",
    ]
    for i, mode in enumerate(P.Mode):
        lines.append(f"#define FW_MODE_{mode.wire} {i}")
    lines.append(f"#define FW_MODE_COUNT {len(P.Mode)}")
    lines.append("#define FW_MODE_WIRE_TABLE {" + ", ".join(f'"{m.wire}"' for m in P.Mode) + "}")
    for i, rech in enumerate(P.Recharge):
        lines.append(f"#define FW_RECHARGE_{rech.wire} {i}")
    lines.append("#define FW_RECHARGE_WIRE_TABLE {" + ", ".join(f'"{r.wire}"' for r in P.Recharge) + "}")
    lines.append("")
    lines.append("/* Numeric parameters in params.all_keys() order (range problems are reported so). */")
    for i, param in enumerate(P.TABLE):
        lines.append(f"#define FW_P_{param.c_name} {i} /* {param.key} */")
    lines.append(f"#define FW_P_COUNT {len(P.TABLE)}")
    lines.append("#define FW_PARAM_WIRE_TABLE {" + ", ".join(f'"{p.wire}"' for p in P.TABLE) + "}")
    lines.append("")
    lines.append("/* Battery chemistries, in the order of stimsim.engine.battery.CELLS. */")
    for i, chem in enumerate(B.CELLS):
        lines.append(f"#define FW_CHEM_{chem.upper()} {i}")
    lines.append(f"#define FW_CHEM_COUNT {len(B.CELLS)}")
    lines.append("#define FW_CHEM_WIRE_TABLE {" + ", ".join(f'"{c.upper()}"' for c in B.CELLS) + "} /* BATT CHEM= */")
    lines.append("")
    bands_max = max(len(g.bands) for fam in P.FAMILIES.values() for g in fam.grids.values()) if any(
        fam.grids for fam in P.FAMILIES.values()) else 1
    lines.append("/* Device families, in params.FAMILIES order (the first is the default). Per family: its")
    lines.append(" * contacts' leads, case, modes, chemistries, contact figures, the parameters a patient steps")
    lines.append(" * grid point by grid point, and per mode and parameter {used, minimum, maximum, zero_off}")
    lines.append(" * (canonical wire units) and the grid {bands, {{start, spacing}...}} (0 bands: none). */")
    for i, family in enumerate(P.FAMILIES):
        lines.append(f"#define FW_FAMILY_{_c_ident(family)} {i}")
    lines.append(f"#define FW_FAMILY_COUNT {len(P.FAMILIES)}")
    lines.append("#define FW_FAMILY_WIRE_TABLE {" + ", ".join(f'"{f.value}"' for f in P.FAMILIES) + "}")
    lines.append(f"#define FW_GRID_BANDS_MAX {bands_max}")
    lines.append("#define FW_FAMILY_TABLE { \\")
    lines.append(", \\\n".join(_family_row(f, bands_max) for f in P.FAMILIES) + " \\")
    lines.append("}")
    lines.append("")
    lines.append("/* Recharge choices per mode: {count, {choices...}}; the first is the default. */")
    lines.append("#define FW_RECHARGE_TABLE { \\")
    lines.append(", \\\n".join(_recharge_rows()) + " \\")
    lines.append("}")
    lines.append("")
    lines.append("/* Clinician limit keys: {wire key, parameter bounded, 1 = maximum / 0 = minimum}. */")
    lines.append(f"#define FW_LIMIT_COUNT {len(P.LIMITS)}")
    lines.append("#define FW_LIMIT_TABLE { \\")
    lines.append(", \\\n".join(_limit_rows()) + " \\")
    lines.append("}")
    lines.append("")
    consts = [
        ("FW_AMP_PATIENT_STEP_UA", P.AMP_PATIENT_STEP_UA, "one patient amplitude step"),
        ("FW_FIT_MARGIN_US", P.FIT_MARGIN_US, "a pulse and its recharge leave this much of the period"),
        ("FW_N_CONTACTS", P.N_CONTACTS, "lead contacts 1..N; the case is contact N+1 here"),
        ("FW_N_SLOTS", P.N_SLOTS, "program slots"),
        ("FW_PERCENT_TOTAL", P.PERCENT_TOTAL, "each side of an electrode configuration sums to this"),
        ("FW_NAME_MAX", P.NAME_MAX, "program name characters"),
        ("FW_CONTACT_CURRENT_MAX_UA", P.CONTACT_CURRENT_MAX_UA, "hard per-contact interlock"),
        ("FW_CASE_IMPEDANCE_OHM", _exact_int(P.CASE_IMPEDANCE_OHM, 1, "case impedance"), "the case"),
        ("FW_IMPEDANCE_OPEN_OHM", _exact_int(P.IMPEDANCE_OPEN_OHM, 1, "open"), "above: open"),
        ("FW_IMPEDANCE_SHORT_OHM", _exact_int(P.IMPEDANCE_SHORT_OHM, 1, "short"), "below: short"),
        ("FW_RAIL_MAX_MV", _exact_int(P.RAIL_MAX_V, 1000, "rail"), "output rail maximum"),
        ("FW_RAIL_HEADROOM_MV", _exact_int(P.RAIL_HEADROOM_V, 1000, "headroom"), "rail headroom"),
        ("FW_QUIESCENT_NW", _exact_int(P.QUIESCENT_MW, 1_000_000, "quiescent"), "quiescent draw"),
        ("FW_EFFICIENCY_PERMILLE", _exact_int(P.CONVERTER_EFFICIENCY, 1000, "efficiency"), "converter"),
        ("FW_LIION_CAPACITY_PJ", _exact_int(P.LIION_CAPACITY_MWH, mwh_to_pj * 1000, "liion"), "740 mWh"),
        ("FW_LIION_STOP_PERMILLE", _exact_int(P.LIION_STOP_PERCENT, 10, "liion stop"), "EMPTY"),
        ("FW_LIION_LOW_PERMILLE", _exact_int(P.LIION_LOW_PERCENT, 10, "liion low"), "LOW"),
        ("FW_LIION_CHARGE_NW", _exact_int(P.LIION_CHARGE_MW, 1_000_000, "charge"), "charger into the cell"),
        ("FW_PRIMARY_CAPACITY_PJ", _exact_int(P.PRIMARY_CAPACITY_MWH, mwh_to_pj * 1000, "primary"), "primary"),
        ("FW_PRIMARY_ERI_PERMILLE", _exact_int(P.PRIMARY_ERI_PERCENT, 10, "eri"), "ERI"),
        ("FW_PRIMARY_EOS_PERMILLE", _exact_int(P.PRIMARY_EOS_PERCENT, 10, "eos"), "EOS"),
        ("FW_PACK_CAPACITY_PJ", _exact_int(P.PACK_CAPACITY_MWH, mwh_to_pj * 1000, "pack"), "trial pack, no charger"),
        ("FW_PACK_LOW_PERMILLE", _exact_int(P.PACK_LOW_PERCENT, 10, "pack low"), "LOW"),
        ("FW_PACK_EMPTY_PERMILLE", _exact_int(P.PACK_EMPTY_PERCENT, 10, "pack empty"), "EMPTY: a fresh pack"),
    ]
    lines.extend(_loop_lines())
    lines.append("")
    lines.append("/* Device constants (integers in the units their names say). */")
    for name, value, what in consts:
        suffix = "LL" if abs(value) > 2**31 - 1 else ""
        lines.append(f"#define {name} {value}{suffix} /* {what} */")
    lines.append(f"#define FW_OCV_LIION_COUNT {len(P.OCV_LIION)}")
    lines.append("#define FW_OCV_LIION_TABLE {" + _ocv_rows(P.OCV_LIION, "OCV_LIION") + "} /* {permille, mV} */")
    lines.append(f"#define FW_OCV_PRIMARY_COUNT {len(P.OCV_PRIMARY)}")
    lines.append("#define FW_OCV_PRIMARY_TABLE {" + _ocv_rows(P.OCV_PRIMARY, "OCV_PRIMARY") + "} /* {permille, mV} */")
    lines.append(f"#define FW_OCV_PACK_COUNT {len(P.OCV_PACK)}")
    lines.append("#define FW_OCV_PACK_TABLE {" + _ocv_rows(P.OCV_PACK, "OCV_PACK") + "} /* {permille, mV} */")
    lines.append("")
    lines.append("/* Protocol v1 limits (stimsim.protocol.limits). */")
    protocol = [
        ("FW_LINE_MAX", L.MAX_REQUEST, "", "request bytes before EOL"),
        ("FW_REPLY_MAX", L.MAX_REPLY, "", "reply bytes before EOL"),
        ("FW_VERB_MAX", L.MAX_VERB, "", "verb characters"),
        ("FW_KEY_MAX", L.MAX_KEY, "", "key characters (the grammar's 16 would refuse IMPEDANCE_DEFAULT)"),
        ("FW_VALUE_MAX", L.MAX_VALUE, "", "value characters"),
        ("FW_SEQ_MAX", L.SEQ_MAX, "", "SEQ runs 1..this, then wraps to 1"),
        ("FW_SEQ_WINDOW", L.SEQ_WINDOW, "", "strict mode: a new SEQ is 1..this ahead"),
        ("FW_CACHE_N", L.RESEND_RING, "", "replies remembered for resends"),
        ("FW_TEST_LEASE_US", _exact_int(L.TEST_LEASE_S, 1_000_000, "lease"), "ull", "TEST ends this long after the last OK"),
        ("FW_LOCK_TRIES", L.LOGIN_TRIES, "", "the n-th wrong proof in a row locks LOGIN"),
        ("FW_LOCK_US", _exact_int(L.LOCKOUT_S, 1_000_000, "lockout"), "ull", "for this long"),
        ("FW_PIN_MIN", L.PIN_MIN_DIGITS, "", "PIN digits"),
        ("FW_PIN_MAX", L.PIN_MAX_DIGITS, "", "PIN digits"),
        ("FW_STEP_MAX", L.AMP_STEP_MAX, "", "AMP STEP=+-n, n in 1..this"),
        ("FW_SPEED_MIN_MICRO", _exact_int(L.SIM_SPEED_MIN, 1_000_000, "speed"), "ull", "SIM SPEED x 1e6"),
        ("FW_SPEED_MAX_MICRO", _exact_int(L.SIM_SPEED_MAX, 1_000_000, "speed"), "ull", "SIM SPEED x 1e6"),
        ("FW_LOG_SIZE", L.LOG_RING, "u", "audit entries kept"),
        ("FW_IDLE_TIMEOUT_S_DEFAULT", L.IDLE_TIMEOUT_S, "", "a TCP client idle this long is disconnected"),
        ("FW_PIN_SALT_LEN", L.PIN_SALT_BYTES, "", "random salt bytes of the PIN at rest"),
        ("FW_PIN_HASH_LEN", L.PIN_HASH_BYTES, "", "PBKDF2-HMAC-SHA256 bytes derived"),
    ]
    for name, value, suffix, what in protocol:
        lines.append(f"#define {name} {value}{suffix} /* {what} */")
    lines.append("#ifndef FW_PIN_PBKDF2_ITERS /* the fuzz build alone sets 2, so every input boots fast */")
    lines.append(f"#define FW_PIN_PBKDF2_ITERS {L.PIN_PBKDF2_ITERATIONS} /* PBKDF2 iterations of the PIN at rest */")
    lines.append("#endif")
    lines.append(f'#define FW_DEFAULT_PIN "{L.DEFAULT_PIN}" /* the PIN of a new device */')
    lines.append("")
    lines.append("/* Safety figures compared in double precision exactly as the engine does. */")
    doubles = [
        ("FW_CASE_IMPEDANCE_OHM_D", P.CASE_IMPEDANCE_OHM),
        ("FW_RAIL_MAX_V_D", P.RAIL_MAX_V),
        ("FW_RAIL_HEADROOM_V_D", P.RAIL_HEADROOM_V),
        ("FW_CASE_AREA_CM2_D", P.CASE_AREA_CM2),
        ("FW_SHANNON_K_LIMIT_D", P.SHANNON_K_LIMIT),
        ("FW_DENSITY_LIMIT_UC_CM2_D", P.DENSITY_LIMIT_UC_CM2),
    ]
    for name, figure in doubles:
        lines.append(f"#define {name} {_c_double(figure)}")
    name_chars = "".join(sorted(P.NAME_CHARS))
    lines.append(f'#define FW_NAME_CHARS "{name_chars}"')
    lines.append("")
    lines.append("#endif /* STIMFW_PARAMS_GEN_H */")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the header is stale, write nothing")
    parser.add_argument("--output", type=Path, default=HEADER, help=f"where to write (default {HEADER})")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text(encoding="ascii") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="ascii")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
