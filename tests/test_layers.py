"""The package layers hold: every import of every module under src/stimsim, parsed (ast).

    engine       numpy only: no other stimsim package
    patient      engine                  (the virtual patient, numpy: a model like the engine)
    record       engine                  (the session record, plain Python)
    protocol     engine
    closedloop   engine, patient         (the virtual nerve and the loop, numpy)
    generator    protocol, engine, closedloop, patient   (never host; its virtual nerve)
    host         protocol, engine        (never generator)
    conformance  protocol, engine        (it must be able to send what a client never would)
    app          host, engine, patient, record, closedloop; app/launch.py may also name the built-in generator
    commands     anything

Only app imports PySide6 or pyqtgraph. Imports inside functions count as much as those at
the top; relative imports are resolved against the importing module's package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
#: What each package may import of the others (the top package ``stimsim`` itself, its
#: version, and ``stimsim.resources`` are open to all).
ALLOWED: dict[str, frozenset[str]] = {
    "engine": frozenset(),
    "patient": frozenset({"engine"}),
    "record": frozenset({"engine"}),
    "protocol": frozenset({"engine"}),
    "closedloop": frozenset({"engine", "patient"}),
    "generator": frozenset({"protocol", "engine", "closedloop", "patient"}),
    "host": frozenset({"protocol", "engine"}),
    "conformance": frozenset({"protocol", "engine"}),
    "app": frozenset({"host", "engine", "patient", "record", "closedloop"}),
}
EXCEPTIONS = {"stimsim.app.launch": frozenset({"generator"})}  #: only the launcher names the built-in generator
OPEN = frozenset({"", "resources"})  #: the top package (its version), packaged resources
QT = ("PySide6", "pyqtgraph")


def module_name(path: Path, src: Path = SRC) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, src: Path = SRC) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``."""
    name = module_name(path, src)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base = ".".join(base_parts[: len(base_parts) - (node.level - 1)])
            else:
                base = ""
            if node.module:
                yield node.lineno, f"{base}.{node.module}" if base else node.module
            else:  # from . import x, y: a name is a module when there is one, else an attribute
                for alias in node.names:
                    sub = src.joinpath(*base.split("."), alias.name)
                    is_module = sub.is_dir() or sub.with_suffix(".py").exists()
                    yield node.lineno, f"{base}.{alias.name}" if is_module else base


def layer(module: str) -> str | None:
    """The stimsim package a module belongs to ('' for the top package), None outside stimsim."""
    parts = module.split(".")
    if parts[0] != "stimsim":
        return None
    return parts[1] if len(parts) > 1 else ""


def violations(src: Path = SRC) -> list[str]:
    """Every import under ``src``/stimsim that breaks a rule, as ``file:line: why``."""
    out: list[str] = []
    for path in sorted((src / "stimsim").rglob("*.py")):
        name = module_name(path, src)
        own = layer(name)
        where = path.relative_to(src)
        for line, target in imports(path, src):
            if target.split(".")[0] in QT and own != "app":
                out.append(f"{where}:{line}: imports {target} (only app imports PySide6/pyqtgraph)")
            other = layer(target)
            if own not in ALLOWED or other is None or other == own or other in OPEN:
                continue
            allowed = ALLOWED[own] | EXCEPTIONS.get(name, frozenset())
            if other not in allowed:
                may = ", ".join(sorted(allowed)) or "no other stimsim package"
                out.append(f"{where}:{line}: imports {target} ({own} may import {may})")
    return out


def test_every_package_keeps_to_its_layer() -> None:
    found = violations()
    assert not found, "layer rules broken:\n" + "\n".join(found)


def test_the_rules_see_relative_imports_and_imports_inside_functions(tmp_path: Path) -> None:
    pkg = tmp_path / "stimsim"
    for sub in ("host", "engine", "protocol", "app"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "host" / "bad.py").write_text("def f():\n    from ..generator import state\n    from .. import app\n")
    (pkg / "engine" / "qt.py").write_text("import PySide6.QtCore\nfrom ..protocol import codec\n")
    (pkg / "protocol" / "ok.py").write_text("from ..engine import params\nfrom . import codec\nimport numpy\n")
    assert violations(tmp_path) == [
        "stimsim/engine/qt.py:1: imports PySide6.QtCore (only app imports PySide6/pyqtgraph)",
        "stimsim/engine/qt.py:2: imports stimsim.protocol (engine may import no other stimsim package)",
        "stimsim/host/bad.py:2: imports stimsim.generator (host may import engine, protocol)",
        "stimsim/host/bad.py:3: imports stimsim.app (host may import engine, protocol)",
    ]


@pytest.mark.parametrize("module, expected", [("stimsim.app.launch", "app"), ("stimsim", ""), ("numpy", None)])
def test_layer_of_a_module(module: str, expected: str | None) -> None:
    assert layer(module) == expected
