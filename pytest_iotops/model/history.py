"""The run history as a run report carries it (schema 2.4): what the history said when the run was judged."""

from __future__ import annotations

from dataclasses import field

from ..values import Value, record

__all__ = ["HistoryView", "RunPoint"]


@record
class RunPoint(Value):
    """One earlier run, as the history holds it (schema 2.4)."""

    run_id: str
    started_at: str
    branch: str | None
    commit: str | None
    status: str
    tests: int
    failed: int
    coverage: float | None
    duration: float


@record
class HistoryView(Value):
    """What the run history said when this run was judged (schema 2.4): the branch's last runs (newest first)
    for trends, and the base branch's last run for the compare gate; ``note`` says why either is missing."""

    url: str
    branch: str | None
    runs: list[RunPoint] = field(default_factory=list)
    base: str | None = None
    base_run: RunPoint | None = None
    note: str = ""
