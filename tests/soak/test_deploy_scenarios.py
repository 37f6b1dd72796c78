"""The faults that hurt in production, on every target: hung requests, a slow tail, a version slow only under
all the traffic, equal versions with the same noise (must be promoted), a stable version that degrades during
the canary (halted, not blamed on the canary), double-forked daemons (nothing left running) and corrupt bodies
caught by a response check. In CI (and with IOTOPS_SOAK_FULL=1) every scenario on every target, three seeds
per cell; locally each scenario once, on a target that rotates with it (every scenario and every target
runs), one seed (``IOTOPS_SOAK_SEEDS=10`` runs the issue's ten); benchmarks/bench_deploy_scenarios.py runs ten
and publishes the table."""

from __future__ import annotations

import os

import pytest
from conftest import require_binary, soak_full, soak_grid, soak_seeds
from deploy_scenarios import SCENARIOS, SIGNAL_SCENARIOS, Scenario, run, unexercised
from deploy_service import TARGETS

SEEDS = soak_seeds(local=1, ci=3, first=1)


@pytest.mark.parametrize(
    ("target_name", "scenario"),
    soak_grid(SCENARIOS, TARGETS),
    ids=[f"{target}-{scenario.name}" for target, scenario in soak_grid(SCENARIOS, TARGETS)],
)
def test_scenario_ends_as_it_must(target_name: str, scenario: Scenario) -> None:
    _check_seeds(scenario, target_name, SEEDS)


#: locally three of the six (about 11 s each): a canary fault rolled back, equal versions promoted, a stable
#: version degrading halted; every one in CI and with IOTOPS_SOAK_FULL=1
LOCAL_SIGNAL_SCENARIOS = ("hang 10 %", "equal 0.5 % noise", "stable degrading")
SIGNALS_ONLY = [
    s for s in SCENARIOS if s.name in SIGNAL_SCENARIOS and (soak_full() or s.name in LOCAL_SIGNAL_SCENARIOS)
]
#: two in CI (each cell takes about 10 s a seed on 2 cores; the benchmark runs 20)
SIGNAL_SEEDS = soak_seeds(local=1, ci=2, first=1)


@pytest.mark.parametrize("scenario", SIGNALS_ONLY, ids=[s.name for s in SIGNALS_ONLY])
def test_scenario_judged_by_prometheus_signals_only(scenario: Scenario) -> None:
    """The same faults judged through the service's own metrics in a real Prometheus, without the router's
    measurements (the scenarios those metrics can show); benchmarks/bench_deploy_scenarios.py --signals runs 20
    seeds."""
    require_binary("prometheus")
    _check_seeds(scenario, "local", SIGNAL_SEEDS, signals=True)


def _check_seeds(scenario: Scenario, target_name: str, seeds: range, signals: bool = False) -> None:
    """Every seed's rollout ends as the scenario must. A seed whose rollout never produced the load its fault
    needs (a loaded machine) is run again with another seed, up to three times; if no seed did, the scenario was
    not tested: a skip saying so locally, a failure in CI."""
    problems, missed = {}, []
    for seed in seeds:
        for attempt in range(3):
            problem, result = run(scenario, target_name, seed + 1000 * attempt, signals=signals)
            why = unexercised(scenario, result) if problem else ""
            if not why:
                break
            missed.append(f"seed {seed + 1000 * attempt}: {why}")
        if problem and not why:
            problems[seed] = f"{problem}\n{result.explain() if result else ''}"
    assert not problems, "\n\n".join(f"seed {seed}: {text}" for seed, text in problems.items())
    if len(missed) == 3 * len(seeds):
        message = "the load this scenario needs was never reached: " + "; ".join(missed)
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
