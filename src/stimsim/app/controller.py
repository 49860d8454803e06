"""What widgets may ask of the device: the commands, not how they travel.

Widgets take a ``Controller`` as an argument; the app passes the device worker, tests may
pass a recorder. Every method returns at once: answers come back through the model.
"""

from __future__ import annotations

from typing import Protocol

from ..engine.program import Program

BUILTIN_URL = "virtual://builtin"  #: the built-in virtual generator, registered under this name
BUILTIN_LABEL = "Built-in virtual generator"


class Controller(Protocol):
    def stop(self) -> None:
        """Stop stimulation now, ahead of anything queued."""

    def step_amplitude(self, steps: int) -> None:
        """Change the active program's amplitude by ``steps`` patient steps (``AMP_PATIENT_STEP_UA`` each)."""

    def toggle_stimulation(self) -> None: ...

    def select_relative(self, delta: int) -> None:
        """Make the next (+1) or previous (-1) programmed slot the active one."""

    def set_mri(self, on: bool) -> None: ...

    def connect_device(self, url: str) -> None: ...

    def disconnect_device(self) -> None: ...

    def reconnect(self) -> None: ...

    def send_line(self, text: str) -> None:
        """Send a line typed in the console (strict framing is added by the client)."""

    # --- the patient view (virtual patient rehearsals) --------------------------------------
    def write_programs(self, programs: tuple[Program, ...], pin: str, select: int | None = None, *,
                       stim_off: bool = False) -> None:
        """Write ``programs`` to their slots as a clinician (login with ``pin``, PROG + read-back,
        logout), then make slot ``select`` active if given; ``stim_off`` turns stimulation off
        first (a new patient starts with nothing running)."""
