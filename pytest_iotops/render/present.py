"""What every renderer shows the same way: the severity order, open findings ranked, a finding's location, an
evidence source's result in words. One definition here, so the terminal, Markdown and HTML never disagree."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..model import EvidenceResult, Finding
from ..numbers import fmt_measured, fmt_threshold
from ..severity import SEVERITIES

__all__ = [
    "SEVERITIES",
    "evidence_result",
    "finding_location",
    "gate_measured",
    "gate_threshold",
    "open_by_severity",
    "severity_counts",
    "severity_rank",
]


def severity_rank(severity: str) -> int:
    """0 for critical ... 4 for info: the sort key of every findings list."""
    return SEVERITIES.index(severity)


def open_by_severity(findings: Iterable[Finding]) -> list[Finding]:
    """The open findings, most severe first (stable within a severity)."""
    return sorted((f for f in findings if f.status == "open"), key=lambda f: severity_rank(f.severity))


def severity_counts(findings: Sequence[Finding]) -> dict[str, int]:
    """Open findings per severity, in severity order (zeros included)."""
    return {s: sum(1 for f in findings if f.status == "open" and f.severity == s) for s in SEVERITIES}


def finding_location(f: Finding) -> str:
    """``path:line`` for code, ``package version`` for a dependency."""
    return f"{f.path}:{f.line}" if f.path and f.line else (f.path or f"{f.package} {f.version}")


def evidence_result(e: EvidenceResult, width: int = 70) -> str:
    """What a source gave, in a few words: its error, its coverage, its tests or its findings."""
    if e.status != "ok":
        return e.error.splitlines()[0][:width] if e.error else e.status
    if e.totals is not None:
        return f"line {e.totals.percent:.2f} % of {e.totals.statements} lines in {e.totals.files} files"
    return f"{e.tests} tests" if e.tests and not e.findings else f"{e.findings} findings"


def gate_measured(measured: float | None, threshold: float | None, comparison: str, unit: str) -> str:
    """A gate's measured value at its threshold's precision, rounded towards failing, with its unit; "-" if none."""
    if measured is None:
        return "-"
    return fmt_measured(measured, threshold, comparison, unit) + (f" {unit}" if unit else "")


def gate_threshold(threshold: float | None, comparison: str, unit: str) -> str:
    """``≥ 85 %`` / ``≤ 0 findings``; "-" when the gate has no threshold."""
    if threshold is None:
        return "-"
    return ("≥ " if comparison == ">=" else "≤ ") + fmt_threshold(threshold) + (f" {unit}" if unit else "")
