"""The compare gate: coverage may not fall more than ``max_coverage_drop`` points below the base branch's last
run in the history (Codecov's ``target: auto``). Fail-closed: no history, no run of the base branch, a base run
without coverage or a store that could not be read is an error, never a pass."""

from __future__ import annotations

from ..config import Settings
from ..hookspecs import hookimpl
from ..model import GateResult, RunReport
from .base import error_gate, skipped_gate, threshold_gate

__all__ = ["history_gates", "iotops_gates"]

GATE = "history.coverage_drop"
SOURCE = "[tool.iotops.history] max_coverage_drop"


@hookimpl(trylast=True)
def iotops_gates(settings: Settings, report: RunReport) -> list[GateResult]:
    return history_gates(settings, report)


def history_gates(settings: Settings, report: RunReport) -> list[GateResult]:
    limit = settings.history.max_coverage_drop
    if limit is None:
        return []
    threshold = -limit

    def error(message: str) -> list[GateResult]:
        return [error_gate(GATE, "history", threshold, message, unit="points", threshold_source=SOURCE)]

    view, cov = report.history, report.coverage
    if cov is not None and cov.status == "off":
        return [skipped_gate(GATE, "history", threshold, "coverage is off", unit="points", threshold_source=SOURCE)]
    problem = (
        "no run history is configured"
        if view is None
        else "this run's coverage was not measured"
        if cov is None or cov.status != "measured"
        else view.note
        if view.base_run is None
        else f"the last run of {view.base} ({view.base_run.run_id[:12]}) has no coverage"
        if view.base_run.coverage is None
        else ""
    )
    if problem or view is None or view.base_run is None or view.base_run.coverage is None or cov is None:
        return error(f"coverage against the base branch: {problem}")
    base, then = view.base_run, view.base_run.coverage
    return [
        threshold_gate(
            GATE,
            "history",
            f"coverage change against {view.base}@{(base.commit or '?')[:7]}",
            round(cov.totals.percent - then, 2),
            threshold,
            unit="points",
            threshold_source=SOURCE,
            detail=f"{cov.totals.percent:.2f} % now, {then:.2f} % then",
        )
    ]
