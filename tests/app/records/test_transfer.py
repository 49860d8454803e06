"""Send a program set to the stimulator (each slot read back and compared) and read one back."""

from __future__ import annotations

from dataclasses import replace

from pytestqt.qtbot import QtBot

from stimsim.app.launch import StimsimApp
from stimsim.engine import files
from stimsim.generator.virtual_generator import VirtualGenerator
from stimsim.host.limits import DEFAULT_PIN


def _read(rstim: StimsimApp, qtbot: QtBot) -> files.ProgramFile:
    actions = rstim.session.files
    actions.last_result = None
    assert actions.read_from_stimulator()
    qtbot.waitUntil(lambda: actions.last_result is not None, timeout=5_000)
    pf = rstim.session.document.program_file
    assert pf is not None
    return pf


def test_read_from_the_stimulator_gives_its_slots_as_an_unsaved_set(rstim: StimsimApp, qtbot: QtBot) -> None:
    pf = _read(rstim, qtbot)
    assert {p.slot: p for p in pf.programs} == rstim.model.slots
    assert rstim.session.document.modified and rstim.session.document.path is None
    assert rstim.session.files.progress is None  # the progress dialog is gone


def test_send_logs_in_writes_each_slot_reads_it_back_and_says_so(rstim: StimsimApp, qtbot: QtBot,
                                                                  gen: VirtualGenerator) -> None:
    pf = _read(rstim, qtbot)
    renamed = tuple(replace(p, name=f"Sent {p.slot}", slot=p.slot + 5) for p in pf.programs[:2])
    rstim.session.document.replace(files.ProgramFile(pf.device, renamed), "edited")
    actions = rstim.session.files
    asked: list[str] = []
    actions.confirm = lambda title, text: asked.append(text) or True  # type: ignore[func-returns-value]
    actions.ask_pin = lambda parent: DEFAULT_PIN
    actions.last_result = None
    assert actions.send_to_stimulator()
    assert "clinician login" in asked[0]
    qtbot.waitUntil(lambda: actions.last_result is not None, timeout=5_000)
    result = actions.last_result
    assert result is not None and result.ok, result.summary()
    assert [s.slot for s in result.slots] == [6, 7]
    assert all("read back and identical" in s.text for s in result.slots)
    for prog in renamed:
        slot = gen.slots[prog.slot - 1]
        assert slot is not None and slot.program.name == prog.name
    qtbot.waitUntil(lambda: 6 in rstim.model.slots and 7 in rstim.model.slots, timeout=3_000)
    sent = [e for e in rstim.session.recorder.entries if e["what"] == "send_programs"]
    assert len(sent) == 1 and [s["ok"] for s in sent[0]["data"]["slots"]] == [True, True]
    assert rstim.told[-1][0] == "Send to stimulator"  # type: ignore[attr-defined]


def test_a_wrong_pin_sends_nothing_and_says_why(rstim: StimsimApp, qtbot: QtBot, gen: VirtualGenerator) -> None:
    pf = _read(rstim, qtbot)
    moved = tuple(replace(p, slot=9) for p in pf.programs[:1])
    rstim.session.document.replace(files.ProgramFile(pf.device, moved), "edited")
    actions = rstim.session.files
    actions.confirm = lambda title, text: True
    actions.ask_pin = lambda parent: "9999"
    actions.last_result = None
    assert actions.send_to_stimulator()
    qtbot.waitUntil(lambda: actions.last_result is not None, timeout=5_000)
    assert actions.last_result is not None and actions.last_result.failed and not actions.last_result.slots
    assert gen.slots[8] is None


def test_declining_the_login_sends_nothing(rstim: StimsimApp, qtbot: QtBot) -> None:
    pf = _read(rstim, qtbot)
    rstim.session.document.replace(pf, "edited")
    actions = rstim.session.files
    actions.confirm = lambda title, text: False
    actions.ask_pin = lambda parent: DEFAULT_PIN
    actions.last_result = None
    assert not actions.send_to_stimulator()
    qtbot.wait(300)
    assert actions.last_result is None and actions.progress is None
