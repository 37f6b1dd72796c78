"""A finished run into the history, with retention applied, and the line the terminal shows: where it went and
how coverage moved since the base branch's last run (on the base branch: its previous run). A store that cannot
be written does not change the run's verdict (the run report is on disk; ``iotops history import`` stores it
later) but is said in red."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from ..model import RunReport
from .config import HistorySettings
from .store import HistoryError
from .stores import open_store

__all__ = ["record_run"]


def _trend(report: RunReport) -> str:
    """Coverage against the base branch's last run (on another branch), else the branch's previous run."""
    view, cov = report.history, report.coverage
    if view is None or cov is None or cov.status != "measured":
        return ""
    on_base = view.branch == view.base
    then = view.runs[0] if on_base and view.runs else view.base_run if not on_base else None
    if then is None or then.coverage is None:
        return ""
    now = cov.totals.percent
    return f"; coverage {now:.1f} % ({now - then.coverage:+.1f} since {then.branch or '?'}@{(then.commit or '?')[:7]})"


def record_run(settings: HistorySettings, report: RunReport, rootdir: Path) -> tuple[str, bool]:
    """(the line to show, whether it was stored)."""
    try:
        store = open_store(settings.url, rootdir)
        run_id = store.write(report)
        pruned = store.prune(settings.keep_runs, settings.keep_days) if settings.keep_runs or settings.keep_days else 0
    except (HistoryError, ConfigError) as exc:
        return f"iotops history: this run was NOT stored: {exc}", False
    gone = f"; {pruned} old runs removed (retention)" if pruned else ""
    return f"iotops history: run {run_id[:12]} stored in {settings.url}{_trend(report)}{gone}", True
