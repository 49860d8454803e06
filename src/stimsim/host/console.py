"""The ``stimsim device URL`` console: type protocol lines, read replies and events.

It keeps the habits of a serial terminal and of Python's prompt: ``:help`` lists what it
understands, ``quit``/``exit``/``help`` typed alone are taken as its own commands (no
device knows those verbs), Ctrl-D leaves, Ctrl-C clears the line, and with a terminal the
lines typed are kept across sessions (readline), PINs left out.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TextIO

from ..protocol.codec import Event
from ..protocol.verbs import VERB_HELP, verb_names
from .client import Client, ClientError

#: The console's own commands, with what each does.
CONSOLE_COMMANDS: tuple[tuple[str, str], ...] = (
    (":help", "this list (also 'help' or '?' typed alone)"),
    (":login [PIN]", "log in as clinician (without PIN: asked for, not echoed)"),
    (":events", "list again the events that came since the last line sent"),
    (":quit", "leave (also 'quit', 'exit', Ctrl-D); Ctrl-C clears the line"),
)
#: Words typed alone that mean a console command; the console's answer says so.
ALIASES: dict[str, str] = {
    ":h": ":help", ":?": ":help", "help": ":help", "?": ":help",
    ":q": ":quit", ":exit": ":quit", "quit": ":quit", "exit": ":quit", "quit()": ":quit", "exit()": ":quit",
}
HISTORY_LENGTH = 1000
EVENTS_AFTER_REPLY_S = 0.03  #: at a terminal, how long events following a reply are awaited


def check_line(line: str) -> str:
    """The line to send, stripped; ValueError saying why it cannot be sent."""
    text = line.strip()
    if not text:
        raise ValueError("an empty LINE")
    if text.startswith("#") or " *" in text or text.startswith("*"):
        raise ValueError(f"{line!r}: type the line without SEQ and CRC; they are added")
    if not text.isascii() or not text.isprintable():
        raise ValueError(f"{line!r}: only printable ASCII can be sent")
    return text


def help_text() -> str:
    """What ``:help`` prints: the console's commands, then the protocol's verbs."""
    width = max(len(usage) for usage, _ in (*CONSOLE_COMMANDS, *VERB_HELP))
    lines = ["console commands:"]
    lines += [f"  {usage:<{width}}  {what}" for usage, what in CONSOLE_COMMANDS]
    lines.append("protocol lines, sent to the device with SEQ and CRC added (docs/protocol.md):")
    lines += [f"  {usage:<{width}}  {what}" for usage, what in VERB_HELP]
    return "\n".join(lines)


@contextlib.contextmanager
def keyboard_interrupts_here() -> Iterator[None]:
    """Threads started inside (the client's reader, a virtual device) never take SIGINT.

    A Ctrl-C delivered to one of them would not wake the prompt's ``select`` in this thread:
    the line would clear only at the next key. They inherit the mask set here."""
    import signal

    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - not on every platform
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def history_path() -> Path:
    """Where the console keeps the lines typed (the platform's per-user state folder)."""
    import platformdirs

    return Path(platformdirs.user_state_dir("stimsim")) / "device_history"


def _secret(text: str) -> bool:
    """A line that holds a PIN: kept out of the history file."""
    words = text.split()
    if words and words[0].lower() == ":login" and len(words) > 1:
        return True
    return any(word.upper().startswith("PIN=") for word in words[1:])


class Console:
    """One console session on an open client; :meth:`run` returns the exit status."""

    def __init__(self, client: Client, *, raw: bool = False, stdin: TextIO | None = None,
                 out: TextIO | None = None, err: TextIO | None = None, history: Path | None = None) -> None:
        self.client = client
        self.raw = raw
        self.stdin = stdin or sys.stdin
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.interactive = self.stdin.isatty()
        self.history = history
        self.role = client.info.role if client.info else "?"
        self.model = client.info.model if client.info else "device"
        self.status = 0
        self._readline: ModuleType | None = None
        self._prompting = False
        self._output = threading.Lock()  #: events come from the reader thread: whole lines only
        self._held: list[Event] = []  #: events that came while no prompt was shown

    @property
    def prompt(self) -> str:
        return f"{self.model} {self.role.lower()}> " if self.interactive else ""

    def run(self) -> int:
        with self._line_editing():
            if not self.raw:
                self.client.on_event = self._show_event
            self._say(f"connected to {self.model} at {self.client.url} as {self.role.lower()}; "
                      ":help lists the commands, :quit or Ctrl-D leaves")
            while True:
                try:
                    self._start_prompt()
                    text = input(self.prompt).strip() if self.stdin is sys.stdin else self._read_line()
                except EOFError:
                    if self.interactive:
                        self._say("")
                    return self.status
                except KeyboardInterrupt:  # Ctrl-C at the prompt clears the line
                    self._say("")
                    continue
                finally:
                    with self._output:
                        self._prompting = False
                if not text:
                    continue
                if _secret(text):
                    self._forget_last()
                try:
                    if not self.handle(text):
                        return self.status
                except KeyboardInterrupt:
                    self._say("interrupted (a reply that comes late is dropped)")

    def _read_line(self) -> str:
        """A line from a stdin other than the process's own (tests): no prompt, no editing."""
        line = self.stdin.readline()
        if not line:
            raise EOFError
        return line.strip()

    def handle(self, text: str) -> bool:
        """Do one typed line; False when the console should end."""
        word = text.split()[0]
        alias = ALIASES.get(text.lower()) if len(text.split()) == 1 else None
        if alias is not None and not text.startswith(":"):
            self._say(f"({text!r} is taken as the console's {alias}; lines without ':' go to the device)")
        command = alias or (word.lower() if word.startswith(":") else None)
        if command == ":quit":
            return False
        if command == ":help":
            self._print(help_text())
            return True
        try:
            if command == ":login":
                self._login(text.split()[1:])
            elif command == ":events":
                for event in self.client.pending_events():
                    self._print(str(event))
            elif command is not None:
                self._say(f"unknown console command {word} (:help lists them)")
            else:
                self._send(text)
        except ClientError as exc:
            self._say(f"error: {exc}")
            self.status = 1
            if self.client.info is not None:  # a restart re-reads the device: its role now
                self.role = self.client.info.role
        return True

    def _login(self, words: list[str]) -> None:
        if len(words) > 1 or (not words and not self.interactive):
            self._say("usage: :login PIN")
            return
        if words:
            pin = words[0]
        else:
            import getpass

            try:
                pin = getpass.getpass("PIN: ")
            except (EOFError, KeyboardInterrupt):
                self._say("")
                return
        self.role = self.client.login(pin)
        self._print(f"OK ROLE={self.role}")

    def _send(self, text: str) -> None:
        try:
            line = check_line(text)
        except ValueError as exc:
            self._say(str(exc))
            return
        self.client.pending_events()  # :events lists what came since the last line sent
        reply = self.client.send_text(line)
        if not self.raw:
            self._print(str(reply))
            if self.interactive:
                time.sleep(EVENTS_AFTER_REPLY_S)  # the events a reply brings show before the prompt
        if reply.ok and reply.get("ROLE"):
            self.role = reply.get("ROLE") or self.role
        elif line.split()[0].upper() == "HELLO":
            self.role = "PATIENT"

    # output --------------------------------------------------------------------------------

    def _print(self, text: str, stream: TextIO | None = None) -> None:
        stream = stream or self.out
        with self._output:
            stream.write(text + "\n")
            stream.flush()

    def _say(self, text: str) -> None:
        self._print(text, self.err)

    def _show_event(self, event: Event) -> None:
        """An event from the reader thread. At a terminal it goes above the line being typed
        at the prompt, or waits for the prompt (never into the middle of a reply or of it)."""
        if not self.interactive:
            self._print(str(event))
            return
        with self._output:
            if not self._prompting:
                self._held.append(event)
                return
            typed = self._readline.get_line_buffer() if self._readline is not None else ""
            self.out.write(f"\r\x1b[K{event}\n{self.prompt}{typed}")
            self.out.flush()

    def _start_prompt(self) -> None:
        """Show the events held back, then let new ones go above the prompt."""
        with self._output:
            for event in self._held:
                self.out.write(f"{event}\n")
            self.out.flush()
            self._held.clear()
            self._prompting = True

    # history -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _line_editing(self) -> Iterator[None]:
        """readline with the kept history, for a person at a terminal only."""
        if not self.interactive or self.stdin is not sys.stdin:
            yield
            return
        try:
            import readline
        except ImportError:  # pragma: no cover - not on every platform
            yield
            return
        self._readline = readline
        path = self.history if self.history is not None else history_path()
        with contextlib.suppress(OSError):
            readline.clear_history()
            if path.exists():
                readline.read_history_file(path)
        readline.set_history_length(HISTORY_LENGTH)
        words = [":" + usage.split()[0].lstrip(":") for usage, _ in CONSOLE_COMMANDS] + verb_names()
        readline.set_completer_delims(" ")
        readline.set_completer(lambda start, n: ([w for w in words if w.startswith(
            start if start.startswith(":") else start.upper())] + [None])[n])
        readline.parse_and_bind("tab: complete")
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                path.parent.mkdir(parents=True, exist_ok=True)
                readline.write_history_file(path)

    def _forget_last(self) -> None:
        if self._readline is not None:
            count = self._readline.get_current_history_length()
            if count:
                self._readline.remove_history_item(count - 1)
