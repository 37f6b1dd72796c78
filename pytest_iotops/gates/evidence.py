"""Gates over evidence sources: coverage thresholds, finding limits, clippy warning/error limits.

Every source yields at least one gate, so a source that cannot be read always fails the run (exit 7) even
when no threshold was set for it.
"""

from __future__ import annotations

from collections import Counter

from ..config import Settings
from ..evidence.config import EvidenceSource
from ..hookspecs import hookimpl
from ..model import EvidenceResult, Finding, GateResult, RunReport
from ..severity import severity_at_least
from .base import error_gate, skipped_gate, threshold_gate
from .coverage import coverage_threshold

__all__ = ["evidence_gates", "iotops_gates"]

FAMILY = "evidence"


@hookimpl(trylast=True)
def iotops_gates(settings: Settings, report: RunReport) -> list[GateResult]:
    return evidence_gates(settings, report)


def _wanted(source: EvidenceSource) -> list[tuple[str, str, float]]:
    """(measure, subject, threshold) of every threshold set on the source."""
    wanted: list[tuple[str, str, float]] = []
    for measure, subject, value in (
        ("total", "line coverage", source.fail_under),
        ("branch", "branch coverage", source.branch_fail_under),
        ("file", "lowest file line coverage", source.file_fail_under),
        ("findings", f"({source.min_severity} or worse)", source.max_findings),
        ("warnings", "warnings", source.max_warnings),
        ("errors", "errors", source.max_errors),
        ("flaky", "flaky tests", source.max_flaky),
    ):
        if value is not None:
            wanted.append((measure, subject, float(value)))
    return wanted


def evidence_gates(settings: Settings, report: RunReport) -> list[GateResult]:
    results: list[GateResult] = []
    by_name = {r.name: r for r in report.evidence}
    for source in settings.evidence:
        result = by_name.get(source.name)
        wanted = _wanted(source)
        if not wanted:
            results.append(_read_gate(source.name, result))
            continue
        for measure, subject, threshold in wanted:
            results.append(_gate(source, result, measure, subject, threshold, report))
    configured = {s.name for s in settings.evidence}
    for extra in report.evidence:  # e.g. an unreadable baseline
        if extra.name not in configured:
            results.append(_read_gate(extra.name, extra))
    return results


def _read_gate(name: str, result: EvidenceResult | None) -> GateResult:
    gate_id = f"{FAMILY}.{name}"
    if result is None or result.status == "error":
        message = result.error if result is not None else "was not collected"
        return GateResult(gate_id, FAMILY, "error", None, None, ">=", "", f"{name}: {message}")
    if result.status == "absent":
        return GateResult(
            gate_id, FAMILY, "skipped", None, None, ">=", "", f"{name}: optional evidence not present ({result.path})"
        )
    what = f"{result.totals.files} files" if result.totals else f"{result.findings} findings, {result.tests} tests"
    return GateResult(gate_id, FAMILY, "passed", None, None, ">=", "", f"{name}: read ({what}); no threshold set")


def _gate(
    source: EvidenceSource,
    result: EvidenceResult | None,
    measure: str,
    subject: str,
    threshold: float,
    report: RunReport,
) -> GateResult:
    gate_id = f"{FAMILY}.{source.name}.{measure}"
    comparison, unit = (">=", "%") if source.family == "coverage" else ("<=", measure)
    label = f"{source.name} {subject}"
    if result is None or result.status == "error":
        message = result.error if result is not None else "was not collected"
        return error_gate(gate_id, FAMILY, threshold, f"{label}: {message}", comparison, unit)
    if result.status == "absent":
        return skipped_gate(
            gate_id, FAMILY, threshold, f"{label}: optional evidence not present ({result.path})", comparison, unit
        )
    if source.family == "coverage":
        assert result.totals is not None
        return coverage_threshold(
            gate_id, FAMILY, measure, label, threshold, "", result.totals, result.files, f"in {result.path}"
        )
    return _count_gate(source, measure, label, threshold, unit, report)


def _count_gate(
    source: EvidenceSource, measure: str, label: str, threshold: float, unit: str, report: RunReport
) -> GateResult:
    """Flaky tests, findings at or above the source's severity, or findings of one level (clippy's errors)."""
    gate_id = f"{FAMILY}.{source.name}.{measure}"
    if measure == "flaky":
        flaky = [t.nodeid for t in report.tests if t.origin == source.name and t.flaky]
        detail = ", ".join(flaky[:5]) + (f" and {len(flaky) - 5} more" if len(flaky) > 5 else "") or "none"
        return threshold_gate(gate_id, FAMILY, label, float(len(flaky)), threshold, "<=", "tests", detail=detail)
    counted = [f for f in report.findings if f.source == source.name and f.status == "open"]
    if measure == "findings":
        counted = [f for f in counted if severity_at_least(f.severity, source.min_severity)]
    else:
        counted = [f for f in counted if f.level == measure.rstrip("s")]
    return threshold_gate(gate_id, FAMILY, label, float(len(counted)), threshold, "<=", unit, detail=_describe(counted))


def _describe(findings: list[Finding]) -> str:
    if not findings:
        return "none open"
    by_severity = Counter(f.severity for f in findings)
    rules = Counter(f.rule for f in findings).most_common(3)
    return ", ".join(f"{n} {s}" for s, n in by_severity.items()) + "; top: " + ", ".join(f"{r} ×{n}" for r, n in rules)
