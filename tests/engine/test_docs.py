"""docs/model.md states the parameter table as the code has it."""

from pathlib import Path

from stimsim.engine.params_table import markdown_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "model.md"


def test_model_doc_has_the_current_parameter_table() -> None:
    assert markdown_table() in DOC.read_text(encoding="utf-8"), (
        "docs/model.md is out of step with engine/params.py: paste "
        "python -c 'from stimsim.engine.params_table import markdown_table; print(markdown_table())'"
    )
