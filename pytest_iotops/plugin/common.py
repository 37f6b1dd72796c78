"""Names the plugin's modules share."""

from __future__ import annotations

from typing import Any

__all__ = ["BLOCKED_FILE", "DEFAULT_MARKERS", "HEADLINES", "PLUGIN_NAME", "WORKER_REPORTS", "worker_of"]

PLUGIN_NAME = "iotops-session"
#: an xdist worker's plugin that puts deployments and blocking on its reports, once a test needs it
WORKER_REPORTS = "iotops-worker-reports"
#: the key of an xdist worker's output (``config.workeroutput``) listing its failures' [node id, stage, headline]
HEADLINES = "iotops_headlines"
#: the failed phases, written by the xdist controller between phases for the workers
BLOCKED_FILE = "failed-phases.json"
DEFAULT_MARKERS = ("unit", "integration", "e2e")


def worker_of(report: Any) -> str:
    """xdist puts the worker's node on reports it relays to the controller."""
    gateway = getattr(getattr(report, "node", None), "gateway", None)
    return str(getattr(gateway, "id", "") or "")
