"""The ``stimsim device URL`` console as a person uses it: on a terminal (a pty) and piped."""

from __future__ import annotations

import os
import select
import subprocess
import time
from pathlib import Path

import pytest

from stimsim.generator.verbs import VERBS
from stimsim.host.console import CONSOLE_COMMANDS, help_text
from stimsim.protocol.verbs import VERB_HELP, verb_names

from ..host_support import PY, no_leaks  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_leaks")
#: Makes the pty the child's controlling terminal, so Ctrl-C there sends SIGINT as it does to a person.
_ON_TTY = ("import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
           "os.execvp(sys.argv[1], sys.argv[1:])")


def _console(*args: str, script: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PY, "-m", "stimsim", "device", "virtual://", *args], input=script, capture_output=True,
                          text=True, timeout=60, env=env)


def test_help_quit_and_exit_typed_alone_are_the_consoles_not_the_devices() -> None:
    done = _console(script="help\nSTATUS\n:help\nquit\nSTATUS\n")
    assert done.returncode == 0, done.stderr
    assert "UNKNOWN_VERB" not in done.stdout
    replies = [line for line in done.stdout.splitlines() if line.startswith(("OK", "ERR"))]
    assert len(replies) == 1 and replies[0].startswith("OK STIM=OFF")  # nothing after quit
    assert done.stdout.count("console commands:") == 2
    assert "'help' is taken as the console's :help" in done.stderr
    assert "'quit' is taken as the console's :quit" in done.stderr
    for ender in ("exit", "EXIT", ":q", "exit()"):
        later = _console(script=f"{ender}\nSTATUS\n")
        assert later.returncode == 0 and "OK STIM" not in later.stdout, (ender, later.stdout)


def test_help_lists_the_console_commands_and_every_verb_with_one_line_each() -> None:
    text = help_text()
    for usage, what in (*CONSOLE_COMMANDS, *VERB_HELP):
        assert any(line.split() == [*usage.split(), *what.split()] for line in text.splitlines()), usage
    assert sorted(verb_names()) == sorted(VERBS)  # the help names every verb the generator knows
    assert max(len(line) for line in text.splitlines()) <= 110


def test_unknown_console_command_and_login_usage_say_what_to_do() -> None:
    done = _console(script=":bogus\n:login\n:login 0000\nIMPEDANCE\n")
    assert done.returncode == 0, done.stderr
    assert "unknown console command :bogus (:help lists them)" in done.stderr
    assert "usage: :login PIN" in done.stderr
    assert done.stdout.splitlines()[0] == "OK ROLE=CLINICIAN"


class Terminal:
    """``stimsim device`` on a pty, typed at as a person would."""

    def __init__(self, state: Path) -> None:
        self.master, slave = os.openpty()
        env = {**os.environ, "XDG_STATE_HOME": str(state), "TERM": "dumb", "INPUTRC": "/dev/null"}
        self.proc = subprocess.Popen([PY, "-c", _ON_TTY, PY, "-m", "stimsim", "device", "virtual://"],
                                     stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {text!r} on the terminal; it shows:\n{self.seen}")
            if select.select([self.master], [], [], left)[0]:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the child closed the pty
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"the console ended before {text!r}; it showed:\n{self.seen}")
                self.seen += chunk.decode("utf-8", "replace")
        shown, self.seen = self.seen, self.seen[self.seen.index(text) + len(text):]
        return shown

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=20)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            os.close(self.master)


def test_console_on_a_terminal_ctrl_c_clears_ctrl_d_leaves_history_is_kept(tmp_path: Path) -> None:
    term = Terminal(tmp_path)
    try:
        banner = term.expect("STIMSIM-VG patient> ")
        assert ":help lists the commands, :quit or Ctrl-D leaves" in banner
        term.type("STAT")
        term.expect("STAT")
        # As a person types: a Ctrl-C hard on the heels of a key can land while readline is
        # still drawing that key, outside its wait, and CPython's readline then misses it
        # until the next key (its own REPL does the same).
        time.sleep(0.3)
        term.type("\x03")  # Ctrl-C clears the line: a new prompt, no traceback, nothing sent
        assert "Traceback" not in term.expect("STIMSIM-VG patient> ")
        term.type("STATUS\r")
        assert "OK STIM=OFF" in term.expect("STIMSIM-VG patient> ")
        term.type(":login 0000\r")
        assert "OK ROLE=CLINICIAN" in term.expect("STIMSIM-VG clinician> ")  # the prompt shows the role
        for line in ("PROG SLOT=1 MODE=TONIC AMP=1000 PW=100 RATE=40 ELEC=4:-100,5:+100", "SELECT SLOT=1",
                     "STIM ON"):
            term.type(line + "\r")
            assert "OK " in term.expect("clinician> ")
        term.type("SIM FAULT=OPEN:4\r")  # events follow the reply: whole lines, before the prompt
        shown = term.expect("clinician> ").replace("\r\n", "\n").split("\n")
        assert shown[-3:] == ["!FAULT CONTACT=4 KIND=OPEN", "!STIM STIM=OFF REASON=FAULT", "STIMSIM-VG clinician> "]
        term.type("\x04")  # Ctrl-D at an empty prompt ends the console
        assert term.close() == 0
    finally:
        if term.proc.poll() is None:
            term.close()
    history = (tmp_path / "stimsim" / "device_history").read_text()
    assert history.splitlines()[-1] == "SIM FAULT=OPEN:4" and "STATUS" in history.splitlines()
    assert "0000" not in history and "STAT" not in history.splitlines()  # no PIN kept, nor the cleared line

    term = Terminal(tmp_path)  # a new session recalls the last line with the up arrow
    try:
        term.expect("patient> ")
        term.type("\x1b[A\r")  # the last line typed before
        assert "OK FAULT=OPEN:4" in term.expect("patient> ")
        term.type(":login\r")  # the PIN asked for, not echoed
        term.expect("PIN: ")
        term.type("0000\r")
        assert "0000" not in term.expect("clinician> ")
        term.type("quit\r")
        term.expect("is taken as the console's :quit")
        assert term.close() == 0
    finally:
        if term.proc.poll() is None:
            term.close()
