"""A Flagger Canary's analysis as a deployment's monitoring: each metric with a ``templateRef`` becomes a value
signal with its MetricTemplate's Prometheus query and its ``thresholdRange`` as limits. The templates come
from the Canary's own file or from ``templates`` (any number of documents).

In the queries ``{{ target }}`` is the version judged and ``{{ interval }}`` the step's length;
``{{ namespace }}`` is the Canary's namespace unless ``args`` gives one; ``{{ variables.NAME }}`` comes from the
metric's ``templateVariables``; any other ``{{ name }}`` from ``args``. Flagger's built-in metrics
(request-success-rate, request-duration) are what the router measures already: the import names the keys that
set the same limits instead of guessing."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .importing import Imported, Importer, load_yaml, mapping

__all__ = ["IMPORTER", "flagger_import"]

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")
_BUILTIN = {
    "request-success-rate": "[tool.iotops.deploy.analysis] error_rate_max = 100 - min (percent; min 99 is 1)",
    "request-duration": "[tool.iotops.deploy.analysis] latency_p99_max_ms = max",
}


def _documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in load_yaml(path, "Flagger file") if isinstance(d, dict)]


def _templates(documents: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for doc in documents:
        if doc.get("kind") == "MetricTemplate":
            meta = doc.get("metadata") or {}
            found[(str(meta.get("name", "")), str(meta.get("namespace", "")))] = doc
    return found


def _query(template: dict[str, Any], values: Mapping[str, str], variables: Mapping[str, Any], at: str) -> str:
    spec = template.get("spec") or {}
    provider = (spec.get("provider") or {}).get("type")
    if provider != "prometheus":
        raise ConfigError(f"{at}: the MetricTemplate's provider.type is {provider!r}: only prometheus can be imported")
    query = spec.get("query")
    if not isinstance(query, str) or not query.strip():
        raise ConfigError(f"{at}: the MetricTemplate has no query")

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "target":
            return "{{ version }}"
        if name == "interval":
            return "{{ interval }}"
        if name.startswith("variables."):
            key = name.removeprefix("variables.")
            if key not in variables:
                raise ConfigError(f"{at}: {{{{ {name} }}}} is not in the metric's templateVariables")
            return str(variables[key])
        if name not in values:
            raise ConfigError(f"{at}: {{{{ {name} }}}} has no value: give it in the import's args")
        return values[name]

    return _PLACEHOLDER.sub(one, query.strip())


def _metric(
    metric: Any, at: str, templates: dict[tuple[str, str], dict[str, Any]], values: Mapping[str, str]
) -> dict[str, Any]:
    """One entry of spec.analysis.metrics as a signal table."""
    if not isinstance(metric, dict) or not isinstance(metric.get("name"), str):
        raise ConfigError(f"{at}: a metric needs a name")
    name = metric["name"]
    at = f"{at} ({name})"
    ref = metric.get("templateRef")
    if not isinstance(ref, dict):
        hint = _BUILTIN.get(name)
        raise ConfigError(
            f"{at}: a built-in Flagger metric is measured by the router already; set {hint}"
            if hint
            else f"{at}: needs a templateRef (a MetricTemplate)"
        )
    key = (str(ref.get("name", "")), str(ref.get("namespace", values["namespace"])))
    if key not in templates:
        raise ConfigError(f"{at}: MetricTemplate {key[1]}/{key[0]} not found (give the file in templates)")
    variables = metric.get("templateVariables") or {}
    query = _query(templates[key], values, variables, f"{at} -> {key[1]}/{key[0]}")
    table: dict[str, Any] = {"name": name, "type": "value", "query": query}
    bounds = metric.get("thresholdRange") or {}
    if not isinstance(bounds, dict) or not bounds or set(bounds) - {"min", "max"}:
        raise ConfigError(f"{at}.thresholdRange: expected min and/or max, got {bounds!r}")
    table.update(
        {ours: bounds[bound] for bound, ours in (("min", "min_value"), ("max", "max_value")) if bound in bounds}
    )
    return table


def flagger_import(path: Path, args: Mapping[str, str], files: Mapping[str, Path]) -> Imported:
    documents = _documents(path)
    canaries = [d for d in documents if d.get("kind") == "Canary"]
    if len(canaries) != 1:
        raise ConfigError(f"{path}: expected one Canary, found kinds {[d.get('kind') for d in documents]}")
    canary = canaries[0]
    templates = _templates(documents + (_documents(files["templates"]) if "templates" in files else []))
    values = {"namespace": str(mapping(canary.get("metadata"), f"{path}: metadata").get("namespace", "")), **args}
    spec = mapping(canary.get("spec"), f"{path}: spec")
    metrics = mapping(spec.get("analysis"), f"{path}: spec.analysis").get("metrics")
    if not isinstance(metrics, list) or not metrics:
        raise ConfigError(f"{path}: spec.analysis.metrics must be a non-empty list")
    return Imported(
        [_metric(m, f"{path}: spec.analysis.metrics[{i}]", templates, values) for i, m in enumerate(metrics)]
    )


IMPORTER = Importer(flagger_import, {"templates": "a file of MetricTemplates"})
