"""The core compiles freestanding for a Cortex-M0+ (RP2040 class) and fits a small MCU."""

from __future__ import annotations

import re
import shutil

import pytest

from .stub_support import make

FLASH_BUDGET = 128 * 1024  #: a small part's flash
RAM_BUDGET = 48 * 1024  #: a small part's SRAM, stack left aside


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None,
                    reason="arm-none-eabi-gcc is not installed (apt-get install gcc-arm-none-eabi)")
def test_core_builds_for_cortex_m0plus_within_budget() -> None:
    result = make("cortex-m")
    assert result.returncode == 0, result.stdout + result.stderr
    flash = re.search(r"^flash \(text\+data\): (\d+) bytes$", result.stdout, re.MULTILINE)
    ram = re.search(r"^RAM \(data\+bss\): (\d+) bytes$", result.stdout, re.MULTILINE)
    assert flash and ram, result.stdout
    assert 0 < int(flash.group(1)) <= FLASH_BUDGET
    assert 0 < int(ram.group(1)) <= RAM_BUDGET
