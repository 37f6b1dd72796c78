"""Our pluggy hooks: the plugin and the CLI evaluate gates through the same plugin manager.

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
    from .model import GateResult, RunReport

__all__ = ["BUILTIN_GATES", "IotopsSpecs", "PytestSpecs", "hookimpl", "hookspec", "plugin_manager"]

hookspec = pluggy.HookspecMarker("iotops")
hookimpl = pluggy.HookimplMarker("iotops")
_pytest_hookspec = pluggy.HookspecMarker("pytest")


class IotopsSpecs:
    @hookspec
    def iotops_gates(self, settings: Settings, report: RunReport) -> list[GateResult]:  # type: ignore[empty-body]
        """Gate results computed from the run report (collect-all: every plugin adds its own)."""

    @hookspec(firstresult=True)
    def iotops_deploy_target(self, name: str) -> Callable[..., Target] | None:
        """The deployment target called ``name`` (``deploy.target``): a :class:`~pytest_iotops.deploy.target.Target`
        subclass or factory taking the version commands and keyword options, or None if this plugin has none."""


class PytestSpecs:
    """Added to pytest with ``pytest_addhooks``: the bridge from conftest files to our plugin manager."""

    @_pytest_hookspec
    def pytest_iotops_register(self, plugin_manager: pluggy.PluginManager) -> None:
        """Register iotops plugins (objects with ``@pytest_iotops.hookimpl`` methods), e.g. a custom gate."""


BUILTIN_GATES = ("coverage", "diff", "evidence", "pyramid")


def plugin_manager(load_entrypoints: bool = True, builtin: tuple[str, ...] = BUILTIN_GATES) -> pluggy.PluginManager:
    """A manager with the built-in gate families named in ``builtin``, the built-in deployment targets, plus
    installed ``iotops`` entry points."""
    import importlib

    pm = pluggy.PluginManager("iotops")
    pm.add_hookspecs(IotopsSpecs)
    # all built-ins are trylast, so third-party gates come first; among them, this order
    for family in BUILTIN_GATES:
        if family in builtin:
            pm.register(importlib.import_module(f"pytest_iotops.gates.{family}"), name=f"iotops.gates.{family}")
    pm.register(importlib.import_module("pytest_iotops.deploy.targets"), name="iotops.deploy.targets")
    if load_entrypoints:
        pm.load_setuptools_entrypoints("iotops")
    return pm
