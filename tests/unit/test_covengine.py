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
def test_slipcover_refuses_settings_it_cannot_follow(option: str, value: object, named: str) -> None:
    cov = _cov(**{option: value})
    with pytest.raises(ConfigError, match=r"engine = 'slipcover'") as caught:
        choose_engine("slipcover", cov)
    assert named in str(caught.value)
    # auto keeps coverage.py's tracer and says why (on 3.12+ without branches sysmon would come first)
    auto = choose_engine("auto", _cov(run__branch=True, **{option: value}))
    if sys.version_info < (3, 14):
        assert auto.name == "coveragepy"
        assert named in auto.reason


@pytest.mark.skipif(not HAS_SLIPCOVER or sys.version_info >= (3, 14), reason="auto picks sysmon on 3.14+")
def test_auto_picks_slipcover_when_it_can_follow_the_settings() -> None:
    engine = choose_engine("auto", _cov(run__branch=True, run__concurrency=["thread"]))
    assert engine.name == "slipcover"
    assert engine.reason.startswith("auto: ")
