"""What a new user sees at start, and --programs writing through the client."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from stimsim.app.launch import AppOptions, StimsimApp, example_slot_programs
from stimsim.app.model import Link
from stimsim.generator import urlhandler


def test_examples_fill_slots_1_to_5_with_a_tonic_program_first(qtbot: QtBot, stim: StimsimApp, gen: object) -> None:
    names = [stim.model.slots[n].name for n in range(1, 6)]
    assert names[0] == "Low back tonic" and len(set(names)) == 5
    assert stim.model.status.role == "PATIENT"  # the clinician login used to write them is closed again
    assert stim.window.remote.program_label.text() == "P1  Low back tonic"


def test_programs_option_writes_its_programs_as_a_clinician(qtbot: QtBot, qapp: QApplication) -> None:
    gen = urlhandler.new_generator(rng_seed=3)
    url = urlhandler.register_generator("startup-programs", gen)
    mine = (replace(example_slot_programs()[2], slot=7),)
    app = StimsimApp(AppOptions(programs=mine), builtin_url=url, ports=lambda: [])
    qtbot.addWidget(app.window)
    try:
        with qtbot.waitSignal(app.worker.setupFinished, timeout=10_000):
            app.start()
        qtbot.waitUntil(lambda: app.model.link is Link.CONNECTED and 7 in app.model.slots, timeout=5_000)
        assert sorted(app.model.slots) == [7]  # only the file's programs, no examples
        assert gen.slots[6] is not None and gen.slots[0] is None
        assert app.model.slots[7].rate_hz == 10_000
    finally:
        app.shutdown()
        urlhandler.unregister_generator("startup-programs")
