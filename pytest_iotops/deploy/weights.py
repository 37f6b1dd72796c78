"""Traffic weights as every target and the embedded router take them: checked once, the same way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..errors import DeployError

__all__ = ["check_weights"]


def check_weights(weights: Mapping[str, int], known: Sequence[str]) -> dict[str, int]:
    """Whole percentages >= 0 that add up to 100, for versions that are running; the zero weights dropped."""
    if any(not isinstance(w, int) or isinstance(w, bool) or w < 0 for w in weights.values()):
        raise DeployError(f"weights must be whole percentages >= 0, got {dict(weights)}")
    if sum(weights.values()) != 100:
        raise DeployError(f"weights must add up to 100, got {dict(weights)} = {sum(weights.values())}")
    unknown = sorted(v for v, w in weights.items() if w and v not in known)
    if unknown:
        raise DeployError(f"unknown version(s) {unknown}, or not running; running: {sorted(known)}")
    return {v: w for v, w in weights.items() if w}
