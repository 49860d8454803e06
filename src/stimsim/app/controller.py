"""What widgets may ask of the device: the commands, not how they travel.

Widgets take a ``Controller`` as an argument; the app passes the device worker, tests may
pass a recorder. Every method returns at once: answers come back through the model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import threading

    from ..engine.program import DeviceModel, Program
    from ..host.results import EcapPoint, EcapReading, LogEntry
    from .records.transfer import Progress, TransferResult

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

    # --- the clinician's requests: each answers with model.clinicianReplied -------------
    def login(self, pin: str) -> None:
        """Challenge-response login (the client computes the proof; the PIN is not kept)."""

    def logout(self) -> None: ...

    def write_program(self, program: Program, ack: bool = False) -> None:
        """PROG the program to its slot, READ it back and compare (``ack``: ACK=CHARGE)."""

    def test_program(self, program: Program, ack: bool = False) -> None:
        """TEST the program live on the active slot (the device's lease is kept by polling)."""

    def end_test(self) -> None:
        """TEST END: the saved program is back (never dropped by STOP)."""

    def erase_slot(self, slot: int) -> None: ...

    def measure_impedance(self) -> None: ...

    # --- the battery view ---------------------------------------------------------------
    def set_charging(self, on: bool) -> None:
        """Put the simulated charger on or off (``SIM CHARGE=``; a board may not have one)."""

    def read_battery(self) -> None:
        """Read BATT now, not at the next battery poll."""

    # --- files and records: program sets to and from the device, the audit log ---------------
    def send_programs(self, programs: tuple[Program, ...], pin: str | None, progress: Progress,
                      done: Callable[[TransferResult], None], cancel: threading.Event | None = None) -> None:
        """Write ``programs`` to their slots (logging in with ``pin`` first if given), each read
        back and compared; ``progress`` and ``done`` are called on the GUI thread."""

    def read_programs(self, device: DeviceModel, progress: Progress, done: Callable[[TransferResult], None]) -> None:
        """Read every programmed slot into a program set; ``done`` gets it on the GUI thread."""

    def read_log(self, from_: int | None, done: Callable[[list[LogEntry] | None], None]) -> None:
        """The device's audit log from entry ``from_`` (None if it could not be read), on the GUI thread."""

    # --- the patient view (virtual patient rehearsals) --------------------------------------
    def write_programs(self, programs: tuple[Program, ...], pin: str, select: int | None = None, *,
                       stim_off: bool = False, faults: Mapping[str, str] | None = None,
                       battery_permille: int | None = None, at_start: bool = False) -> None:
        """Write ``programs`` to their slots as a clinician (login with ``pin``, PROG + read-back,
        logout), then make slot ``select`` active if given; ``stim_off`` turns stimulation off
        first (a new patient starts with nothing running). ``faults`` (contact -> OPEN/SHORT)
        and ``battery_permille`` set a simulating stimulator's contacts and battery to the
        patient's (``SIM FAULT=``, ``SIM BATT=``); a board without SIM is told in words.
        ``at_start``: a start-up job (``stimsim gui --scenario``), queued behind the connection."""

    # --- the ECAP view (the closed-loop family; another family is left alone) ----------------
    def sim_posture(self, posture: str) -> None:
        """``SIM POSTURE=``: move the device's virtual nerve with the virtual patient."""

    def sim_cough(self) -> None:
        """``SIM COUGH``: the CSF depth 1.5 mm less for a second."""

    def ecap_stream(self, on: bool) -> None:
        """``ECAP STREAM=1/0``: the ``!ECAP`` events reach ``AppModel.ecapMeasured``."""

    def ecap_sweep(self, from_ua: int, to_ua: int, step_ua: int,
                   done: Callable[[list[EcapPoint] | None, str], None]) -> None:
        """``ECAP SWEEP``: ``done`` gets the growth curve (or None and why) on the GUI thread."""

    def read_ecap(self, done: Callable[[EcapReading | None], None]) -> None:
        """``ECAP``: ``done`` gets the reading (None if it could not be read) on the GUI thread."""
