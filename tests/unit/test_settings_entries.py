"""The configuration is read with the evidence kinds and tables of the installed iotops plugins; with none
installed (this venv declares no ``iotops`` entry point) they come from the built-ins directly, without building
a plugin manager — and must be exactly what the manager would give."""

from __future__ import annotations

from pytest_iotops import registry
from pytest_iotops.entrypoints import may_declare


class _Config:
    """Stands for pytest's config: the registry keys its managers by it (weakly)."""


def test_without_installed_plugins_the_built_ins_are_the_managers() -> None:
    assert not may_declare("iotops")  # the premise: nothing in this venv declares the group
    config = _Config()
    kinds, tables = registry.settings_entries(config)
    assert config not in registry._INSTALLED  # no manager was built for it
    pm = registry.plugin_manager()
    assert kinds == registry.evidence_kinds(pm)
    assert list(kinds) == list(registry.evidence_kinds(pm))
    assert tables == registry.config_tables(pm)
    assert {"fleet"} <= set(tables)
    assert {"junit", "sarif"} <= set(kinds)
