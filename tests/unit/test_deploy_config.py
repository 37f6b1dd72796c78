"""[tool.iotops.deploy] checks that used to let a run start and fail later, or never promote."""

from __future__ import annotations

import math

import pytest

from pytest_iotops.deploy.config import DeploySettings, parse_deploy
from pytest_iotops.errors import ConfigError

BASE = {"versions": {"v1": ["svc", "{port}"], "v2": ["svc", "{port}"]}, "stable": "v1"}


def test_the_documented_defaults_can_promote() -> None:
    """rate 50 x bake 1 s x 10 % gave 5 requests against min_samples 50: the adaptive bake reaches it."""
    d = parse_deploy(dict(BASE), "pyproject.toml")
    assert d.bake == 1.0
    assert d.load_rate * d.bake_max * min(d.steps) / 100 >= max(m.min_samples for m in d.metrics)


def test_steps_that_can_never_reach_min_samples_are_a_configuration_error() -> None:
    raw = {**BASE, "bake_max": 2, "load": {"rate": 50}, "analysis": {"min_samples": 50}}
    with pytest.raises(ConfigError) as caught:
        parse_deploy(raw, "pyproject.toml")
    message = str(caught.value)
    for named in ("10 % step", "min_samples = 50", "rate 50/s", "bake_max 2 s", "10% of the traffic = 10 requests"):
        assert named in message, message


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("bake", 0),
        ("bake", -1),
        ("bake", math.nan),
        ("bake", math.inf),
        ("bake", "ten"),
        ("bake_max", 0),
        ("request_timeout", -2),
        ("steps", [10, 10, 100]),
        ("steps", [50, 10, 100]),
        ("steps", [10, 50]),
    ],
)
def test_bad_values_are_named(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=f"deploy.{key}"):
        parse_deploy({**BASE, key: value}, "pyproject.toml")


def test_a_long_bake_alone_raises_the_longest_bake_with_it() -> None:
    assert parse_deploy({**BASE, "bake": 45}, "p").bake_max == 45
    with pytest.raises(ConfigError, match=r"bake_max = 10 is shorter than deploy\.bake = 45"):
        parse_deploy({**BASE, "bake": 45, "bake_max": 10}, "p")
    assert DeploySettings().request_timeout == 5.0
