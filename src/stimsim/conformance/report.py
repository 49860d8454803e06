"""The suite's results for machines: one JSON document, or JUnit XML for a CI to show each check."""

from __future__ import annotations

import json
import socket
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Protocol

SUITE = "stimsim.conformance"


class Outcome(Protocol):
    """What a report needs of a check's result (``runner.Result``)."""

    name: str
    outcome: str
    why: str
    seconds: float
    traffic: list[str]


def totals(results: Sequence[Outcome]) -> dict[str, int]:
    return {"checks": len(results), "passed": sum(r.outcome == "PASS" for r in results),
            "failed": sum(r.outcome == "FAIL" for r in results),
            "skipped": sum(r.outcome == "SKIP" for r in results)}


def json_report(results: Sequence[Outcome], *, url: str, seconds: float, traffic: bool = False) -> str:
    """One JSON document: the URL, each check (name, result pass/fail/skip, detail, seconds,
    and its lines on the wire when ``traffic``), the totals."""
    checks: list[dict[str, object]] = []
    for r in results:
        entry: dict[str, object] = {"name": r.name, "result": r.outcome.lower(), "detail": r.why,
                                    "seconds": round(r.seconds, 4)}
        if traffic:
            entry["traffic"] = list(r.traffic)
        checks.append(entry)
    document = {"suite": SUITE, "url": url, "seconds": round(seconds, 3), "checks": checks,
                "totals": totals(results)}
    return json.dumps(document, indent=2)


def junit_report(results: Sequence[Outcome], *, url: str, seconds: float) -> str:
    """JUnit XML (the schema Jenkins, GitLab and GitHub test reporters read): one testcase
    per check, classname ``stimsim.conformance.<area>``, a failure or skipped element with
    the reason, and the check's lines on the wire as its system-out."""
    count = totals(results)
    attrs = {"name": SUITE, "tests": str(count["checks"]), "failures": str(count["failed"]), "errors": "0",
             "skipped": str(count["skipped"]), "time": f"{seconds:.3f}"}
    root = ET.Element("testsuites", attrs)
    suite = ET.SubElement(root, "testsuite", {**attrs, "hostname": socket.gethostname(),
                                              "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S")})
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", {"name": "url", "value": url})
    for r in results:
        area = r.name.split(".", 1)[0] if "." in r.name else ""
        case = ET.SubElement(suite, "testcase", {"classname": f"{SUITE}.{area}" if area else SUITE,
                                                 "name": r.name, "time": f"{r.seconds:.4f}"})
        if r.outcome == "FAIL":
            failure = ET.SubElement(case, "failure", {"message": r.why, "type": "Fail"})
            failure.text = r.why
        elif r.outcome == "SKIP":
            ET.SubElement(case, "skipped", {"message": r.why})
        if r.traffic:
            ET.SubElement(case, "system-out").text = "\n".join(r.traffic) + "\n"
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
