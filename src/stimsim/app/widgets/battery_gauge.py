"""The battery as the stimulator reports it: level, voltage, state in words, the charger.

The level comes from STATUS (every poll), the rest from BATT (read every few seconds,
at once after a battery or charger event). The charger's last event (``!CHARGE
STATE=ON/OFF/HOT/FULL``) is kept, so an overheated charger stays on screen as a warning
until the device says it is charging again or off. Charging start and stop, HOT and FULL
go to the session record as the device announced them.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ...engine import battery as B
from ..battery.words import (
    CHARGER_WORDS,
    PACK_NO_CHARGE,
    PRIMARY_NO_CHARGE,
    chemistry_words,
    has_charger,
    hours_left_words,
    no_charger_words,
    state_words,
)
from ..controller import Controller
from ..messages import battery_percent, event_text
from ..model import AppModel, DeviceEvent, Link
from ..style import repolish
from .battery_plot import CHARGING, TRACE, battery_plot, show_thresholds, threshold_lines

HISTORY_MAX = 20_000  #: points of the level history kept (a few hours at one a second)
HISTORY_MIN_S = 1.0  #: a point at most this often unless the level changed

_RECORDED = {"ON": "charging_start", "OFF": "charging_stop", "HOT": "charger_hot", "FULL": "charging_full"}


class BatteryGauge(QWidget):
    """Level bar, figures and words, charger buttons; and the level over this session
    (``history``, a plot the battery view shows beside the projection)."""

    def __init__(self, model: AppModel, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.controller = controller
        self.setObjectName("batteryGauge")
        self.charger = ""  #: the charger's last announced STATE ("" none since connecting)
        self._t: list[float] = []
        self._p: list[float] = []
        self._c: list[bool] = []
        self._t0: float | None = None

        self.bar = QProgressBar(self)
        self.bar.setObjectName("batteryBar")
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.bar.setAccessibleName("Battery level")
        self.bar.setToolTip("The battery level the stimulator reports (per-mille on the wire, shown in %)")
        self.bar.setMinimumWidth(160)
        self.bar.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

        self.headline = QLabel(self)
        self.headline.setObjectName("batteryHeadline")
        self.headline.setAccessibleName("Battery state")
        self.meaning = QLabel(self)
        self.meaning.setObjectName("batteryMeaning")
        self.meaning.setWordWrap(True)
        self.meaning.setAccessibleName("What the battery state means")
        self.figures = QLabel(self)
        self.figures.setObjectName("batteryFigures")
        self.figures.setWordWrap(True)
        self.figures.setAccessibleName("Battery voltage, cell and time left")
        self.charger_label = QLabel(self)
        self.charger_label.setObjectName("chargerState")
        self.charger_label.setWordWrap(True)
        self.charger_label.setAccessibleName("Charger")
        for label in (self.headline, self.meaning, self.figures, self.charger_label):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.start_button = QPushButton("S&tart charging", self)
        self.start_button.setObjectName("startCharging")
        self.start_button.setAccessibleName("Start charging")
        self.start_button.setToolTip("Put the simulated charger on (SIM CHARGE=1)")
        self.start_button.clicked.connect(lambda: self.set_charging(True))
        self.stop_button = QPushButton("Stop charg&ing", self)
        self.stop_button.setObjectName("stopCharging")
        self.stop_button.setAccessibleName("Stop charging")
        self.stop_button.setToolTip("Take the simulated charger off (SIM CHARGE=0)")
        self.stop_button.clicked.connect(lambda: self.set_charging(False))

        self.headline.setWordWrap(True)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(2)
        grid.addWidget(self.bar, 0, 0)
        grid.addWidget(self.headline, 0, 1)
        buttons = QVBoxLayout()
        buttons.setSpacing(2)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        grid.addLayout(buttons, 0, 2, 2, 1)
        grid.addWidget(self.meaning, 1, 0, 1, 2)
        grid.addWidget(self.figures, 2, 0, 1, 3)
        grid.addWidget(self.charger_label, 3, 0, 1, 3)
        grid.setColumnStretch(0, 2)
        grid.setColumnStretch(1, 3)

        self.history = battery_plot(self, "Battery level this session",
                                    "The level the stimulator reported since it was connected; "
                                    "green while charging. Wheel to zoom in time", "Time since connecting (min)")
        self.history_curve = self.history.getPlotItem().plot(pen={"color": TRACE, "width": 2}, stepMode="left")
        self.charging_curve = self.history.getPlotItem().plot(pen={"color": CHARGING, "width": 3}, connect="finite",
                                                              stepMode="left")
        self.history_lines = threshold_lines(self.history)

        self.history.hide()  # the battery view places it (a tab of its own)
        column = QVBoxLayout(self)
        column.setContentsMargins(6, 6, 6, 0)
        column.addLayout(grid)

        model.statusChanged.connect(self.refresh)
        model.linkChanged.connect(self._link_changed)
        model.identityChanged.connect(self._new_device)
        model.deviceEvent.connect(self._event)
        self.refresh()

    # --- requests -----------------------------------------------------------------
    def set_charging(self, on: bool) -> None:
        chemistry = self.model.status.chemistry
        if not has_charger(chemistry):
            self.model.set_notice(PACK_NO_CHARGE if chemistry.lower() == B.PACK else PRIMARY_NO_CHARGE, "warning")
            return
        self.controller.set_charging(on)

    def toggle_charging(self) -> None:
        self.set_charging(not self.model.status.charging and self.charger not in ("ON", "HOT", "FULL"))

    # --- the model ----------------------------------------------------------------
    def _link_changed(self) -> None:
        if self.model.link is not Link.CONNECTED:
            self.charger = ""
        self.refresh()

    def _new_device(self) -> None:
        self.charger = ""
        self._t, self._p, self._c = [], [], []
        self._t0 = None
        self.history_curve.setData([], [])
        self.charging_curve.setData([], [])

    def _event(self, event: DeviceEvent) -> None:
        if event.name != "CHARGE":
            return
        state = dict(event.args).get("STATE", "")
        self.charger = state
        what = _RECORDED.get(state)
        if what is not None:
            s = self.model.status
            self.model.record_action("device", what, event_text("CHARGE", {"STATE": state}),
                                     {"state": state, "battery_permille": s.battery_permille,
                                      "chemistry": s.chemistry, "raw": event.raw}, source="device")
        self.refresh()

    def refresh(self) -> None:
        s = self.model.status
        connected = self.model.link is Link.CONNECTED
        permille = s.battery_permille if connected else None
        self.bar.setEnabled(permille is not None)
        self.bar.setValue(permille or 0)
        self.bar.setFormat(f"{battery_percent(permille)} %" if permille is not None else "—")
        words = state_words(s.battery_state if connected else "", s.chemistry)
        self.headline.setText(words.headline if connected else "No stimulator connected")
        self.headline.setProperty("level", words.level)
        self.bar.setProperty("level", words.level)
        repolish(self.headline)
        repolish(self.bar)
        self.meaning.setText(words.meaning if connected else "")
        parts = []
        if connected and s.battery_mv is not None:
            parts.append(f"{s.battery_mv / 1000:.2f} V")
        if connected and s.chemistry:
            parts.append(chemistry_words(s.chemistry))
        if connected and s.hours_left is not None:
            parts.append(hours_left_words(s.hours_left))
        self.figures.setText(" · ".join(parts))
        rechargeable = has_charger(s.chemistry)
        self._show_charger(connected, rechargeable)
        pack = s.chemistry.lower() == B.PACK  # the trial stimulator has no charger to show buttons for
        self.start_button.setVisible(not pack)
        self.stop_button.setVisible(not pack)
        self.start_button.setEnabled(connected and rechargeable and not s.charging and self.charger != "HOT")
        self.stop_button.setEnabled(connected and rechargeable and (s.charging or self.charger in ("ON", "HOT",
                                                                                                     "FULL")))
        if connected and permille is not None:
            self._append(permille, s.charging)
        show_thresholds(self.history_lines, s.chemistry.lower())

    def _show_charger(self, connected: bool, rechargeable: bool) -> None:
        if not connected:
            text, level = "", "info"
        elif not rechargeable:
            text, level = no_charger_words(self.model.status.chemistry), "info"
        elif self.charger in CHARGER_WORDS and (self.charger != "OFF" or not self.model.status.charging):
            text, level = CHARGER_WORDS[self.charger]
        else:
            text, level = CHARGER_WORDS["ON" if self.model.status.charging else "OFF"]
        self.charger_label.setText(text)
        self.charger_label.setProperty("level", level)
        repolish(self.charger_label)

    @property
    def hot(self) -> bool:
        """The charger overheated and has not been switched off or resumed since."""
        return self.charger == "HOT"

    # --- history ------------------------------------------------------------------
    def _append(self, permille: int, charging: bool) -> None:
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now
        t = (now - self._t0) / 60.0
        pct = permille / 10.0
        if self._p and (self._p[-1], self._c[-1]) == (pct, charging) and t - self._t[-1] < HISTORY_MIN_S / 60.0:
            return
        self._t.append(t)
        self._p.append(pct)
        self._c.append(charging)
        if len(self._t) > HISTORY_MAX:
            drop = len(self._t) - HISTORY_MAX
            del self._t[:drop]
            del self._p[:drop]
            del self._c[:drop]
        t_arr = np.asarray(self._t)
        p_arr = np.asarray(self._p)
        self.history_curve.setData(t_arr, p_arr)
        self.charging_curve.setData(t_arr, np.where(np.asarray(self._c), p_arr, np.nan))

    def history_csv(self) -> str:
        lines = ["time_min,battery_percent,charging"]
        lines += [f"{t:.4f},{p:.1f},{int(c)}" for t, p, c in zip(self._t, self._p, self._c, strict=True)]
        return "\n".join(lines) + "\n"
