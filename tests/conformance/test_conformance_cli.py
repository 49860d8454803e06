"""``stimsim conformance`` as a device team runs it: a wrong PIN, --list, -k, -v, --json, --junit, --baud."""

from __future__ import annotations

import json
import os
import select
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from stimsim.cli import main
from stimsim.conformance import CHECKS

from ..host_support import PY, no_leaks, thread_emulator  # noqa: F401
from .test_conformance import Mutant, _lower_crc

pytestmark = pytest.mark.usefixtures("no_leaks")
NAMES = [name for name, _ in CHECKS]


def test_a_wrong_pin_says_the_device_refused_it_and_to_pass_pin(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", "--pin", "1234", "virtual://"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("FAIL setup: ") and "the device refused PIN 1234" in out[0]
    assert "ERR DENIED REASON=PROOF" in out[0] and "pass --pin" in out[0]
    assert out[-1] == "0 passed, 1 failed"
    assert main(["conformance", "--pin", "12ab", "virtual://"]) == 2
    assert "a PIN is 4 to 8 digits" in capsys.readouterr().err


def test_list_prints_the_names_and_sends_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    master, slave = os.openpty()
    try:
        assert main(["conformance", "--list", os.ttyname(slave)]) == 0
        assert capsys.readouterr().out.splitlines() == NAMES
        assert not select.select([master], [], [], 0.2)[0]  # not a byte reached the device
    finally:
        os.close(master)
        os.close(slave)
    assert main(["conformance", "--list"]) == 0  # no device needed
    assert capsys.readouterr().out.splitlines() == NAMES
    assert main(["conformance", "--list", "-k", "LOGIN"]) == 0
    assert capsys.readouterr().out.splitlines() == [n for n in NAMES if "login" in n.lower()]


def test_k_runs_the_matching_checks_with_setup_and_cleanup(capsys: pytest.CaptureFixture[str]) -> None:
    chosen = [n for n in NAMES if "seq" in n.lower()]
    assert 1 < len(chosen) < len(NAMES)
    assert main(["conformance", "-k", "SEQ", "virtual://"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert [line.split()[1].rstrip(":") for line in lines[:-1]] == [*chosen, "cleanup"]
    assert lines[-1] == f"{len(chosen) + 1} passed, 0 failed"
    assert f"-k SEQ selects {len(chosen)} of {len(NAMES)} checks" in captured.err
    assert main(["conformance", "-k", "no_such_check", "virtual://"]) == 2
    assert "selects none of the" in capsys.readouterr().err


def test_verbose_prints_each_checks_traffic(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", "-v", "-k", "hello.reply", "virtual://"]) == 0
    lines = capsys.readouterr().out.splitlines()
    at = lines.index("--- hello.reply")
    block = lines[at + 1: lines.index("PASS hello.reply")]
    assert block[0].startswith("  > #") and " HELLO STRICT=1 *" in block[0]
    assert any(line.startswith("  < #") and " OK PROTO=1 " in line for line in block)
    assert lines[0] == "--- setup" and "--- cleanup" in lines and lines[-1] == "2 passed, 0 failed"


def test_json_is_one_document_with_every_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", "--json", "-k", "framing", "virtual://"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    names = [c["name"] for c in doc["checks"]]
    assert names == [n for n in NAMES if "framing" in n] + ["cleanup"]
    for check in doc["checks"]:
        assert set(check) == {"name", "result", "detail", "seconds"}
        assert check["result"] in ("pass", "fail", "skip") and isinstance(check["seconds"], float)
    assert doc["totals"] == {"checks": len(names), "passed": len(names), "failed": 0, "skipped": 0}
    assert captured.err.splitlines()[-1] == f"{len(names)} passed, 0 failed"  # the line CI reads
    assert main(["conformance", "--json", "-v", "-k", "hello.reply", "virtual://"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert any(" HELLO STRICT=1 " in line for line in doc["checks"][0]["traffic"])


def test_junit_shows_each_check_and_the_failure_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "conformance.xml"
    with thread_emulator(Mutant(out=_lower_crc), pty=True) as (url, _emu):  # type: ignore[arg-type]
        status = main(["conformance", "--junit", str(report), "-k", "framing.reply_lines", url])
    assert status == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("FAIL framing.reply_lines: ") and out[-1] == "1 passed, 1 failed"
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites" and root.get("tests") == "2" and root.get("failures") == "1"
    (suite,) = root.findall("testsuite")
    assert suite.get("tests") == "2" and suite.get("failures") == "1" and suite.get("skipped") == "0"
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert list(cases) == ["framing.reply_lines", "cleanup"]
    assert cases["framing.reply_lines"].get("classname") == "stimsim.conformance.framing"
    failure = cases["framing.reply_lines"].find("failure")
    assert failure is not None and failure.text == out[0].split(": ", 1)[1] == failure.get("message")
    assert cases["cleanup"].find("failure") is None and float(cases["cleanup"].get("time") or "x") >= 0
    system_out = cases["framing.reply_lines"].findtext("system-out") or ""
    assert "> #" in system_out and "< #" in system_out
    assert [p.name for p in tmp_path.iterdir()] == ["conformance.xml"]  # written whole, no leftovers


def test_junit_reports_a_device_that_never_started(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "report.xml"
    assert main(["conformance", "--junit", str(report), "--", PY, "-c", "pass"]) == 1
    assert capsys.readouterr().out.splitlines() == ["0 passed, 1 failed"]
    case = ET.parse(report).getroot().find("testsuite/testcase")
    assert case is not None and case.get("name") == "setup"
    failure = case.find("failure")
    assert failure is not None and "before printing 'PORT ...'" in (failure.text or "")
    assert main(["conformance", "--junit", str(tmp_path / "no" / "r.xml"), "virtual://"]) == 2
    assert "not a file in an existing folder" in capsys.readouterr().err


def test_baud_is_noted_as_ignored_on_ptys_and_sockets(capsys: pytest.CaptureFixture[str]) -> None:
    with thread_emulator(pty=True) as (url, _emu):
        assert main(["conformance", "--baud", "115200", "-k", "hello.reply", url]) == 0
    captured = capsys.readouterr()
    assert f"--baud 115200 ignored: {url} is a pseudo-terminal" in captured.err
    assert captured.out.splitlines()[-1] == "2 passed, 0 failed"
    with thread_emulator(pty=False) as (url, _emu):
        assert main(["conformance", "--baud", "9600", "-k", "hello.reply", url]) == 0
    assert f"--baud 9600 ignored: {url} is a socket:// link" in capsys.readouterr().err
    assert main(["conformance", "--baud", "0", "virtual://"]) == 2
    assert main(["conformance", "/dev/no-such-port"]) == 2
    assert "no such device" in capsys.readouterr().err


def test_baud_reaches_a_serial_port(monkeypatch: pytest.MonkeyPatch) -> None:
    from stimsim.conformance import link, runner
    from stimsim.protocol.transport import TransportError

    opened: list[dict[str, object]] = []

    def fake_open(url: str, **kw: object) -> object:
        opened.append(kw)
        raise TransportError(f"cannot open {url}: no such board here")

    monkeypatch.setattr(link, "open_port", fake_open)
    results = runner.run_checks("/dev/ttyACM9", baud=57600)
    assert opened == [{"timeout": 0.01, "baudrate": 57600}]
    assert [(r.name, r.outcome) for r in results] == [("setup", "FAIL")] and "no such board" in results[0].why


def test_list_into_a_reader_that_left_ends_quietly() -> None:
    import subprocess

    read_end, write_end = os.pipe()
    os.close(read_end)  # as `| head -1` does once it has its line
    try:
        done = subprocess.run([PY, "-m", "stimsim", "conformance", "--list"], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
    assert done.returncode == 141
