"""The stimulus-response label a DRG program is saved with: where the patient feels it, and how.

A dorsal root ganglion lead covers one root's regions on one side, so a DRG clinical
programmer has the clinician record, for each program, the body region the patient
feels the stimulation in and the sensation, before the program is saved. The label
becomes the program's name (what the remote shows, ``Left knee: tingling``) and goes into
the session record with the program. Regions and sensations are the virtual patient's own
(``patient.regions``, ``patient.model``), so the label speaks the patient's words.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QWidget

from ...engine import params as P
from ...patient import model as PM
from ...patient import regions as RG

#: The families whose programs are saved only with a stimulus-response label.
LABELLED_FAMILIES = frozenset({P.Family.DRG})
#: The sensations a label records (a response: "none" is not one).
SENSATIONS: tuple[str, ...] = tuple(s for s in PM.SENSATIONS if s != PM.NONE)


@dataclass(frozen=True)
class ResponseLabel:
    """Where the patient felt the program (a region id, ``left_knee``) and the sensation."""

    region: str
    sensation: str

    def __post_init__(self) -> None:
        if self.region not in RG.BY_ID:
            raise ValueError(f"region {self.region!r} is not a body region (e.g. {RG.IDS[0]})")
        if self.sensation not in SENSATIONS:
            raise ValueError(f"sensation {self.sensation!r}: one of {', '.join(SENSATIONS)}")

    @property
    def text(self) -> str:
        """``Left knee: tingling`` (letters the program name allows, at most its length)."""
        return f"{RG.BY_ID[self.region].title}: {self.sensation}"[: P.NAME_MAX]

    def data(self) -> dict[str, str]:
        return {"region": self.region, "sensation": self.sensation, "label": self.text}


def needs_label(family: P.Family) -> bool:
    return family in LABELLED_FAMILIES


class ResponseDialog(QDialog):
    """Asks the body region and the sensation the patient reports for the program being saved."""

    def __init__(self, program_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Stimulus response")
        self.setAccessibleName("Stimulus response")
        form = QFormLayout(self)
        intro = QLabel(f"Record where the patient feels {program_text} and how, before it is saved. "
                       "The label becomes the program's name.", self)
        intro.setWordWrap(True)
        form.addRow(intro)
        self.region_box = QComboBox(self)
        self.region_box.setAccessibleName("Body region")
        self.region_box.setToolTip("Where the patient feels the stimulation")
        for region in sorted(RG.REGIONS, key=lambda r: (r.key_level, r.side)):
            self.region_box.addItem(region.title, region.id)
        self.sensation_box = QComboBox(self)
        self.sensation_box.setAccessibleName("Sensation")
        self.sensation_box.setToolTip("What the patient feels there")
        for sensation in SENSATIONS:
            self.sensation_box.addItem(sensation, sensation)
        form.addRow("Body region:", self.region_box)
        form.addRow("Sensation:", self.sensation_box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel,
                                   self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def label(self) -> ResponseLabel:
        return ResponseLabel(str(self.region_box.currentData()), str(self.sensation_box.currentData()))


def ask_label(parent: QWidget, program_text: str) -> ResponseLabel | None:
    """The label the clinician records, or None when the dialog is cancelled."""
    dialog = ResponseDialog(program_text, parent)
    return dialog.label() if dialog.exec() == QDialog.DialogCode.Accepted else None
