"""Reading a command-line number, so every command refuses a word in the same words.

Each option keeps its own range check (and its own message for it); what they share is
turning the text into a number, or saying it is not one.
"""

from __future__ import annotations

import argparse


def number(text: str, what: str = "number") -> float:
    """``text`` as a float (``nan`` and ``inf`` included: the caller judges its range)."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a {what}") from None


def whole(text: str, what: str = "whole number") -> int:
    """``text`` as an int."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a {what}") from None
