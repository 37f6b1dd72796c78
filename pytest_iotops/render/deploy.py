"""Deployments in words and numbers, shared by the terminal, Markdown and HTML renderers."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..model import Deployment, RunReport


__all__ = ["deployment_lines", "outcome_words", "summary_words"]


def outcome_words(d: Deployment) -> str:
    if d.outcome == "promoted":
        return "promoted"
    if d.exposure == 0:
        return "rolled back before any traffic"
    steps = [s for s in d.steps if s.weight]
    return f"rolled back at {steps[-1].weight} %" if steps else "rolled back"


def summary_words(report: RunReport) -> str:
    n = len(report.deployments)
    promoted = sum(d.outcome == "promoted" for d in report.deployments)
    return f"{n} deployment{'s' if n != 1 else ''}: {promoted} promoted, {n - promoted} rolled back"


def deployment_lines(report: RunReport) -> list[tuple[str, str]]:
    """Terminal lines: one per deployment, red when it was rolled back (the test decides whether that is right)."""
    if not report.deployments:
        return []
    lines = [(summary_words(report), "bold")]
    for d in report.deployments:
        extra = f", availability {d.availability:.2%}" if d.availability is not None else ""
        if d.check_failures:
            extra += f", {sum(d.check_failures.values())} answers failed a response check"
        if d.rollback_seconds is not None:
            extra += f", back on {d.stable} in {d.rollback_seconds * 1000:.1f} ms"
        lines.append(
            (
                f"  {d.strategy} {d.stable} -> {d.candidate} on {d.target}: {outcome_words(d)} "
                f"(exposure {d.exposure} %{extra}) [{d.test}]",
                "green" if d.outcome == "promoted" else "yellow",
            )
        )
    return [*lines, ("", "")]
