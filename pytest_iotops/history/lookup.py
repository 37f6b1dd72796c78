"""The run history as the monitor asks it: earlier values of signals, for criteria that compare with earlier
runs (Keptn's comparison). A history that cannot be read fails the deployment's measurement with its reason
(a monitoring error), never compares with nothing silently."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from ..monitoring.monitor import HistoryLookup
from ..monitoring.promql import MonitoringError
from .queries import signal_history
from .store import HistoryError
from .stores import open_store

__all__ = ["signal_lookup"]


def signal_lookup(url: str, rootdir: Path) -> HistoryLookup:
    def lookup(names: list[str], runs: int, promoted_only: bool) -> dict[str, list[float]]:
        try:
            return signal_history(open_store(url, rootdir), names, runs, promoted_only)
        except (HistoryError, ConfigError) as exc:
            raise MonitoringError(f"earlier runs of {', '.join(names)} could not be read: {exc}") from None

    return lookup
