"""Export a battery plot as PNG or SVG, and its data as CSV: whole files or nothing.

As the scope does: pyqtgraph's ImageExporter draws the PNG, Qt's own SVG generator the
SVG (pyqtgraph's SVGExporter cannot parse the paths this Qt writes). Every file goes
through ``engine.atomic_file``, so a failed export leaves the old file as it was.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pyqtgraph as pg
import pyqtgraph.exporters as pg_exporters
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from ...engine.atomic_file import atomic_write, atomic_write_text

IMAGE_FILTER = "PNG image (*.png);;SVG image (*.svg)"


def image_bytes(plot: pg.PlotWidget, kind: str, title: str) -> bytes:
    """The plot as it is shown, as PNG or SVG bytes."""
    if kind == ".png":
        image = pg_exporters.ImageExporter(plot.getPlotItem()).export(toBytes=True)
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        if not image.save(buffer, "PNG"):
            raise OSError("the PNG could not be drawn")
        buffer.close()
        return bytes(data.data())
    if kind == ".svg":
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        size = plot.size()
        svg = QSvgGenerator()
        svg.setOutputDevice(buffer)
        svg.setSize(size)
        svg.setViewBox(QRect(0, 0, size.width(), size.height()))
        svg.setTitle(title)
        painter = QPainter(svg)
        try:
            plot.render(painter)
        finally:
            painter.end()
        buffer.close()
        return bytes(data.data())
    raise ValueError(f"an image is saved as .png or .svg, not {kind or 'a name without a suffix'}")


def export_image(plot: pg.PlotWidget, path: str | os.PathLike[str], title: str) -> Path:
    """Write the plot to ``path`` (PNG or SVG by its suffix), whole or not at all."""
    target = Path(path)
    data = image_bytes(plot, target.suffix.lower(), title)
    if not data:
        raise OSError(f"nothing to write to {target.name}")
    atomic_write(target, lambda fh: fh.write(data))
    return target


def export_csv(text: str, path: str | os.PathLike[str]) -> Path:
    target = Path(path)
    atomic_write_text(target, text)
    return target


def save_dialog(parent: QWidget, caption: str, name: str, filters: str,
                write: Callable[[str], object]) -> str:
    """Ask where, write there; a failure is said in a box. Returns the path written ("" if none)."""
    path, _ = QFileDialog.getSaveFileName(parent, caption, name, filters)
    if not path:
        return ""
    try:
        write(path)
    except (OSError, ValueError) as exc:
        QMessageBox.warning(parent, caption, f"Nothing was saved: {exc}")
        return ""
    return path
