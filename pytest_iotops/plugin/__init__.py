"""pytest hooks only: options, markers, ordering, blocking, summary and exit status.

This package is what ``pytest11`` loads in every pytest run, so it imports nothing heavy: the engine
(coverage, gates, rendering) is imported only when ``--iotops`` (or ``enabled = true``) turns the plugin on,
and only then is :class:`~.session.IotopsPlugin` registered, so a run without it pays for two cheap hooks.
By role: :mod:`.options` (the command line), :mod:`.session` (the session plugin), :mod:`.xdist` (controller
and worker), :mod:`.terminal` (what the terminal shows).

PYTEST_DONT_REWRITE: Python's loader loads these modules, not pytest's (see ``pytest_iotops._OwnModules``), so a
second session in one process must not warn that it cannot rewrite them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .. import (
    fixtures,  # deployment fixtures: importing defines them (and needs only pytest), nothing runs
    fleet_fixtures,
)
from .common import DEFAULT_MARKERS, PLUGIN_NAME
from .options import cli_values, pytest_addoption

__all__ = ["PLUGIN_NAME", "IotopsPlugin", "pytest_addoption"]


def __getattr__(name: str) -> object:
    """``IotopsPlugin`` on demand: a run without ``--iotops`` never imports the session plugin."""
    if name == "IotopsPlugin":
        from .session import IotopsPlugin

        return IotopsPlugin
    raise AttributeError(name)


def __dir__() -> list[str]:
    """The hooks only: pytest registers this module, and looks at every name ``dir()`` gives, several lookups
    each (its imports and helpers included, about 40,000 instructions a name)."""
    return [name for name in globals() if name.startswith("pytest_")]


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from ..hookspecs import PytestSpecs

    pluginmanager.add_hookspecs(PytestSpecs)


def _enabled(config: pytest.Config, pyproject: Path | None) -> bool:
    if config.known_args_namespace.iotops or config.getini("iotops"):
        return True
    if pyproject is None:
        return False
    from ..pyproject import read_table

    try:
        enabled = read_table(pyproject).get("enabled", False)
    except Exception:
        return False  # a broken table must not break runs that do not use the plugin
    if not isinstance(enabled, bool):  # "yes" or 1 must not silently mean "off"
        raise pytest.UsageError(f"{pyproject}: [tool.iotops] enabled = {enabled!r}: expected true or false")
    return enabled


def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Before pytest loads the initial conftests, so coverage sees their imports and the test modules'.

    Not ``tryfirst``: pytest-cov's hook is, so by now it has registered its plugin when it measures (whatever
    form ``--cov`` took, on the command line or in ``addopts``), and its tracer is borrowed instead of
    starting a second one.
    """
    from ..pyproject import find_pyproject

    pyproject = find_pyproject(early_config.rootpath, early_config.inipath)
    if not _enabled(early_config, pyproject):
        return
    from ..config import load_settings
    from ..errors import ConfigError
    from ..registry import settings_entries

    namespace = early_config.known_args_namespace
    try:
        # installed packages may add evidence kinds and own tables: the configuration is read with them (before
        # conftest files load)
        kinds, tables = settings_entries(early_config)
        settings = load_settings(pyproject, cli_values(namespace), kinds=kinds, tables=tables)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    from .session import IotopsPlugin

    plugin = IotopsPlugin(early_config, settings)
    early_config.pluginmanager.register(plugin, PLUGIN_NAME)
    try:
        plugin.pipeline.start_coverage(
            _pytest_cov_state(early_config), getattr(namespace, "cov_context", None) == "test"
        )
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    meter = plugin.pipeline.meter
    if settings.coverage.trace == "tests" and meter is not None and meter.trace == "always":
        if not meter.owned:
            meter.trace = "always (pytest-cov's tracer measures, as pytest-cov runs it)"
        else:
            from .windows import TraceWindowsPlugin

            early_config.pluginmanager.register(TraceWindowsPlugin(meter), "iotops-trace-windows")


def _pytest_cov_state(config: pytest.Config) -> str | None:
    """None when pytest-cov does not measure; "off" for ``--no-cov``; "on" when its plugin is registered."""
    if getattr(config.known_args_namespace, "no_cov", False):
        return "off"
    return "on" if config.pluginmanager.get_plugin("_cov") is not None else None


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.is_registered(fixtures):
        config.pluginmanager.register(fixtures, "iotops-fixtures")
    if not config.pluginmanager.is_registered(fleet_fixtures):
        config.pluginmanager.register(fleet_fixtures, "iotops-fleet-fixtures")
    plugin = config.pluginmanager.get_plugin(PLUGIN_NAME)
    phases = plugin.settings.phases if plugin is not None else DEFAULT_MARKERS
    for phase in phases:
        config.addinivalue_line("markers", f"{phase}: pytest-iotops pyramid phase '{phase}'")
    config.addinivalue_line(
        "markers", "iotops_deploy(**settings): pytest-iotops [tool.iotops.deploy] settings for this test's deployments"
    )
    config.addinivalue_line(
        "markers", "iotops_fleet(**settings): pytest-iotops [tool.iotops.fleet] settings for this test's rollouts"
    )
    if plugin is not None:
        for alias, phase in plugin.settings.marker_aliases.items():
            config.addinivalue_line("markers", f"{alias}: pytest-iotops alias of the '{phase}' phase")
