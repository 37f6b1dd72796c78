"""Our pluggy hook specifications, and nothing else (the manager is built by :mod:`pytest_iotops.registry`).

Third parties add gates with an ``iotops`` entry point (or ``pytest_iotops_register`` in a conftest) whose
object implements these hooks, marked with :data:`hookimpl`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from collections.abc import Callable

    from .config import Settings
    from .deploy.target import Target
    from .evidence.kinds import EvidenceKind
    from .fleet.brokers import Broker
    from .model import GateResult, RunReport
    from .monitoring.providers import MetricProvider
    from .render.formats import ReportFormat
    from .tables import ConfigTable

__all__ = ["IotopsSpecs", "PytestSpecs", "hookimpl", "hookspec"]

hookspec = pluggy.HookspecMarker("iotops")
hookimpl = pluggy.HookimplMarker("iotops")
_pytest_hookspec = pluggy.HookspecMarker("pytest")


class IotopsSpecs:
    @hookspec
    def iotops_gates(self, settings: Settings, report: RunReport) -> list[GateResult]:  # type: ignore[empty-body]
        """Gate results computed from the run report (collect-all: every plugin adds its own)."""

    @hookspec
    def iotops_report_formats(self) -> list[ReportFormat]:  # type: ignore[empty-body]
        """Report formats this plugin adds (collect-all): each a name, a file name and a pure function of the run
        report; they join ``formats``, ``--iotops-format`` and the CLI's ``--format`` like the built-in ones."""

    @hookspec
    def iotops_evidence_kinds(self) -> list[EvidenceKind]:  # type: ignore[empty-body]
        """Evidence kinds this plugin adds (collect-all): each a name, a family (coverage, findings, tests) and
        a parser; ``kind = "<name>"`` in ``[[tool.iotops.evidence]]`` then works like a built-in kind. Read from
        installed packages (entry points): the configuration is read before conftest files load."""

    @hookspec
    def iotops_config_tables(self) -> list[ConfigTable]:  # type: ignore[empty-body]
        """``[tool.iotops.<name>]`` tables this plugin owns (collect-all): each read by the plugin's own parser
        and found by its gates in ``settings.plugin_tables``. Installed packages only, like evidence kinds."""

    @hookspec(firstresult=True)
    def iotops_deploy_target(self, name: str) -> Callable[..., Target] | None:
        """The deployment target called ``name`` (``deploy.target``): a :class:`~pytest_iotops.deploy.target.Target`
        subclass or factory taking the version commands and keyword options, or None if this plugin has none."""

    @hookspec(firstresult=True)
    def iotops_metric_provider(self, name: str) -> type[MetricProvider] | None:
        """The metric provider called ``name`` (``provider`` of a monitoring signal): a
        :class:`~pytest_iotops.monitoring.providers.MetricProvider` subclass, or None if this plugin has none."""

    @hookspec(firstresult=True)
    def iotops_fleet_broker(self, name: str) -> Callable[..., Broker] | None:
        """The MQTT broker called ``name`` (``fleet.broker``): a :class:`~pytest_iotops.fleet.brokers.Broker`
        subclass or factory taking keyword options (``port``), or None if this plugin has none."""


class PytestSpecs:
    """Added to pytest with ``pytest_addhooks``: the bridge from conftest files to our plugin manager."""

    @_pytest_hookspec
    def pytest_iotops_register(self, plugin_manager: pluggy.PluginManager) -> None:
        """Register iotops plugins (objects with ``@pytest_iotops.hookimpl`` methods), e.g. a custom gate."""
