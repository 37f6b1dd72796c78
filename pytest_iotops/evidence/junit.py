"""JUnit XML from other test runners (cargo-nextest, gotestsum, Maven Surefire, Jenkins, pytest).

Every ``<testcase>`` is read, nested suites included, streamed. The suites' own counts are checked against
them, one way only: a suite that counts more failures and errors than its test cases show contradicts itself
(the friendlier half must not win), while fewer is tolerated (gotestsum writes ``tests="0"`` on a suite with a
failing test; Surefire counts each failed rerun, so those count as failures too). A suite-level
``<error>``/``<failure>`` (set-up or the runner failed outside any test) becomes a test of its own that failed,
named after the suite, so a report holding only that cannot pass. A test name seen again is another attempt of
the same test (stress and retry runs): it failed if any attempt failed. A test that passed after
``flakyFailure``/``flakyError`` (Surefire) or ``rerun`` (pytest-rerunfailures) elements is flaky; one with
``rerunFailure``/``rerunError`` only and no final failure failed. ``time`` may be empty, negative, too large
for a float or written ``2,503.1``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import EvidenceError
from ..model import TestResult
from ..values import Value, record
from .base import Parsed
from .read import iter_xml_events, local_name, xml_root_tag

if TYPE_CHECKING:
    from .config import EvidenceSource

__all__ = ["parse"]

_MAX_TEXT = 20_000
_RANK = {"passed": 0, "skipped": 1, "xfailed": 2, "failed": 3, "error": 4}
_FLAKY = ("flakyFailure", "flakyError", "rerun")
_RERUN_FAILED = ("rerunFailure", "rerunError")


def _seconds(raw: str | None) -> float:
    if not raw:
        return 0.0
    try:
        value = float(raw.replace(",", ""))
    except ValueError:
        return 0.0
    # negative, NaN and infinite (a 400-digit time) count as 0: a run report holds finite numbers only
    return value if value > 0 and math.isfinite(value) else 0.0


def _count(raw: str | None) -> int:
    try:
        return max(0, int(float(raw))) if raw else 0
    except (ValueError, OverflowError):
        return 0


@record
class _Suite(Value):
    name: str
    claimed: int  # failures + errors its attributes count
    failing: int = 0  # failing test cases directly in it
    cases: int = 0


def parse(path: Path, source: EvidenceSource, rootdir: Path) -> Parsed:
    root = xml_root_tag(path, source.max_bytes)
    if root not in ("testsuites", "testsuite"):
        raise EvidenceError(f"{path}: not a JUnit XML report (root element <{root}>)")
    tests: dict[str, TestResult] = {}
    suites: list[_Suite] = []
    tags = ("testsuite", "testcase", "error", "failure")
    for event, element in iter_xml_events(path, tags, ("testcase",), source.max_bytes):
        tag = local_name(element.tag)
        if tag == "testsuite":
            if event == "start":
                claimed = _count(element.get("failures")) + _count(element.get("errors"))
                suites.append(_Suite(element.get("name") or "?", claimed))
            else:
                _check_suite(suites.pop(), path)
            continue
        if event != "end":
            continue
        if tag == "testcase":
            test, reruns = _case(element, path, source)
        elif local_name(element.getparent().tag) in ("testsuite", "testsuites"):
            test, reruns = _suite_level(element, suites[-1].name if suites else "testsuites", source), 0
        else:
            continue  # a test case's own <error>/<failure>: read with its test case
        if suites:
            suites[-1].cases += 1
            suites[-1].failing += (test.outcome in ("failed", "error")) + reruns
        _add_attempt(tests, test)
    return Parsed(tests=list(tests.values()), scanned=len(tests), scanned_what="test cases")


def _check_suite(suite: _Suite, path: Path) -> None:
    if suite.cases and suite.claimed > suite.failing:
        raise EvidenceError(
            f"{path}: <testsuite name={suite.name!r}> counts {suite.claimed} failures and errors but only "
            f"{suite.failing} of its {suite.cases} test cases failed: the report contradicts itself",
            "contradiction",
        )


def _suite_level(element: Any, suite: str, source: EvidenceSource) -> TestResult:
    """A suite's own ``<error>``/``<failure>``: what failed outside its tests, kept as a failed entry."""
    tag = local_name(element.tag)
    return TestResult(
        nodeid=f"{suite}::<suite {tag}>",
        phase=source.phase or "",
        outcome="error" if tag == "error" else "failed",
        duration=0.0,
        message=(element.get("message") or element.get("type") or f"suite-level {tag}")[:500],
        longrepr=(element.text or "")[:_MAX_TEXT],
        origin=source.name,
    )


@record
class _Outcome(Value):
    """What a test case's children say, read in document order: the first failure or error wins over a skip,
    and reruns (Surefire's flaky* and rerun* elements) are counted."""

    outcome: str = "passed"
    message: str = ""
    text: str = ""
    flaky: bool = False
    reruns_failed: bool = False
    reruns: int = 0

    def add(self, tag: str, child: Any) -> None:
        if tag in ("failure", "error") and self.outcome not in ("failed", "error"):
            self.outcome = "failed" if tag == "failure" else "error"
            self.message, self.text = child.get("message") or "", (child.text or "")
        elif tag == "skipped" and self.outcome == "passed":
            self.outcome = "xfailed" if child.get("type") == "pytest.xfail" else "skipped"
            self.message = child.get("message") or ""
        elif tag in _FLAKY or tag in _RERUN_FAILED:
            self.reruns += 1
            self.flaky = self.flaky or tag in _FLAKY
            self.reruns_failed = self.reruns_failed or tag in _RERUN_FAILED
            self.message = self.message or child.get("message") or ""
            if tag in _RERUN_FAILED:
                self.text = self.text or (child.text or "")

    def final(self) -> str:
        # Surefire writes rerunFailure for a test that failed every rerun
        return "failed" if self.reruns_failed and self.outcome == "passed" else self.outcome


def _case(case: Any, path: Path, source: EvidenceSource) -> tuple[TestResult, int]:
    """The test case's result, and how many failed reruns it carries (Surefire counts them as failures)."""
    name = case.get("name")
    if not name:
        raise EvidenceError(f"{path}: a <testcase> has no name")
    classname = case.get("classname") or ""
    seen = _Outcome()
    for child in case:
        seen.add(local_name(child.tag), child)
    outcome = seen.final()
    result = TestResult(
        nodeid=f"{classname}::{name}" if classname else name,
        phase=source.phase or "",
        outcome=outcome,  # type: ignore[arg-type]
        duration=round(_seconds(case.get("time")), 6),
        message=seen.message[:500],
        longrepr=seen.text[:_MAX_TEXT],
        origin=source.name,
        flaky=seen.flaky and outcome == "passed",
    )
    return result, seen.reruns


def _add_attempt(tests: dict[str, TestResult], test: TestResult) -> None:
    """A name seen again is another attempt: the worst outcome stands, every outcome is kept."""
    seen = tests.get(test.nodeid)
    if seen is None:
        tests[test.nodeid] = test
        return
    seen.attempts = [*(seen.attempts or [seen.outcome]), test.outcome]
    seen.duration = round(seen.duration + test.duration, 6)
    seen.flaky = seen.flaky or test.flaky
    if _RANK[test.outcome] > _RANK[seen.outcome]:
        seen.outcome, seen.message, seen.longrepr = test.outcome, test.message, test.longrepr
