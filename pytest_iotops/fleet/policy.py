"""A rollout policy and the ``[tool.iotops.fleet.policy]`` table (the anchors' own files are read by
:mod:`.policy_files`). Every key is checked; an error names the file and the key.

Two ways to release: cumulative ``waves`` (hawkBit groups, Mender phases) or a growing ``rate`` (AWS
``exponentialRate``). On top of the anchors' thresholds, our statistical rule (``max_failure_rate`` at a
``confidence``, per hardware class too) stops as soon as failures are above the limit and lets the next wave
start only once they are below it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import Any

from ..errors import ConfigError
from ..values import FrozenValue, record

__all__ = [
    "FAILURE_TYPES",
    "AbortCriterion",
    "Policy",
    "Rate",
    "policy_from_table",
]

FAILURE_TYPES = ("FAILED", "REJECTED", "TIMED_OUT", "ALL")


@record(frozen=True)
class AbortCriterion(FrozenValue):
    """AWS's ``abortConfig`` criterion: abort when at least ``min_executed`` devices were notified and failures
    of ``failure_type`` reach ``threshold_percentage`` of them."""

    failure_type: str
    min_executed: int
    threshold_percentage: float


@record(frozen=True)
class Rate(FrozenValue):
    """AWS's ``exponentialRate``: notify ``base_per_minute`` devices a minute, multiplied by
    ``increment_factor`` each time ``increase_after`` more devices were notified (or succeeded), at most
    ``maximum_per_minute``."""

    base_per_minute: int
    increment_factor: float
    increase_after: int
    increase_on: str = "notified"  # or "succeeded"
    maximum_per_minute: int = 1000


@record(frozen=True)
class Policy(FrozenValue):
    waves: tuple[float, ...] = (5.0, 25.0, 50.0, 100.0)  # cumulative percentages of the fleet
    rate: Rate | None = None
    max_failure_rate: float = 0.05
    confidence: float = 0.95
    min_executed: int = 10
    by_hardware: bool = True
    class_sample: int = 3  # the first wave holds at least this many devices of every hardware class
    abort: tuple[AbortCriterion, ...] = ()
    in_progress_timeout: float = 3600.0  # seconds of the rollout's clock
    retries: Mapping[str, int] = field(default_factory=dict)  # failure type -> retries
    wave_success_percentage: float | None = None  # hawkBit successCondition: share of a group that must succeed
    wave_error_percentage: float | None = None  # hawkBit errorCondition: share of a group that stops the rollout
    rollback: bool = True
    resolution: float = 10.0  # how often the controller looks, seconds of the rollout's clock
    wave_soak: float = 0.0  # seconds a decided wave runs before the next one starts (Mender-style phases)
    source: str = "defaults"

    def __post_init__(self) -> None:
        where = self.source
        if not self.waves and self.rate is None:
            raise ConfigError(f"{where}: a policy needs waves or a rate")
        if any(not 0 < w <= 100 for w in self.waves) or list(self.waves) != sorted(set(self.waves)):
            raise ConfigError(f"{where}: waves must be increasing percentages in (0, 100], not {list(self.waves)}")
        if self.waves and self.waves[-1] != 100:
            raise ConfigError(f"{where}: the last wave must reach 100 %, not {self.waves[-1]}")
        if not 0.0 <= self.max_failure_rate < 1.0:
            raise ConfigError(f"{where}: max_failure_rate must be in [0, 1), not {self.max_failure_rate}")
        if not 0.5 <= self.confidence < 1.0:
            raise ConfigError(f"{where}: confidence must be in [0.5, 1), not {self.confidence}")
        if self.min_executed < 1 or self.in_progress_timeout <= 0 or self.resolution <= 0:
            raise ConfigError(f"{where}: min_executed, in_progress_timeout and resolution must be positive")
        for kind, count in self.retries.items():
            if kind not in FAILURE_TYPES or not 0 <= count <= 10:
                raise ConfigError(f"{where}: retries: {kind} = {count} (types {', '.join(FAILURE_TYPES)}, 0-10)")


def _expect(doc: Any, kind: type, where: str) -> Any:
    if not isinstance(doc, kind) or (isinstance(doc, bool) and kind is not bool):
        raise ConfigError(f"{where}: expected {kind.__name__}, got {type(doc).__name__}")
    return doc


def _keys(doc: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(doc) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(allowed))})")


def _number(doc: Mapping[str, Any], key: str, where: str, lo: float, hi: float, integer: bool = False) -> float:
    value = doc[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        raise ConfigError(f"{where}.{key}: expected {'an integer' if integer else 'a number'}, got {value!r}")
    if not lo <= value <= hi:
        raise ConfigError(f"{where}.{key}: {value} is outside [{lo}, {hi}]")
    return float(value)


# -- [tool.iotops.fleet.policy] ---------------------------------------------------------------------------------
_TABLE = {
    "waves",
    "max_failure_rate",
    "confidence",
    "min_executed",
    "by_hardware",
    "class_sample",
    "in_progress_timeout",
    "wave_soak",
    "retries",
    "rollback",
    "resolution",
    "abort",
    "rate",
}


def policy_from_table(table: Mapping[str, Any], where: str) -> Policy:
    _expect(table, dict, where)
    _keys(table, _TABLE, where)
    kw: dict[str, Any] = {"source": where}
    if "waves" in table:
        waves = _expect(table["waves"], list, f"{where}.waves")
        kw["waves"] = tuple(_number({"w": w}, "w", f"{where}.waves", 0, 100) for w in waves)
    for key, lo, hi in (
        ("max_failure_rate", 0, 1),
        ("confidence", 0.5, 0.9999),
        ("in_progress_timeout", 1, 1e7),
        ("resolution", 0.001, 1e6),
        ("wave_soak", 0, 1e8),
    ):
        if key in table:
            kw[key] = _number(table, key, where, lo, hi)
    if "min_executed" in table:
        kw["min_executed"] = int(_number(table, "min_executed", where, 1, 1e9, integer=True))
    if "class_sample" in table:
        kw["class_sample"] = int(_number(table, "class_sample", where, 0, 1e6, integer=True))
    for key in ("by_hardware", "rollback"):
        if key in table:
            kw[key] = _expect(table[key], bool, f"{where}.{key}")
    if "retries" in table:
        retries = _expect(table["retries"], dict, f"{where}.retries")
        kw["retries"] = {str(k).upper(): int(_number(retries, k, f"{where}.retries", 0, 10, True)) for k in retries}
    if "abort" in table:
        kw["abort"] = tuple(
            _criterion(c, f"{where}.abort[{i}]", ("failure_type", "min_executed", "threshold_percentage"))
            for i, c in enumerate(_expect(table["abort"], list, f"{where}.abort"))
        )
    if "rate" in table:
        kw["rate"] = _rate_table(_expect(table["rate"], dict, f"{where}.rate"), f"{where}.rate")
        kw.setdefault("waves", ())
    return Policy(**kw)


def _criterion(doc: Any, where: str, names: tuple[str, str, str], action: str = "") -> AbortCriterion:
    kind, minimum, threshold = names
    _expect(doc, dict, where)
    _keys(doc, {kind, minimum, threshold, *([action] if action else [])}, where)
    for key in (kind, minimum, threshold):
        if key not in doc:
            raise ConfigError(f"{where}: missing {key!r}")
    if action and doc.get(action, "CANCEL") != "CANCEL":
        raise ConfigError(f"{where}.{action}: only CANCEL exists, not {doc[action]!r}")
    failure = doc[kind]
    if failure not in FAILURE_TYPES:
        raise ConfigError(f"{where}.{kind}: {failure!r} is not one of {', '.join(FAILURE_TYPES)}")
    return AbortCriterion(
        failure, int(_number(doc, minimum, where, 1, 1e9, integer=True)), _number(doc, threshold, where, 0, 100)
    )


def _rate_table(doc: Mapping[str, Any], where: str) -> Rate:
    _keys(doc, {"base_per_minute", "increment_factor", "increase_after", "increase_on", "maximum_per_minute"}, where)
    on = doc.get("increase_on", "notified")
    if on not in ("notified", "succeeded"):
        raise ConfigError(f"{where}.increase_on: 'notified' or 'succeeded', not {on!r}")
    return Rate(
        int(_number(doc, "base_per_minute", where, 1, 1000, True)),
        _number(doc, "increment_factor", where, 1.1, 5),
        int(_number(doc, "increase_after", where, 1, 1e9, True)),
        on,
        int(_number({"m": doc.get("maximum_per_minute", 1000)}, "m", f"{where}.maximum_per_minute", 1, 1000, True)),
    )
