"""The app's log: what the device library warns about goes to the console panel.

Without a handler, Python prints a library's warnings on the terminal (a lost port's
pyserial text among them), where a user of the window never looks and which a user at the
terminal cannot act on. While the app runs, they go to the console panel as app notes
(``!``); the window says what happened in words.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

APP_LOGGER = "stimsim"


class ConsoleLogHandler(logging.Handler):
    """Hands each record's message to ``note`` (any thread: the note is posted to the GUI)."""

    def __init__(self, note: Callable[[str], None], level: int = logging.WARNING) -> None:
        super().__init__(level)
        self._note = note

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._note(record.getMessage())
        except Exception:  # a log line must never take the app down
            self.handleError(record)


def install(note: Callable[[str], None]) -> ConsoleLogHandler:
    """Route the library's warnings to ``note`` until :func:`remove`."""
    handler = ConsoleLogHandler(note)
    logging.getLogger(APP_LOGGER).addHandler(handler)
    return handler


def remove(handler: ConsoleLogHandler) -> None:
    logging.getLogger(APP_LOGGER).removeHandler(handler)
