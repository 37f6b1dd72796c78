"""Deployments as tests, end to end through pytester: the fixtures as a user writes them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import make_project

FAULTY = str(Path(__file__).parent / "data" / "services" / "faulty.py")


def _cmd(error_rate: float, seed: int) -> str:
    return f'["{sys.executable}", "{FAULTY}", "{{port}}", "{error_rate}", "0", "{seed}"]'


DEPLOY = f"""
[tool.iotops.deploy]
stable = "v1"
steps = [10, 100]
bake = 2.0
keep_old_for = 0.2
load = {{ rate = 150, concurrency = 16, paths = ["/api"] }}
analysis = {{ error_rate_max = 5, error_rate_max_increase = 2, min_samples = 10 }}

[tool.iotops.deploy.versions]
v1 = {_cmd(0.0, 1)}
v2 = {_cmd(0.0, 2)}
broken = {_cmd(0.2, 3)}
"""

TESTS = """
import pytest

@pytest.mark.e2e
def test_v2_canary(iotops_canary):
    result = iotops_canary.rollout("v2")
    assert result.promoted, result.explain()

@pytest.mark.e2e
def test_broken_canary_rolls_back(iotops_canary):
    result = iotops_canary.rollout("broken")
    assert not result.promoted
    assert result.aborted_at == 10, result.explain()

@pytest.mark.e2e
def test_v2_blue_green(iotops_blue_green):
    result = iotops_blue_green.deploy("v2")
    assert result.active == "v2" and result.availability == 1.0
"""


def test_deployment_fixtures_end_to_end(pytester: pytest.Pytester) -> None:
    make_project(pytester, DEPLOY, files={"tests/e2e/test_deploy.py": TESTS})
    result = pytester.runpytest_subprocess("--iotops", "--iotops-no-cov", "-p", "no:randomly")
    result.assert_outcomes(passed=7)
    assert result.ret == 0


def test_bad_deploy_config_is_a_usage_error(pytester: pytest.Pytester) -> None:
    make_project(pytester, '[tool.iotops.deploy]\nstable = "v9"\n[tool.iotops.deploy.versions]\nv1 = ["svc"]\n')
    result = pytester.runpytest("--iotops", "--iotops-no-cov")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*deploy.versions.v1: the command needs a {port} placeholder*"])
