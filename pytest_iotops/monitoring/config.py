"""``[tool.iotops.deploy.monitoring]``: the signals judged in each step, where they come from, and whether the
router's own measurements are judged too. Every key checked before anything starts, named on error."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from .. import validate as v
from ..deploy.judge import MetricSpec
from ..errors import ConfigError
from ..evidence.config import check_table
from .argo import argo_metrics
from .monitor import Monitor
from .promql import PLACEHOLDERS, MonitoringError, placeholders
from .providers import MetricProvider
from .registry import provider_class
from .signals import KINDS, SignalMetric, parse_condition

__all__ = ["MonitoringSettings", "parse_monitoring"]


@dataclass(frozen=True)
class MonitoringSettings:
    metrics: tuple[SignalMetric, ...] = ()
    builtin: bool = True
    #: per provider, its options table
    providers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: Prometheus rule files (relative to the rootdir): an alert firing for the canary fails its step
    alert_rules: tuple[str, ...] = ()

    def monitor(self, pm: pluggy.PluginManager | None = None, root: Path | None = None) -> Monitor:
        makers: dict[str, Callable[[], MetricProvider]] = {}
        for name in {m.provider for m in self.metrics} | ({"prometheus"} if self.alert_rules else set()):
            cls, options = provider_class(name, pm), dict(self.providers.get(name, {}))
            makers[name] = lambda cls=cls, options=options: cls(options)  # type: ignore[misc]
        rules = [(root or Path.cwd()) / p for p in self.alert_rules]
        return Monitor(self.metrics, makers, self.builtin, alert_rules=rules)


def _fraction(value: Any) -> float:
    x = v.non_negative(value)
    if x > 1:
        raise v.Invalid("expected a fraction from 0 to 1")
    return x


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise v.Invalid("expected a number")
    return float(value)


def _condition(value: Any) -> str:
    text = v.text(value)
    try:
        parse_condition(text)
    except ValueError as exc:
        raise v.Invalid(str(exc)) from None
    return text


_METRIC: dict[str, v.Validator] = {
    "name": v.slug,
    "type": v.choice(KINDS),
    "provider": v.text,
    "query": v.text,
    "events": v.text,
    "total": v.text,
    "buckets": v.text,
    "quantile": _fraction,
    "unit_ms": v.positive,
    "max_value": _number,
    "min_value": _number,
    "max_increase": _number,
    "alpha": _fraction,
    "min_samples": v.count,
    "no_data": v.choice(("pass", "fail", "inconclusive")),
    "effect": _fraction,
    "dry_run": v.boolean,
    "success_condition": _condition,
    "failure_condition": _condition,
}
#: the keys that are the signal's limits (a MetricSpec, as for the router's metrics)
_LIMITS = ("max_value", "min_value", "max_increase", "alpha", "min_samples", "no_data", "effect")
#: the queries each type needs
_NEEDS = {"ratio": ("events", "total"), "histogram": ("buckets",), "value": ("query",)}


def _metric(entry: Any, at: str) -> SignalMetric:
    if not isinstance(entry, dict):
        raise ConfigError(f"{at}: expected a table")
    values = check_table(entry, _METRIC, at)
    for key in ("name", "type"):
        if key not in values:
            raise ConfigError(f"{at}: '{key}' is required")
    kind = values.pop("type")
    at = f"{at} ({values['name']})"
    for key in _NEEDS[kind]:
        if not values.get(key):
            raise ConfigError(f"{at}: a {kind} signal needs '{key}' (its query)")
    for key in ("query", "events", "total", "buckets"):
        if key in values and key not in _NEEDS[kind]:
            raise ConfigError(f"{at}: '{key}' is not used by a {kind} signal (it reads {', '.join(_NEEDS[kind])})")
        unknown = sorted(set(placeholders(values.get(key, ""))) - set(PLACEHOLDERS))
        if unknown:
            raise ConfigError(f"{at}: {key} uses unknown placeholder(s) {unknown}; known: {', '.join(PLACEHOLDERS)}")
    if kind != "value" and "{{" not in "".join(values.get(k, "") for k in _NEEDS[kind]):
        raise ConfigError(f"{at}: the queries never name {{{{ version }}}}: canary and stable would read the same")
    conditions = {"success": values.pop("success_condition", ""), "failure": values.pop("failure_condition", "")}
    if any(conditions.values()) and kind != "value":
        raise ConfigError(f"{at}: success_condition and failure_condition apply to a value signal only")
    if not any(k in values for k in ("max_value", "min_value", "max_increase")) and not any(conditions.values()):
        raise ConfigError(f"{at}: no limit (max_value, min_value, max_increase or a condition): it could never fail")
    limits = {k: values.pop(k) for k in _LIMITS if k in values}
    return SignalMetric(kind=kind, limits=MetricSpec("error_rate", **limits), **conditions, **values)


def _provider_options(name: str, options: Any, where: str, pm: pluggy.PluginManager | None) -> dict[str, Any]:
    """A provider's options table: a provider that exists, keys it knows, values it accepts when made."""
    try:
        cls = provider_class(name, pm)
    except ConfigError as exc:
        raise ConfigError(f"{where}: deploy.monitoring: {exc}") from None
    if not isinstance(options, dict):
        raise ConfigError(f"{where}: deploy.monitoring.{name} must be a table")
    unknown = sorted(set(options) - set(cls.keys))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {unknown} in deploy.monitoring.{name}; known: {', '.join(cls.keys)}"
        )
    try:
        cls(options)  # a provider checks its own values when made (nothing starts here)
    except (MonitoringError, ValueError, TypeError) as exc:
        raise ConfigError(f"{where}: deploy.monitoring.{name}: {exc}") from None
    return dict(options)


def _rules(value: Any, where: str) -> tuple[str, ...]:
    try:
        return v.str_list(value)
    except v.Invalid as exc:
        raise ConfigError(f"{where}: deploy.monitoring.alert_rules: {exc}") from None


def _imported(raw: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """The metrics of an Argo AnalysisTemplate (``argo_template``, relative to the pyproject.toml), as tables."""
    template = raw.pop("argo_template", None)
    template_args = raw.pop("argo_args", {})
    if template is None:
        if template_args:
            raise ConfigError(f"{where}: deploy.monitoring.argo_args without argo_template")
        return []
    if not isinstance(template, str) or not isinstance(template_args, dict):
        raise ConfigError(f"{where}: deploy.monitoring.argo_template must be a path, argo_args a table")
    base = Path(where).parent if Path(where).is_file() else Path.cwd()
    return argo_metrics(base / template, {str(k): str(x) for k, x in template_args.items()})


def parse_monitoring(raw: Any, where: str, pm: pluggy.PluginManager | None = None) -> MonitoringSettings:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: deploy.monitoring must be a table")
    raw = dict(raw)
    metrics_raw = raw.pop("metrics", [])
    builtin = raw.pop("builtin", True)
    if not isinstance(builtin, bool):
        raise ConfigError(f"{where}: deploy.monitoring.builtin = {builtin!r}: expected true or false")
    rules = _rules(raw.pop("alert_rules", []), where)
    metrics_raw = [*(metrics_raw if isinstance(metrics_raw, list) else [metrics_raw]), *_imported(raw, where)]
    if not isinstance(metrics_raw, list) or not (metrics_raw or rules):
        raise ConfigError(
            f"{where}: deploy.monitoring needs [[tool.iotops.deploy.monitoring.metrics]] tables or alert_rules"
        )
    metrics = tuple(
        _metric(entry, f"{where}: [[tool.iotops.deploy.monitoring.metrics]] #{i + 1}")
        for i, entry in enumerate(metrics_raw)
    )
    names = [m.name for m in metrics]
    if len(set(names)) != len(names):
        raise ConfigError(f"{where}: deploy.monitoring.metrics: a name used twice in {names}")
    providers = {
        name: _provider_options(name, raw.get(name, {}), where, pm)
        for name in sorted({m.provider for m in metrics} | set(raw))
    }
    for m in metrics:
        kinds = provider_class(m.provider, pm).kinds
        if m.kind not in kinds:
            raise ConfigError(f"{where}: signal {m.name!r}: the {m.provider} provider cannot measure a {m.kind}")
    if rules and "prometheus" not in providers:
        providers["prometheus"] = {}
    return MonitoringSettings(metrics, builtin, providers, rules)
