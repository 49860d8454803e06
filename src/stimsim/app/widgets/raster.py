"""The scope trace as a raster: one image column per envelope pixel, as a digital scope draws.

Drawing the envelope as a polyline makes a dense train (10 kHz, or any train at 60 s per
screen) thousands of overlapping full-height strokes, whose cost grows with density. A
column image costs the same for any signal: each column is filled from the pixel's min
to its max (joined to the neighbouring column so edges stay continuous), in one numpy
pass, and drawn unscaled.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QStyleOptionGraphicsItem, QWidget


def raster_columns(lo: np.ndarray, hi: np.ndarray, y_top: float, y_bottom: float, rows: int,
                   thickness: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """First and last image row (inclusive) each column covers, for values lo..hi.

    Row 0 is ``y_top``; a column is widened to touch its left neighbour, so a jump
    between two pixels is drawn as the vertical edge it is.
    """
    scale = rows / (y_top - y_bottom)
    lo_join = lo.copy()
    hi_join = hi.copy()
    if len(lo) > 1:  # fmin/fmax: a NaN neighbour (unknown output) joins nothing
        np.fmin(lo_join[1:], hi[:-1], out=lo_join[1:])
        np.fmax(hi_join[1:], lo[:-1], out=hi_join[1:])
    blank = np.isnan(lo) | np.isnan(hi)
    top = np.floor((y_top - np.nan_to_num(hi_join)) * scale).astype(np.int64)
    bottom = np.floor((y_top - np.nan_to_num(lo_join)) * scale).astype(np.int64) + (thickness - 1)
    top = np.clip(top, -1, rows)
    bottom = np.clip(bottom, -1, rows)
    top[blank] = rows + 1  # an empty span: nothing drawn
    bottom[blank] = -1
    return top, bottom


class EnvelopeRaster(pg.GraphicsObject):  # type: ignore[misc]  # pyqtgraph ships no type hints
    """A GraphicsObject showing per-pixel (min, max) columns over a rectangle in data coordinates."""

    def __init__(self, color: str) -> None:
        super().__init__()
        self._rect = QRectF()
        self._image: QImage | None = None
        self._buffer = np.zeros((0, 0), dtype=np.uint32)
        self.set_color(color)

    def set_color(self, color: str) -> None:
        self._argb = np.uint32(QColor(color).rgba())
        self.update()

    def set_data(self, x0: float, x1: float, lo: np.ndarray, hi: np.ndarray, y_top: float, y_bottom: float,
                 rows: int, thickness: int = 1) -> None:
        """Columns for [x0, x1] (data units) with values mapped to ``rows`` rows from y_top down."""
        cols = len(lo)
        self.prepareGeometryChange()
        if cols == 0 or rows <= 0 or x1 <= x0 or y_top <= y_bottom:
            self._image = None
            self._rect = QRectF()
            self.update()
            return
        top, bottom = raster_columns(lo, hi, y_top, y_bottom, rows, thickness)
        if self._buffer.shape != (rows, cols):
            # Buffers reused frame after frame; 16-bit rows keep the compares cheap.
            self._buffer = np.zeros((rows, cols), dtype=np.uint32)
            self._mask = np.zeros((rows, cols), dtype=bool)
            self._scratch = np.zeros((rows, cols), dtype=bool)
            self._rows = np.arange(rows, dtype=np.int16)[:, None]
        np.greater_equal(self._rows, top.astype(np.int16)[None, :], out=self._mask)
        np.less_equal(self._rows, bottom.astype(np.int16)[None, :], out=self._scratch)
        np.logical_and(self._mask, self._scratch, out=self._mask)
        np.multiply(self._mask, self._argb, out=self._buffer, casting="unsafe")
        self._image = QImage(self._buffer.data, cols, rows, cols * 4, QImage.Format.Format_ARGB32_Premultiplied)
        self._rect = QRectF(x0, y_bottom, x1 - x0, y_top - y_bottom)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(self._rect)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if self._image is None:
            return
        painter.save()
        # Data y grows upwards; the image's row 0 is the top: flip into the rectangle.
        painter.translate(self._rect.left(), self._rect.bottom())
        painter.scale(self._rect.width() / self._image.width(), -self._rect.height() / self._image.height())
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(0, 0, self._image)
        painter.restore()
