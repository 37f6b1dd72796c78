"""The diff coverage gate: the changed lines of this change must be covered."""

from __future__ import annotations

from ..config import Settings
from ..hookspecs import hookimpl
from ..model import GateResult, RunReport
from .base import error_gate, skipped_gate, threshold_gate

__all__ = ["diff_gates", "iotops_gates"]

GATE = "diff.coverage"


@hookimpl(trylast=True)
def iotops_gates(settings: Settings, report: RunReport) -> list[GateResult]:
    return diff_gates(settings, report)


def diff_gates(settings: Settings, report: RunReport) -> list[GateResult]:
    threshold = settings.diff.fail_under
    if threshold is None:
        return []
    source = settings.source_of("diff.fail_under")
    diff = report.diff
    if diff is None:
        return [
            error_gate(
                GATE,
                "diff",
                threshold,
                "diff coverage: no base to compare with (give "
                "--iotops-diff-base, set diff.base, or run in CI with a target branch)",
                threshold_source=source,
            )
        ]
    if diff.status == "error":
        return [error_gate(GATE, "diff", threshold, f"diff coverage: {diff.note}", threshold_source=source)]
    if diff.status == "no-source-lines" or diff.percent is None:
        return [skipped_gate(GATE, "diff", threshold, f"diff coverage: {diff.note}", threshold_source=source)]
    return [
        threshold_gate(
            GATE,
            "diff",
            f"diff coverage against {diff.base}",
            diff.percent,
            threshold,
            threshold_source=source,
            detail=f"{diff.covered}/{diff.coverable} changed lines",
        )
    ]
