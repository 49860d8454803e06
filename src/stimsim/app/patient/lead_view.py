"""Lead placement: the spine from C1 to S1 and, beside it, the leads' span enlarged.

The overview on the left shows every vertebra labelled and a box where the leads lie; the
detail on the right shows that span with each contact coloured by its polarity in the
active program as the device reports it (cathode, anode, off) and its impedance when the
device has measured it. For trainers, the cathode centre and the best level for
sub-perception relief are marked (hideable). Lateral offsets are drawn enlarged. A DRG
patient's short leads are drawn by ``drg_lead_drawing`` at their roots and sides, each contact
with the impedance of the scenario's implant unless the device has measured its own.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from ...patient import spine
from ...patient.drg_leads import DrgLeads
from ...patient.leads import Leads
from ..model import AppModel
from . import drg_lead_drawing as drg
from .session import PatientSession

CATHODE = QColor(20, 60, 160)
ANODE = QColor(200, 40, 40)
OFF = QColor(190, 190, 190)
BONE = QColor(236, 230, 218)
BEST = QColor(0, 140, 70)
LAST = spine.LAST_LEVEL + 1.0  #: S1's lower end
OVERVIEW_SHARE = 0.34


def _mm(level: float) -> float:
    return float(spine.level_to_mm(level))


class LeadView(QWidget):
    """The spine with the leads and the program's polarity on each contact."""

    def __init__(self, model: AppModel, session: PatientSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.session = session
        self.show_trainer = True
        self.setAccessibleName("Lead placement")
        self.setToolTip("The spine C1 to S1 (left) and the leads enlarged (right): cathodes blue (-), anodes red "
                        "(+), unused contacts grey, impedance in ohm when measured")
        self.setMinimumSize(QSize(140, 170))
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        session.changed.connect(self.update)
        model.slotsChanged.connect(self.update)
        model.statusChanged.connect(self.update)
        model.faultsChanged.connect(self.update)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(240, 360)

    def set_trainer_marks(self, shown: bool) -> None:
        self.show_trainer = shown
        self.update()

    def polarity(self) -> dict[str, int]:
        """Contact to signed percentage in the active program as read back ({} when none)."""
        program = self.model.active_program()
        return program.electrodes.as_dict() if program is not None else {}

    def describe(self) -> str:
        """The picture in words (the accessible description)."""
        s = self.session
        if s.scenario is None:
            return "No scenario started"
        leads = s.scenario.patient.leads
        if isinstance(leads, DrgLeads):
            return drg.describe(leads, s.response)
        parts = [f"Lead {lead.name} top at {spine.label(lead.top)}, {lead.offset_mm:+.0f} mm"
                 for lead in leads.leads]
        if s.response is not None:
            parts.append(f"cathode centre at {spine.label(s.response.cathode_level)}")
        return "; ".join(parts)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("white"))
        font = painter.font()
        font.setPointSizeF(7.0)
        painter.setFont(font)
        self.setAccessibleDescription(self.describe())
        s = self.session
        over_w = self.width() * OVERVIEW_SHARE
        span = self._span()
        self._draw_spine(painter, QRectF(2, 4, over_w - 4, self.height() - 8), 1.0, LAST,
                         span if s.scenario is not None else None)
        detail = QRectF(over_w + 4, 4, self.width() - over_w - 8, self.height() - 8)
        if s.scenario is None:
            painter.setPen(QColor("#555"))
            painter.drawText(detail, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             "Start a scenario to see its leads")
            painter.end()
            return
        leads = s.scenario.patient.leads
        if isinstance(leads, DrgLeads):
            drg.draw(painter, detail, span, self._y, leads, self.polarity(), self.contact_notes(),
                     s.response if self.show_trainer else None)
        else:
            self._draw_spine(painter, detail, span[0], span[1], None)
            self._draw_leads(painter, detail, span, leads)
        painter.end()

    def contact_notes(self) -> dict[str, str]:
        """Contact to what is known of it beyond polarity: its impedance (as the device measured
        it, else the scenario's implant's) and any fault the device reported."""
        s = self.session
        implant = s.scenario.device.impedances() if s.scenario is not None else {}
        impedance = {**implant, **dict(self.model.device_model.impedance_overrides)}
        faults = self.model.faults
        notes: dict[str, str] = {}
        for contact in set(impedance) | set(faults):
            words = f"{impedance[contact]:.0f}Ω" if contact in impedance else ""
            if contact in faults:
                words = f"{words} {faults[contact] or 'fault'}".strip()
            notes[contact] = words
        return notes

    def _span(self) -> tuple[float, float]:
        s = self.session
        if s.scenario is None:
            return 14.0, 19.0
        leads = s.scenario.patient.leads
        if isinstance(leads, DrgLeads):
            return drg.span(leads)
        levels = list(leads.contact_levels(s.scenario.params).values())
        levels.append(s.scenario.params.best_level)
        low = max(1.0, math.floor(min(levels)) - 0.5)
        high = min(LAST, math.ceil(max(levels)) + 0.5)
        return low, high

    @staticmethod
    def _y(rect: QRectF, top: float, bottom: float, level: float) -> float:
        return rect.top() + (_mm(level) - _mm(top)) / (_mm(bottom) - _mm(top)) * rect.height()

    def _draw_spine(self, p: QPainter, rect: QRectF, top: float, bottom: float,
                    box: tuple[float, float] | None) -> None:
        label_w = min(34.0, rect.width() * 0.4)
        body = QRectF(rect.left() + label_w, rect.top(), rect.width() - label_w, rect.height())
        bone_w = min(body.width() * 0.7, 60.0)
        x0 = body.center().x() - bone_w / 2
        p.setPen(QPen(QColor("#9c8f7c"), 0.8))
        first = int(math.floor(top))
        for v in range(first, int(math.ceil(bottom))):
            y0 = self._y(rect, top, bottom, max(float(v), top))
            y1 = self._y(rect, top, bottom, min(v + 1.0, bottom))
            gap = min(2.0, (y1 - y0) * 0.15)
            p.setBrush(BONE)
            p.drawRoundedRect(QRectF(x0, y0 + gap / 2, bone_w, max(1.0, y1 - y0 - gap)), 3, 3)
            if y1 - y0 >= 7 and v >= top:
                p.setPen(QColor("#444"))
                p.drawText(QRectF(rect.left(), y0, label_w - 2, y1 - y0),
                           Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, spine.label(v))
                p.setPen(QPen(QColor("#9c8f7c"), 0.8))
        if box is not None:
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(QColor("#333"), 1.2, Qt.PenStyle.DashLine))
            p.drawRect(QRectF(x0 - 3, self._y(rect, top, bottom, box[0]), bone_w + 6,
                              self._y(rect, top, bottom, box[1]) - self._y(rect, top, bottom, box[0])))

    def _draw_leads(self, p: QPainter, rect: QRectF, span: tuple[float, float], leads: Leads) -> None:
        s = self.session
        assert s.scenario is not None
        params = s.scenario.params
        label_w = min(34.0, rect.width() * 0.4)
        cx = rect.left() + label_w + (rect.width() - label_w) / 2
        px_per_mm = (rect.height()) / (_mm(span[1]) - _mm(span[0]))
        lateral = min(6.0, (rect.width() - label_w) / 2 / 12.0)  # px per lateral mm, enlarged
        polarity = self.polarity()
        measured = dict(self.model.device_model.impedance_overrides)
        faults = self.model.faults
        contact_h = max(3.0, params.contact_mm * px_per_mm)
        contact_w = max(7.0, min(12.0, lateral * 2.2))
        for lead in leads.leads:
            x = cx + lead.offset_mm * lateral
            top = self._y(rect, span[0], span[1], lead.top)
            last = self._y(rect, span[0], span[1], lead.contact_level(lead.contacts[-1], params.contact_mm))
            p.setPen(QPen(QColor("#666"), 3.0))
            p.drawLine(QPointF(x, top - 6), QPointF(x, last + 12))
            p.setPen(QColor("#222"))
            p.drawText(QRectF(x - 10, top - 18, 20, 12), Qt.AlignmentFlag.AlignCenter, lead.name)
            right = lead.offset_mm >= 0
            for contact in lead.contacts:
                y = self._y(rect, span[0], span[1], lead.contact_level(contact, params.contact_mm))
                value = polarity.get(contact, 0)
                colour = CATHODE if value < 0 else ANODE if value > 0 else OFF
                p.setPen(QPen(QColor("#222"), 0.8))
                p.setBrush(colour)
                p.drawRect(QRectF(x - contact_w / 2, y - contact_h / 2, contact_w, contact_h))
                sign = "-" if value < 0 else "+" if value > 0 else ""
                words = f"{contact}{sign}"
                if contact in measured:
                    words += f" {measured[contact]:.0f}Ω"
                if contact in faults:
                    words += f" {faults[contact] or 'fault'}"
                p.setPen(QColor("#222"))
                box = QRectF(x + contact_w / 2 + 2, y - 6, 70, 12) if right else QRectF(x - contact_w / 2 - 72, y - 6,
                                                                                         70, 12)
                align = Qt.AlignmentFlag.AlignLeft if right else Qt.AlignmentFlag.AlignRight
                p.drawText(box, align | Qt.AlignmentFlag.AlignVCenter, words)
        if polarity.get("case", 0) > 0:
            p.setPen(ANODE)
            p.drawText(QRectF(rect.left(), rect.bottom() - 14, rect.width(), 14), Qt.AlignmentFlag.AlignCenter,
                       "case +")
        if not self.show_trainer:
            return
        best_y = self._y(rect, span[0], span[1], params.best_level)
        p.setPen(QPen(BEST, 1.4, Qt.PenStyle.DashLine))
        p.drawLine(QPointF(rect.left() + label_w, best_y), QPointF(rect.right(), best_y))
        r = s.response
        if r is not None and r.cathode_offset_mm is not None:
            y = self._y(rect, span[0], span[1], r.cathode_level)
            x = cx + r.cathode_offset_mm * lateral
            p.setPen(QPen(QColor("black"), 1.0))
            p.setBrush(QColor(255, 200, 0))
            p.drawPolygon(QPolygonF([QPointF(x, y), QPointF(x - 7, y - 5), QPointF(x - 7, y + 5)]))
            p.drawPolygon(QPolygonF([QPointF(x, y), QPointF(x + 7, y - 5), QPointF(x + 7, y + 5)]))

