"""``[tool.iotops.deploy]``: the versions of the service under test, how to judge them, and the load."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping
from dataclasses import field
from typing import TYPE_CHECKING, Any

from .. import validate as v
from ..errors import ConfigError
from ..evidence.config import check_table
from ..values import FrozenValue, record
from .metrics import MetricSpec

if TYPE_CHECKING:
    from ..monitoring.config import MonitoringSettings
    from .checks import ResponseCheck

__all__ = ["DeploySettings", "override", "parse_deploy"]


@record(frozen=True)
class DeploySettings(FrozenValue):
    """``[tool.iotops.deploy]``: the versions, the target, the steps, the load and the analysis of deployments."""

    versions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    stable: str | None = None
    target: str = "local"
    target_options: Mapping[str, Any] = field(default_factory=dict)
    #: extra environment variables for the versions (over the test run's own)
    env: Mapping[str, str] = field(default_factory=dict)
    health_path: str = "/health"
    start_timeout: float = 30.0
    steps: tuple[int, ...] = (10, 25, 50, 75, 100)
    #: the shortest bake per step; it goes on until both versions served min_samples requests, up to bake_max
    bake: float = 1.0
    bake_max: float = 30.0
    #: a request without an answer after this long is an error of its version, on every target
    request_timeout: float = 5.0
    keep_old_for: float = 0.5
    load_rate: float = 50.0
    load_concurrency: int = 8
    load_paths: tuple[str, ...] = ("/",)
    load_headers: Mapping[str, str] = field(default_factory=dict)
    failure_limit: int = 0
    inconclusive_limit: int = 1
    consecutive_error_limit: int = 4
    health_failures: int = 0
    health_interval: float = 0.1
    #: blue-green: seconds of pre-promotion analysis of the new version under its own load (0 = none)
    pre_promotion: float = 0.0
    metrics: tuple[MetricSpec, ...] = (
        MetricSpec("error_rate", max_value=0.01, max_increase=0.005),
        MetricSpec("latency_p99", max_increase=50.0),
        MetricSpec("availability", min_value=0.99),
    )
    #: what a version must answer ([[tool.iotops.deploy.checks]])
    checks: tuple[ResponseCheck, ...] = ()
    #: monitoring signals judged in each canary step ([tool.iotops.deploy.monitoring])
    monitoring: MonitoringSettings | None = None
    #: the table as written, so a test can override some keys and have the whole validated again
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


def _steps(value: Any) -> tuple[int, ...]:
    steps = v.int_list(value)
    rising = all(a < b for a, b in itertools.pairwise(steps))
    if not steps or steps[-1] != 100 or not rising or any(not 0 < s <= 100 for s in steps):
        raise v.Invalid("expected increasing weights from 1 to 100, ending at 100")
    return steps


def _table(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    raise v.Invalid("expected a table")


_KEYS: dict[str, v.Validator] = {
    "versions": v.map_of(v.str_list, "version = [command with {port}]"),
    "stable": v.text,
    "target": v.text,
    "target_options": _table,
    "health_path": v.text,
    "env": v.map_of(v.text, "NAME = value"),
    "start_timeout": v.positive,
    "steps": _steps,
    "bake": v.positive,
    "bake_max": v.positive,
    "request_timeout": v.positive,
    "keep_old_for": v.positive,
    "pre_promotion": v.non_negative,
    "load": _table,
    "analysis": _table,
    "checks": lambda value: value,  # validated by parse_checks, which names each table's keys
    "monitoring": _table,
}
_LOAD: dict[str, v.Validator] = {
    "rate": v.positive,
    "concurrency": v.count,
    "paths": v.str_list,
    "headers": v.map_of(v.text, "header = value"),
}
_ANALYSIS: dict[str, v.Validator] = {
    "error_rate_max": v.percent,
    "error_rate_max_increase": v.percent,
    "error_rate_effect": v.percent,
    "latency_p99_max_ms": v.positive,
    "latency_p99_max_increase_ms": v.positive,
    "latency_p50_max_ms": v.positive,
    "availability_min": v.percent,
    "min_samples": v.count,
    "failure_limit": v.count,
    "inconclusive_limit": v.count,
    "consecutive_error_limit": v.count,
    "health_failures": v.count,
    "health_interval": v.positive,
}
_LIMITS = ("failure_limit", "inconclusive_limit", "consecutive_error_limit", "health_failures", "health_interval")


def parse_deploy(raw: Any, where: str) -> DeploySettings:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: [tool.iotops.deploy] must be a table")
    values = check_table(raw, _KEYS, where, "deploy.")
    load = check_table(values.pop("load", {}) or {}, _LOAD, where, "deploy.load.")
    analysis = check_table(values.pop("analysis", {}) or {}, _ANALYSIS, where, "deploy.analysis.")
    if "checks" in values:
        from .checks import parse_checks

        values["checks"] = parse_checks(values["checks"], where)
    if "monitoring" in values:
        from ..monitoring.config import parse_monitoring  # heavy, and only for projects that monitor

        values["monitoring"] = parse_monitoring(values["monitoring"], where)
    for version, command in values.get("versions", {}).items():
        if not any("{port}" in part for part in command):
            raise ConfigError(f"{where}: deploy.versions.{version}: the command needs a {{port}} placeholder")
    if "stable" in values and values["stable"] not in values.get("versions", {}):
        raise ConfigError(f"{where}: deploy.stable = {values['stable']!r} is not in deploy.versions")
    extra: dict[str, Any] = {f"load_{k}": tuple(x) if isinstance(x, tuple) else x for k, x in load.items()}
    for key in _LIMITS:
        if key in analysis:
            extra[key] = analysis.pop(key)
    if analysis:
        minimum = int(analysis.get("min_samples", 50))
        metrics = [
            MetricSpec(
                "error_rate",
                max_value=analysis.get("error_rate_max", 1.0) / 100,
                max_increase=analysis.get("error_rate_max_increase", 0.5) / 100,
                min_samples=minimum,
                effect=analysis["error_rate_effect"] / 100 if "error_rate_effect" in analysis else None,
            ),
            MetricSpec(
                "latency_p99",
                max_value=analysis.get("latency_p99_max_ms"),
                max_increase=analysis.get("latency_p99_max_increase_ms", 50.0),
                min_samples=minimum,
            ),
        ]
        if "latency_p50_max_ms" in analysis:
            metrics.append(MetricSpec("latency_p50", max_value=analysis["latency_p50_max_ms"], min_samples=minimum))
        metrics.append(
            MetricSpec("availability", min_value=analysis.get("availability_min", 99.0) / 100, min_samples=minimum)
        )
        extra["metrics"] = tuple(metrics)
    if "bake" in values and "bake_max" not in values:  # a long bake given alone is not an error
        values["bake_max"] = max(DeploySettings.bake_max, values["bake"])
    settings = DeploySettings(**values, **extra, raw=copy.deepcopy(raw))
    _check_reachable(settings, where)
    return settings


def _check_reachable(d: DeploySettings, where: str) -> None:
    """Every step below 100 % must be able to gather min_samples requests of each version within bake_max,
    or no canary could ever be promoted: a configuration error, with the numbers."""
    need = max((m.min_samples for m in d.metrics), default=0)
    if d.bake_max < d.bake:
        raise ConfigError(f"{where}: deploy.bake_max = {d.bake_max:g} is shorter than deploy.bake = {d.bake:g}")
    for weight in d.steps:
        if weight == 100:
            continue
        share = min(weight, 100 - weight) / 100
        reachable = d.load_rate * d.bake_max * share
        if reachable < need:
            raise ConfigError(
                f"{where}: the {weight} % step cannot reach min_samples = {need}: load rate {d.load_rate:g}/s x "
                f"bake_max {d.bake_max:g} s x {share:.0%} of the traffic = {reachable:.0f} requests for the "
                f"{'canary' if weight <= 50 else 'stable version'}; raise deploy.load.rate or deploy.bake_max, "
                "or lower deploy.analysis.min_samples"
            )


def override(settings: DeploySettings, changes: Mapping[str, Any], where: str) -> DeploySettings:
    """``changes`` use the keys of ``[tool.iotops.deploy]``; tables (load, analysis, versions, env,
    target_options) are merged key by key into the configured ones, then everything is validated again."""
    merged = copy.deepcopy(dict(settings.raw))
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return parse_deploy(merged, where)
