"""A small sensor telemetry service: parse readings, aggregate per sensor, serve them over HTTP."""

from .aggregate import SensorStats, Store
from .readings import Reading, ReadingError, parse_line

__all__ = ["Reading", "ReadingError", "SensorStats", "Store", "parse_line"]
