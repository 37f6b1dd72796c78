"""A finished run into the history, with retention applied, and the line the terminal shows: where it went and
how coverage moved since the branch's previous run. A store that cannot be written does not change the run's
verdict (the run report is on disk; ``iotops history import`` stores it later) but is said in red."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from ..model import RunReport
from .config import HistorySettings
from .store import HistoryError
from .stores import open_store

__all__ = ["record_run"]


def _since(previous: tuple[float | None, str | None, str | None], coverage: float | None) -> str:
    before, branch, commit = previous
    if coverage is None or before is None:
        return ""
    return f"; coverage {coverage:.1f} % ({coverage - before:+.1f} since {branch or '?'}@{(commit or '?')[:7]})"


def record_run(settings: HistorySettings, report: RunReport, rootdir: Path) -> tuple[str, bool]:
    """(the line to show, whether it was stored)."""
    try:
        store = open_store(settings.url, rootdir)
        previous = store.query(
            "SELECT coverage, branch, commit_sha FROM runs WHERE shard IS NULL AND project = ? AND branch = ? "
            "ORDER BY started_at DESC LIMIT 1",
            [Path(report.run.rootdir).name, report.run.git.branch or ""],
        )
        run_id = store.write(report)
        pruned = store.prune(settings.keep_runs, settings.keep_days) if settings.keep_runs or settings.keep_days else 0
    except (HistoryError, ConfigError) as exc:
        return f"iotops history: this run was NOT stored: {exc}", False
    cov = report.coverage
    coverage = cov.totals.percent if cov is not None and cov.status == "measured" else None
    trend = _since(previous[0], coverage) if previous else ""
    gone = f"; {pruned} old runs removed (retention)" if pruned else ""
    return f"iotops history: run {run_id[:12]} stored in {settings.url}{trend}{gone}", True
