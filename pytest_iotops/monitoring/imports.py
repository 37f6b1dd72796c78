"""Analyses written for other tools, imported as a deployment's monitoring: ``[[tool.iotops.deploy.monitoring.
imports]]`` names a ``format``, a ``path`` and ``args`` for the file's own placeholders. One module per format
(an Argo AnalysisTemplate, a Flagger Canary with its MetricTemplates, a Kayenta canary config, a Keptn SLO file
with its SLI file); each gives signal tables, validated afterwards like written ones, and the scoring the file
asks for. A key the importer cannot honour is refused by name, never dropped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .argo import IMPORTER as ARGO
from .flagger import IMPORTER as FLAGGER
from .importing import Imported, Importer
from .kayenta import IMPORTER as KAYENTA
from .keptn import IMPORTER as KEPTN

__all__ = ["IMPORTERS", "run_import"]

#: the formats, by name (one module each)
IMPORTERS: dict[str, Importer] = {"argo": ARGO, "flagger": FLAGGER, "kayenta": KAYENTA, "keptn": KEPTN}


def run_import(entry: Any, at: str, base: Path) -> Imported:
    """One ``imports`` table: checked, its files read relative to ``base``."""
    if not isinstance(entry, dict):
        raise ConfigError(f"{at}: expected a table with format, path and args")
    fmt = entry.get("format")
    if fmt not in IMPORTERS:
        raise ConfigError(f"{at}: format = {fmt!r}: expected one of {', '.join(IMPORTERS)}")
    importer = IMPORTERS[fmt]
    unknown = sorted(set(entry) - {"format", "path", "args", *importer.extra})
    if unknown:
        known = ", ".join(["format", "path", "args", *importer.extra])
        raise ConfigError(f"{at}: unknown key(s) {unknown} for a {fmt} import; known: {known}")
    path, args = entry.get("path"), entry.get("args", {})
    if not isinstance(path, str) or not path:
        raise ConfigError(f"{at}: path must name the {fmt} file")
    if not isinstance(args, dict) or not all(isinstance(x, str | int | float) for x in args.values()):
        raise ConfigError(f"{at}: args must be a table of strings")
    files: dict[str, Path] = {}
    for key in importer.extra:
        value = entry.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{at}: {key} must be a path")
        if value:
            files[key] = base / value
    return importer.load(base / path, {str(k): str(x) for k, x in args.items()}, files)
