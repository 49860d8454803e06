"""Protocol conformance suite: every rule of protocol v1, checked on the wire.

Runs against anything reachable by URL (the Python emulator, the C firmware stub, a dev
board) and looks only at bytes: it writes exact request lines and judges the exact reply
and event lines, so two implementations that pass it behave the same to a host. It
imports the protocol (and the engine) only, never the client: it must be able to send
what a client never would.

Every check starts from a fresh ``HELLO STRICT=1``. The suite writes only to slots that
were empty (or restores what it overwrote), puts back the configuration, battery level
and active slot it found, and ends with STOP.
"""

from .checks import CHECKS
from .link import Fail, Link, Skip
from .port_command import started_device
from .runner import Result, run, run_checks, run_command, summary

__all__ = ["CHECKS", "Fail", "Link", "Result", "Skip", "run", "run_checks", "run_command", "started_device",
           "summary"]
