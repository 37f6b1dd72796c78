"""The objects pytest registers as plugins show ``dir()`` only their hooks and fixtures (pytest and pluggy look
at every name it gives, several lookups each): nothing they define as a hook or fixture may be missing."""

from __future__ import annotations

import types

import pytest
from _pytest.fixtures import FixtureFunctionDefinition

from pytest_iotops import fixtures, fleet_fixtures, plugin
from pytest_iotops.plugin.runloop import PerTest
from pytest_iotops.plugin.session import IotopsPlugin


def _wanted(namespace: dict[str, object]) -> set[str]:
    return {
        name
        for name, value in namespace.items()
        if name.startswith("pytest_") or isinstance(value, FixtureFunctionDefinition)
    }


@pytest.mark.parametrize("module", [fixtures, fleet_fixtures, plugin], ids=lambda m: m.__name__)
def test_module_dir_is_its_hooks_and_fixtures(module: types.ModuleType) -> None:
    wanted = _wanted(vars(module))
    assert wanted  # each defines some
    assert set(dir(module)) == wanted


def test_session_plugin_dir_is_its_hooks() -> None:
    wanted = {name for cls in IotopsPlugin.__mro__ for name in vars(cls) if name.startswith("pytest_")}
    assert {"pytest_runtestloop", "pytest_terminal_summary", "pytest_sessionfinish"} <= wanted
    instance = IotopsPlugin.__new__(IotopsPlugin)
    assert set(dir(instance)) == wanted


def test_per_test_plugin_dir_is_its_hook() -> None:
    wanted = {name for name in vars(PerTest) if name.startswith("pytest_")}
    assert set(dir(PerTest(print))) == wanted == {"pytest_runtest_protocol"}
