"""Every console example in the README and docs/ is real output: run it and compare.

A fenced ``console`` block holds commands (``$ ``, with ``\\`` continuations) each followed
by the output it prints (stdout and stderr as a terminal shows them). In the expected
output ``<name>`` stands for one word that changes from run to run (a port, a SEQ, a
CRC, a boot id); a later command may use the same ``<name>`` to mean the value the output
gave. A line ``...`` stands for any number of lines. A command ending in ``&`` runs in the
background while the rest of its block runs, and is stopped at the block's end.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "firmware_stub" / "README.md"]
_PLACEHOLDER = re.compile(r"<([a-z_][a-z0-9_]*)>")

#: Files the examples name that a reader would have made first.
FIXTURES = {
    "bad.stimsim.json": (
        '{"format": "stimsim.programs", "version": 1, "programs": [{"mode": "tonic", "amplitude_ma": 3,'
        ' "pulse_width_us": 1500, "rate_hz": 5000, "electrodes": {"4": -100, "5": 100}}]}\n'
    ),
}


@dataclass
class Step:
    command: str
    expected: list[str] = field(default_factory=list)

    @property
    def background(self) -> bool:
        return self.command.rstrip().endswith("&")


@dataclass
class Block:
    path: Path
    line: int
    steps: list[Step]

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks() -> Iterator[Block]:
    for path in DOCS:
        if not path.exists():
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        i = 0
        while i < len(lines):
            if lines[i].strip() != "```console":
                i += 1
                continue
            start, i = i + 1, i + 1
            steps: list[Step] = []
            while i < len(lines) and lines[i].strip() != "```":
                text = lines[i]
                if text.startswith("$ "):
                    command = text[2:]
                    while command.endswith("\\"):
                        i += 1
                        command = command[:-1] + " " + lines[i].strip()
                    steps.append(Step(command))
                elif steps and (text or steps[-1].expected):
                    steps[-1].expected.append(text)
                i += 1
            for step in steps:
                while step.expected and not step.expected[-1]:
                    step.expected.pop()
            yield Block(path, start, steps)


def _regex(line: str) -> re.Pattern[str]:
    parts = _PLACEHOLDER.split(line)
    out = ""
    for k, part in enumerate(parts):
        out += f"(?P<{part}__{k}>\\S+?)" if k % 2 else re.escape(part)
    return re.compile(out)


def match(expected: list[str], actual: list[str], bound: dict[str, str]) -> bool:
    """Whether ``actual`` fits ``expected`` (placeholders, ``...``), recording placeholder values."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(match(expected[1:], actual[k:], bound) for k in range(len(actual) + 1))
    if not actual:
        return False
    found = _regex(expected[0]).fullmatch(actual[0])
    if found is None:
        return False
    if not match(expected[1:], actual[1:], bound):
        return False
    for key, value in found.groupdict().items():
        bound.setdefault(key.split("__")[0], value)
    return True


def _substitute(command: str, bound: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: bound.get(m.group(1), m.group(0)), command)


class Background:
    """A command running while its block goes on; its lines are collected as they come."""

    def __init__(self, command: str, cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=cwd, env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, n: int, timeout: float = 30.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.lines) < n and time.monotonic() < deadline and self.proc.poll() is None:
            time.sleep(0.02)
        time.sleep(0.1)
        return list(self.lines)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()
        self._reader.join(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


ALL = list(blocks())


@pytest.mark.parametrize("block", ALL, ids=[b.name for b in ALL])
def test_console_example_prints_what_the_docs_show(block: Block, tmp_path: Path) -> None:
    for name in ("resources", "firmware_stub"):
        (tmp_path / name).symlink_to(ROOT / name)
    for name, text in FIXTURES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "COLUMNS": "120"}
    bound: dict[str, str] = {}
    running: list[Background] = []
    try:
        for step in block.steps:
            command = _substitute(step.command, bound)
            if step.background:
                job = Background(command.rstrip().rstrip("&"), tmp_path, env)
                running.append(job)
                actual = job.wait_for(len(step.expected))
            else:
                done = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
                actual = done.stdout.splitlines()
            assert match(step.expected, actual, bound), (
                f"{block.name}: `{command}` printed:\n" + "\n".join(actual)
                + "\n\nthe docs show:\n" + "\n".join(step.expected)
            )
    finally:
        for job in running:
            job.stop()


def test_the_matcher_fits_placeholders_and_ellipses() -> None:
    bound: dict[str, str] = {}
    assert match(["PORT socket://127.0.0.1:<port>", "...", "done"], ["PORT socket://127.0.0.1:4242", "a", "b", "done"],
                 bound)
    assert bound == {"port": "4242"}
    assert not match(["a <x> c"], ["a b d"], {})
    assert not match(["one"], ["one", "two"], {})
    assert _substitute("stimsim device socket://h:<port>", bound) == "stimsim device socket://h:4242"


_SHOT = re.compile(r"`(stimsim gui [^`]*--screenshot +(docs/[\w.-]+\.png))`")


def screenshot_commands() -> list[tuple[str, str]]:
    text = re.sub(r"\s+", " ", (ROOT / "README.md").read_text(encoding="utf-8"))
    return [(m.group(1), m.group(2)) for m in _SHOT.finditer(text)]


#: Pictures a script makes (it walks the app's buttons; tests/app/test_session_pictures.py runs it).
SCRIPTED = {*(f"docs/session-{name}.png" for name in ("dialogue", "score", "report")),
            "docs/trial-view.png", "docs/trial-transfer.png"}


def test_the_readme_names_the_command_of_every_screenshot_it_shows() -> None:
    shown = set(re.findall(r"\]\((docs/[\w.-]+\.png)\)", (ROOT / "README.md").read_text(encoding="utf-8")))
    assert shown and shown - SCRIPTED == {picture for _, picture in screenshot_commands()}
    assert shown >= SCRIPTED


@pytest.mark.parametrize(("command", "picture"), screenshot_commands())
def test_a_readme_screenshot_command_makes_a_picture_like_the_one_shown(command: str, picture: str,
                                                                          tmp_path: Path) -> None:
    out = tmp_path / "shot.png"
    argv = [sys.executable, "-m", "stimsim", *command.split()[1:]]
    argv[argv.index(picture)] = str(out)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "STIMSIM_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    size = (ROOT / picture).read_bytes()[16:24]
    assert out.read_bytes()[16:24] == size, f"{picture}: the command made a picture of another size"
