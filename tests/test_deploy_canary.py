"""Canary on the local target with real processes: healthy versions are promoted, faulty ones are rolled back
at the first step, with exposure no larger than that step's weight."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_iotops.deploy.blue_green import LocalTarget
from pytest_iotops.deploy.canary import canary
from pytest_iotops.deploy.judge import MetricSpec
from pytest_iotops.deploy.load import Load
from pytest_iotops.errors import DeployError

FAULTY = str(Path(__file__).parent / "data" / "services" / "faulty.py")


def _version(error_rate: float = 0.0, extra_ms: float = 0.0, seed: int = 1) -> list[str]:
    return [sys.executable, FAULTY, "{port}", str(error_rate), str(extra_ms), str(seed)]


SPECS = [
    MetricSpec("error_rate", max_value=0.05, max_increase=0.02, min_samples=10),
    MetricSpec("latency_p99", max_value=1000.0, max_increase=100.0, min_samples=10),
]


@pytest.fixture
def target() -> Iterator[LocalTarget]:
    target = LocalTarget(
        {
            "stable": _version(),
            "healthy": _version(seed=2),
            "errors": _version(error_rate=0.2, seed=3),
            "slow": _version(extra_ms=200.0, seed=4),
        }
    )
    target.router.start()
    try:
        target.start("stable")
        target.router.set_weights({"stable": 100})
        yield target
    finally:
        target.close()


def _rollout(target: LocalTarget, version: str):  # type: ignore[no-untyped-def]
    with Load(target.router.url, rate=150, concurrency=16, paths=["/api"]) as load:
        result = canary(target, "stable", version, steps=[10, 50, 100], bake=2.0, specs=SPECS)
    return result, load.result


def test_a_healthy_canary_is_promoted(target: LocalTarget) -> None:
    result, load = _rollout(target, "healthy")
    assert result.promoted, result.explain()
    assert [s["weight"] for s in result.steps] == [10, 50, 100]
    assert target.router.weights == {"healthy": 100}
    assert "stable" not in target.processes
    assert load.availability == 1.0


@pytest.mark.parametrize("fault", ["errors", "slow"])
def test_a_faulty_canary_is_rolled_back_at_the_first_step(target: LocalTarget, fault: str) -> None:
    result, _ = _rollout(target, fault)
    assert not result.promoted
    assert result.aborted_at == 10, result.explain()
    assert target.router.weights == {"stable": 100}
    assert fault not in target.processes
    assert result.canary_requests <= 0.10 * result.total_requests + 5  # exposure no larger than the step
    assert "aborted" in result.explain()


def test_bad_steps_are_refused(target: LocalTarget) -> None:
    with pytest.raises(DeployError, match="ending at 100"):
        canary(target, "stable", "healthy", steps=[10, 50])
