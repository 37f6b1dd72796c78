"""Evidence from other tools: sources are declared in ``[[tool.iotops.evidence]]``, read by one parser per format."""

from __future__ import annotations

__all__: list[str] = []
