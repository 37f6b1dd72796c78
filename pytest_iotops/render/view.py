"""Presentation computed once for every renderer: the pyramid's columns and rows.

The columns follow pytest's own summary line (xfailed and xpassed apart from skipped and passed), so the
figures a user compares with pytest's last line are the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..model import PhaseResult

__all__ = ["PHASE_COLUMNS", "phase_cells", "phase_total"]

#: the pyramid table's header (time and coverage are formatted by the renderer)
PHASE_COLUMNS = ("phase", "tests", "passed", "failed", "error", "skipped", "xfailed", "xpassed", "blocked")
_COUNTS = ("tests", "passed", "failed", "errors", "skipped", "xfailed", "xpassed", "blocked")


def phase_cells(p: PhaseResult) -> list[str]:
    """Name and counts in :data:`PHASE_COLUMNS` order."""
    return [p.name, *(str(getattr(p, attr)) for attr in _COUNTS)]


def phase_total(phases: Sequence[PhaseResult]) -> PhaseResult:
    """The "total" row: every count and the time summed over the phases."""
    total = PhaseResult(name="total", order=len(phases))
    for p in phases:
        for attr in (*_COUNTS, "duration"):
            setattr(total, attr, getattr(total, attr) + getattr(p, attr))
    return total
