"""``stimsim gui`` (and plain ``stimsim``): the desktop app.

Qt is imported only when the command runs, so the other commands start without it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..app.timeline import TIME_SCALES, time_scale
from ..engine.params import N_SLOTS, Family
from ..protocol.limits import DEFAULT_PIN, PIN_MAX_DIGITS, PIN_MIN_DIGITS
from . import UsageError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "gui",
        help="open the desktop app (the default command)",
        description="The patient programmer, the live scope and the device connection. Without --device "
        "it runs on the built-in virtual generator with the example programs in slots 1..5.",
    )
    p.add_argument("--device", metavar="URL",
                   help="stimulator to connect to: a serial port, a pty path or socket://host:port")
    p.add_argument("--programs", metavar="FILE",
                   help="program file written to the stimulator's slots at start (as clinician, with --pin); "
                   "if the stimulator refuses it, the app says why and exits with status 1")
    p.add_argument("--pin", default=DEFAULT_PIN,
                   help=f"clinician PIN for --programs ({PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits; "
                   f"default {DEFAULT_PIN})")
    p.add_argument("--scenario", metavar="NAME",
                   help="start a shipped rehearsal scenario with its virtual patient (stimsim scenario list names them); "
                   "its programs replace the examples")
    p.add_argument("--family", metavar="F",
                   help=f"the built-in generator's device family: {', '.join(Family)} (default: the scenario's, "
                   "else SCS-R); the example programs are fitted to it")
    p.add_argument("--login", action="store_true",
                   help="log in as clinician at start with --pin (the clinician view unlocked); a refused PIN exits 1")
    p.add_argument("--slot", type=int, metavar="N", help="make program slot N active at start")
    p.add_argument("--stim-on", action="store_true", help="turn stimulation on at start")
    p.add_argument("--amp", metavar="MA",
                   help="set the active program's amplitude at start, in mA, as the patient's remote would "
                   "(within the program's patient limits; a refused amplitude exits 1)")
    p.add_argument("--annotate", action="store_true", help="show the scope's annotations at start")
    p.add_argument("--time-per-screen", metavar="SPAN",
                   help=f"the scope's time per screen at start: {', '.join(t for _, t in TIME_SCALES)} "
                   "(spaces optional, e.g. 50ms)")
    p.add_argument("--no-device-panel", action="store_true",
                   help="start with the device panel (port, console, events) collapsed; Ctrl+D shows it")
    p.add_argument("--presentation", action="store_true", help="larger fonts, for trainers and projectors")
    p.add_argument("--view", metavar="VIEW",
                   help="bring this view forward at start: remote (the scope with the remote), clinician, battery, "
                   "record, ... (an unknown view exits 2 naming the views there are)")
    p.add_argument("--screenshot", metavar="PNG",
                   help="write a PNG of the window once it shows the stimulator, then exit (works offscreen)")
    p.set_defaults(run=run_gui)


def run_gui(args: argparse.Namespace) -> int:
    from ..engine.files import FileError

    programs = None
    if args.programs:
        from ..app.launch import program_file_programs

        try:
            programs = program_file_programs(args.programs)
        except FileError as exc:
            raise UsageError(str(exc)) from None  # one line per problem
    screenshot = None
    if args.screenshot:
        screenshot = Path(args.screenshot)
        if screenshot.suffix.lower() != ".png":
            raise UsageError(f"--screenshot {args.screenshot}: the file name must end in .png")
        if not screenshot.parent.exists():
            raise UsageError(f"--screenshot {args.screenshot}: folder {screenshot.parent} does not exist")

    pin = str(args.pin)
    if not (pin.isdigit() and pin.isascii() and PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS):
        raise UsageError(f"--pin {pin}: a PIN is {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits")
    if args.slot is not None and not 1 <= args.slot <= N_SLOTS:
        raise UsageError(f"--slot {args.slot}: slots are 1 to {N_SLOTS}")
    span = None
    if args.time_per_screen:
        try:
            span = time_scale(args.time_per_screen)
        except ValueError as exc:
            raise UsageError(f"--time-per-screen: {exc}") from None

    amp_ua = _amplitude_ua(args.amp) if args.amp is not None else None
    scenario = (args.scenario or "").strip()
    if scenario:
        from ..patient import scenario as scenarios

        shipped = [path.name.removesuffix(".scenario.json") for path in scenarios.shipped()]
        if scenario not in shipped:
            raise UsageError(f"--scenario {scenario}: no such scenario (shipped: {', '.join(shipped)})")

    family = None
    if args.family is not None:
        try:
            family = Family(args.family.strip().upper())
        except ValueError:
            raise UsageError(f"--family {args.family}: no such family (families: {', '.join(Family)})") from None
        if args.device:
            raise UsageError(f"--family {family.value}: the family is the built-in generator's; a stimulator "
                             "given with --device reports its own")

    _choose_platform(screenshot is not None)
    from ..app.launch import AppOptions, run
    from ..generator import urlhandler

    urlhandler.register()  # --device virtual://... reaches a built-in generator too

    return run(AppOptions(device=args.device, programs=programs, presentation=args.presentation,
                          screenshot=screenshot, pin=pin, programs_file=args.programs or "", slot=args.slot,
                          stim_on=args.stim_on, amp_ua=amp_ua, annotate=args.annotate, time_per_screen=span, login=args.login,
                          device_panel=not args.no_device_panel, scenario=scenario,
                          view=(args.view or "").strip().lower(), family=family))


def _amplitude_ua(text: str) -> int:
    """``--amp`` in mA (as programs and the remote show it) to whole uA; the stimulator judges
    the range, the grid and the patient limits, as it does for the remote."""
    from ..engine.params import BY_KEY

    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1000:  # NaN fails too
        raise UsageError(f"--amp {text}: an amplitude is a number of mA, e.g. 4.5")
    return round(value * BY_KEY["amplitude_ma"].file_scale)


def _choose_platform(screenshot: bool) -> None:
    """A screenshot needs no display (Qt's offscreen platform); a window does, and without
    one Qt's own message is cryptic, so say plainly what is missing."""
    if os.environ.get("QT_QPA_PLATFORM") or not sys.platform.startswith("linux"):
        return
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return
    if screenshot:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        return
    raise UsageError(
        "no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set). Start stimsim from a "
        "desktop session, or on a machine without one use 'xvfb-run -a stimsim gui' or 'stimsim gui --screenshot PNG'"
    )
