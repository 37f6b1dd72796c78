"""Gate families; a gate is a pure function (settings, run report) -> GateResult."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pluggy

    from ..config import Settings
    from ..model import GateResult, RunReport

__all__ = ["evaluate_gates"]


def evaluate_gates(pm: pluggy.PluginManager, settings: Settings, report: RunReport) -> list[GateResult]:
    """Every plugin's gates, in registration order (built-ins last, so third parties show first)."""
    results: list[GateResult] = []
    for batch in pm.hook.iotops_gates(settings=settings, report=report):
        results.extend(batch)
    return results
