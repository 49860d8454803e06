"""The C limits must not drift from the Python parameter table."""

from __future__ import annotations

import dataclasses
import importlib.util
from enum import StrEnum
from types import ModuleType

import pytest

from stimsim.engine import params as P

from .stub_support import STUB_DIR

HEADER = STUB_DIR / "src" / "params_gen.h"


def _generator() -> ModuleType:
    path = STUB_DIR / "tools" / "gen_params_header.py"
    spec = importlib.util.spec_from_file_location("gen_params_header", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_header_matches_the_parameter_table() -> None:
    rendered = _generator().render()
    assert HEADER.read_text(encoding="ascii") == rendered, (
        "firmware_stub/src/params_gen.h is stale: run python firmware_stub/tools/gen_params_header.py"
    )


def test_header_carries_the_tables_figures() -> None:
    text = _generator().render()
    assert text.startswith("/* params_gen.h -- GENERATED")
    assert "DO NOT EDIT" in text.splitlines()[1]
    assert f"#define FW_CONTACT_CURRENT_MAX_UA {P.CONTACT_CURRENT_MAX_UA} " in text
    tonic = P.PARAMS[P.Mode.TONIC]["pulse_width_us"]
    assert f"{{1, {tonic.minimum}, {tonic.maximum}, 0}}" in text
    hf_amp = P.PARAMS[P.Mode.HF]["amplitude_ma"]
    assert f"{{1, 0, {hf_amp.maximum}, 0}}" in text


def test_header_carries_every_family() -> None:
    text = _generator().render()
    assert f"#define FW_FAMILY_COUNT {len(P.FAMILIES)}" in text
    assert "#define FW_FAMILY_WIRE_TABLE {" + ", ".join(f'"{f.value}"' for f in P.FAMILIES) + "}" in text
    rows = text.split("#define FW_FAMILY_TABLE {", 1)[1].split("/* wire */ ")[1:]
    assert len(rows) == len(P.FAMILIES)
    for family, row in zip(P.FAMILIES, rows, strict=True):
        fam = P.FAMILIES[family]
        assert row.startswith(f'"{family.value}"')
        assert f"/* case_anode */ {int(fam.case_anode)}," in row
        assert f"/* nleads */ {len(fam.leads)}," in row
        assert f"/* contact_ohm */ {int(fam.contact_impedance_ohm)}," in row
        assert f"/* chems, the first the default */ {{FW_CHEM_{fam.chemistry.upper()}" in row
        for mode in P.Mode:
            assert (f"(1u << FW_MODE_{mode.wire})" in row) == (mode in P.family_modes(family))
            amp = P.family_params(family, mode)["amplitude_ma"]
            assert f"/* {mode.wire} */ {{{{1, {amp.minimum}, {amp.maximum}, 0}}" in row
    drg = rows[list(P.FAMILIES).index(P.Family.DRG)]
    assert "/* bipolar_per_lead */ 1," in drg and "(1u << FW_P_AMP)" in drg
    assert "{2, {{0, 25}, {2000, 50}}}, {1, {{0, 10}, {0, 0}}}, {1, {{0, 2}, {0, 0}}}" in drg
    assert "/* lead_of[contact] */ {0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4}" in drg
    assert f"#define FW_PACK_CAPACITY_PJ {int(P.PACK_CAPACITY_MWH) * 3_600_000_000_000}LL" in text


def test_a_family_added_to_the_table_needs_no_edit(monkeypatch: pytest.MonkeyPatch) -> None:
    Extra = StrEnum("Extra", {"SCS_X": "SCS-X"})
    families: dict[object, P.FamilySpec] = {}
    for family, spec in P.FAMILIES.items():
        families[family] = spec
    families[Extra.SCS_X] = P.FamilySpec("A new implant", P.FAMILIES[P.Family.SCS_R].leads, True, ("liion",))
    monkeypatch.setattr(P, "FAMILIES", families)
    text = _generator().render()
    assert f"#define FW_FAMILY_SCS_X {len(P.FAMILIES) - 1}" in text
    assert f"#define FW_FAMILY_COUNT {len(P.FAMILIES)}" in text
    assert '/* SCS-X */ { \\\n        /* wire */ "SCS-X"' in text


def test_loop_keys_come_from_the_loop_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names, ranges and defaults of LOOP/TARGET_UV/GAIN/SENSE, and which modes loop, are the table's."""
    text = _generator().render()
    assert "#define FW_LOOP_WIRE_LIST " + ", ".join(f'"{row.wire}"' for row in P.LOOP_TABLE) in text
    target = P.LOOP_BY_KEY["target_uv"]
    assert target.range is not None
    assert f"{{1, {target.range.minimum}, {target.range.maximum}, {target.default}}}" in text
    cl = text.split('/* SCS-CL */ {')[1].split("/* spec[mode][param] */")[0]
    assert "/* loop_modes */ (1u << FW_MODE_TONIC)" in cl
    wider = dataclasses.replace(target, range=P.Range(5, 900), default=77)
    monkeypatch.setattr(P, "LOOP_TABLE", tuple(wider if row is target else row for row in P.LOOP_TABLE))
    assert "{1, 5, 900, 77}" in _generator().render()


def test_check_mode_reports_a_stale_header(tmp_path) -> None:  # type: ignore[no-untyped-def]
    gen = _generator()
    stale = tmp_path / "params_gen.h"
    stale.write_text("/* old */\n", encoding="ascii")
    assert gen.main(["--check", "--output", str(stale)]) == 1
    assert gen.main(["--output", str(stale)]) == 0
    assert gen.main(["--check", "--output", str(stale)]) == 0
