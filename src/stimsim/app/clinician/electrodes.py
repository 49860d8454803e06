"""The family's leads and its case, drawn; click or keyboard to cycle a contact.

The leads come from the family's row of the table (two 8-contact leads and the case on an
SCS implant, four 4-contact leads and no case on a DRG implant). The diagram only draws
and reports: the view decides what a click does (it refuses faulted contacts and zeroes
the amplitude on a polarity change).
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFocusEvent, QFont, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ...engine import params as P

CATHODE = QColor("#1f5fbf")
ANODE = QColor("#c0392b")
OFF = QColor("#d9d9d9")
FAULT = QColor("#333333")
_KEYS = frozenset({Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Space})


def contact_state(share: int) -> str:
    return "cathode" if share < 0 else "anode" if share > 0 else "off"


def leads_text(family: P.FamilySpec) -> str:
    """``Lead A is contacts 1-8, lead B 9-16`` for the family's leads."""
    parts = [f"{lead.contacts[0]}-{lead.contacts[-1]}" for lead in family.leads]
    first = f"Lead {family.leads[0].name} is contacts {parts[0]}"
    rest = [f"lead {lead.name} {part}" for lead, part in zip(family.leads[1:], parts[1:], strict=True)]
    return ", ".join([first, *rest])


class ElectrodeDiagram(QWidget):
    """One column per lead of the family (distal contact on top), the case below where the
    family has one; one contact has the focus."""

    cycleRequested = Signal(str)  #: click or Space on a contact
    selected = Signal(str)  #: the focused contact changed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("electrodeDiagram")
        self.setAccessibleName("Electrode diagram")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.shares: dict[str, int] = {}
        self.impedances: dict[str, int | str] = {}
        self.family = P.FAMILIES[P.Family.SCS_R]
        self.current = self.family.contacts[0]
        self.set_family(P.Family.SCS_R)

    def set_family(self, family: P.Family) -> None:
        """Draw ``family``'s leads (and case); the focus goes to its first contact if it had another's."""
        self.family = P.FAMILIES[family]
        case = ", the case: off, anode (+)" if self.family.case_anode else ""
        self.setToolTip("Click a contact (or move with the arrows and press Space) to cycle it "
                        f"off, cathode (−), anode (+){case}. {leads_text(self.family)}")
        if self.current not in self.family.contacts:
            self.current = self.family.contacts[0]
        self.update()

    @property
    def rows(self) -> int:
        return max(len(lead.contacts) for lead in self.family.leads)

    def _place(self, contact: str) -> tuple[int, int]:
        """(lead index, row) of a lead contact."""
        for i, lead in enumerate(self.family.leads):
            if contact in lead.contacts:
                return i, lead.contacts.index(contact)
        raise ValueError(f"{contact} is not a lead contact of the {self.family.label}")

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(260, 420)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(200, 300)

    def show_state(self, shares: Mapping[str, int], impedances: Mapping[str, int | str]) -> None:
        self.shares, self.impedances = dict(shares), dict(impedances)
        self.update()

    def select(self, contact: str) -> None:
        if contact != self.current:
            self.current = contact
            self.selected.emit(contact)
            self.update()

    # --- geometry -------------------------------------------------------------------------
    def contact_rect(self, contact: str) -> QRectF:
        w, h = float(self.width()), float(self.height())
        top, bottom_room = 24.0, 56.0 if self.family.case_anode else 8.0
        pitch = min((h - top - bottom_room) / self.rows, (h - top - 56.0) / len(P.LEAD_A))
        leads = len(self.family.leads)
        col = w / leads
        col_w = min(90.0, col - (20 if leads <= 2 else 8))
        if contact == P.CASE:
            case_w = min(90.0, w / 2 - 20)
            return QRectF(w / 2 - case_w / 2, h - bottom_room + 10, case_w, bottom_room - 16)
        lead, row = self._place(contact)
        return QRectF(col * (lead + 0.5) - col_w / 2, top + row * pitch + 3, col_w, pitch - 6)

    def contact_at(self, point: QPointF) -> str | None:
        return next((c for c in self.family.contacts if self.contact_rect(c).contains(point)), None)

    # --- painting -------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(self.font())
        painter.setFont(font)
        col = float(self.width()) / len(self.family.leads)
        painter.setPen(self.palette().windowText().color())
        for i, lead in enumerate(self.family.leads):
            painter.drawText(QRectF(col * i, 0, col, 20), Qt.AlignmentFlag.AlignCenter, f"Lead {lead.name}")
        for contact in self.family.contacts:
            self._paint_contact(painter, contact)
        painter.end()

    def _paint_contact(self, painter: QPainter, contact: str) -> None:
        rect = self.contact_rect(contact)
        share = self.shares.get(contact, 0)
        z = self.impedances.get(contact)
        faulted = z in ("OPEN", "SHORT")
        fill = CATHODE if share < 0 else ANODE if share > 0 else FAULT if faulted else OFF
        pen = QPen(self.palette().highlight().color() if contact == self.current and self.hasFocus()
                   else QColor("#555555"), 3 if contact == self.current else 1)
        painter.setPen(pen)
        painter.setBrush(fill)
        painter.drawRoundedRect(rect, 5, 5)
        painter.setPen(QColor("white") if share or faulted else QColor("black"))
        name = "Case" if contact == P.CASE else contact
        sign = f" {share:+d}%" if share else ""
        z_text = "" if z is None else f"{z}" if faulted else f"{z} Ω"
        text = rect.adjusted(4, 1, -4, -1)
        if painter.fontMetrics().horizontalAdvance(f"{name}{sign}") <= text.width():
            painter.drawText(text, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft, f"{name}{sign}")
        else:  # a narrow contact (four leads side by side): the share on a line of its own
            painter.drawText(text, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft, name)
            painter.drawText(text.adjusted(0, painter.fontMetrics().height() - 2, 0, 0),
                             Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft, sign.strip())
        if z_text:
            small = QFont(painter.font())
            small.setPointSizeF(max(6.0, small.pointSizeF() * 0.8))
            painter.save()
            painter.setFont(small)
            painter.drawText(rect.adjusted(4, 1, -4, -1), Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignRight,
                             z_text)
            painter.restore()

    # --- input ------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        contact = self.contact_at(event.position())
        if contact is not None:
            self.setFocus()
            self.select(contact)
            self.cycleRequested.emit(contact)

    def event(self, event: QEvent) -> bool:
        """The arrows and Space belong to the diagram while it has the focus, not to the remote's keys."""
        if (event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
                and event.key() in _KEYS and event.modifiers() == Qt.KeyboardModifier.NoModifier):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = event.key()
        leads = self.family.leads
        if key == Qt.Key.Key_Space:
            self.cycleRequested.emit(self.current)
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            if self.current == P.CASE:
                self.select(leads[0].contacts[-1] if key == Qt.Key.Key_Up else P.CASE)
            else:
                lead, row = self._place(self.current)
                row += -1 if key == Qt.Key.Key_Up else 1
                contacts = leads[lead].contacts
                below = P.CASE if self.family.case_anode else contacts[-1]
                self.select(below if row >= len(contacts) else contacts[max(0, row)])
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and self.current != P.CASE:
            lead, row = self._place(self.current)
            lead = max(0, min(len(leads) - 1, lead + (-1 if key == Qt.Key.Key_Left else 1)))
            self.select(leads[lead].contacts[min(row, len(leads[lead].contacts) - 1)])
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802
        self.update()
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802
        self.update()
        super().focusOutEvent(event)
