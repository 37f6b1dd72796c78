"""The issue's guarantee, repeated: for every built-in target and every fault, 5 seeded rollouts in CI (1 locally,
IOTOPS_SOAK_SEEDS for any count), each with fresh processes (the seed drives the service's faults and the local
router's choices). A healthy version is promoted every time; a broken one is rolled back at the first step every
time, with exposure no larger than that step's weight and traffic back on the stable version."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import soak_seeds
from deploy_service import FAULTS, SPECS, TARGETS, open_target, share_problem, version

from pytest_iotops.deploy.canary import canary
from pytest_iotops.deploy.load import Load
from pytest_iotops.deploy.result import DeployResult
from pytest_iotops.deploy.target import Target

SEEDS = soak_seeds(local=1, ci=5)
STEPS = [10, 100]
#: the matrix's limits with the default minimum sample: a step bakes until each version served 50 requests,
#: so a 20 % error rate is told from noise at the first step (with 8 it could show 1 error in 16 requests)
MATRIX_SPECS = [replace(s, min_samples=50) for s in SPECS]


def _check(fault: str, result: DeployResult, target: Target, availability: float | None) -> str:
    """The empty string when this repetition met the guarantee, else what went wrong."""
    if fault == "healthy":
        ok = result.promoted and target.weights == {"canary": 100} and availability == 1.0
        return "" if ok else f"not promoted (availability {availability})"
    if result.promoted or target.weights != {"stable": 100} or "canary" in target.processes:
        return f"not rolled back: weights {target.weights}"
    if fault == "crash":
        return "" if result.exposure == 0 and not result.steps else f"exposure {result.exposure} for a crash"
    step = result.steps[0]
    if result.aborted_at != 10 or result.exposure != 10 or step.verdict != "fail":
        return f"aborted at {result.aborted_at} with {step.verdict}"
    return share_problem(step.canary_requests, step.stable_requests, 10)


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("target_name", TARGETS)
def test_five_seeded_rollouts_per_fault(target_name: str, fault: str) -> None:
    problems: dict[int, str] = {}
    for seed in SEEDS:
        commands = {
            "stable": version("stable", seed=seed),
            "canary": version("canary", seed=seed + 100, **FAULTS[fault]),
        }
        target = open_target(target_name, commands, seed=seed)
        try:
            target.start("stable")
            target.set_weights({"stable": 100})
            with Load(target.url, rate=250, concurrency=16, paths=["/sensors/boiler"]) as load:
                result = canary(target, "stable", "canary", steps=STEPS, bake=1.0, specs=MATRIX_SPECS)
            problem = _check(fault, result, target, load.result.availability)
            if problem:
                problems[seed] = f"{problem}\n{result.explain()}"
        finally:
            target.close()
    assert not problems, "\n\n".join(f"seed {seed}: {text}" for seed, text in problems.items())
