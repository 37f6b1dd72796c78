"""Names the plugin's modules share."""

from __future__ import annotations

import pytest

__all__ = ["BLOCKED_FILE", "DEFAULT_MARKERS", "PHASE", "PLUGIN_NAME"]

PLUGIN_NAME = "iotops-session"
#: the failed phases, written by the xdist controller between phases for the workers
BLOCKED_FILE = "failed-phases.json"
DEFAULT_MARKERS = ("unit", "integration", "e2e")
#: each collected item's phase
PHASE = pytest.StashKey[str]()
