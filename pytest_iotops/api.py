"""The public API for plugin authors: what a third-party gate, report format or deployment target needs,
importable from one place and kept stable across minor versions. Each is registered through an ``iotops``
entry point (or ``pytest_iotops_register`` in a conftest) whose object carries ``@hookimpl`` methods:

- ``iotops_gates(settings, report) -> list[GateResult]``: gates computed from the run report;
- ``iotops_report_formats() -> list[ReportFormat]``: report formats (``formats``, ``--iotops-format``, the CLI);
- ``iotops_evidence_kinds() -> list[EvidenceKind]``: evidence kinds for ``[[tool.iotops.evidence]]``
  (installed packages only: the configuration is read before conftest files load);
- ``iotops_config_tables() -> list[ConfigTable]``: ``[tool.iotops.<name>]`` tables the plugin reads itself
  (installed packages only); its gates find them in ``settings.plugin_tables``;
- ``iotops_deploy_target(name) -> type[Target] | None``: a deployment target for ``deploy.target``;
- ``iotops_fleet_broker(name) -> type[Broker] | None``: an MQTT broker for ``fleet.broker``.

See docs/plugins.md.
"""

from __future__ import annotations

from .config import Settings
from .deploy.judge import Samples
from .deploy.target import Target
from .errors import ConfigError, DeployError, EvidenceError, FleetError
from .evidence.base import Parsed
from .evidence.config import EvidenceSource
from .evidence.kinds import EvidenceKind
from .fleet.brokers import Broker
from .hookspecs import hookimpl
from .model import FileCoverage, Finding, GateResult, RunReport, TestResult
from .render.formats import ReportFormat
from .tables import ConfigTable

__all__ = [
    "Broker",
    "ConfigError",
    "ConfigTable",
    "DeployError",
    "EvidenceError",
    "EvidenceKind",
    "EvidenceSource",
    "FileCoverage",
    "Finding",
    "FleetError",
    "GateResult",
    "Parsed",
    "ReportFormat",
    "RunReport",
    "Samples",
    "Settings",
    "Target",
    "TestResult",
    "hookimpl",
]
