"""A Keptn quality gate (``slo.yaml`` with the ``sli.yaml`` that defines its indicators) as a deployment's
monitoring: each objective becomes a value signal judged by its pass and warning criteria (a pass earns its
weight, a warning half), ``key_sli`` makes it critical, an objective without criteria is informational (a dry
run), and ``total_score`` gives the pass and warning thresholds of weighted scoring.

Relative criteria (``<=+10%``) compare with the stable version's value in the same step: Keptn compares with
earlier evaluations, which needs the run history (not built yet). In the SLI queries ``$DEPLOYMENT`` is the
version judged, ``$DURATION_SECONDS`` the step's length; ``$NAME`` for any other name comes from the SLO's
``filter`` or the import's ``args``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .analysis import parse_criterion
from .importing import Imported, Importer, load_yaml, mapping

__all__ = ["IMPORTER", "keptn_import"]

_VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_OURS = {"DEPLOYMENT": "{{ version }}", "DURATION_SECONDS": "{{ interval }}"}


def _one(path: Path, what: str) -> dict[str, Any]:
    documents = [d for d in load_yaml(path, what) if d is not None]
    if len(documents) != 1 or not isinstance(documents[0], dict):
        raise ConfigError(f"{path}: expected one {what} document (a mapping)")
    return documents[0]


def _blocks(value: Any, at: str) -> list[list[str]]:
    """``pass:``/``warning:``: a list of ``{criteria: [...]}``, each criterion checked now."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(f"{at}: expected a list of {{criteria: [...]}}")
    blocks: list[list[str]] = []
    for i, block in enumerate(value):
        criteria = block.get("criteria") if isinstance(block, dict) else None
        if not isinstance(criteria, list) or not criteria:
            raise ConfigError(f"{at}[{i}]: expected criteria: a non-empty list")
        for text in criteria:
            try:
                parse_criterion(str(text))
            except ValueError as exc:
                raise ConfigError(f"{at}[{i}].criteria: {exc}") from None
        blocks.append([str(c) for c in criteria])
    return blocks


def _percent(value: Any, at: str) -> float:
    text = str(value).strip().removesuffix("%")
    try:
        number = float(text)
    except ValueError:
        raise ConfigError(f'{at} = {value!r}: expected a percentage such as "90%"') from None
    if not 0 <= number <= 100:
        raise ConfigError(f"{at} = {value!r}: expected 0% to 100%")
    return number


def _indicators(files: Mapping[str, Path], slo: Path) -> dict[str, str]:
    if "sli" not in files:
        raise ConfigError(f'{slo}: a keptn import needs sli = "<sli.yaml>" (the queries of the indicators)')
    sli = _one(files["sli"], "Keptn SLI file")
    indicators = sli.get("indicators")
    if not isinstance(indicators, dict) or not all(isinstance(q, str) for q in indicators.values()):
        raise ConfigError(f"{files['sli']}: indicators must map each SLI name to its query")
    return {str(k): v for k, v in indicators.items()}


def _query(template: str, values: Mapping[str, str], at: str) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in _OURS:
            return _OURS[name]
        if name not in values:
            raise ConfigError(f"{at}: ${name} has no value: give it in the SLO's filter or the import's args")
        return values[name]

    return _VARIABLE.sub(one, template.strip())


def _comparison(raw: Any, path: Path) -> dict[str, Any]:
    """``comparison`` as the signal keys that compare with earlier runs (the run history; the stable version
    when no history is configured)."""
    comparison = mapping(raw, f"{path}: comparison")
    aggregate = comparison.get("aggregate_function", "avg")
    if aggregate != "avg":
        raise ConfigError(f"{path}: comparison.aggregate_function = {aggregate!r}: only avg can be imported")
    several = comparison.get("compare_with", "single_result")
    if several not in ("single_result", "several_results"):
        raise ConfigError(f"{path}: comparison.compare_with = {several!r}: expected single_result or several_results")
    runs = comparison.get("number_of_comparison_results", 1) if several == "several_results" else 1
    include = comparison.get("include_result_with_score", "all")
    if include not in ("pass", "pass_or_warn", "all"):
        raise ConfigError(
            f"{path}: comparison.include_result_with_score = {include!r}: expected pass, pass_or_warn or all"
        )
    # a deployment is promoted or not: there is no warning result to include beside the passing ones
    return {"compare_with": "history", "history_runs": runs, "history_include": "all" if include == "all" else "pass"}


def keptn_import(path: Path, args: Mapping[str, str], files: Mapping[str, Path]) -> Imported:
    slo = _one(path, "Keptn SLO file")
    objectives = slo.get("objectives")
    if not isinstance(objectives, list) or not objectives:
        raise ConfigError(f"{path}: objectives must be a non-empty list")
    indicators = _indicators(files, path)
    values = {**{str(k): str(x) for k, x in mapping(slo.get("filter"), f"{path}: filter").items()}, **args}
    compare = _comparison(slo.get("comparison"), path)
    imported = Imported(settings={"scoring": "weighted", "groups": {}})
    for i, objective in enumerate(objectives):
        at = f"{path}: objectives[{i}]"
        if not isinstance(objective, dict) or not isinstance(objective.get("sli"), str):
            raise ConfigError(f"{at}: an objective needs sli")
        name = objective["sli"]
        at = f"{at} ({name})"
        if name not in indicators:
            raise ConfigError(f"{at}: the SLI {name!r} is not in {files['sli']} (indicators: {sorted(indicators)})")
        passing = _blocks(objective.get("pass"), f"{at}.pass")
        warning = _blocks(objective.get("warning"), f"{at}.warning")
        table: dict[str, Any] = {"name": name, "type": "value", "query": _query(indicators[name], values, at)}
        if passing:
            table.update(compare)
            table["pass_criteria"] = passing
            if warning:
                table["warning_criteria"] = warning
        else:
            table["dry_run"] = True  # informational: measured and shown, never scored
        if objective.get("key_sli"):
            table["critical"] = True
        weight = objective.get("weight", 1)
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise ConfigError(f"{at}.weight = {weight!r}: expected a number >= 0")
        imported.settings["groups"][name] = float(weight)
        imported.metrics.append(table)
    total = slo.get("total_score") or {}
    if not isinstance(total, dict):
        raise ConfigError(f"{path}: total_score must be a mapping")
    if "pass" in total:
        imported.settings["pass_score"] = _percent(total["pass"], f"{path}: total_score.pass")
    if "warning" in total:
        imported.settings["marginal_score"] = _percent(total["warning"], f"{path}: total_score.warning")
    return imported


IMPORTER = Importer(keptn_import, {"sli": "the SLI file (indicators)"})
