"""The two 8-contact leads and the case, drawn; click or keyboard to cycle a contact.

The diagram only draws and reports: the view decides what a click does (it refuses
faulted contacts and zeroes the amplitude on a polarity change).
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
ROWS = len(P.LEAD_A)
_KEYS = frozenset({Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Space})


def contact_state(share: int) -> str:
    return "cathode" if share < 0 else "anode" if share > 0 else "off"


class ElectrodeDiagram(QWidget):
    """Lead A (1..8) left, lead B (9..16) right, the case below; one contact has the focus."""

    cycleRequested = Signal(str)  #: click or Space on a contact
    selected = Signal(str)  #: the focused contact changed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("electrodeDiagram")
        self.setAccessibleName("Electrode diagram")
        self.setToolTip("Click a contact (or move with the arrows and press Space) to cycle it "
                        "off, cathode (−), anode (+). Lead A is contacts 1-8, lead B 9-16")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.shares: dict[str, int] = {}
        self.impedances: dict[str, int | str] = {}
        self.current = P.LEAD_A[0]

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
        top, bottom_room = 24.0, 56.0
        pitch = (h - top - bottom_room) / ROWS
        col_w = min(90.0, w / 2 - 20)
        if contact == P.CASE:
            return QRectF(w / 2 - col_w / 2, h - bottom_room + 10, col_w, bottom_room - 16)
        index = P.CONTACTS.index(contact)
        lead, row = divmod(index, ROWS)
        x = w / 4 - col_w / 2 if lead == 0 else 3 * w / 4 - col_w / 2
        return QRectF(x, top + row * pitch + 3, col_w, pitch - 6)

    def contact_at(self, point: QPointF) -> str | None:
        return next((c for c in P.CONTACTS if self.contact_rect(c).contains(point)), None)

    # --- painting -------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(self.font())
        painter.setFont(font)
        w = float(self.width())
        painter.setPen(self.palette().windowText().color())
        painter.drawText(QRectF(0, 0, w / 2, 20), Qt.AlignmentFlag.AlignCenter, "Lead A")
        painter.drawText(QRectF(w / 2, 0, w / 2, 20), Qt.AlignmentFlag.AlignCenter, "Lead B")
        for contact in P.CONTACTS:
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
        painter.drawText(rect.adjusted(4, 1, -4, -1), Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft,
                         f"{name}{sign}")
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
        index = P.CONTACTS.index(self.current)
        if key == Qt.Key.Key_Space:
            self.cycleRequested.emit(self.current)
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            if self.current == P.CASE:
                self.select(P.LEAD_A[-1] if key == Qt.Key.Key_Up else P.CASE)
            else:
                lead, row = divmod(index, ROWS)
                row += -1 if key == Qt.Key.Key_Up else 1
                self.select(P.CASE if row >= ROWS else P.CONTACTS[lead * ROWS + max(0, row)])
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and self.current != P.CASE:
            row = index % ROWS
            self.select(P.CONTACTS[(0 if key == Qt.Key.Key_Left else ROWS) + row])
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
