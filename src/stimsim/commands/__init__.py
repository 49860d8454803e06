"""Subcommands of ``stimsim``, one module per area; each exposes ``register(subparsers)``.

A command function takes the parsed ``argparse.Namespace`` and returns the exit status.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable


class UsageError(Exception):
    """Bad usage or bad input: printed as one line, exit status 2."""


Registrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def _registrars() -> list[Registrar]:
    from . import (
        device_commands,
        engine_commands,
        gui_command,
        loop_command,
        patient_commands,
        record_commands,
        report_command,
        trial_commands,
    )

    return [gui_command.register, engine_commands.register, device_commands.register, patient_commands.register,
            trial_commands.register, loop_command.register, record_commands.register, report_command.register]


REGISTRARS: list[Registrar] = _registrars()
