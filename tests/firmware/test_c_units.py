"""The C unit tests (CRC check value, SHA-256 / HMAC vectors, parser, scheduler, store...)."""

from __future__ import annotations

import re

from .conftest import _build
from .stub_support import make


def test_make_test_passes() -> None:
    _build("build/test_core")
    result = make("test")
    assert result.returncode == 0, result.stdout + result.stderr
    found = re.search(r"^(\d+) passed, (\d+) failed$", result.stdout, re.MULTILINE)
    assert found, result.stdout
    assert int(found.group(2)) == 0
    assert int(found.group(1)) >= 90
    for vector in ("SHA-256(one million 'a')", "RFC 4231 test case 7", "CRC-16/CCITT-FALSE check 29B1"):
        assert vector not in result.stdout  # a FAIL line would name it
