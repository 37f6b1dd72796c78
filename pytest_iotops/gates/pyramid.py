"""The pyramid's shape as a gate: shares of tests (and optionally of test time) per phase."""

from __future__ import annotations

from ..config import Settings
from ..hookspecs import hookimpl
from ..model import GateResult, RunReport
from .base import error_gate, threshold_gate

__all__ = ["iotops_gates", "pyramid_gates"]

FAMILY = "pyramid"
_RULES = (
    ("min_share", ">=", "count"),
    ("max_share", "<=", "count"),
    ("min_time_share", ">=", "time"),
    ("max_time_share", "<=", "time"),
)


@hookimpl(trylast=True)
def iotops_gates(settings: Settings, report: RunReport) -> list[GateResult]:
    return pyramid_gates(settings, report)


def pyramid_gates(settings: Settings, report: RunReport) -> list[GateResult]:
    """Enforced only when rules are configured; the shape itself is always in the report's phases."""
    results = []
    counts = {p.name: p.tests for p in report.phases}
    times = {p.name: p.duration for p in report.phases}
    for rule, comparison, basis in _RULES:
        limits = getattr(settings.pyramid, rule)
        for phase in settings.phases:
            if phase not in limits:
                continue
            gate_id = f"pyramid.{rule}.{phase}"
            source = settings.source_of(f"pyramid.{rule}")
            values = counts if basis == "count" else times
            total = sum(values.values())
            what = "tests" if basis == "count" else "test time"
            if total <= 0:
                results.append(
                    error_gate(
                        gate_id,
                        FAMILY,
                        limits[phase],
                        f"{phase} share of {what}: no {what} recorded",
                        comparison,
                        threshold_source=source,
                    )
                )
                continue
            share = 100.0 * values.get(phase, 0) / total
            detail = (
                f"{values.get(phase, 0)} of {total}"
                if basis == "count"
                else (f"{values.get(phase, 0):.2f}s of {total:.2f}s")
            )
            results.append(
                threshold_gate(
                    gate_id,
                    FAMILY,
                    f"{phase} share of {what}",
                    share,
                    limits[phase],
                    comparison,
                    threshold_source=source,
                    detail=detail,
                )
            )
    return results
