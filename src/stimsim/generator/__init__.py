"""The virtual generator: protocol v1's device side, in-process (``virtual://``) or served
on a pty or TCP port (``stimsim emulate``)."""
