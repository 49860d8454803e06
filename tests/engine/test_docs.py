"""docs/model.md states the parameter table as the code has it."""

from pathlib import Path

from stimsim.engine.params_table import family_markdown_table, markdown_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "model.md"


def test_model_doc_has_the_current_parameter_table() -> None:
    assert markdown_table() in DOC.read_text(encoding="utf-8"), (
        "docs/model.md is out of step with engine/params.py: paste "
        "python -c 'from stimsim.engine.params_table import family_markdown_table, markdown_table; print(markdown_table())'"
    )


def test_model_doc_has_the_current_family_table() -> None:
    assert family_markdown_table() in DOC.read_text(encoding="utf-8"), (
        "docs/model.md is out of step with the families of engine/params.py: paste "
        "python -c 'from stimsim.engine.params_table import family_markdown_table; print(family_markdown_table())'"
    )


def test_model_doc_has_the_current_closed_loop_table() -> None:
    from stimsim.engine.params_table import loop_markdown_table

    assert loop_markdown_table() in DOC.read_text(encoding="utf-8"), (
        "docs/model.md is out of step with the closed-loop keys of engine/params.py: paste "
        "python -c 'from stimsim.engine.params_table import loop_markdown_table; print(loop_markdown_table())'"
    )
