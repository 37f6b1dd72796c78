"""The iotops plugin manager: built-in gate families and deployment targets, installed ``iotops`` entry points
and what conftest files register — built once per pytest session (a deployment test used to build its own).

The built-ins are imported by name here, so :mod:`.hookspecs` (which they import for ``hookimpl``) never
imports them back.
"""

from __future__ import annotations

import importlib
import os
import sys
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

from .entrypoints import may_declare
from .errors import ConfigError
from .evidence.kinds import EvidenceKind
from .hookspecs import IotopsSpecs
from .tables import ConfigTable

if TYPE_CHECKING:
    from .render.formats import ReportFormat

__all__ = [
    "BUILTIN_GATES",
    "config_tables",
    "evidence_kinds",
    "installed_manager",
    "plugin_manager",
    "report_formats",
    "session_manager",
    "settings_entries",
]

BUILTIN_GATES = ("coverage", "diff", "evidence", "pyramid", "history")
_Entry = TypeVar("_Entry", "ReportFormat", EvidenceKind, ConfigTable)
_SESSIONS: weakref.WeakKeyDictionary[Any, pluggy.PluginManager] = weakref.WeakKeyDictionary()
_INSTALLED: weakref.WeakKeyDictionary[Any, pluggy.PluginManager] = weakref.WeakKeyDictionary()
_DECLARES: dict[tuple[str, ...], bool] = {}


class _Manager(pluggy.PluginManager):
    """Every iotops hook is named ``iotops_*`` (``pytest_iotops_register`` is pytest's): no other name of a
    plugin is looked at — pluggy inspects each attribute of a plugin module, which cost more than the rest of
    registering the built-ins (as pytest's own manager does for ``pytest_*``)."""

    def parse_hookimpl_opts(self, plugin: object, name: str) -> pluggy.HookimplOpts | None:
        if not name.startswith("iotops_"):
            return None
        return super().parse_hookimpl_opts(plugin, name)


def plugin_manager(load_entrypoints: bool = True, builtin: tuple[str, ...] = BUILTIN_GATES) -> pluggy.PluginManager:
    """A manager with the built-in gate families named in ``builtin``, the built-in deployment targets, plus
    installed ``iotops`` entry points."""
    pm = _Manager("iotops")
    pm.add_hookspecs(IotopsSpecs)
    # all built-ins are trylast, so third-party gates come first; among them, this order
    for family in BUILTIN_GATES:
        if family in builtin:
            pm.register(importlib.import_module(f"pytest_iotops.gates.{family}"), name=f"iotops.gates.{family}")
    pm.register(importlib.import_module("pytest_iotops.deploy.targets"), name="iotops.deploy.targets")
    pm.register(importlib.import_module("pytest_iotops.monitoring.registry"), name="iotops.monitoring.registry")
    pm.register(importlib.import_module("pytest_iotops.fleet.hooks"), name="iotops.fleet.hooks")
    pm.register(importlib.import_module("pytest_iotops.render.formats"), name="iotops.render.formats")
    pm.register(importlib.import_module("pytest_iotops.evidence.kinds"), name="iotops.evidence.kinds")
    if load_entrypoints and _may_declare():
        pm.load_setuptools_entrypoints("iotops")
    return pm


def installed_manager(config: Any) -> pluggy.PluginManager:
    """Built-ins and installed entry points only, for what must be known before conftest files load (evidence
    kinds, plugin-owned tables); built once per session and completed by :func:`session_manager`."""
    pm = _INSTALLED.get(config)
    if pm is None:
        pm = _INSTALLED[config] = plugin_manager()
    return pm


def settings_entries(config: Any) -> tuple[dict[str, EvidenceKind], dict[str, ConfigTable]]:
    """The evidence kinds and plugin-owned tables the configuration is read with (before conftest files load):
    the installed manager's when an installed package may declare ``iotops`` entry points, else the built-ins'
    own, without building a manager for them (an xdist worker then builds none at all)."""
    if _may_declare():
        installed = installed_manager(config)
        return evidence_kinds(installed), config_tables(installed)
    from .evidence import kinds
    from .fleet import hooks

    return (
        _table([kinds.iotops_evidence_kinds()], EvidenceKind, "evidence kind"),
        _table([hooks.iotops_config_tables()], ConfigTable, "configuration table"),
    )


#: the xdist controller's answer for its workers (see :func:`declared_for_workers`)
ENTRY_POINTS_ENV = "PYTEST_IOTOPS_ENTRY_POINTS"


def _may_declare() -> bool:
    """Whether an installed package may declare ``iotops`` entry points (once per ``sys.path``: it reads every
    installed package's entry point list), or the xdist controller's answer for the same path entries."""
    key = tuple(sys.path)
    known = _DECLARES.get(key)
    if known is None:
        known = _DECLARES[key] = _handed_down(key)
    return known


def _handed_down(key: tuple[str, ...]) -> bool:
    given = os.environ.get(ENTRY_POINTS_ENV, "")
    answer, _, paths = given.partition(os.pathsep)
    if answer in ("0", "1") and paths == os.pathsep.join(sorted(set(key))):
        return answer == "1"
    return may_declare("iotops")


def declared_for_workers() -> str | None:
    """The last answer of :func:`_may_declare`, for the workers the xdist controller starts (they inherit its
    environment): the same answer where their path entries are the same, in any order (each worker read every
    installed package's entry point list again, 3.6 M instructions)."""
    if not _DECLARES:
        return None
    key, answer = next(reversed(_DECLARES.items()))
    return f"{int(answer)}{os.pathsep}{os.pathsep.join(sorted(set(key)))}"


def session_manager(config: Any) -> pluggy.PluginManager:
    """The manager of one pytest session (``config``): the installed one plus what conftest files register
    through ``pytest_iotops_register``; the same object for every deployment test and the gates, and the entry
    points are loaded once."""
    pm = _SESSIONS.get(config)
    if pm is None:
        pm = _SESSIONS[config] = installed_manager(config)
        config.hook.pytest_iotops_register(plugin_manager=pm)
    return pm


def _table(contributions: Iterable[Iterable[_Entry]], cls: type[_Entry], what: str) -> dict[str, _Entry]:
    """One table from every plugin's entries, built-ins first; a name given twice, or anything of the wrong
    type, is an error naming it (two plugins must not silently shadow each other or a built-in)."""
    table: dict[str, _Entry] = {}
    for contribution in contributions:
        for entry in contribution:
            if not isinstance(entry, cls):
                raise ConfigError(f"a plugin's {what} hook returned {entry!r}, not a pytest_iotops {cls.__name__}")
            if entry.name in table:
                raise ConfigError(f"{what} {entry.name!r} is defined twice (by two plugins)")
            table[entry.name] = entry
    return table


def report_formats(pm: pluggy.PluginManager) -> dict[str, ReportFormat]:
    """Every report format the manager's plugins define, the built-in ones first."""
    from .render.formats import ReportFormat  # (a worker, which writes no report, does not load it)

    return _table(reversed(pm.hook.iotops_report_formats()), ReportFormat, "report format")


def evidence_kinds(pm: pluggy.PluginManager) -> dict[str, EvidenceKind]:
    """Every evidence kind the manager's plugins define, the built-in ones first."""
    return _table(reversed(pm.hook.iotops_evidence_kinds()), EvidenceKind, "evidence kind")


def config_tables(pm: pluggy.PluginManager) -> dict[str, ConfigTable]:
    """Every ``[tool.iotops.<name>]`` table the manager's plugins own."""
    return _table(reversed(pm.hook.iotops_config_tables()), ConfigTable, "configuration table")
