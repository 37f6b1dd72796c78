"""``[tool.iotops.deploy.monitoring]``: the signals judged in each step, where they come from, and whether the
router's own measurements are judged too. Every key checked before anything starts, named on error."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import field
from pathlib import Path
from typing import Any

import pluggy

from .. import validate as v
from ..deploy.judge import MetricSpec
from ..errors import ConfigError
from ..evidence.config import check_table
from ..values import FrozenValue, record
from .analysis import parse_criterion
from .imports import run_import
from .monitor import HistoryLookup, Monitor
from .promql import PLACEHOLDERS, MonitoringError, placeholders
from .providers import MetricProvider
from .registry import provider_class
from .scoring import MODES, Scoring
from .signals import KINDS, SignalMetric, parse_condition

__all__ = ["MonitoringSettings", "parse_monitoring"]


@record(frozen=True)
class MonitoringSettings(FrozenValue):
    metrics: tuple[SignalMetric, ...] = ()
    builtin: bool = True
    #: per provider, its options table
    providers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: Prometheus rule files (relative to the rootdir): an alert firing for the canary fails its step
    alert_rules: tuple[str, ...] = ()
    #: how the step's metrics make one verdict (gate, or Kayenta/Keptn-style weighted scoring)
    scoring: Scoring = field(default_factory=Scoring)

    def monitor(
        self, pm: pluggy.PluginManager | None = None, root: Path | None = None, history: HistoryLookup | None = None
    ) -> Monitor:
        makers: dict[str, Callable[[], MetricProvider]] = {}
        for name in {m.provider for m in self.metrics} | ({"prometheus"} if self.alert_rules else set()):
            cls, options = provider_class(name, pm), dict(self.providers.get(name, {}))
            makers[name] = lambda cls=cls, options=options: cls(options)  # type: ignore[misc]
        rules = [(root or Path.cwd()) / p for p in self.alert_rules]
        return Monitor(self.metrics, makers, self.builtin, alert_rules=rules, scoring=self.scoring, history=history)


def _fraction(value: Any) -> float:
    x = v.non_negative(value)
    if x > 1:
        raise v.Invalid("expected a fraction from 0 to 1")
    return x


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise v.Invalid("expected a number")
    return float(value)


def _criteria(value: Any) -> tuple[tuple[str, ...], ...]:
    """Keptn's criteria: a list of lists (or one list) of criteria such as ``<600`` or ``<=+10%``."""
    if not isinstance(value, list) or not value:
        raise v.Invalid('expected a non-empty list of criteria lists, e.g. [["<600", "<=+10%"]]')
    blocks = [block if isinstance(block, list) else [block] for block in value]
    if all(isinstance(b, str) for b in value):
        blocks = [list(value)]
    for block in blocks:
        for text in block:
            if not isinstance(text, str):
                raise v.Invalid(f"a criterion must be a string, got {text!r}")
            try:
                parse_criterion(text)
            except ValueError as exc:
                raise v.Invalid(str(exc)) from None
    return tuple(tuple(b) for b in blocks)


def _runs(value: Any) -> int:
    n = v.count(value)
    if n < 1:
        raise v.Invalid("expected at least 1")
    return n


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
    "group": v.text,
    "critical": v.boolean,
    "direction": v.choice(("increase", "decrease", "either")),
    "nan": v.choice(("remove", "replace")),
    "allowed_increase": v.positive,
    "allowed_decrease": v.positive,
    "pass_criteria": _criteria,
    "warning_criteria": _criteria,
    "failure_limit": v.count,
    "inconclusive_limit": v.count,
    "compare_with": v.choice(("stable", "history")),
    "history_runs": _runs,
    "history_include": v.choice(("pass", "all")),
}
#: a series signal's default minimum of samples of each version (Mann-Whitney's exact p of 8 against 8 reaches
#: 0.0002, well under the default significance)
SERIES_MIN_SAMPLES = 8
#: the keys that are the signal's limits (a MetricSpec, as for the router's metrics)
_LIMITS = ("max_value", "min_value", "max_increase", "alpha", "min_samples", "no_data", "effect")
#: the queries each type needs
_NEEDS = {"ratio": ("events", "total"), "histogram": ("buckets",), "value": ("query",), "series": ("query",)}


def _metric(entry: Any, at: str) -> SignalMetric:
    if not isinstance(entry, dict):
        raise ConfigError(f"{at}: expected a table")
    values = check_table(entry, _METRIC, at)
    for key in ("name", "type"):
        if key not in values:
            raise ConfigError(f"{at}: '{key}' is required")
    kind = values.pop("type")
    at = f"{at} ({values['name']})"
    _check_queries(values, kind, at)
    conditions = {"success": values.pop("success_condition", ""), "failure": values.pop("failure_condition", "")}
    _check_rules(values, conditions, kind, at)
    limits = {k: values.pop(k) for k in _LIMITS if k in values}
    if kind == "series":  # samples one scrape apart, not requests: a handful of each tells a real shift
        limits.setdefault("min_samples", SERIES_MIN_SAMPLES)
    return SignalMetric(kind=kind, limits=MetricSpec("error_rate", **limits), **conditions, **values)


def _check_queries(values: dict[str, Any], kind: str, at: str) -> None:
    """The queries its type reads, and only those, with known placeholders; a counter or series names the
    version."""
    for key in _NEEDS[kind]:
        if not values.get(key):
            raise ConfigError(f"{at}: a {kind} signal needs '{key}' (its query)")
    for key in ("query", "events", "total", "buckets"):
        if key in values and key not in _NEEDS[kind]:
            raise ConfigError(f"{at}: '{key}' is not used by a {kind} signal (it reads {', '.join(_NEEDS[kind])})")
        unknown = sorted(set(placeholders(values.get(key, ""))) - set(PLACEHOLDERS))
        if unknown:
            raise ConfigError(f"{at}: {key} uses unknown placeholder(s) {unknown}; known: {', '.join(PLACEHOLDERS)}")
    if kind in ("ratio", "histogram", "series") and "{{" not in "".join(values.get(k, "") for k in _NEEDS[kind]):
        raise ConfigError(f"{at}: the queries never name {{{{ version }}}}: canary and stable would read the same")


def _check_rules(values: dict[str, Any], conditions: dict[str, str], kind: str, at: str) -> None:
    """Conditions and criteria where they apply, and at least one way to fail (a dry run and a series, which
    fails on a significant shift, need none)."""
    if any(conditions.values()) and kind != "value":
        raise ConfigError(f"{at}: success_condition and failure_condition apply to a value signal only")
    criteria, warning = values.get("pass_criteria"), values.get("warning_criteria")
    if (criteria and kind != "value") or (warning and not criteria):
        raise ConfigError(f"{at}: pass_criteria apply to a value signal, warning_criteria only beside them")
    limited = any(k in values for k in ("max_value", "min_value", "max_increase", "pass_criteria"))
    if not (limited or any(conditions.values()) or kind == "series" or values.get("dry_run")):
        raise ConfigError(
            f"{at}: no limit (max_value, min_value, max_increase, pass_criteria or a condition): it could never fail"
        )


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


def _imported(raw: dict[str, Any], where: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The signal tables and scoring keys of every ``imports`` entry (``argo_template`` and ``argo_args``: the
    older spelling of one Argo import), files relative to the pyproject.toml."""
    entries = raw.pop("imports", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{where}: deploy.monitoring.imports must be an array of tables")
    template, template_args = raw.pop("argo_template", None), raw.pop("argo_args", None)
    if template is not None or template_args is not None:
        if template is None:
            raise ConfigError(f"{where}: deploy.monitoring.argo_args without argo_template")
        entries = [*entries, {"format": "argo", "path": template, "args": template_args or {}}]
    base = Path(where).parent if Path(where).is_file() else Path.cwd()
    tables: list[dict[str, Any]] = []
    settings: dict[str, Any] = {}
    for i, entry in enumerate(entries):
        done = run_import(entry, f"{where}: [[tool.iotops.deploy.monitoring.imports]] #{i + 1}", base)
        tables += done.metrics
        groups = {**settings.get("groups", {}), **done.settings.get("groups", {})}
        settings.update(done.settings)
        if groups:
            settings["groups"] = groups
    return tables, settings


def _table(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise v.Invalid("expected a table of group = weight")
    return value


def _score(value: Any) -> float:
    x = _number(value)
    if not 0 <= x <= 100:
        raise v.Invalid("expected a score from 0 to 100")
    return x


def _scoring(
    raw: dict[str, Any], imported: Mapping[str, Any], metrics: tuple[SignalMetric, ...], where: str
) -> Scoring:
    """Scoring keys as written, over what an import asked for."""
    keys = {"scoring": v.choice(MODES), "pass_score": _score, "marginal_score": _score, "groups": _table}
    given = check_table({k: raw.pop(k) for k in list(keys) if k in raw}, keys, where, "deploy.monitoring.")
    imported = check_table(imported, keys, f"{where} (an import asked for it)", "deploy.monitoring.")
    values = {**imported, **given}
    weights: dict[str, float] = {}
    for group, weight in (values.get("groups") or {}).items():
        try:
            weights[str(group)] = v.non_negative(weight)
        except v.Invalid as exc:
            raise ConfigError(f"{where}: deploy.monitoring.groups.{group}: {exc}") from None
    unknown = sorted(set(weights) - {m.scored_in for m in metrics})
    if unknown:
        raise ConfigError(f"{where}: deploy.monitoring.groups {unknown}: no signal scores in them")
    scoring = Scoring(
        values.get("scoring", "gate"),
        float(values.get("pass_score", 95.0)),
        float(values.get("marginal_score", 75.0)),
        weights,
    )
    if scoring.marginal_score > scoring.pass_score:
        raise ConfigError(f"{where}: deploy.monitoring.marginal_score is above pass_score")
    return scoring


def parse_monitoring(raw: Any, where: str, pm: pluggy.PluginManager | None = None) -> MonitoringSettings:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: deploy.monitoring must be a table")
    raw = dict(raw)
    metrics_raw = raw.pop("metrics", [])
    builtin = raw.pop("builtin", True)
    if not isinstance(builtin, bool):
        raise ConfigError(f"{where}: deploy.monitoring.builtin = {builtin!r}: expected true or false")
    rules = _rules(raw.pop("alert_rules", []), where)
    imported, imported_settings = _imported(raw, where)
    metrics_raw = [*(metrics_raw if isinstance(metrics_raw, list) else [metrics_raw]), *imported]
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
    scoring = _scoring(raw, imported_settings, metrics, where)
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
    return MonitoringSettings(metrics, builtin, providers, rules, scoring)
