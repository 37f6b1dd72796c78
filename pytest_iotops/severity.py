"""The severity scale every finding is put on, most severe first: one definition for parsers, gates, renderers."""

from __future__ import annotations

__all__ = ["SEVERITIES"]

SEVERITIES = ("critical", "high", "medium", "low", "info")
