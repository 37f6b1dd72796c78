"""What a version of the service does: healthy, or one of the faults a deployment must catch.

Pure decisions, seeded, so a fault shows the same way in every run with the same seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["Behaviour", "reading"]


@dataclass
class Behaviour:
    version: str = "v1"
    #: share of API requests answered 500
    error_rate: float = 0.0
    #: added to every API request, in milliseconds
    extra_ms: float = 0.0
    #: every Nth health check fails (0: never) — a health endpoint that flaps
    flap_every: int = 0
    seed: int = 1
    _rng: random.Random = field(init=False, repr=False)
    _health_checks: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError(f"error rate must be within 0..1, got {self.error_rate}")
        if self.extra_ms < 0 or self.flap_every < 0:
            raise ValueError("extra_ms and flap_every must not be negative")
        self._rng = random.Random(self.seed)  # noqa: S311 - a reproducible fault, not cryptography

    def api_status(self) -> int:
        return 500 if self._rng.random() < self.error_rate else 200

    def health_status(self) -> int:
        """The first check passes (so the version starts), then every ``flap_every``-th fails."""
        self._health_checks += 1
        if self.flap_every and self._health_checks > 1 and self._health_checks % self.flap_every == 0:
            return 503
        return 200


def reading(sensor: str, version: str) -> dict[str, object]:
    """The API's answer: a deterministic reading per sensor, tagged with the version that served it."""
    value = sum(sensor.encode()) % 400 / 10
    return {"sensor": sensor, "celsius": value, "version": version}
