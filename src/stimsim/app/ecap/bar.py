"""The ECAP bar: the ECAP of the moment against the loop's target and the therapeutic window."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

WINDOW = QColor("#cfe8cf")
TARGET = QColor("#1f4e79")
INSIDE = QColor("#2e7d32")
OUTSIDE = QColor("#b00020")


class EcapBar(QWidget):
    """A vertical bar from 0 to a top that holds the window: the window shaded, the target a
    line, the ECAP a filled column, green inside the window and red outside."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("ECAP bar")
        self.setToolTip("The ECAP of the moment (column) against the loop's target (line) and the therapeutic "
                        "window (shaded: the ECAP at perception up to that at discomfort, in this posture)")
        self.ecap_uv: float | None = None
        self.target_uv: float | None = None
        self.window_uv: tuple[float, float] | None = None
        self.setMinimumSize(90, 100)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(110, 240)

    def set_values(self, ecap_uv: float | None, target_uv: float | None, window_uv: tuple[float, float] | None) -> None:
        if (ecap_uv, target_uv, window_uv) != (self.ecap_uv, self.target_uv, self.window_uv):
            self.ecap_uv, self.target_uv, self.window_uv = ecap_uv, target_uv, window_uv
            self.update()

    @property
    def inside(self) -> bool | None:
        if self.ecap_uv is None or self.window_uv is None:
            return None
        return self.window_uv[0] <= self.ecap_uv <= self.window_uv[1]

    def top_uv(self) -> float:
        values = [v for v in (self.ecap_uv, self.target_uv, *(self.window_uv or ())) if v is not None]
        return max(50.0, 1.15 * max(values, default=0.0))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = p.fontMetrics()
        label_w = fm.horizontalAdvance("500 uV") + 6
        r = QRectF(label_w, fm.height() / 2 + 2, max(20.0, self.width() - label_w - 8),
                   max(20.0, self.height() - fm.height() - 6))
        top = self.top_uv()

        def y(uv: float) -> float:
            return r.bottom() - r.height() * min(uv, top) / top

        p.fillRect(r, QColor("#ffffff"))
        if self.window_uv is not None:
            lo, hi = self.window_uv
            p.fillRect(QRectF(r.left(), y(hi), r.width(), y(lo) - y(hi)), WINDOW)
        if self.ecap_uv is not None:
            colour = INSIDE if self.inside else OUTSIDE
            col = QRectF(r.left() + r.width() * 0.3, y(max(0.0, self.ecap_uv)), r.width() * 0.4,
                         r.bottom() - y(max(0.0, self.ecap_uv)))
            p.fillRect(col, colour)
        if self.target_uv is not None:
            p.setPen(QPen(TARGET, 2))
            p.drawLine(int(r.left()), int(y(self.target_uv)), int(r.right()), int(y(self.target_uv)))
        p.setPen(QPen(QColor("#555555"), 1))
        p.drawRect(r)
        for frac in (0.0, 0.5, 1.0):
            uv = top * frac
            p.drawText(QRectF(0, y(uv) - fm.height() / 2, label_w - 4, fm.height()),
                       int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), f"{uv:.0f} uV")
        p.end()
