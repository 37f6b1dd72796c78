"""pytest-iotops's modules are loaded by Python's own loader, not pytest's assertion rewriter (which marks every
module of a plugin's distribution and loads each at several times the cost), and a second session in the same
process does not warn about it."""

from __future__ import annotations

import sys
from importlib.machinery import SourceFileLoader

import pytest

import pytest_iotops
from pytest_iotops import _OwnModules

pytest_plugins = ["pytester"]

PROBE = """
import sys

def test_loaders():
    loaders = {name: type(sys.modules[name].__loader__).__name__ for name in sorted(sys.modules)
               if name.startswith("pytest_iotops.")}
    assert loaders, "the plugin loaded no module"
    assert {"pytest_iotops.pipeline", "pytest_iotops.plugin.session", "pytest_iotops.plugin"} <= set(loaders)
    rewritten = {name: kind for name, kind in loaders.items() if kind != "SourceFileLoader"}
    assert not rewritten, rewritten
"""


def test_finder_answers_only_for_this_packages_submodules() -> None:
    finder = _OwnModules()
    assert finder.find_spec("pytest_iotops", None) is None  # the package itself: whoever finds it
    assert finder.find_spec("json", None) is None
    assert finder.find_spec("pytest_iotopsx.values", list(pytest_iotops.__path__)) is None
    assert finder.find_spec("pytest_iotops.no_such_module", list(pytest_iotops.__path__)) is None
    spec = finder.find_spec("pytest_iotops.values", list(pytest_iotops.__path__))
    assert spec is not None
    assert isinstance(spec.loader, SourceFileLoader)
    assert sum(type(f) is _OwnModules for f in sys.meta_path) == 1  # one, ahead of pytest's hook


def test_modules_are_not_rewritten_when_pytest_marks_the_whole_distribution(pytester: pytest.Pytester) -> None:
    """``-p pytest_iotops`` marks the whole package for rewriting, as pytest does for an installed wheel."""
    pytester.makepyfile(test_probe=PROBE)
    result = pytester.runpytest_subprocess(
        "-p", "pytest_iotops", "-p", "pytest_iotops.plugin", "-p", "no:cacheprovider", "--iotops", "--iotops-no-cov"
    )
    result.assert_outcomes(passed=1)


def test_a_second_session_in_process_does_not_warn(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_one="def test_one():\n    pass\n")
    args = ("-p", "pytest_iotops.plugin", "-p", "no:cacheprovider", "-W", "error", "--iotops", "--iotops-no-cov")
    for _ in range(2):
        result = pytester.runpytest_inprocess(*args)
        result.assert_outcomes(passed=1)
        assert "cannot be rewritten" not in result.stdout.str() + result.stderr.str()


def test_fixtures_are_found_through_the_short_dir(pytester: pytest.Pytester) -> None:
    """The plugin modules show ``dir()`` only their hooks and fixtures (tests/unit/test_plugin_dir.py): pytest
    still finds every fixture."""
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "pytest_iotops.plugin", "--fixtures", "-p", "no:cacheprovider")
    for name in ("iotops_canary", "iotops_blue_green", "iotops_deploy_target", "iotops_fleet"):
        assert name in result.stdout.str()
