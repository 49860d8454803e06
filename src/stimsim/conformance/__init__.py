"""The protocol conformance suite: every rule of protocol v1, checked on the wire."""

from .checks import CHECKS, Fail, Link, Result, Skip, run, run_checks, run_command, started_device, summary

__all__ = ["CHECKS", "Fail", "Link", "Result", "Skip", "run", "run_checks", "run_command", "started_device",
           "summary"]
