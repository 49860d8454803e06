"""DRG leads in the lead placement view: four short leads, each at its root on its side.

A DRG lead lies in the foramen beside the vertebra its root leaves under, on the ganglion.
Drawn from behind (left on the left): the root as a nerve leaving the spine, the ganglion,
and the lead's four contacts along it, contact 1 (distal) lowest, each coloured by its
polarity in the program the device reports and labelled with its impedance when measured.
The spine is narrowed, its vertebrae labelled on themselves, so the leads and their labels
fit beside it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF

from ...engine.program import Electrodes
from ...patient import spine
from ...patient.drg_leads import DrgLeads
from ...patient.drg_model import most_cathodic
from ...patient.model import Response

CATHODE = QColor(20, 60, 160)
ANODE = QColor(200, 40, 40)
OFF = QColor(190, 190, 190)
NERVE = QColor(214, 170, 40)
GANGLION = QColor(246, 222, 150)
BONE = QColor(236, 230, 218)
LABEL_W = 86.0  #: room for a contact's label: number, polarity, impedance
BONE_SHARE = 0.3  #: of the detail's width: a narrow spine leaves room for the leads beside it
FORAMEN_TOP = 0.35  #: where in its vertebra a lead's proximal contact lies (0 top .. 1 bottom)
FORAMEN_BOTTOM = 0.85  #: where its distal contact lies
LAST = spine.LAST_LEVEL + 1.0

LevelToY = Callable[[QRectF, float, float, float], float]


def span(leads: DrgLeads) -> tuple[float, float]:
    """The levels the detail shows: from half a vertebra above the highest root to half below the lowest."""
    levels = [lead.level for lead in leads.leads]
    return max(1.0, min(levels) - 0.5), min(LAST, max(levels) + 1.5)


def describe(leads: DrgLeads, response: Response | None) -> str:
    """The leads in words: ``Lead A at the left L4 root; ...; most cathodic lead at L4``."""
    parts = [f"Lead {lead.name} at the {lead.side} {lead.root} root" for lead in leads.leads]
    if response is not None:
        parts.append(f"most cathodic lead at {spine.label(response.cathode_level)}")
    return "; ".join(parts)


def draw(p: QPainter, rect: QRectF, shown: tuple[float, float], to_y: LevelToY, leads: DrgLeads,
         polarity: dict[str, int], notes: dict[str, str], response: Response | None) -> None:
    """The narrow spine, then each lead at its root with its contacts' polarity and notes;
    ``response`` (trainer marks) marks the most cathodic lead."""
    bone_w = max(22.0, min(rect.width() * BONE_SHARE, 44.0))
    lead_gap = max(9.0, min(20.0, rect.width() * 0.07))
    cx = _spine_centre(rect, leads, bone_w, lead_gap)
    p.save()
    p.setClipRect(rect)  # labels never run into the overview beside the detail
    _draw_spine(p, rect, shown, to_y, cx, bone_w)
    marked = _most_cathodic(leads, polarity) if response is not None else None
    for lead in leads.leads:
        sign = -1.0 if lead.side == "left" else 1.0
        x = cx + sign * (bone_w / 2 + lead_gap)
        y_top = to_y(rect, shown[0], shown[1], lead.level + FORAMEN_TOP)
        y_bottom = to_y(rect, shown[0], shown[1], lead.level + FORAMEN_BOTTOM)
        step = (y_bottom - y_top) / (len(lead.contacts) - 1)
        # the root: from under the spine out through the foramen, its ganglion under the contacts
        p.setPen(QPen(NERVE, 4.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        p.drawLine(QPointF(cx + sign * bone_w / 2, y_top - 0.3 * step),
                   QPointF(x + sign * 1.2 * lead_gap, y_bottom + 0.3 * step))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(GANGLION)
        p.drawEllipse(QPointF(x, (y_top + y_bottom) / 2), 7.0, (y_bottom - y_top) / 2 + 5)
        # the lead: in from the epidural space (medial, above), then down over the ganglion
        p.setPen(QPen(QColor("#666"), 3.0))
        entry = QPointF(cx + sign * (bone_w / 2 - 5), y_top - 1.2 * step)
        p.drawLine(entry, QPointF(x, y_top - 0.5 * step))
        p.drawLine(QPointF(x, y_top - 0.5 * step), QPointF(x, y_bottom + 0.4 * step))
        contact_h = max(4.0, min(step * 0.6, 9.0))
        contact_w = 8.0
        label_x = x + contact_w / 2 + 3 if sign > 0 else x - contact_w / 2 - 3 - LABEL_W
        align = (Qt.AlignmentFlag.AlignLeft if sign > 0 else Qt.AlignmentFlag.AlignRight) | Qt.AlignmentFlag.AlignVCenter
        p.setPen(QColor("#222"))
        bold = p.font()
        bold.setBold(True)
        plain = p.font()
        p.setFont(bold)
        p.drawText(QRectF(label_x, y_top - 1.1 * step - 6, LABEL_W, 12), align, f"{lead.name} {lead.root}")
        p.setFont(plain)
        for k, contact in enumerate(reversed(lead.contacts)):  # the proximal contact on top, contact 1 lowest
            y = y_top + k * step
            value = polarity.get(contact, 0)
            p.setPen(QPen(QColor("#222"), 0.8))
            p.setBrush(CATHODE if value < 0 else ANODE if value > 0 else OFF)
            p.drawRect(QRectF(x - contact_w / 2, y - contact_h / 2, contact_w, contact_h))
            words = f"{contact}{'-' if value < 0 else '+' if value > 0 else ''}"
            if notes.get(contact):
                words += f" {notes[contact]}"
            p.setPen(QColor("#222"))
            p.drawText(QRectF(label_x, y - 6, LABEL_W, 12), align, words)
        if lead.name == marked:
            _diamond(p, QPointF(x - sign * (contact_w / 2 + 8), (y_top + y_bottom) / 2))
    p.restore()


def _spine_centre(rect: QRectF, leads: DrgLeads, bone_w: float, lead_gap: float) -> float:
    """The middle when leads lie on both sides; else the spine moves over so the side with
    leads gets the room for their labels."""
    sides = {lead.side for lead in leads.leads}
    if sides == {"left"}:
        return min(rect.center().x() + LABEL_W / 2, rect.right() - bone_w / 2 - 4)
    if sides == {"right"}:
        return max(rect.center().x() - LABEL_W / 2, rect.left() + bone_w / 2 + 4)
    return rect.center().x()


def _draw_spine(p: QPainter, rect: QRectF, shown: tuple[float, float], to_y: LevelToY, cx: float,
                bone_w: float) -> None:
    """Vertebrae in the middle, each labelled on itself (no label column: the leads need the room)."""
    first = int(math.floor(shown[0]))
    for v in range(first, int(math.ceil(shown[1]))):
        y0 = to_y(rect, shown[0], shown[1], max(float(v), shown[0]))
        y1 = to_y(rect, shown[0], shown[1], min(v + 1.0, shown[1]))
        gap = min(3.0, (y1 - y0) * 0.15)
        p.setPen(QPen(QColor("#9c8f7c"), 0.8))
        p.setBrush(BONE)
        p.drawRoundedRect(QRectF(cx - bone_w / 2, y0 + gap / 2, bone_w, max(1.0, y1 - y0 - gap)), 3, 3)
        if y1 - y0 >= 14 and v >= shown[0]:
            p.setPen(QColor("#444"))
            p.drawText(QRectF(cx - bone_w / 2, y0 + gap, bone_w, 14), Qt.AlignmentFlag.AlignCenter, spine.label(v))


def _most_cathodic(leads: DrgLeads, polarity: dict[str, int]) -> str | None:
    """The name of the lead carrying the most cathodic current (None when the program has none on these leads)."""
    try:
        return most_cathodic(leads, Electrodes.of(polarity)).name
    except ValueError:
        return None


def _diamond(p: QPainter, at: QPointF) -> None:
    p.setPen(QPen(QColor("black"), 1.0))
    p.setBrush(QColor(255, 200, 0))
    p.drawPolygon(QPolygonF([QPointF(at.x(), at.y() - 6), QPointF(at.x() + 5, at.y()),
                             QPointF(at.x(), at.y() + 6), QPointF(at.x() - 5, at.y())]))
