"""The canary's published truth table (docs/deployments.md), driven by scripted measurements: the canary is a
real process on the local target, but each step's data comes from a script, so every row is exercised exactly."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest
from deploy_service import ENV, version
from hypothesis import given
from hypothesis import strategies as st

from pytest_iotops.deploy.canary import CanaryLimits, canary
from pytest_iotops.deploy.decision import Tally, decide
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


# (script per weight change, limits, expected decisions per step, promoted)
ROWS = [
    (["pass", "pass"], {}, ["continue", "promote"], True),
    (["fail"], {}, ["abort"], False),
    (["fail", "pass"], {"failure_limit": 1}, ["continue", "promote"], True),
    (["fail", "fail"], {"failure_limit": 1}, ["continue", "abort"], False),
    (["inconclusive", "pass"], {"inconclusive_limit": 1}, ["continue", "promote"], True),
    (["inconclusive", "inconclusive"], {"inconclusive_limit": 1}, ["continue", "abort"], False),
    (["inconclusive"], {"inconclusive_limit": 0}, ["abort"], False),
    (
        ["error", "error", "pass", "pass"],
        {"consecutive_error_limit": 2},
        ["retry", "retry", "continue", "promote"],
        True,
    ),
    (["error", "error", "error"], {"consecutive_error_limit": 2}, ["retry", "retry", "abort"], False),
    (
        ["error", "pass", "error", "pass"],
        {"consecutive_error_limit": 1},
        ["retry", "continue", "retry", "promote"],
        True,
    ),
    (["error"], {"consecutive_error_limit": 0}, ["abort"], False),
]


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


def _walk(script: list[str], limits: CanaryLimits, steps: int = 2) -> tuple[list[str], bool]:
    """The canary's loop without processes or clocks: each scripted verdict through ``decide``."""
    tally, decisions, index = Tally(), [], 0
    for verdict in script:
        tally = decide(verdict, tally, limits, last=index == steps - 1)
        decisions.append(tally.decision)
        if tally.decision in ("abort", "promote"):
            break
        index += verdict != "error"
    return decisions, decisions[-1] == "promote"


@pytest.mark.parametrize(("script", "limits", "decisions", "promoted"), ROWS)
def test_truth_table_pure(script: list[str], limits: dict[str, int], decisions: list[str], promoted: bool) -> None:
    """The same rows through the pure decision function, in microseconds."""
    assert _walk(script, CanaryLimits(**limits)) == (decisions, promoted)


@given(
    script=st.lists(st.sampled_from(["pass", "marginal", "fail", "inconclusive", "error"]), min_size=1, max_size=12),
    failure_limit=st.integers(0, 3),
    inconclusive_limit=st.integers(0, 3),
    error_limit=st.integers(0, 3),
    steps=st.integers(1, 5),
)
def test_decisions_never_promote_past_a_limit(
    script: list[str], failure_limit: int, inconclusive_limit: int, error_limit: int, steps: int
) -> None:
    limits = CanaryLimits(failure_limit, inconclusive_limit, error_limit)
    decisions, promoted = _walk(script, limits, steps)
    seen = script[: len(decisions)]
    assert seen.count("fail") <= failure_limit or decisions[-1] == "abort"
    assert seen.count("inconclusive") <= inconclusive_limit or decisions[-1] == "abort"
    run = 0
    for verdict, decision in zip(seen, decisions, strict=True):
        run = run + 1 if verdict == "error" else 0
        assert (decision == "retry") == (verdict == "error" and run <= error_limit)
    # promoted only after a measured decision on the last step, never on an error
    assert not promoted or (seen[-1] != "error" and sum(v != "error" for v in seen) == steps)
