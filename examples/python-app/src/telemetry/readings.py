"""Readings arrive as text lines: ``sensor_id,temperature_c,humidity_pct,unix_ts``."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SENSOR = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


class ReadingError(ValueError):
    """A line that is not a valid reading; the message says which field and why."""


@dataclass(frozen=True)
class Reading:
    sensor: str
    temperature: float
    humidity: float
    timestamp: int


def parse_line(line: str) -> Reading:
    parts = [p.strip() for p in line.strip().split(",")]
    if len(parts) != 4:
        raise ReadingError(f"expected 4 fields, got {len(parts)}: {line!r}")
    sensor, temp, hum, ts = parts
    if not _SENSOR.match(sensor):
        raise ReadingError(f"bad sensor id {sensor!r}")
    try:
        temperature = float(temp)
        humidity = float(hum)
        timestamp = int(ts)
    except ValueError as exc:
        raise ReadingError(f"not a number in {line!r}: {exc}") from None
    if not -60.0 <= temperature <= 120.0:
        raise ReadingError(f"temperature {temperature} out of range -60..120")
    if not 0.0 <= humidity <= 100.0:
        raise ReadingError(f"humidity {humidity} out of range 0..100")
    if timestamp < 0:
        raise ReadingError("timestamp must not be negative")
    return Reading(sensor, temperature, humidity, timestamp)
