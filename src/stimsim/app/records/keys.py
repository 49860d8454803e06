"""The keys of the File menu, presentation mode and the record view (Help > Keyboard lists them)."""

from __future__ import annotations

OPEN_KEY = "Ctrl+O"
SAVE_KEY = "Ctrl+S"
SAVE_AS_KEY = "Ctrl+Shift+S"
SEND_KEY = "Ctrl+Shift+W"
READ_KEY = "Ctrl+Shift+R"
PRESENTATION_KEYS = ("F11", "Ctrl+Shift+P")
NOTE_KEY = "Ctrl+Return"

KEYS: tuple[tuple[str, str], ...] = (
    (OPEN_KEY, "open a program file"),
    (SAVE_KEY, "save the program set"),
    (SAVE_AS_KEY, "save the program set under another name"),
    (SEND_KEY, "send the program set to the stimulator (each slot read back and compared)"),
    (READ_KEY, "read the stimulator's programs into a program set"),
    (" or ".join(PRESENTATION_KEYS), "presentation mode on / off (full screen, large type, clinician controls hidden)"),
    (NOTE_KEY, "in the Record view's note box: add the note to the record"),
)
