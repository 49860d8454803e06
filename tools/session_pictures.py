"""Play a rehearsal and a trial through the app's own buttons, as a new user would, and picture them.

The README's session pictures come from here, so they show what a person sees: the
scenario started, stimulation turned on and raised with the remote's + until the patient
feels it, the patient asked where and how strong, a posture change, hours of session time
let pass, the session finished and scored, and the PDF report written; then a trial on the
external trial stimulator played to its verdict and its programs transferred to an implant.
The suite runs it (tests/app/test_session_pictures.py), so a change that breaks a walk
shows there.

    python tools/session_pictures.py OUT_DIR    # writes session-*.png, session-report.pdf, trial-*.png
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SCENARIO = "low-back-left-leg-t8"
TRIAL = "trial-lasting-relief"
WAIT_S = 10.0


def _wait(app: object, done: Callable[[], bool], what: str) -> None:
    from PySide6.QtWidgets import QApplication

    assert isinstance(app, QApplication)
    deadline = time.monotonic() + WAIT_S
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"session_pictures: gave up waiting for {what}")
        app.processEvents()
        time.sleep(0.01)


def _settle(app: object, seconds: float = 0.4) -> None:
    from PySide6.QtWidgets import QApplication

    assert isinstance(app, QApplication)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from stimsim.app.launch import AppOptions, StimsimApp, drop_offscreen_noise
    from stimsim.app.style import apply_style
    from stimsim.generator import urlhandler

    urlhandler.register()
    drop_offscreen_noise()
    app = QApplication.instance() or QApplication(["stimsim"])
    assert isinstance(app, QApplication)
    apply_style(app, presentation=False)
    with tempfile.TemporaryDirectory() as data:
        stim = StimsimApp(AppOptions(scenario=SCENARIO, device_panel=False, data_dir=Path(data)))
        window, model = stim.window, stim.model
        window.resize(1280, 800)
        window.show()
        stim.start()
        view = window.patient_view
        session = view.session
        _wait(app, lambda: session.scenario is not None and 1 in model.slots and model.status.slot == 1,
              "the scenario's programs on the stimulator")

        def shot(name: str) -> None:
            _settle(app)
            path = out / f"session-{name}.png"
            if not window.grab().save(str(path)):
                raise SystemExit(f"session_pictures: could not write {path}")
            print(f"wrote {path}")

        remote = window.remote
        remote.power_button.click()  # the patient turns it on ...
        _wait(app, lambda: model.status.stim_on, "stimulation on")
        for _ in range(80):  # ... and the clinician raises it with the remote until it is felt
            if session.response is not None and session.response.felt:
                break
            before = model.status.amplitude_ua
            remote.up_button.click()
            _wait(app, lambda b=before: model.status.amplitude_ua != b, "the amplitude to rise")  # type: ignore[misc]
        else:
            raise SystemExit("session_pictures: the patient never felt the program")
        for _ in range(8):  # a little more, into the comfortable middle
            before = model.status.amplitude_ua
            remote.up_button.click()
            _wait(app, lambda b=before: model.status.amplitude_ua != b, "the amplitude to rise")  # type: ignore[misc]
        view.tabs.setCurrentIndex(1)  # Dialogue
        view.ask_buttons["where"].click()
        view.ask_buttons["strength"].click()
        view.ask_buttons["supine"].click()  # lying down: thinner CSF, lower thresholds
        view.ask_buttons["sitting"].click()
        view.ask_buttons["pain"].click()
        shot("dialogue")
        view.tabs.setCurrentIndex(2)  # Time: let six hours pass
        for _ in range(6):
            view.skip_buttons[0].click()
        view.ask_buttons["pain"].click()
        shot("time")
        view.finish()
        _wait(app, lambda: session.result is not None, "the score")
        view.tabs.setCurrentIndex(3)  # Score
        shot("score")
        report = out / "session-report.pdf"
        failed = stim.session.view.save_report(report)
        if failed:
            raise SystemExit(f"session_pictures: the report was not written: {failed}")
        print(f"wrote {report}")
        stim.shutdown()
        window.close()
    with tempfile.TemporaryDirectory() as data:
        _trial(app, out, AppOptions(scenario=TRIAL, device_panel=False, data_dir=Path(data)))
    return 0


def _trial(app: object, out: Path, options: object) -> None:
    """The trial: its scenario at start (the built-in trial stimulator), Play all, the
    diary and the verdict; then Transfer to the implant, each slot read back."""
    from stimsim.app.launch import AppOptions, StimsimApp

    assert isinstance(options, AppOptions)
    stim = StimsimApp(options)
    window = stim.window
    window.resize(1280, 800)
    window.show()
    stim.start()
    view = window.trial_view
    _wait(app, lambda: view.trial is not None and stim.model.device_model.family == "ETS",
          "the trial on the trial stimulator")
    view.end_button.click()  # Play all: every evening's diary entry, in order
    _wait(app, lambda: view.result is not None, "the trial's verdict")
    _settle(app)
    path = out / "trial-view.png"
    window.grab().save(str(path))
    print(f"wrote {path}")
    view.transfer_button.click()
    dialog = view.transfer_dialog
    assert dialog is not None
    dialog.go.click()
    _wait(app, lambda: getattr(dialog, "report", None) is not None, "the transfer")
    _settle(app)
    path = out / "trial-transfer.png"
    dialog.grab().save(str(path))
    print(f"wrote {path}")
    dialog.close()
    stim.shutdown()
    window.close()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
