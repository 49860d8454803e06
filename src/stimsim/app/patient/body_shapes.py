"""The body chart's geometry: a front and a back outline and one QPainterPath per region.

Shapes are drawn for the figure's right half in figure units (x outward from the midline,
y down from the top of the head, a figure 120 wide and 270 tall) and mirrored for the other
side. Seen from the front, the patient's left is on the viewer's right; from the back, on
the viewer's left. Each region is clipped to the outline so the chart reads as a body.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainterPath, QPolygonF, QTransform

from ...patient import regions as RG

FIGURE_W = 120.0
FIGURE_H = 270.0

Points = tuple[tuple[float, float], ...]

# Half outlines (right half, x >= 0), each closed along the midline or on itself.
_TORSO: Points = ((0, 44), (9, 44), (14, 49), (30, 53), (33, 62), (30, 88), (26, 110), (29, 128), (28, 146),
                  (0, 146))
_ARM: Points = ((27, 52), (34, 55), (39, 72), (43, 98), (50, 136), (43, 138), (36, 102), (30, 80), (29, 62))
_LEG: Points = ((1, 140), (28, 132), (27, 170), (21, 196), (19, 225), (17, 252), (9, 252), (8, 225), (6, 196),
                (3, 170))
_NECK = QRectF(0, 30, 8, 18)
_HEAD = QRectF(-13, 0, 26, 34)
_HAND = QRectF(42, 134, 12, 22)
_FOOT = QRectF(7, 249, 12, 17)


def _poly(points: Points) -> QPainterPath:
    path = QPainterPath()
    path.addPolygon(QPolygonF([QPointF(x, y) for x, y in points]))
    path.closeSubpath()
    return path


def _ellipse(rect: QRectF) -> QPainterPath:
    path = QPainterPath()
    path.addEllipse(rect)
    return path


def _rect(x0: float, y0: float, x1: float, y1: float) -> QPainterPath:
    path = QPainterPath()
    path.addRect(QRectF(x0, y0, x1 - x0, y1 - y0))
    return path


def _half_outline() -> QPainterPath:
    path = _poly(_TORSO).united(_poly(_ARM)).united(_poly(_LEG))
    path = path.united(_rect(0, 30, 8, 48)).united(_ellipse(_HAND)).united(_ellipse(_FOOT))
    return path.united(_ellipse(_HEAD).intersected(_rect(0, -1, 14, 36)))


_MIRROR = QTransform(-1, 0, 0, 1, 0, 0)


@cache
def outline() -> QPainterPath:
    """The whole figure, both halves, centred on x = 0."""
    half = _half_outline()
    return half.united(_MIRROR.map(half)).simplified()


def _half_region(name: str) -> QPainterPath:
    """The region ``name`` on the figure's right half (before clipping to the outline)."""
    leg, torso, arm = _poly(_LEG), _poly(_TORSO), _poly(_ARM)
    shapes = {
        "head": _ellipse(_HEAD).intersected(_rect(0.6, -1, 14, 36)),
        "neck": _rect(0.6, 30, 10, 47),
        "shoulder": _ellipse(QRectF(14, 45, 22, 18)),
        "arm": arm.subtracted(_ellipse(QRectF(14, 45, 22, 18))),
        "hand": _ellipse(_HAND),
        "chest": torso.intersected(_rect(0.6, 50, 40, 90)).subtracted(_ellipse(QRectF(14, 45, 22, 14))),
        "abdomen": torso.intersected(_rect(0.6, 92, 40, 128)),
        "low_back": torso.intersected(_rect(0.6, 92, 40, 124)),
        "buttock": _ellipse(QRectF(1.5, 122, 27, 30)),
        "perineum": _poly(((0.6, 128), (12, 133), (6, 150), (0.6, 150))),
        "front_thigh": leg.intersected(_rect(0.6, 134, 40, 186)).subtracted(_poly(((0, 128), (12, 133), (6, 150),
                                                                                    (0, 150)))),
        "back_thigh": leg.intersected(_rect(0.6, 153, 40, 192)),
        "knee": _ellipse(QRectF(5, 186, 18, 18)),
        "leg": leg.intersected(_rect(0.6, 194, 40, 250)),
        "foot": _ellipse(_FOOT),
    }
    return shapes[name].intersected(_half_outline())


@cache
def region_paths(view: str, origin_x: float) -> dict[str, QPainterPath]:
    """The paths of the regions seen in ``view`` ("front" or "back"), on a figure centred at
    ``origin_x``; built once per process (callers map them to new paths, never change them)."""
    out: dict[str, QPainterPath] = {}
    for region in RG.REGIONS:
        if region.view != view:
            continue
        path = _half_region(region.name)
        # From the front the patient's left is on the viewer's right (positive x); from the back, on the left.
        on_positive = (region.side == "left") == (view == "front")
        if not on_positive:
            path = _MIRROR.map(path)
        out[region.id] = QTransform.fromTranslate(origin_x, 0).map(path)
    return out
