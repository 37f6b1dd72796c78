"""Our pluggy hooks: the plugin and the CLI evaluate gates through the same plugin manager.

Third parties add gates with an ``iotops`` entry point (or ``pytest_iotops_register`` in a conftest) whose
object implements these hooks, marked with :data:`hookimpl`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .config import Settings
    from .model import GateResult, RunReport

__all__ = ["IotopsSpecs", "PytestSpecs", "hookimpl", "hookspec", "plugin_manager"]

hookspec = pluggy.HookspecMarker("iotops")
hookimpl = pluggy.HookimplMarker("iotops")
_pytest_hookspec = pluggy.HookspecMarker("pytest")


class IotopsSpecs:
    @hookspec
    def iotops_gates(self, settings: Settings, report: RunReport) -> list[GateResult]:  # type: ignore[empty-body]
        """Gate results computed from the run report (collect-all: every plugin adds its own)."""


class PytestSpecs:
    """Added to pytest with ``pytest_addhooks``: the bridge from conftest files to our plugin manager."""

    @_pytest_hookspec
    def pytest_iotops_register(self, plugin_manager: pluggy.PluginManager) -> None:
        """Register iotops plugins (objects with ``@pytest_iotops.hookimpl`` methods), e.g. a custom gate."""


def plugin_manager(load_entrypoints: bool = True) -> pluggy.PluginManager:
    """A manager with the built-in gates, plus installed ``iotops`` entry points."""
    from .gates import coverage as coverage_gates
    from .gates import diff as diff_gates
    from .gates import evidence as evidence_gates
    from .gates import pyramid as pyramid_gates

    pm = pluggy.PluginManager("iotops")
    pm.add_hookspecs(IotopsSpecs)
    # both are trylast, so third-party gates come first; among these two, coverage is listed first
    pm.register(coverage_gates, name="iotops.gates.coverage")
    pm.register(diff_gates, name="iotops.gates.diff")
    pm.register(evidence_gates, name="iotops.gates.evidence")
    pm.register(pyramid_gates, name="iotops.gates.pyramid")
    if load_entrypoints:
        pm.load_setuptools_entrypoints("iotops")
    return pm
