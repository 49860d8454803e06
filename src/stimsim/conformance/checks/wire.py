"""Timing and the device's own lines; run last, so every line the suite received is judged."""

from __future__ import annotations

from ...protocol.codec import Reply
from ..context import Check, Ctx, collector
from ..expect import EVENT_LINE, REPLY_LINE
from ..link import REPLY_LIMIT_S, Fail

CHECKS: list[Check] = []
check = collector(CHECKS)


@check("timing.reply_within_50ms")
def _timing(ctx: Ctx) -> None:
    link = ctx.session()
    worst = 0.0
    for _attempt in range(2):  # a host hiccup is not the device's fault: one more try
        times = [link.req("STATUS").latency for _ in range(20)]
        worst = max(times)
        if worst <= REPLY_LIMIT_S:
            return
    raise Fail(f"a STATUS reply took {worst * 1000:.1f} ms (limit 50 ms)")


@check("framing.device_lines_valid")
def _device_lines(ctx: Ctx) -> None:
    link = ctx.link
    link.settle(0.05)
    if link.bad_lines:
        first = link.bad_lines[0]
        raise Fail(f"{len(link.bad_lines)} line(s) from the device broke the grammar or CRC, first "
                   f"{first.raw[:80]!r}: {first.error}")
    for inc in link.incoming:
        grammar = REPLY_LINE if isinstance(inc.msg, Reply) else EVENT_LINE
        if not grammar.match(inc.raw):
            raise Fail(f"line {inc.raw[:80]!r} does not end in an upper-case CRC and CR LF")
