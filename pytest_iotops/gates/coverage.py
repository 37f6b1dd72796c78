"""Coverage gates: total line %, total branch %, every file's line %, each phase's line %."""

from __future__ import annotations

from collections.abc import Sequence

from ..config import Settings
from ..hookspecs import hookimpl
from ..model import CoverageReport, CoverageTotals, FileCoverage, GateResult, RunReport
from .base import error_gate, skipped_gate, threshold_gate

__all__ = ["coverage_gates", "coverage_threshold", "iotops_gates"]

FAMILY = "coverage"


@hookimpl(trylast=True)
def iotops_gates(settings: Settings, report: RunReport) -> list[GateResult]:
    return coverage_gates(settings, report)


def _wanted(settings: Settings) -> list[tuple[str, str, float, str]]:
    """(gate id, config key, threshold, subject) for every configured coverage threshold."""
    c = settings.coverage
    wanted = []
    if c.fail_under is not None:
        wanted.append(("coverage.total", "coverage.fail_under", c.fail_under, "total line coverage"))
    if c.branch_fail_under is not None:
        wanted.append(("coverage.branch", "coverage.branch_fail_under", c.branch_fail_under, "total branch coverage"))
    if c.file_fail_under is not None:
        wanted.append(("coverage.file", "coverage.file_fail_under", c.file_fail_under, "lowest file line coverage"))
    for phase in settings.phases:
        if phase in c.phase_fail_under:
            wanted.append(
                (
                    f"coverage.phase.{phase}",
                    "coverage.phase_fail_under",
                    c.phase_fail_under[phase],
                    f"{phase} phase line coverage",
                )
            )
    return wanted


def coverage_gates(settings: Settings, report: RunReport) -> list[GateResult]:
    results = []
    cov = report.coverage
    for gate_id, key, threshold, subject in _wanted(settings):
        source = settings.source_of(key)
        if cov is None or cov.status == "error":
            why = cov.note if cov is not None else "coverage was not measured"
            results.append(error_gate(gate_id, FAMILY, threshold, f"{subject}: {why}", threshold_source=source))
        elif cov.status == "off":
            results.append(skipped_gate(gate_id, FAMILY, threshold, f"{subject}: {cov.note}", threshold_source=source))
        else:
            results.append(_measured_gate(gate_id, subject, threshold, source, cov, report))
    return results


def _measured_gate(
    gate_id: str, subject: str, threshold: float, source: str, cov: CoverageReport, report: RunReport
) -> GateResult:
    if gate_id.startswith("coverage.phase."):
        if not cov.files or cov.totals.statements == 0:
            return error_gate(
                gate_id,
                FAMILY,
                threshold,
                f"{subject}: coverage measured no code in source {cov.source}; check coverage.source",
                threshold_source=source,
            )
        return _phase_gate(gate_id, subject, threshold, source, cov, report)
    measure = gate_id.rsplit(".", 1)[1]
    hint = f"in source {cov.source}; check coverage.source"
    return coverage_threshold(gate_id, FAMILY, measure, subject, threshold, source, cov.totals, cov.files, hint)


def coverage_threshold(
    gate_id: str,
    family: str,
    measure: str,
    subject: str,
    threshold: float,
    source: str,
    totals: CoverageTotals,
    files: Sequence[FileCoverage],
    no_code_hint: str,
) -> GateResult:
    """``measure`` is ``total`` (line %), ``branch`` or ``file`` (the lowest file): shared by Python coverage
    and every coverage evidence source, so a Rust report is gated exactly like coverage.py's numbers."""

    def error(message: str) -> GateResult:
        return error_gate(gate_id, family, threshold, f"{subject}: {message}", threshold_source=source)

    if not files or totals.statements == 0:
        return error(f"coverage measured no code {no_code_hint}")
    if measure == "total":
        detail = f"{totals.covered_lines}/{totals.statements} lines"
        return threshold_gate(
            gate_id, family, subject, totals.percent, threshold, threshold_source=source, detail=detail
        )
    if measure == "branch":
        if totals.branch_percent is None:
            return error("the coverage data has no branch information")
        detail = f"{totals.covered_branches}/{totals.branches} branches"
        return threshold_gate(
            gate_id, family, subject, totals.branch_percent, threshold, threshold_source=source, detail=detail
        )
    return _file_gate(gate_id, family, subject, threshold, source, files)


def _file_gate(
    gate_id: str, family: str, subject: str, threshold: float, source: str, all_files: Sequence[FileCoverage]
) -> GateResult:
    files = [f for f in all_files if f.statements]
    worst = min(files, key=lambda f: (f.percent, f.path))
    below = [f for f in files if f.percent < threshold]
    detail = worst.path
    if below:
        names = ", ".join(f"{f.path} {f.percent:.1f} %" for f in sorted(below, key=lambda f: f.percent)[:5])
        more = f" and {len(below) - 5} more" if len(below) > 5 else ""
        detail = f"{len(below)} file(s) below: {names}{more}"
    return threshold_gate(gate_id, family, subject, worst.percent, threshold, threshold_source=source, detail=detail)


def _phase_gate(
    gate_id: str, subject: str, threshold: float, source: str, cov: CoverageReport, report: RunReport
) -> GateResult:
    phase = gate_id.rsplit(".", 1)[1]

    def error(message: str) -> GateResult:
        return error_gate(gate_id, FAMILY, threshold, f"{subject}: {message}", threshold_source=source)

    if not cov.phase_attribution:
        return error(cov.note or "phase attribution is unavailable")
    result = next((p for p in report.phases if p.name == phase), None)
    if result is None or result.tests == 0:
        return error(f"the {phase} phase has no tests")
    if result.status == "blocked":
        return error(f"the {phase} phase did not run (blocked by an earlier failed phase)")
    measured = next((p for p in cov.phases if p.phase == phase), None)
    if measured is None:
        return error(f"no coverage was recorded for the {phase} phase")
    return threshold_gate(
        gate_id,
        FAMILY,
        subject,
        measured.percent,
        threshold,
        threshold_source=source,
        detail=f"{measured.covered_lines}/{measured.statements} lines",
    )
