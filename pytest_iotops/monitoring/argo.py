"""An Argo Rollouts AnalysisTemplate as a deployment's monitoring signals: each Prometheus metric of the
template becomes a value signal with its query (``{{args.NAME}}`` filled from the template's own values or
from ``argo_args``, which may name ``{{ version }}``, ``{{ port }}`` and ``{{ interval }}``), its
successCondition and failureCondition (Argo's rules), and dryRun. Everything else is read and refused by name
when it cannot mean what it means in Argo: another provider, a condition beyond ``result[0] <op> <number>``, an
argument without a value."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .importing import Imported, Importer, listing, load_yaml, mapping

__all__ = ["IMPORTER", "argo_metrics"]

_ARG = re.compile(r"\{\{\s*args\.([A-Za-z0-9_.-]+)\s*\}\}")
KINDS = ("AnalysisTemplate", "ClusterAnalysisTemplate")


def _template(path: Path) -> dict[str, Any]:
    documents = load_yaml(path, "AnalysisTemplate")
    found = [d for d in documents if isinstance(d, dict) and d.get("kind") in KINDS]
    if len(found) != 1:
        kinds = [d.get("kind") for d in documents if isinstance(d, dict)]
        raise ConfigError(f"{path}: expected one AnalysisTemplate or ClusterAnalysisTemplate, found kinds {kinds}")
    spec = found[0].get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("metrics"), list) or not spec["metrics"]:
        raise ConfigError(f"{path}: spec.metrics must be a non-empty list")
    return spec


def _args(spec: Mapping[str, Any], given: Mapping[str, str], path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    declared = listing(spec.get("args"), f"{path}: spec.args")
    for i, arg in enumerate(declared):
        if not isinstance(arg, dict) or not isinstance(arg.get("name"), str):
            raise ConfigError(f"{path}: spec.args[{i}] needs a name")
        if "value" in arg:
            values[arg["name"]] = str(arg["value"])
    unknown = sorted(set(given) - {a.get("name") for a in declared})
    if unknown:
        raise ConfigError(f"{path}: argo_args {unknown} are not arguments of the template")
    return {**values, **given}


def _dry_run(spec: Mapping[str, Any], name: str, path: Path) -> bool:
    """spec.dryRun: metric names as regular expressions (``.*`` for all), as Argo matches them."""
    for i, entry in enumerate(listing(spec.get("dryRun"), f"{path}: spec.dryRun")):
        pattern = str(mapping(entry, f"{path}: spec.dryRun[{i}]").get("metricName", ""))
        try:
            if re.fullmatch(pattern, name):
                return True
        except re.error as exc:
            raise ConfigError(
                f"{path}: spec.dryRun[{i}].metricName {pattern!r}: not a regular expression: {exc}"
            ) from None
    return False


def argo_metrics(path: Path, given: Mapping[str, str]) -> list[dict[str, Any]]:
    """The template's metrics as ``[[tool.iotops.deploy.monitoring.metrics]]`` tables (validated by the caller
    like written ones)."""
    spec = _template(path)
    args = _args(spec, given, path)
    tables: list[dict[str, Any]] = []
    for i, metric in enumerate(spec["metrics"]):
        at = f"{path}: spec.metrics[{i}]"
        if not isinstance(metric, dict) or not isinstance(metric.get("name"), str):
            raise ConfigError(f"{at}: a metric needs a name")
        at = f"{at} ({metric['name']})"
        provider = mapping(metric.get("provider"), f"{at}.provider")
        if set(provider) != {"prometheus"}:
            raise ConfigError(f"{at}.provider: only the prometheus provider can be imported, got {sorted(provider)}")
        query = mapping(provider["prometheus"], f"{at}.provider.prometheus").get("query")
        if not isinstance(query, str) or not query.strip():
            raise ConfigError(f"{at}.provider.prometheus.query: missing")

        def fill(match: re.Match[str], at: str = at) -> str:
            name = match.group(1)
            if name not in args:
                raise ConfigError(f"{at}: {{{{args.{name}}}}} has no value: give it in argo_args")
            return args[name]

        table: dict[str, Any] = {"name": metric["name"], "type": "value", "query": _ARG.sub(fill, query.strip())}
        for key, ours in (("successCondition", "success_condition"), ("failureCondition", "failure_condition")):
            if key in metric:
                table[ours] = str(metric[key])
        if _dry_run(spec, metric["name"], path):
            table["dry_run"] = True
        for key, ours in (("failureLimit", "failure_limit"), ("inconclusiveLimit", "inconclusive_limit")):
            if key in metric:
                table[ours] = metric[key]
        tables.append(table)
    return tables


IMPORTER = Importer(lambda path, args, _files: Imported(argo_metrics(path, args)))
