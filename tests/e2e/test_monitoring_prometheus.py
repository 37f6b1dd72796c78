"""Monitoring signals through a real Prometheus (Debian's, started by the monitor on 127.0.0.1): canaries judged
by the example service's own metrics only — its request counters and latency histogram, scraped, queried with
PromQL — and a step's power against a real error rate through the router."""

from __future__ import annotations

import json

import pytest
from conftest import make_project, require_binary, run_report
from deploy_scenarios import SCENARIOS, run
from deploy_service import ENV, SIGNALS, open_target, version

from pytest_iotops.deploy.canary import CanaryLimits, canary
from pytest_iotops.deploy.judge import MetricSpec
from pytest_iotops.deploy.load import Load

BY_NAME = {s.name: s for s in SCENARIOS}


@pytest.fixture(autouse=True)
def _prometheus() -> None:
    require_binary("prometheus")


@pytest.mark.parametrize("name", ["equal 0.5 % noise", "hang 10 %", "tail 5 % +300 ms"])
def test_canaries_judged_by_prometheus_signals_only(name: str) -> None:
    problem, result = run(BY_NAME[name], "local", seed=3, signals=True)
    assert not problem, result.explain() if result else problem
    assert result is not None
    judged = {m.name for step in result.steps for m in step.metrics}
    assert judged == {"errors", "latency_p99"}, "the router's own measurements must not be judged"


def _toml(value: object) -> str:
    return json.dumps(value)


def test_the_monitoring_table_in_a_project_and_its_record_in_the_run_report(pytester: pytest.Pytester) -> None:
    signals = "\n".join(
        "[[tool.iotops.deploy.monitoring.metrics]]\n" + "\n".join(f"{k} = {_toml(x)}" for k, x in m.items())
        for m in SIGNALS["metrics"]
    )
    versions = {"v1": version("v1"), "broken": version("broken", error_rate=0.2, seed=3)}
    make_project(
        pytester,
        f"""
[tool.iotops.deploy]
stable = "v1"
steps = [20, 100]
env = {{ PYTHONPATH = {_toml(ENV["PYTHONPATH"])} }}
load = {{ rate = 200, concurrency = 16, paths = ["/sensors/boiler"] }}

[tool.iotops.deploy.versions]
{chr(10).join(f"{k} = {_toml(x)}" for k, x in versions.items())}

[tool.iotops.deploy.monitoring]
builtin = false
prometheus = {{ scrape_interval = 0.25 }}

{signals}
""",
        files={
            "tests/e2e/test_deploy.py": """
import pytest

@pytest.mark.e2e
def test_broken_canary_rolls_back(iotops_canary):
    result = iotops_canary.rollout("broken")
    assert not result.promoted
    assert "errors" in result.reason, result.explain()
"""
        },
    )
    result = pytester.runpytest_subprocess("--iotops", "--iotops-no-cov", "-p", "no:randomly")
    result.assert_outcomes(passed=5)
    (deployment,) = run_report(pytester.path)["deployments"]
    metrics = {m["name"]: m for m in deployment["steps"][0]["metrics"]}
    assert set(metrics) == {"errors", "latency_p99"}
    assert metrics["errors"]["verdict"] == "fail"
    assert metrics["errors"]["samples"] >= 50


@pytest.mark.parametrize(("bake", "need", "verdict"), [(0.5, 20, "inconclusive"), (6.0, 400, "fail")])
def test_a_real_rise_is_underpowered_on_a_short_step_and_fails_on_a_long_one(
    bake: float, need: int, verdict: str
) -> None:
    """5 % errors against 0.5 %: a half-second step (about 50 requests each) cannot show it, and says how many
    requests it needs instead of passing; a step with 400 of each fails it."""
    commands = {"stable": version("stable", error_rate=0.005, seed=5), "canary": version("canary", error_rate=0.05)}
    spec = MetricSpec("error_rate", max_value=0.2, max_increase=0.005, min_samples=need, effect=0.05)
    target = open_target("local", commands, seed=5)
    try:
        target.start("stable")
        target.set_weights({"stable": 100})
        with Load(target.url, rate=200, concurrency=8, paths=["/sensors/boiler"], observe=target.observe):
            result = canary(
                target,
                "stable",
                "canary",
                steps=[50, 100],
                bake=bake,
                bake_max=bake if verdict == "inconclusive" else 30.0,
                specs=[spec],
                limits=CanaryLimits(inconclusive_limit=0),
            )
    finally:
        target.close()
    step = result.steps[0]
    assert step.verdict == verdict, result.explain()
    assert not result.promoted
    if verdict == "inconclusive":
        assert "underpowered" in step.reason, result.explain()
    else:
        assert "error rate" in step.reason, result.explain()
