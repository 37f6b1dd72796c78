"""JUnit XML from other test runners (cargo-nextest, gotestsum, Maven Surefire, Jenkins, pytest).

Counts on ``<testsuite>`` are not trusted (gotestsum writes ``tests="0"`` on a suite with a failing test):
every ``<testcase>`` is read, nested suites included, streamed. A retry's ``flakyFailure``/``rerunFailure``
does not fail a test that finally passed. ``time`` may be empty, negative or written ``2,503.1``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..errors import EvidenceError
from ..model import TestResult
from .base import Parsed
from .config import EvidenceSource
from .read import iter_xml, xml_root_tag

__all__ = ["parse"]

_MAX_TEXT = 20_000


def _seconds(raw: str | None) -> float:
    if not raw:
        return 0.0
    try:
        value = float(raw.replace(",", ""))
    except ValueError:
        return 0.0
    return value if value > 0 and not math.isnan(value) else 0.0  # negative and NaN count as 0


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def parse(path: Path, source: EvidenceSource, rootdir: Path) -> Parsed:
    root = xml_root_tag(path, source.max_bytes)
    if root not in ("testsuites", "testsuite"):
        raise EvidenceError(f"{path}: not a JUnit XML report (root element <{root}>)")
    parsed = Parsed()
    phase = source.phase or ""
    for case in iter_xml(path, ("testcase",), source.max_bytes):
        name = case.get("name")
        if not name:
            raise EvidenceError(f"{path}: a <testcase> has no name")
        classname = case.get("classname") or ""
        outcome, message, text = "passed", "", ""
        for child in case:
            tag = _local(child.tag)
            if tag in ("failure", "error"):
                outcome = "failed" if tag == "failure" else "error"
                message, text = child.get("message") or "", (child.text or "")
                break
            if tag == "skipped":
                outcome = "xfailed" if child.get("type") == "pytest.xfail" else "skipped"
                message = child.get("message") or ""
        parsed.tests.append(
            TestResult(
                nodeid=f"{classname}::{name}" if classname else name,
                phase=phase,
                outcome=outcome,  # type: ignore[arg-type]
                duration=round(_seconds(case.get("time")), 6),
                message=message[:500],
                longrepr=text[:_MAX_TEXT],
                origin=source.name,
            )
        )
    return parsed
