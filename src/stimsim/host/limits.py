"""The protocol's limits that a host's user shows or enforces (PIN rules, the lockout, the
reply size), re-exported so code above the host (the app) depends on the host alone."""

from __future__ import annotations

from ..protocol.limits import DEFAULT_PIN, LOCKOUT_S, MAX_REPLY, PIN_MAX_DIGITS, PIN_MIN_DIGITS, TEST_LEASE_S

__all__ = ["DEFAULT_PIN", "LOCKOUT_S", "MAX_REPLY", "PIN_MAX_DIGITS", "PIN_MIN_DIGITS", "TEST_LEASE_S"]
