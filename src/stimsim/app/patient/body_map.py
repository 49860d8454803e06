"""The body map: pain, the paresthesia the patient feels now, their overlap and the clinician's marks.

Pain is shaded red by intensity, paresthesia hatched blue over it (so the overlap shows as
both, also without colour), and the regions the clinician marked from what the patient
described are outlined with a thick dashed line. Click a region, or move with the arrow
keys and press Space, to mark it.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QTransform,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from ...patient import regions as RG
from .body_shapes import FIGURE_H, FIGURE_W, outline, region_paths
from .session import PatientSession

GAP = 30.0
TOP = 22.0  #: room for "Front" / "Back"
SCENE = QRectF(0, 0, 2 * FIGURE_W + GAP, FIGURE_H + TOP + 4)
PAIN = QColor(214, 39, 40)
PARESTHESIA = QColor(31, 119, 180)
MARK = QColor(20, 20, 20)
FOCUS = QColor(255, 140, 0)
SKIN = QColor(246, 238, 230)
#: Region ids in the order the arrow keys walk them (front then back, head to foot).
ORDER: tuple[str, ...] = tuple(r.id for view in ("front", "back")
                               for r in sorted(RG.REGIONS, key=lambda r: (r.key_level, r.side)) if r.view == view)


class BodyMap(QWidget):
    """Front and back body outlines with the 30 regions, drawn from a ``PatientSession``."""

    def __init__(self, session: PatientSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setAccessibleName("Body map")
        self.setAccessibleDescription("Pain in red, paresthesia hatched blue, your marks outlined; "
                                      "arrow keys move between regions, Space marks one")
        self.setToolTip("Pain (red, darker = stronger), paresthesia now (blue hatching) and their overlap; "
                        "click a region, or use the arrow keys and Space, to mark where the patient says they feel it")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(False)
        self.setMinimumSize(QSize(160, 170))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        shift = QTransform.fromTranslate(0, TOP)
        self.paths: dict[str, QPainterPath] = {}
        for view, cx in (("front", FIGURE_W / 2), ("back", FIGURE_W * 1.5 + GAP)):
            for rid, path in region_paths(view, cx).items():
                self.paths[rid] = shift.map(path)
        body = outline()
        self.outlines = [shift.map(QTransform.fromTranslate(FIGURE_W / 2, 0).map(body)),
                         shift.map(QTransform.fromTranslate(FIGURE_W * 1.5 + GAP, 0).map(body))]
        self.focus_index = 0
        self.painted_at = 0.0  #: perf_counter at the end of the last paint (the lag test reads it)
        session.changed.connect(self.update)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(300, 320)

    def _transform(self) -> QTransform:
        scale = min(self.width() / SCENE.width(), self.height() / SCENE.height())
        dx = (self.width() - SCENE.width() * scale) / 2
        dy = (self.height() - SCENE.height() * scale) / 2
        return QTransform(scale, 0, 0, scale, dx, dy)

    def region_at(self, point: QPointF) -> str | None:
        """The region under a widget point, or None."""
        inverse, ok = self._transform().inverted()
        if not ok:
            return None
        scene = inverse.map(point)
        return next((rid for rid, path in self.paths.items() if path.contains(scene)), None)

    def region_centre(self, rid: str) -> QPointF:
        """Where ``rid`` sits on the widget (tests click there)."""
        return self._transform().map(self.paths[rid].boundingRect().center())

    def felt_regions(self) -> set[str]:
        """The regions drawn as paresthesia: the model's answer for what the device delivers."""
        r = self.session.response
        return set(r.regions) if r is not None else set()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        s = self.session
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("white"))
        painter.setTransform(self._transform())
        font = painter.font()
        font.setPointSizeF(9.0)
        painter.setFont(font)
        painter.setPen(QColor("#333"))
        for title, cx, left_text in (("Front", FIGURE_W / 2, ("R", "L")), ("Back", FIGURE_W * 1.5 + GAP, ("L", "R"))):
            painter.drawText(QRectF(cx - 40, 0, 80, TOP - 4), Qt.AlignmentFlag.AlignCenter, title)
            painter.drawText(QRectF(cx - FIGURE_W / 2, 0, 20, TOP - 4), Qt.AlignmentFlag.AlignCenter, left_text[0])
            painter.drawText(QRectF(cx + FIGURE_W / 2 - 20, 0, 20, TOP - 4), Qt.AlignmentFlag.AlignCenter,
                             left_text[1])
        for body in self.outlines:
            painter.fillPath(body, SKIN)
        pain = dict(s.scenario.patient.pain) if s.scenario is not None else {}
        felt = self.felt_regions()
        thin = QPen(QColor("#8a7b70"), 0.6)
        for rid, path in self.paths.items():
            level = pain.get(rid, 0.0)
            if level > 0:
                colour = QColor(PAIN)
                colour.setAlpha(int(60 + 160 * min(level, 10.0) / 10.0))
                painter.fillPath(path, colour)
            if rid in felt:
                painter.fillPath(path, QBrush(PARESTHESIA, Qt.BrushStyle.BDiagPattern))
                tint = QColor(PARESTHESIA)
                tint.setAlpha(70)
                painter.fillPath(path, tint)
            painter.strokePath(path, thin)
        for body in self.outlines:
            painter.strokePath(body, QPen(QColor("#5a4a40"), 1.2))
        mark_pen = QPen(MARK, 2.2, Qt.PenStyle.DashLine)
        for rid in s.marks:
            painter.strokePath(self.paths[rid], mark_pen)
        if self.hasFocus():
            painter.strokePath(self.paths[ORDER[self.focus_index]], QPen(FOCUS, 2.0))
        painter.end()
        self.painted_at = time.perf_counter()

    # --- marking --------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        rid = self.region_at(event.position())
        if rid is not None and event.button() == Qt.MouseButton.LeftButton:
            self.focus_index = ORDER.index(rid)
            self.session.toggle_mark(rid)
            event.accept()
            return
        super().mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = event.key()
        moves = {Qt.Key.Key_Right.value: 1, Qt.Key.Key_Down.value: 1, Qt.Key.Key_Left.value: -1,
                 Qt.Key.Key_Up.value: -1}
        if key in moves:
            self.focus_index = (self.focus_index + moves[key]) % len(ORDER)
            rid = ORDER[self.focus_index]
            self.setAccessibleDescription(f"{RG.BY_ID[rid].title}: {self._describe(rid)}")
            self.update()
        elif key in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.session.toggle_mark(ORDER[self.focus_index])
        else:
            super().keyPressEvent(event)

    def _describe(self, rid: str) -> str:
        s = self.session
        pain = dict(s.scenario.patient.pain).get(rid, 0.0) if s.scenario is not None else 0.0
        felt = s.response is not None and rid in s.response.regions
        words = [f"pain {pain:g}/10" if pain else "no pain", "paresthesia" if felt else "no paresthesia"]
        if rid in s.marks:
            words.append("marked")
        return ", ".join(words)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            rid = self.region_at(QPointF(event.pos()))
            if rid is not None:
                QToolTip.showText(event.globalPos(), f"{RG.BY_ID[rid].title}: {self._describe(rid)}", self)
                return True
        return super().event(event)
