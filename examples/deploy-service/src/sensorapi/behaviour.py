"""What a version of the service does: healthy, or one of the faults a deployment must catch.

Pure decisions, seeded, so a fault shows the same way in every run with the same seed.
"""

from __future__ import annotations

import random
import time
from collections import deque
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
    #: share of API requests never answered (a deadlock, a lost upstream call)
    hang_rate: float = 0.0
    #: share of API requests slowed by ``tail_ms`` (a slow tail: cache misses, GC pauses, a cold shard)
    tail_rate: float = 0.0
    tail_ms: float = 0.0
    #: ``extra_ms`` only while serving more than this many requests per second (slow only under full traffic)
    busy_rps: float = 0.0
    #: after this many seconds up, ``error_rate`` becomes ``degraded_error_rate`` (a version that degrades)
    degrade_after: float = 0.0
    degraded_error_rate: float = 0.0
    #: share of API requests answered 200 with a body cut short (a serializer bug, a truncated cache entry)
    corrupt_rate: float = 0.0
    _rng: random.Random = field(init=False, repr=False)
    _health_checks: int = field(default=0, init=False, repr=False)
    _started: float = field(default_factory=time.monotonic, init=False, repr=False)
    _recent: deque[float] = field(default_factory=deque, init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError(f"error rate must be within 0..1, got {self.error_rate}")
        if self.extra_ms < 0 or self.flap_every < 0:
            raise ValueError("extra_ms and flap_every must not be negative")
        for name in ("hang_rate", "tail_rate", "degraded_error_rate", "corrupt_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be within 0..1")
        self._rng = random.Random(self.seed)  # noqa: S311 - a reproducible fault, not cryptography

    def api_status(self) -> int:
        degraded = self.degrade_after and time.monotonic() - self._started > self.degrade_after
        rate = self.degraded_error_rate if degraded else self.error_rate
        return 500 if self._rng.random() < rate else 200

    def corrupt(self) -> bool:
        """Whether this answer's body is cut short (its status stays 200)."""
        return bool(self.corrupt_rate) and self._rng.random() < self.corrupt_rate

    def api_delay_ms(self) -> float | None:
        """How long to stall this request before answering; None: never answer it."""
        now = time.monotonic()
        self._recent.append(now)
        while self._recent and self._recent[0] < now - 1.0:
            self._recent.popleft()
        roll = self._rng.random()
        if roll < self.hang_rate:
            return None
        delay = self.extra_ms if not self.busy_rps or len(self._recent) > self.busy_rps else 0.0
        if roll < self.hang_rate + self.tail_rate:
            delay += self.tail_ms
        return delay

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
