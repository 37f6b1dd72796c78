"""Names the plugin's modules share."""

from __future__ import annotations

from typing import Any

__all__ = ["BLOCKED_FILE", "DEFAULT_MARKERS", "PLUGIN_NAME", "worker_of"]

PLUGIN_NAME = "iotops-session"
#: the failed phases, written by the xdist controller between phases for the workers
BLOCKED_FILE = "failed-phases.json"
DEFAULT_MARKERS = ("unit", "integration", "e2e")


def worker_of(report: Any) -> str:
    """xdist puts the worker's node on reports it relays to the controller."""
    gateway = getattr(getattr(report, "node", None), "gateway", None)
    return str(getattr(gateway, "id", "") or "")
