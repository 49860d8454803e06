"""What a client's listeners are handed: whole lines, and the events and replies parsed from them.

Re-exported from the protocol's codec so code above the host (the app) depends on the
host alone; ``LineReader`` and ``Overlong`` serve a listener that splits a stream itself,
``split_seq`` one that reads the SEQ of a line.
"""

from __future__ import annotations

from ..protocol.codec import MAX_REPLY, Event, LineReader, Overlong, Reply, split_seq

__all__ = ["MAX_REPLY", "Event", "LineReader", "Overlong", "Reply", "split_seq"]
