"""Shared test setup: Qt runs offscreen so the app tests need no display."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
