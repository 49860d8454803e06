"""Styles, icons and fonts from ``resources/``: one place that knows where they live.

Sheets are plain Qt style sheets whose font sizes are written ``$pt(N)`` so presentation
mode can scale every size at once. Icons are single-colour SVGs drawn with
``currentColor`` and tinted here, so one file serves the dark remote and the light panels.
"""

from __future__ import annotations

import re
from functools import lru_cache

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QFont, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication, QWidget

from ..resources import resource_dir

PRESENTATION_SCALE = 1.35
_PT = re.compile(r"\$pt\((\d+(?:\.\d+)?)\)")


def style_sheet(name: str = "app", scale: float = 1.0) -> str:
    """The sheet ``resources/styles/<name>.qss`` with its ``$pt(N)`` sizes scaled."""
    text = (resource_dir() / "styles" / f"{name}.qss").read_text(encoding="utf-8")
    return _PT.sub(lambda m: f"{max(6, round(float(m.group(1)) * scale))}pt", text)


@lru_cache(maxsize=128)
def icon(name: str, color: str = "#1c2733") -> QIcon:
    """The SVG icon ``resources/icons/<name>.svg`` drawn in ``color``, sharp at any scale."""
    svg = (resource_dir() / "icons" / f"{name}.svg").read_text(encoding="utf-8")
    renderer = QSvgRenderer(QByteArray(svg.replace("currentColor", color).encode("utf-8")))
    out = QIcon()
    for size in (16, 20, 24, 32, 48, 64, 96):
        pix = QPixmap(size, size)
        pix.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pix)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        out.addPixmap(pix)
    return out


_APPLIED = "stimsimStyleScale"  #: the application property holding the scale the style was applied at


def apply_style(app: QApplication, *, presentation: bool = False) -> float:
    """Fonts and the style sheet for the whole app; returns the font scale used."""
    scale = PRESENTATION_SCALE if presentation else 1.0
    if app.property(_APPLIED) == scale:
        return scale  # already so: setting it again would re-polish every widget there is
    app.setProperty(_APPLIED, scale)
    app.setStyle("Fusion")
    font = QFont("DejaVu Sans")
    font.setPointSizeF(10.0 * scale)
    app.setFont(font)
    app.setStyleSheet(style_sheet("app", scale))
    app.setWindowIcon(icon("app", "#1f4e79"))
    return scale


def repolish(widget: QWidget) -> None:
    """Re-apply the sheet after a dynamic property (``on``, ``level``) changed."""
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()
