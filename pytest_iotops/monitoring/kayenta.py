"""A Kayenta canary config (JSON) as a deployment's monitoring: each Prometheus metric becomes a ``series``
signal (canary and stable sampled over the step, compared by Mann-Whitney as NetflixACAJudge does), in its
group, with its direction, critical and muted flags, NaN strategy, mustHaveData and effect size; the
classifier's group weights and score thresholds become weighted scoring.

The query is the metric's ``customInlineTemplate`` (after ``PromQL:``) or ``<aggregationOperator>(metricName{
filter})`` — the filter from ``customFilterTemplate`` (named in ``templates``), or ``version="${scope}"``.
``${scope}`` is the version judged; any other ``${name}`` comes from the import's ``args``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .importing import Imported, Importer, load_json, mapping

__all__ = ["IMPORTER", "kayenta_import"]

_PLACEHOLDER = re.compile(r"\$\{\s*([A-Za-z0-9_.-]+)\s*\}")
#: the keys of analysisConfigurations.canary this import honours
_CANARY_KEYS = {"direction", "critical", "muted", "nanStrategy", "mustHaveData", "effectSize", "outliers"}


def _fill(template: str, args: Mapping[str, str], at: str) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "scope":
            return "{{ version }}"
        if name not in args:
            raise ConfigError(f"{at}: ${{{name}}} has no value: give it in the import's args")
        return args[name]

    return _PLACEHOLDER.sub(one, template)


def _query(metric: Mapping[str, Any], templates: Mapping[str, Any], args: Mapping[str, str], at: str) -> str:
    query = metric.get("query")
    if not isinstance(query, dict):
        raise ConfigError(f"{at}.query: expected an object")
    if query.get("type") != "prometheus":
        raise ConfigError(f"{at}.query.type = {query.get('type')!r}: only prometheus metrics can be imported")
    inline = query.get("customInlineTemplate")
    if isinstance(inline, str) and inline.strip():
        return _fill(inline.strip().removeprefix("PromQL:").strip(), args, at)
    name = query.get("metricName")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{at}.query: needs metricName or customInlineTemplate")
    filter_name = query.get("customFilterTemplate")
    if filter_name is not None:
        if not isinstance(filter_name, str) or not isinstance(templates.get(filter_name), str):
            raise ConfigError(f"{at}.query.customFilterTemplate {filter_name!r} is not in templates")
        selector = templates[filter_name]
    else:
        selector = 'version="${scope}"'
    operator = query.get("aggregationOperator") or "sum"
    if not isinstance(operator, str) or not re.fullmatch(r"[a-z_]+", operator):
        raise ConfigError(f"{at}.query.aggregationOperator = {operator!r}: expected a PromQL aggregation")
    return _fill(f"{operator}({name}{{{selector}}})", args, at)


def _analysis(config: Any, at: str) -> dict[str, Any]:
    """analysisConfigurations.canary as signal keys."""
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise ConfigError(f"{at}: expected an object")
    unknown = sorted(set(config) - _CANARY_KEYS)
    if unknown:
        raise ConfigError(f"{at}: {unknown} cannot be imported; known: {', '.join(sorted(_CANARY_KEYS))}")
    table: dict[str, Any] = {"direction": config.get("direction", "either")}
    for key, ours in (("critical", "critical"), ("muted", "dry_run")):
        if key in config:
            table[ours] = config[key]
    if "nanStrategy" in config:
        table["nan"] = config["nanStrategy"]
    if config.get("mustHaveData"):
        table["no_data"] = "fail"
    effect = config.get("effectSize") or {}
    if not isinstance(effect, dict) or set(effect) - {"allowedIncrease", "allowedDecrease"}:
        raise ConfigError(f"{at}.effectSize: only allowedIncrease and allowedDecrease can be imported, got {effect!r}")
    for key, ours in (("allowedIncrease", "allowed_increase"), ("allowedDecrease", "allowed_decrease")):
        if key in effect:
            table[ours] = effect[key]
    outliers = config.get("outliers") or {}
    if outliers and (not isinstance(outliers, dict) or outliers.get("strategy", "keep") != "keep"):
        raise ConfigError(f"{at}.outliers: only strategy keep can be imported, got {outliers!r}")
    return table


def _metric(metric: Any, at: str, templates: Mapping[str, Any], args: Mapping[str, str]) -> dict[str, Any]:
    if not isinstance(metric, dict) or not isinstance(metric.get("name"), str):
        raise ConfigError(f"{at}: a metric needs a name")
    at = f"{at} ({metric['name']})"
    groups = metric.get("groups") or []
    if not isinstance(groups, list) or len(groups) > 1:
        raise ConfigError(f"{at}.groups: expected at most one group, got {groups!r}")
    table = {"name": _slug(metric["name"]), "type": "series", "query": _query(metric, templates, args, at)}
    if groups:
        table["group"] = str(groups[0])
    canary = mapping(metric.get("analysisConfigurations"), f"{at}.analysisConfigurations").get("canary")
    table.update(_analysis(canary, f"{at}.analysisConfigurations.canary"))
    return table


def _classifier(classifier: Any, path: Path) -> dict[str, Any]:
    """Group weights and score thresholds as weighted scoring."""
    classifier = mapping(classifier, f"{path}: classifier")
    weights = mapping(classifier.get("groupWeights"), f"{path}: classifier.groupWeights")
    settings: dict[str, Any] = {"scoring": "weighted", "groups": dict(weights)}
    thresholds = classifier.get("scoreThresholds") or {}
    if not isinstance(thresholds, dict) or set(thresholds) - {"pass", "marginal"}:
        raise ConfigError(f"{path}: classifier.scoreThresholds must hold pass and marginal, got {thresholds!r}")
    settings.update({f"{key}_score": x for key, x in thresholds.items()})
    return settings


def kayenta_import(path: Path, args: Mapping[str, str]) -> Imported:
    config = load_json(path, "Kayenta canary config")
    if not isinstance(config, dict) or not isinstance(config.get("metrics"), list) or not config["metrics"]:
        raise ConfigError(f"{path}: a Kayenta canary config needs a non-empty metrics list")
    judge = mapping(config.get("judge"), f"{path}: judge").get("name", "NetflixACAJudge-v1.0")
    if not str(judge).startswith("NetflixACAJudge"):
        raise ConfigError(f"{path}: judge.name = {judge!r}: only NetflixACAJudge can be imported")
    templates = mapping(config.get("templates"), f"{path}: templates")
    metrics = [_metric(m, f"{path}: metrics[{i}]", templates, args) for i, m in enumerate(config["metrics"])]
    return Imported(metrics, _classifier(config.get("classifier"), path))


def _slug(name: str) -> str:
    """A Kayenta metric name ("Bad Request Rate for /v1/x") as a signal name (letters, digits, - and _)."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-").lower()
    return slug or "metric"


IMPORTER = Importer(lambda path, args, _files: kayenta_import(path, args))
