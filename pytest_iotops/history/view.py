"""The history as the run being judged sees it: read once, before the gates, into the run report — the
branch's last runs (trends) and the base branch's last run (the compare gate). A store that cannot be read
leaves a note, and the compare gate fails closed on it."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from ..model import HistoryView, RunReport
from .config import HistorySettings
from .queries import runs
from .store import HistoryError
from .stores import open_store

__all__ = ["base_branch", "read_view"]


def base_branch(settings: HistorySettings, diff_base: str | None) -> str:
    """``base`` as configured, else the diff base's branch (``origin/main`` -> ``main``), else main."""
    if settings.base:
        return settings.base
    if diff_base:
        return diff_base.split("/", 1)[1] if diff_base.startswith("origin/") else diff_base
    return "main"


def read_view(settings: HistorySettings, report: RunReport, rootdir: Path, diff_base: str | None) -> HistoryView:
    branch = report.run.git.branch
    view = HistoryView(settings.url, branch, base=base_branch(settings, diff_base))
    try:
        store = open_store(settings.url, rootdir)
        view.runs = runs(store, branch, settings.trend_runs) if branch else []
        base = runs(store, view.base, 1)
    except (HistoryError, ConfigError) as exc:
        view.note = f"the history could not be read: {exc}"
        return view
    view.base_run = base[0] if base else None
    if view.base_run is None:
        view.note = f"no run of the base branch {view.base!r} in the history"
    return view
