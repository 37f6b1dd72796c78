"""Per-sensor statistics with an overheating alert."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from .readings import Reading

ALERT_TEMPERATURE = 70.0


@dataclass
class SensorStats:
    count: int = 0
    min_temperature: float = float("inf")
    max_temperature: float = float("-inf")
    total_temperature: float = 0.0
    last_timestamp: int = -1

    @property
    def mean_temperature(self) -> float | None:
        return self.total_temperature / self.count if self.count else None

    @property
    def alert(self) -> bool:
        return self.max_temperature >= ALERT_TEMPERATURE

    def as_dict(self) -> dict[str, object]:
        return {
            "count": self.count,
            "min": self.min_temperature if self.count else None,
            "max": self.max_temperature if self.count else None,
            "mean": self.mean_temperature,
            "alert": self.alert,
        }


@dataclass
class Store:
    sensors: dict[str, SensorStats] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, reading: Reading) -> bool:
        """Record a reading; an out-of-order one (older than the last) is ignored and False is returned."""
        with self._lock:
            stats = self.sensors.setdefault(reading.sensor, SensorStats())
            if reading.timestamp < stats.last_timestamp:
                return False
            stats.count += 1
            stats.min_temperature = min(stats.min_temperature, reading.temperature)
            stats.max_temperature = max(stats.max_temperature, reading.temperature)
            stats.total_temperature += reading.temperature
            stats.last_timestamp = reading.timestamp
            return True

    def stats(self, sensor: str) -> SensorStats | None:
        with self._lock:
            return self.sensors.get(sensor)
