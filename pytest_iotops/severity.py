"""The severity scale every finding is put on, most severe first: one definition for parsers, gates, renderers."""

from __future__ import annotations

__all__ = ["SEVERITIES", "severity_at_least"]

SEVERITIES = ("critical", "high", "medium", "low", "info")


def severity_at_least(severity: str, floor: str) -> bool:
    """``severity`` is ``floor`` or more severe."""
    return SEVERITIES.index(severity) <= SEVERITIES.index(floor)
