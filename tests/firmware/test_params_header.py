"""The C limits must not drift from the Python parameter table."""

from __future__ import annotations

import importlib.util
from types import ModuleType

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


def test_check_mode_reports_a_stale_header(tmp_path) -> None:  # type: ignore[no-untyped-def]
    gen = _generator()
    stale = tmp_path / "params_gen.h"
    stale.write_text("/* old */\n", encoding="ascii")
    assert gen.main(["--check", "--output", str(stale)]) == 1
    assert gen.main(["--output", str(stale)]) == 0
    assert gen.main(["--check", "--output", str(stale)]) == 0
