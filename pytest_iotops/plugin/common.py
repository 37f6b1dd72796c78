"""Names the plugin's modules share."""

from __future__ import annotations

__all__ = ["BLOCKED_FILE", "DEFAULT_MARKERS", "PLUGIN_NAME"]

PLUGIN_NAME = "iotops-session"
#: the failed phases, written by the xdist controller between phases for the workers
BLOCKED_FILE = "failed-phases.json"
DEFAULT_MARKERS = ("unit", "integration", "e2e")
