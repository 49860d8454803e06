"""The session report: a PDF built from a session record's entries alone, with Qt's own PDF writer.

The app's "Save report" and ``stimsim report RECORD --out REPORT.pdf`` both call
:func:`write_report`, so they produce the same document. A record whose hash chain is
broken is refused (naming the line) unless forced; a forced report says so on its first page.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QBuffer, QIODevice, QMarginsF, QPointF, QRectF, QSizeF, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QFont,
    QGuiApplication,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPainterPath,
    QPdfWriter,
    QPen,
    QTextDocument,
)

from ...engine import battery, files
from ...engine.atomic_file import atomic_write
from ...engine.describe import mode_line
from ...engine.program import DeviceModel, Program
from ...record import chain
from .recorder import DEVICE, NOTE, PROGRAMS

#: The default schedule of the battery projection: the final program all day, no charging.
PROJECTION_HOURS_PER_DAY = 24.0
PROJECTION_DAYS = {"liion": 30, "primary": 3650}
PLOT_SIZE = (1600, 700)  #: pixels of the projection image (drawn at this size, shown page-wide)
IMPEDANCE = "impedance"
ROLES = ("clinician", "patient")


class ReportError(Exception):
    """The record cannot become a report; ``code`` is the command's exit status (1 broken, 2 unusable)."""

    def __init__(self, text: str, code: int) -> None:
        super().__init__(text)
        self.code = code


@dataclass(frozen=True)
class RecordContent:
    path: Path
    entries: tuple[dict[str, Any], ...]
    broken: chain.Problem | None  #: the first break of a forced record, None when intact


def load_record(path: str | os.PathLike[str], *, force: bool = False) -> RecordContent:
    """The entries of a record; a broken chain raises ReportError (code 1) unless ``force``."""
    p = Path(path)
    problems = chain.verify(p)
    if problems and problems[0].line == 0:
        raise ReportError(f"{p}: {problems[0].text}", 2)
    broken = problems[0] if problems else None
    if broken is not None and not force:
        raise ReportError(f"{p}: the record's chain is broken at {broken}; no report written "
                          "(--force writes one that says so)", 1)
    entries: list[dict[str, Any]] = []
    for raw in p.read_bytes().splitlines():
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        if isinstance(entry, dict) and {"t", "who", "what", "text", "data"} <= set(entry):
            entries.append(entry)
    if not entries:
        raise ReportError(f"{p}: no entries: not a session record", 2)
    return RecordContent(p, tuple(entries), broken)


def write_report(record: RecordContent, out: str | os.PathLike[str]) -> None:
    """Write the PDF whole or not at all (the writer fills a temporary file that is then renamed)."""
    data = pdf_bytes(record)
    atomic_write(out, lambda fh: fh.write(data))


def pdf_bytes(record: RecordContent) -> bytes:
    """The report as PDF bytes (QPdfWriter into memory)."""
    doc = build_document(record)
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setTitle(f"stimsim session report: {record.path.name}")
    writer.setCreator("stimsim")
    writer.setResolution(150)
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                                     QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter))
    doc.setPageSize(QSizeF(writer.width(), writer.height()))
    doc.print_(writer)
    del writer  # the writer finishes the PDF when it goes
    buffer.close()
    data = bytes(buffer.data().data())
    if not data.startswith(b"%PDF"):
        raise OSError("the PDF writer wrote nothing")
    return data


def gui_app() -> QGuiApplication:
    """The application Qt's fonts and PDF writer need (one is made if there is none)."""
    app = QGuiApplication.instance()
    if isinstance(app, QGuiApplication):
        return app
    return QGuiApplication(["stimsim-report"])


# --- the document ---------------------------------------------------------------------
def build_document(record: RecordContent) -> QTextDocument:
    doc = QTextDocument()
    font = QFont("DejaVu Sans")
    font.setPointSizeF(9.5)
    doc.setDefaultFont(font)
    doc.setDefaultStyleSheet(
        "h1 { font-size: 18pt; } h2 { font-size: 13pt; margin-top: 14px; } "
        "td, th { padding: 2px 6px; } th { background: #dde6ef; text-align: left; } "
        ".warn { color: #a00000; font-weight: bold; } .muted { color: #555555; }")
    image = projection_image(record.entries)
    if image is not None:
        doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl("stimsim:battery.png"), image)
    doc.setHtml(report_html(record, image is not None))
    return doc


def report_html(record: RecordContent, with_plot: bool) -> str:
    entries = record.entries
    e = html.escape
    parts = ["<h1>stimsim session report</h1>",
             "<p class='muted'>A simulator's record, for training and development. Not a medical record.</p>"]
    if record.broken is not None:
        parts.append(f"<p class='warn'>WARNING: this record's hash chain is broken at {e(str(record.broken))}. "
                     "The report was forced: entries from that line on may have been changed, added or "
                     "removed.</p>")
    else:
        parts.append(f"<p>Record intact: {len(entries)} entries, hash chain verified.</p>")
    parts.append(_table(["Record", "From", "To"], [[record.path.name, entries[0]["t"], entries[-1]["t"]]]))

    parts.append("<h2>Device</h2>")
    devices = [x for x in entries if x["what"] == DEVICE]
    if devices:
        rows = []
        for x in _unique(devices):
            d = x["data"]
            rows.append([d.get("model", ""), d.get("serial", ""), d.get("firmware", ""), d.get("label", "")])
        parts.append(_table(["Model", "Serial", "Firmware", "Connected as"], rows))
    else:
        parts.append("<p>No stimulator was connected in this session.</p>")

    sets = [x for x in entries if x["what"] == PROGRAMS]
    parts.append("<h2>Programs before</h2>")
    parts.append(_programs(sets[0] if sets else None))
    parts.append("<h2>Programs after</h2>")
    parts.append(_programs(sets[-1] if sets else None))

    parts.append("<h2>Changes</h2>")
    changes = [x for x in entries if (x["who"] in ROLES and x["what"] not in (SAY, TRIAL_DIARY))
               or x["source"] == "log" or x in sets[1:]]
    parts.append(_entries_table(changes, "No changes were made."))

    parts.append("<h2>Confirmations</h2>")
    confirms = [x for x in entries if str(x["what"]).startswith("confirm")]
    parts.append(_entries_table(confirms, "No confirmations were given.", details=True))

    parts.append("<h2>Impedances</h2>")
    parts.append(_impedances([x for x in entries if x["what"] == IMPEDANCE]))

    parts.append("<h2>Battery projection</h2>")
    parts.append(_projection_text(entries, with_plot))

    parts.extend(_virtual_patient(entries))
    parts.extend(_trial(entries))

    parts.append("<h2>Notes</h2>")
    notes = [x for x in entries if x["what"] == NOTE]
    if notes:
        parts.extend(f"<p><b>{e(_time(x['t']))}</b> ({e(x['who'])}): {e(x['text'])}</p>" for x in notes)
    else:
        parts.append("<p>No notes.</p>")
    return "\n".join(parts)


# --- the Patient view: a rehearsal's score and conversation -----------------------------------
SAY = "say"  #: one line of the conversation with the virtual patient (in the dialogue entry too)
SCORE = "score"
DIALOGUE = "dialogue"


def _virtual_patient(entries: Sequence[dict[str, Any]]) -> list[str]:
    """A "Virtual patient" section when the session rehearsed one: each score with its parts and
    reasons, and the conversation (from the ``dialogue`` entry written at Finish)."""
    scores = [x for x in entries if x["what"] == SCORE]
    dialogues = [x for x in entries if x["what"] == DIALOGUE]
    if not scores and not dialogues:
        return []
    e = html.escape
    out = ["<h2>Virtual patient</h2>"]
    for x in scores:
        d = x["data"]
        out.append(f"<p><b>{e(str(d.get('scenario', '')))}</b>: {e(x['text'])}; final program "
                   f"{e(str(d.get('program', '')))}</p>")
        rows = [[p.get("name", ""), f"{p.get('points', 0):g} / {p.get('max', 0):g}", p.get("reason", "")]
                for p in d.get("parts", []) if isinstance(p, dict)]
        out.append(_table(["Part", "Points", "Reason"], rows))
    for x in dialogues:
        lines = [ln for ln in x["data"].get("lines", []) if isinstance(ln, dict)]
        out.append(f"<p>Conversation ({len(lines)} lines)</p>")
        out.append(_table(["Minute", "Who", "Said"], folded_conversation(lines)))
    return out


# --- the Trial view: the pain diary, the verdict and the transfer to the implant ----------------------
TRIAL_START = "trial_start"
TRIAL_DIARY = "trial_diary"  #: one evening's diary entry (shown in the trial's table, not as a change)
TRIAL_REPORT = "trial_report"
TRIAL_TRANSFER = "trial_transfer"


def _trial(entries: Sequence[dict[str, Any]]) -> list[str]:
    """A "Trial" section when the session ran one: each trial's diary table and verdict, and each transfer."""
    reports = [x for x in entries if x["what"] == TRIAL_REPORT]
    diaries = [x for x in entries if x["what"] == TRIAL_DIARY]
    transfers = [x for x in entries if x["what"] == TRIAL_TRANSFER]
    if not reports and not diaries and not transfers:
        return []
    e = html.escape
    out = ["<h2>Trial</h2>"]
    for x in reports:
        d = x["data"]
        out.append(f"<p><b>{e(str(d.get('title', d.get('scenario', ''))))}</b>, slot {e(str(d.get('slot', '')))} "
                   f"({e(str(d.get('program', '')))}): {e(x['text'])}</p>")
        days = [day for day in d.get("days", []) if isinstance(day, dict)]
        out.append(_table(["Day", "VAS", "Relief", "Stimulation", "Activity", "Medication"], _diary_rows(days)))
    if diaries and not reports:  # a trial stopped before its last evening: its diary so far
        out.append("<p>Diary of an unfinished trial</p>")
        out.append(_table(["Day", "VAS", "Relief", "Stimulation", "Activity", "Medication"],
                          _diary_rows([x["data"] for x in diaries])))
    for x in transfers:
        out.append(f"<p>{e(x['text'])}</p>")
        lines = [str(ln) for ln in x["data"].get("lines", [])]
        if lines:
            out.append("<ul>" + "".join(f"<li>{e(ln)}</li>" for ln in lines) + "</ul>")
    return out


def _diary_rows(days: Sequence[dict[str, Any]]) -> list[list[str]]:
    def num(day: dict[str, Any], key: str) -> float:
        value = day.get(key, 0)
        return float(value) if isinstance(value, (int, float)) else 0.0

    return [[str(day.get("day", "")), f"{num(day, 'vas'):.1f}", f"{100 * num(day, 'relief'):.0f} %",
             f"{num(day, 'hours'):g} h", f"{num(day, 'activity'):.1f}", str(day.get("medication_doses", ""))]
            for day in days]


def folded_conversation(lines: list[dict[str, Any]]) -> list[list[str]]:
    """The conversation's rows, the same words said again in a row on one line with their
    count and first minute, as the Patient view shows them (thirty amplitude steps below
    threshold are one "I don't feel anything. (x30)", not thirty rows)."""
    rows: list[list[str]] = []
    last: tuple[object, object] | None = None
    count = 0
    for ln in lines:
        said = (ln.get("who", ""), ln.get("text", ""))
        if said == last:
            count += 1
            rows[-1][2] = f"{said[1]} (\u00d7{count})"
            continue
        last, count = said, 1
        rows.append([f"{ln.get('at_minutes', 0):.1f}", str(said[0]), str(said[1])])
    return rows


def _time(t: str) -> str:
    return t.replace("T", " ").removesuffix("Z") + " UTC" if t else ""


def _unique(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: list[Any] = []
    out = []
    for x in items:
        if x["data"] not in seen:
            seen.append(x["data"])
            out.append(x)
    return out


def _table(head: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    e = html.escape
    out = ["<table border='1' cellspacing='0' cellpadding='3' width='100%'>",
           "<tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>"]
    out.extend("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    out.append("</table>")
    return "".join(out)


def _entries_table(items: Sequence[dict[str, Any]], none: str, *, details: bool = False) -> str:
    if not items:
        return f"<p>{html.escape(none)}</p>"
    head = ["Time", "Role", "What", "Details" if details else "Text"]
    rows = []
    for x in items:
        text = x["text"]
        if details and x["data"]:
            text += " (" + ", ".join(f"{k}: {_short(v)}" for k, v in x["data"].items()) + ")"
        rows.append([_time(x["t"]), x["who"], x["what"], text])
    return _table(head, rows)


def _short(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _program_set(entry: dict[str, Any] | None) -> files.ProgramFile | None:
    if entry is None:
        return None
    raw = entry["data"].get("set")
    if isinstance(raw, dict) and raw.get("programs") == []:  # every slot empty: a file needs a program
        chemistry = raw.get("device", {}).get("chemistry", "liion") if isinstance(raw.get("device"), dict) else "liion"
        return files.ProgramFile(DeviceModel(chemistry=str(chemistry)), ())
    problems: list[str] = []
    pf = files.from_data(raw, problems)
    return None if problems else pf


def _programs(entry: dict[str, Any] | None) -> str:
    pf = _program_set(entry)
    if pf is None:
        return "<p>Not known (no programs were read from a stimulator in this record).</p>"
    if not pf.programs:
        return "<p>No programs: every slot was empty.</p>"
    active = entry["data"].get("active") if entry else None
    rows = [[p.slot, p.name, mode_line(p), "active" if p.slot == active else ""] for p in pf.programs]
    return _table(["Slot", "Name", "Settings", ""], rows) + f"<p class='muted'>Battery: {pf.device.chemistry}</p>"


def _impedances(items: Sequence[dict[str, Any]]) -> str:
    if not items:
        return "<p>No impedance check was made.</p>"
    out = []
    for x in items:
        contacts = x["data"].get("contacts", x["data"])
        row = [[str(k), str(v)] for k, v in contacts.items()] if isinstance(contacts, Mapping) else []
        out.append(f"<p><b>{html.escape(_time(x['t']))}</b> ({html.escape(x['who'])}): {html.escape(x['text'])}</p>")
        if row:
            out.append(_table(["Contact", "Ohm"], row))
    return "".join(out)


# --- the battery projection ---------------------------------------------------------------
def final_program(entries: Sequence[dict[str, Any]]) -> tuple[Program, files.ProgramFile] | None:
    """The program the session ended with: the active slot of the last program set recorded."""
    sets = [x for x in entries if x["what"] == PROGRAMS]
    if not sets:
        return None
    pf = _program_set(sets[-1])
    if pf is None or not pf.programs:
        return None
    active = sets[-1]["data"].get("active")
    for p in pf.programs:
        if p.slot == active:
            return p, pf
    return pf.programs[0], pf


def projection(entries: Sequence[dict[str, Any]]) -> tuple[Program, battery.ScheduleResult] | None:
    found = final_program(entries)
    if found is None:
        return None
    prog, pf = found
    chem = pf.device.chemistry
    schedule = battery.DailySchedule(chem, (battery.ProgramPeriod.of(prog, pf.device, 0.0, PROJECTION_HOURS_PER_DAY),))
    return prog, battery.simulate_schedule(schedule, PROJECTION_DAYS.get(chem, 30))


def _projection_text(entries: Sequence[dict[str, Any]], with_plot: bool) -> str:
    found = projection(entries)
    if found is None:
        return "<p>No program was recorded, so there is nothing to project.</p>"
    prog, result = found
    stopped = result.stopped_h
    ends = (f"the battery reaches {battery.cell(result.chemistry).stop_state} after {stopped / 24:.1f} days"
            if stopped is not None else f"the battery is still at {result.end_soc:.0f} % after {result.days} days")
    text = (f"<p>Slot {prog.slot} ({html.escape(prog.name or prog.mode.value)}) running "
            f"{PROJECTION_HOURS_PER_DAY:g} h a day from a full {result.chemistry} battery, without charging: "
            f"{html.escape(ends)}; it draws {result.daily_draw_mwh:.0f} mWh a day.</p>")
    if with_plot:
        text += "<p><img src='stimsim:battery.png' width='640'></p>"
    return text


def projection_image(entries: Sequence[dict[str, Any]]) -> QImage | None:
    """The state of charge over the projection's days, drawn with QPainter."""
    found = projection(entries)
    if found is None:
        return None
    _prog, result = found
    w, h = PLOT_SIZE
    image = QImage(w, h, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont("DejaVu Sans")
    font.setPixelSize(26)
    painter.setFont(font)
    left, top, right, bottom = 120, 40, 40, 90
    plot = QRectF(left, top, w - left - right, h - top - bottom)
    days = max(float(result.t_h[-1]) / 24.0, 1.0)
    span = float(result.days)

    def at(day: float, soc: float) -> QPointF:
        return QPointF(plot.left() + plot.width() * day / span, plot.bottom() - plot.height() * soc / 100.0)

    painter.setPen(QPen(QColor("#c8d2dc"), 1))
    for soc in (0, 25, 50, 75, 100):
        painter.drawLine(at(0, soc), at(span, soc))
        painter.setPen(QColor("#333333"))
        painter.drawText(QRectF(0, at(0, soc).y() - 16, left - 12, 32),
                         int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), f"{soc} %")
        painter.setPen(QPen(QColor("#c8d2dc"), 1))
    ticks = _ticks(span)
    for day in ticks:
        painter.drawLine(at(day, 0), at(day, 100))
        painter.setPen(QColor("#333333"))
        painter.drawText(QRectF(at(day, 0).x() - 60, plot.bottom() + 6, 120, 32),
                         int(Qt.AlignmentFlag.AlignHCenter), f"{day:g}")
        painter.setPen(QPen(QColor("#c8d2dc"), 1))
    painter.setPen(QColor("#333333"))
    painter.drawText(QRectF(plot.left(), plot.bottom() + 44, plot.width(), 40),
                     int(Qt.AlignmentFlag.AlignHCenter), "days (program all day, no charging)")
    path = QPainterPath(at(float(result.t_h[0]) / 24.0, float(result.soc[0])))
    for t, soc in zip(result.t_h[1:], result.soc[1:], strict=True):
        path.lineTo(at(min(float(t) / 24.0, days), float(soc)))
    painter.setPen(QPen(QColor("#1f4e79"), 4))
    painter.drawPath(path)
    painter.setPen(QPen(QColor("#333333"), 2))
    painter.drawRect(plot)
    painter.end()
    return image


def _ticks(span: float) -> list[float]:
    for step in (1, 2, 5, 10, 30, 60, 100, 200, 365, 500, 1000):
        if span / step <= 10:
            return [float(d) for d in range(0, int(span) + 1, step)]
    return [0.0, span]
