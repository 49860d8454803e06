"""The status bar: connection, role, stimulation state and battery at a glance."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QStatusBar, QWidget

from ..messages import faults_text, fmt_ma
from ..model import AppModel, Link
from ..style import repolish

MIN_CHARS = 6  #: a status label never gets narrower than this many characters


class ElidingLabel(QLabel):
    """A label that shortens its text with "…" rather than widen the window (a 1024 px projector).

    The accessible name and the full text (``text()``) are unchanged; only the drawing is cut.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), self.fontMetrics().averageCharWidth() * MIN_CHARS), hint.height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        room = self.contentsRect()
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, room.width())
        if shown == self.text():
            super().paintEvent(event)
            return
        painter = QPainter(self)
        self.style().drawItemText(painter, room, int(self.alignment()), self.palette(), self.isEnabled(), shown,
                                  self.foregroundRole())
        painter.end()


class StatusBar(QStatusBar):
    def __init__(self, model: AppModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setAccessibleName("Status bar")
        self.setToolTip("Connection, role, stimulation and battery")
        # The connection and the battery give way on a narrow window; role and stimulation never do.
        self.link_label = self._label("statusLink", "Connection", "The link to the stimulator", ElidingLabel(self))
        self.role_label = self._label("statusRole", "Role", "Patient or clinician session", QLabel(self))
        self.stim_label = self._label("statusStim", "Stimulation", "Stimulation as the stimulator reports it",
                                      QLabel(self))
        self.battery_label = self._label("statusBattery", "Battery", "The stimulator's battery", ElidingLabel(self))
        for lab in (self.link_label, self.role_label, self.stim_label):
            self.addWidget(lab)
        self.addPermanentWidget(self.battery_label)
        model.linkChanged.connect(self.refresh)
        model.statusChanged.connect(self.refresh)
        model.identityChanged.connect(self.refresh)
        model.faultsChanged.connect(self.refresh)
        self.refresh()

    def _label(self, name: str, title: str, tip: str, lab: QLabel) -> QLabel:
        lab.setObjectName(name)
        lab.setAccessibleName(title)
        lab.setToolTip(tip)
        return lab

    def refresh(self) -> None:
        m = self.model
        st = m.status
        label = m.identity.label or "no stimulator"
        link_text = {
            Link.CONNECTED: f"Connected: {label}",
            Link.CONNECTING: "Connecting…",
            Link.NOT_ANSWERING: f"Not answering: {label}",
            Link.LOST: f"Connection lost: {label}",
            Link.DISCONNECTED: "Disconnected",
        }[m.link]
        self.link_label.setText(link_text)
        self.link_label.setProperty("state", m.link.value)
        repolish(self.link_label)
        ok = m.link is Link.CONNECTED
        self.role_label.setText(f"Role: {st.role.capitalize()}" if ok and st.role else "Role: —")
        if not ok:
            stim = "Stimulation: unknown" if m.link in (Link.LOST, Link.NOT_ANSWERING) else "Stimulation: —"
        elif st.stim_on:
            stim = f"Stimulation ON · P{st.slot} · {fmt_ma(st.amplitude_ua)}"
        else:
            stim = f"Stimulation off · P{st.slot}"
        if ok and st.mri:
            stim += " · MRI mode"
        if ok and st.stim_on and st.compliance_limited:  # off, nothing is delivered, so nothing is limited
            stim += " · compliance limited"
        if ok and m.faults:
            stim += f" · {faults_text(m.faults)}"
        self.stim_label.setText(stim)
        self.stim_label.setProperty("on", ok and st.stim_on)
        repolish(self.stim_label)
        pct = st.battery_percent
        if not ok or pct is None:
            self.battery_label.setText("Battery —")
        else:
            chem = {"LIION": "rechargeable", "PRIMARY": "primary cell", "PACK": "battery pack"}.get(st.chemistry, "")
            text = f"Battery {pct} %"
            if st.charging:
                text += " · charging"
            if st.battery_state and st.battery_state != "OK":
                text += f" · {st.battery_state}"
            if chem:
                text += f" ({chem})"
            self.battery_label.setText(text)
