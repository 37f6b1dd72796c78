"""JUnit XML for CI systems (GitLab, Jenkins): one testsuite per phase, gates as testcases of their own suite,
phase and gate results as properties — written with junitparser."""

from __future__ import annotations

from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite
from junitparser.junitparser import Result

from ..model import RunReport, TestResult
from ..numbers import fmt_measured, fmt_threshold

__all__ = ["render_junit"]


def _split(test: TestResult) -> tuple[str, str]:
    """pytest's own convention: ``tests/unit/test_a.py::TestX::test_y`` -> (``tests.unit.test_a.TestX``, ``test_y``)."""
    if "::" not in test.nodeid:
        return test.origin, test.nodeid
    path, _, rest = test.nodeid.partition("::")
    parts = rest.split("::")
    module = path.removesuffix(".py").replace("/", ".")
    classname = ".".join([module, *parts[:-1]]) if test.origin == "pytest" else f"{test.origin}.{path}"
    return classname, parts[-1]


class _Rerun(Result):
    """Maven Surefire's elements for a test run more than once: each failed attempt before the final one is a
    ``flakyFailure``/``flakyError`` when the test passed in the end, a ``rerunFailure``/``rerunError`` when it
    failed anyway (CI systems that read them show the test as flaky instead of passed or failed)."""

    _tag = "rerunFailure"  # type: ignore[assignment]  # junitparser types the base tag as None


def _reruns(test: TestResult) -> list[Result]:
    earlier = test.attempts[:-1] if test.attempts else []
    prefix = "flaky" if test.outcome == "passed" else "rerun"
    out: list[Result] = []
    for n, attempt in enumerate(earlier, start=1):
        if attempt in ("failed", "error"):
            element = _Rerun(f"attempt {n} of {len(test.attempts)}: {attempt}", attempt)
            element._elem.tag = f"{prefix}{'Failure' if attempt == 'failed' else 'Error'}"
            out.append(element)
    return out


def _case(test: TestResult) -> TestCase:
    classname, name = _split(test)
    case = TestCase(name, classname, test.duration)
    if test.outcome in ("failed", "error"):
        kind = Failure if test.outcome == "failed" else Error
        result = kind(test.message or test.outcome, "failure" if test.outcome == "failed" else "error")
        result.text = test.longrepr
        case.result = [result]
    elif test.outcome in ("skipped", "blocked", "xfailed"):
        case.result = [Skipped(test.message or test.outcome, f"pytest.{test.outcome}")]
    for element in _reruns(test):
        case.append(element)
    return case


def render_junit(report: RunReport) -> str:
    xml = JUnitXml("pytest-iotops")
    by_phase: dict[str, list[TestResult]] = {p.name: [] for p in report.phases}
    for test in report.tests:
        by_phase.setdefault(test.phase, []).append(test)
    for phase in report.phases:
        suite = TestSuite(phase.name)
        suite.timestamp = report.run.started_at
        suite.add_property("iotops.phase.order", str(phase.order))
        suite.add_property("iotops.phase.status", phase.status)
        if phase.coverage_percent is not None:
            suite.add_property("iotops.phase.coverage", f"{phase.coverage_percent:.2f}")
        # one add_testcases call: junitparser recounts the suite on every add, which is quadratic per case
        suite.add_testcases([_case(test) for test in by_phase.get(phase.name, [])])
        xml.add_testsuite(suite)
    gates = TestSuite("iotops.gates")
    gates.add_property("iotops.verdict", report.verdict.status)
    gates.add_property("iotops.exit_code", str(report.verdict.exit_code))
    for g in report.gates:
        measured = "-" if g.measured is None else fmt_measured(g.measured, g.threshold, g.comparison, g.unit)
        threshold = "-" if g.threshold is None else f"{g.comparison} {fmt_threshold(g.threshold)}"
        gates.add_property(f"iotops.gate.{g.id}", f"{g.status} {measured} {threshold} {g.unit}".strip())
    gate_cases = []
    for g in report.gates:
        case = TestCase(g.id, f"iotops.gates.{g.family}", 0.0)
        if g.status == "failed":
            case.result = [Failure(g.message, "gate-failed")]
        elif g.status == "error":
            case.result = [Error(g.message, "gate-error")]
        elif g.status == "skipped":
            case.result = [Skipped(g.message, "gate-skipped")]
        gate_cases.append(case)
    gates.add_testcases(gate_cases)
    xml.add_testsuite(gates)
    xml.update_statistics()
    text: bytes = xml.tostring()
    return '<?xml version="1.0" encoding="utf-8"?>\n' + text.decode("utf-8") + "\n"
