"""The canary's published truth table (docs/deployments.md), driven by scripted measurements: the canary is a
real process on the local target, but each step's data comes from a script, so every row is exercised exactly."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest
from deploy_service import ENV, version
from truth_table import ROWS

from pytest_iotops.deploy.canary import CanaryLimits, canary
from pytest_iotops.deploy.judge import MetricSpec, Samples
from pytest_iotops.deploy.local import LocalTarget
from pytest_iotops.errors import DeployError

GOOD = Samples((5.0,) * 40, 0)
SPECS = [MetricSpec("error_rate", max_value=0.05, min_samples=20)]
SCRIPT = {
    "pass": (GOOD, GOOD),
    "fail": (Samples((5.0,) * 40, 40), GOOD),
    "inconclusive": (Samples((5.0,) * 3, 0), GOOD),
}


class ScriptedTarget(LocalTarget):
    """Step n (the n-th weight change) measures ``script[n]``: a verdict name, or 'error' (the read fails)."""

    def __init__(self, script: list[str]) -> None:
        super().__init__({"stable": version("stable"), "canary": version("canary")}, env=ENV)
        self.script = script
        self.routes = 0

    def route(self, weights: Mapping[str, int]) -> None:
        super().route(weights)
        self.routes += 1

    def window(self) -> dict[str, Samples]:
        entry = self.script[min(self.routes, len(self.script)) - 1]
        if entry == "error":
            raise DeployError("metrics store unreachable")
        canary_samples, stable_samples = SCRIPT[entry]
        return {"canary": canary_samples, "stable": stable_samples}


@pytest.fixture
def scripted() -> Iterator[type[ScriptedTarget]]:
    made: list[ScriptedTarget] = []

    def make(script: list[str]) -> ScriptedTarget:
        target = ScriptedTarget(script)
        made.append(target)
        target.open()
        target.start("stable")
        target.set_weights({"stable": 100})
        target.routes = 0
        return target

    yield make  # type: ignore[misc]
    for target in made:
        target.close()


@pytest.mark.parametrize(("script", "limits", "decisions", "promoted"), ROWS)
def test_truth_table(
    scripted: type[ScriptedTarget], script: list[str], limits: dict[str, int], decisions: list[str], promoted: bool
) -> None:
    target = scripted(script)  # type: ignore[call-arg]
    result = canary(
        target,
        "stable",
        "canary",
        steps=[50, 100],
        bake=0.05,
        specs=SPECS,
        limits=CanaryLimits(**limits),
        bake_max=0.05,
    )
    assert [s.decision for s in result.steps] == decisions, result.explain()
    assert [s.verdict for s in result.steps] == script[: len(decisions)]
    assert result.promoted is promoted
    assert target.weights == ({"canary": 100} if promoted else {"stable": 100})
    if not promoted:
        assert "canary" not in target.processes
        assert result.rollback_seconds is not None
    if "error" in script:
        assert "metrics store unreachable" in result.explain()


class StallingTarget(ScriptedTarget):
    """Every read of the window gives 10 requests of each version; the canary's are 600 ms slow for the first
    ``stalled`` reads (a stall: every request in flight at once), 5 ms after."""

    def __init__(self, stalled: int) -> None:
        super().__init__([])
        self.stalled, self.reads = stalled, 0

    def window(self) -> dict[str, Samples]:
        self.reads += 1
        slow = self.routes >= 1 and self.reads <= self.stalled
        return {"canary": Samples(((600.0 if slow else 5.0),) * 10, 0), "stable": Samples((5.0,) * 10, 0)}


LATENCY = [MetricSpec("latency_p99", max_increase=50.0, min_samples=20)]


@pytest.mark.parametrize(
    ("stalled", "bake_max", "promoted"),
    [(3, 5.0, True), (10_000, 5.0, False), (10_000, 0.6, False)],
    ids=["one-stall", "slow-canary", "no-time-to-confirm"],
)
def test_a_latency_failure_is_confirmed_on_a_fresh_window(stalled: int, bake_max: float, promoted: bool) -> None:
    """A window failing on latency alone is judged again at the same weight: a stall (samples that are not
    independent) clears, a slow canary fails again at the same step, and a bake too short to confirm keeps the
    failure."""
    target = StallingTarget(stalled)
    target.open()
    try:
        target.start("stable")
        target.set_weights({"stable": 100})
        target.routes, target.reads = 0, 0
        result = canary(target, "stable", "canary", steps=[50, 100], bake=0.3, specs=LATENCY, bake_max=bake_max)
    finally:
        target.close()
    assert result.promoted is promoted, result.explain()
    confirming = [e for e in result.events if e.event == "confirming"]
    assert confirming, result.explain()
    assert "latency_p99" in confirming[0].detail
    if not promoted:
        assert result.aborted_at == 50, result.explain()
        assert len(result.steps) == 1
        assert result.steps[0].canary_requests >= 20
