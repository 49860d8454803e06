"""docs/patient.md states the patient's table of defaults as the code has it."""

from pathlib import Path

from stimsim.patient.defaults import markdown_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "patient.md"


def test_patient_doc_has_the_current_table_of_defaults() -> None:
    assert markdown_table() in DOC.read_text(encoding="utf-8"), (
        "docs/patient.md is out of step with patient/defaults.py: paste "
        "python -c 'from stimsim.patient.defaults import markdown_table; print(markdown_table())'"
    )
