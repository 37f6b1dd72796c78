"""The configuration is read with the evidence kinds and tables of the installed iotops plugins; with none
installed (this venv declares no ``iotops`` entry point) they come from the built-ins directly, without building
a plugin manager — and must be exactly what the manager would give."""

from __future__ import annotations

import pytest

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


def test_a_worker_takes_the_controllers_answer_only_for_the_same_path_entries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The xdist controller hands its answer down in the environment; a worker with the same path entries (in
    any order, repeated) uses it without reading the entry point lists, any other worker reads them."""
    asked: list[str] = []
    monkeypatch.setattr(registry, "may_declare", lambda group: asked.append(group) or False)
    monkeypatch.setattr(registry, "_DECLARES", {("/a", "/b"): True})
    handed = registry.declared_for_workers()
    assert handed is not None
    monkeypatch.setenv(registry.ENTRY_POINTS_ENV, handed)
    assert registry._handed_down(("/b", "/a", "/b")) is True  # same entries: the controller's answer
    assert asked == []
    assert registry._handed_down(("/a", "/b", "/c")) is False  # another entry: read here
    assert asked == ["iotops"]
    monkeypatch.setenv(registry.ENTRY_POINTS_ENV, "garbage")
    assert registry._handed_down(("/a", "/b")) is False
    assert asked == ["iotops", "iotops"]
