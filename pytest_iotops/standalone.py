"""The pipeline without pytest: evidence sources, their gates and diff coverage (``iotops gate``), and the
findings baseline (``iotops baseline``). Same configuration, same gates, same reports as the plugin."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from .config import Settings, find_pyproject, load_settings
from .errors import ConfigError
from .pipeline import Pipeline, RunContext
from .registry import config_tables, evidence_kinds, plugin_manager

__all__ = ["load_cli_settings", "run_gates"]


def load_cli_settings(
    config: str | None, rootdir: str | None, diff_base: str | None = None, require_table: bool = True
) -> tuple[Settings, Path]:
    """Settings for a CLI command; a missing root, file or ``[tool.iotops]`` table is a configuration error
    naming where it looked (gating nothing must never pass)."""
    if rootdir is not None and not Path(rootdir).is_dir():
        raise ConfigError(f"--rootdir {rootdir}: no such directory")
    root = Path(rootdir or (Path(config).parent if config else Path.cwd())).resolve()
    if config and not Path(config).is_file():
        raise ConfigError(f"{config}: configuration file not found")
    pyproject = Path(config) if config else find_pyproject(root, None)
    if pyproject is None and require_table:
        raise ConfigError(f"no pyproject.toml in {root}: nothing to gate (give --config PYPROJECT or --rootdir DIR)")
    installed = plugin_manager()
    settings = load_settings(
        pyproject,
        {"iotops_diff_base": diff_base},
        kinds=evidence_kinds(installed),
        tables=config_tables(installed),
    )
    if require_table and not settings.has_table:
        raise ConfigError(f"{pyproject}: no [tool.iotops] table: nothing to gate")
    return settings, root


def run_gates(settings: Settings, rootdir: Path, args: list[str], update_baseline: bool = False) -> Pipeline:
    """Evidence and diff gates only: Python coverage and the pyramid need a test run."""
    settings = replace(settings, coverage=replace(settings.coverage, enabled=False), update_baseline=update_baseline)
    pipeline = Pipeline(
        settings,
        RunContext(rootdir=rootdir, args=args, pytest_version="-"),
        report_stem="gate",
        progress=lambda line: print(line, file=sys.stderr, flush=True),
        coverage_off="not measured by iotops gate (run pytest --iotops)",
    )
    pipeline.use_plugins(plugin_manager(builtin=("diff", "evidence")))
    pipeline.finish(0)
    return pipeline
