"""Which engine collects coverage: named refusals, and what auto picks for a project's coverage.py settings."""

from __future__ import annotations

import importlib.util
import sys

import coverage
import pytest

from pytest_iotops.covengine import ENGINES, choose_engine
from pytest_iotops.errors import ConfigError

HAS_SLIPCOVER = importlib.util.find_spec("slipcover") is not None


def _cov(**options: object) -> coverage.Coverage:
    cov = coverage.Coverage(data_file=None, config_file=False)
    for key, value in options.items():
        cov.set_option(key.replace("__", ":"), value)
    return cov


def test_the_default_is_coveragepy_and_says_nothing() -> None:
    engine = choose_engine("coveragepy", _cov(run__branch=True))
    assert (engine.name, engine.reason) == ("coveragepy", "")
    assert ENGINES == ("coveragepy", "sysmon", "slipcover", "auto")


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="sys.monitoring exists from 3.12")
def test_sysmon_before_312_is_a_named_configuration_error() -> None:
    with pytest.raises(ConfigError, match=r"engine = 'sysmon': sys.monitoring needs Python 3.12\+ \(this is 3\."):
        choose_engine("sysmon", _cov(run__branch=False))


@pytest.mark.skipif(not HAS_SLIPCOVER, reason="slipcover not installed")
@pytest.mark.parametrize(
    ("option", "value", "named"),
    [
        ("run__dynamic_context", "test_function", "[run] dynamic_context"),
        ("run__timid", True, "[run] timid"),
        ("run__concurrency", ["gevent"], "concurrency = gevent"),
        ("run__patch", ["subprocess"], "patch = subprocess"),
    ],
)
def test_slipcover_refuses_settings_it_cannot_follow(
    monkeypatch: pytest.MonkeyPatch, option: str, value: object, named: str
) -> None:
    monkeypatch.setattr(sys, "version_info", (3, 11, 7, "final", 0))  # where the collector runs
    cov = _cov(**{option: value})
    with pytest.raises(ConfigError, match=r"engine = 'slipcover'") as caught:
        choose_engine("slipcover", cov)
    assert named in str(caught.value)
    # auto keeps coverage.py's tracer and says why
    auto = choose_engine("auto", _cov(run__branch=True, **{option: value}))
    assert auto.name == "coveragepy"
    assert named in auto.reason


@pytest.mark.skipif(not HAS_SLIPCOVER, reason="slipcover not installed")
def test_auto_picks_slipcover_when_it_can_follow_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "version_info", (3, 11, 7, "final", 0))
    engine = choose_engine("auto", _cov(run__branch=True, run__concurrency=["thread"]))
    assert engine.name == "slipcover"
    assert engine.reason.startswith("auto: ")


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"run__dynamic_context": "test_function"}, "[run] dynamic_context is set"),
        ({"run__timid": True}, "[run] timid is set"),
        ({"run__plugins": ["some_plugin"]}, "[run] plugins is set"),
        ({"run__concurrency": ["thread", "eventlet"]}, "[run] concurrency = eventlet"),
        ({"run__branch": True}, "measures branches with sys.monitoring from Python 3.14"),
    ],
)
def test_sysmon_refuses_what_coverage_py_would_measure_with_another_core(
    monkeypatch: pytest.MonkeyPatch, options: dict[str, object], named: str
) -> None:
    """Where coverage.py would fall back to another core (or skip plugins), naming the run after sys.monitoring
    would be false: a configuration error names the setting (on any Python: the version is 3.12 here)."""
    monkeypatch.setattr(sys, "version_info", (3, 12, 1, "final", 0))
    with pytest.raises(ConfigError, match=r"engine = 'sysmon'") as caught:
        choose_engine("sysmon", _cov(**options))
    assert named in str(caught.value)
    assert choose_engine("auto", _cov(**options)).name != "sysmon"


def test_sysmon_is_set_on_coverage_with_its_context_warning_handled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "version_info", (3, 12, 1, "final", 0))
    cov = _cov(run__branch=False, run__disable_warnings=["no-data-collected"])
    assert choose_engine("sysmon", cov).name == "sysmon"
    assert cov.get_option("run:core") == "sysmon"
    # the phase switch restarts sys.monitoring's events, so coverage.py's "contexts may be incomplete" is moot
    assert cov.get_option("run:disable_warnings") == ["no-data-collected", "no-sysmon-context"]


@pytest.mark.skipif(not HAS_SLIPCOVER, reason="slipcover not installed")
@pytest.mark.parametrize(
    ("version", "explicit", "auto"),
    [
        ((3, 10, 13, "final", 0), "slipcover", "coveragepy"),  # runs when asked; auto wants equal figures
        ((3, 11, 7, "final", 0), "slipcover", "slipcover"),
        ((3, 12, 1, "final", 0), None, "coveragepy"),  # refused: the collector is 3.10/3.11 bytecode
    ],
)
def test_slipcover_by_python_version(
    monkeypatch: pytest.MonkeyPatch, version: tuple[object, ...], explicit: str | None, auto: str
) -> None:
    monkeypatch.setattr(sys, "version_info", version)
    if explicit is None:
        with pytest.raises(ConfigError, match=r"SlipCover collector instruments Python 3.10/3.11 bytecode"):
            choose_engine("slipcover", _cov(run__branch=True))
    else:
        assert choose_engine("slipcover", _cov(run__branch=True)).name == explicit
    chosen = choose_engine("auto", _cov(run__branch=True))
    assert chosen.name == auto
    if version[:2] == (3, 10):
        assert "checked equal to coverage.py's on Python 3.11 (this is 3.10.13)" in chosen.reason
