"""Deployments as tests, end to end through pytester: the fixtures as a user writes them, their records in the
run report (also from xdist workers), live progress lines, per-test overrides, and clean-up after a failing
test, an exception and KeyboardInterrupt mid-rollout."""

from __future__ import annotations

import json
import os

import pytest
from conftest import make_project, run_iotops, run_report
from deploy_service import ENV, alive, version


def _toml(versions: dict[str, list[str]]) -> str:
    return "\n".join(f"{name} = {json.dumps(argv)}" for name, argv in versions.items())


DEPLOY = f"""
[tool.iotops.deploy]
stable = "v1"
steps = [10, 100]
bake = 1.0
keep_old_for = 0.2
env = {{ PYTHONPATH = {json.dumps(ENV["PYTHONPATH"])} }}
load = {{ rate = 200, concurrency = 16, paths = ["/sensors/boiler"] }}
# what is judged here is errors (the broken version's 20 %); latency is the judge's own tests' business. With
# two deployments at once under xdist beside the outer suite's workers on two cores, a healthy v2's p99 was
# once 50 ms over v1's (CI, 2026-12-04): load, not the fixtures
analysis = {{ error_rate_max = 5, error_rate_max_increase = 2, min_samples = 8, latency_p99_max_increase_ms = 500 }}

[tool.iotops.deploy.versions]
{_toml({"v1": version("v1"), "v2": version("v2", seed=2), "broken": version("broken", error_rate=0.2, seed=3)})}
"""

TESTS = """
import pytest

@pytest.mark.e2e
def test_v2_canary(iotops_canary):
    result = iotops_canary.rollout("v2", steps=[10, 50, 100], bake=1.0)
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


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_deployment_fixtures_end_to_end_with_records_in_the_run_report(
    pytester: pytest.Pytester, workers: list[str]
) -> None:
    make_project(pytester, DEPLOY, files={"tests/e2e/test_deploy.py": TESTS})
    result = pytester.runpytest_subprocess("--iotops", "--iotops-no-cov", "-p", "no:randomly", *workers)
    result.assert_outcomes(passed=7)
    assert result.ret == 0
    if not workers:  # a line per step in pytest's own output (xdist workers have no terminal)
        result.stdout.fnmatch_lines(
            ["canary v2 step 1/3  10 %: * requests, errors 0.0%, p99 *; pass -> continue", "*step 3/3 100 %*promote"]
        )
        result.stdout.fnmatch_lines(["canary broken step 1/2  10 %: *; fail -> abort"])
    report = run_report(pytester.path)
    deployments = {d["test"].split("::")[-1]: d for d in report["deployments"]}
    assert set(deployments) == {"test_v2_canary", "test_broken_canary_rolls_back", "test_v2_blue_green"}
    canary = deployments["test_v2_canary"]
    assert (canary["strategy"], canary["outcome"], canary["active"], canary["exposure"]) == (
        "canary",
        "promoted",
        "v2",
        100,
    )
    assert [s["weight"] for s in canary["steps"]] == [10, 50, 100]
    assert all(m["threshold"] for s in canary["steps"] for m in s["metrics"])
    broken = deployments["test_broken_canary_rolls_back"]
    assert (broken["outcome"], broken["active"], broken["exposure"]) == ("rolled_back", "v1", 10)
    assert broken["steps"][0]["verdict"] == "fail"
    assert "error rate" in broken["steps"][0]["reason"]
    assert broken["rollback_seconds"] < 1.0
    assert any(e["event"] == "aborted" for e in broken["events"])
    green = deployments["test_v2_blue_green"]
    assert (green["strategy"], green["availability"], green["outcome"]) == ("blue-green", 1.0, "promoted")
    html = (pytester.path / "iotops-reports" / "run-report.html").read_text()
    assert "3 deployments" in html
    assert "not configured" not in html
    md = (pytester.path / "iotops-reports" / "summary.md").read_text()
    assert "| canary | v1 → broken | local | rolled back at 10 % |" in md


CLEANUP = """
import json, os, signal, threading, time
import pytest

def _record(target, name):
    pids = [p.proc.pid for p in target.processes.values()]
    with open(os.environ["IOTOPS_TEST_PIDS"], "a") as out:
        out.write(json.dumps({"test": name, "pids": pids}) + "\\n")

@pytest.fixture
def watch(request, iotops_deploy_target):
    yield
    # runs before the target's own teardown: where is the traffic now?
    with open(os.environ["IOTOPS_TEST_PIDS"], "a") as out:
        out.write(json.dumps({"test": request.node.name, "weights": iotops_deploy_target.weights}) + "\\n")

@pytest.mark.e2e
def test_fails_after_a_rollout(iotops_canary, watch):
    # bakes long enough to be promoted on a loaded machine (0.3 s could be too little data: inconclusive twice)
    iotops_canary.rollout("v2", steps=[10, 100], bake=1.0)
    _record(iotops_canary.target, "test_fails_after_a_rollout")
    assert False, "the test's own assertion"

@pytest.mark.e2e
def test_exception_mid_rollout(iotops_canary, watch, monkeypatch):
    import pytest_iotops.deploy.judge as judge
    def boom(*args, **kwargs):
        _record(iotops_canary.target, "test_exception_mid_rollout")
        raise RuntimeError("monitoring backend exploded")
    monkeypatch.setattr(judge, "judge", boom)
    iotops_canary.rollout("v2", steps=[10, 100], bake=0.3)

@pytest.mark.e2e
def test_interrupted_mid_rollout(iotops_canary, watch):
    def interrupt():
        deadline = time.monotonic() + 60
        while "v2" not in iotops_canary.target.weights and time.monotonic() < deadline:
            time.sleep(0.01)  # Ctrl-C once v2 has traffic, however long it took to start
        _record(iotops_canary.target, "test_interrupted_mid_rollout")
        os.kill(os.getpid(), signal.SIGINT)
    # a background job starts with SIGINT ignored: stand in for a terminal, where Ctrl-C arrives
    signal.signal(signal.SIGINT, signal.default_int_handler)
    threading.Thread(target=interrupt, daemon=True).start()
    iotops_canary.rollout("v2", steps=[10, 100], bake=2.0)
"""


def test_every_process_is_gone_and_traffic_is_on_stable_after_failure_exception_and_interrupt(
    pytester: pytest.Pytester,
) -> None:
    make_project(pytester, DEPLOY, files={"tests/e2e/test_cleanup.py": CLEANUP})
    log = pytester.path / "pids.jsonl"
    os.environ["IOTOPS_TEST_PIDS"] = str(log)
    try:
        result = pytester.runpytest_subprocess("--iotops", "--iotops-no-cov", "-p", "no:randomly", "-k", "cleanup")
    finally:
        del os.environ["IOTOPS_TEST_PIDS"]
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*KeyboardInterrupt*"])
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    started = {e["test"]: e["pids"] for e in entries if "pids" in e}
    weights = {e["test"]: e["weights"] for e in entries if "weights" in e}
    assert set(started) == {"test_fails_after_a_rollout", "test_exception_mid_rollout", "test_interrupted_mid_rollout"}
    # the failing test had promoted v2 before its assertion; the other two were stopped mid-rollout
    assert weights == {
        "test_fails_after_a_rollout": {"v2": 100},
        "test_exception_mid_rollout": {"v1": 100},
        "test_interrupted_mid_rollout": {"v1": 100},
    }
    leftover = [pid for pids in started.values() for pid in pids if alive(pid)]
    assert not leftover, f"still running after the session: {leftover}"
    assert all(len(pids) == 2 for test, pids in started.items() if test != "test_fails_after_a_rollout")
    # the run report still tells what happened to the deployments that did not end on their own decision
    recorded = {d["test"].split("::")[-1]: d for d in run_report(pytester.path)["deployments"]}
    assert recorded["test_fails_after_a_rollout"]["outcome"] == "promoted"
    failed = recorded["test_exception_mid_rollout"]
    assert (failed["outcome"], failed["active"]) == ("error", "v1")
    assert "interrupted by RuntimeError: monitoring backend exploded" in failed["reason"]


OVERRIDES = """
import pytest
from pytest_iotops.errors import ConfigError, DeployError

@pytest.mark.e2e
@pytest.mark.iotops_deploy(stable="v2")
def test_marker_overrides_the_stable_version(iotops_blue_green):
    assert iotops_blue_green.active == "v2"
    result = iotops_blue_green.deploy("v1", keep_old_for=0.1)
    assert result.promoted

@pytest.mark.e2e
def test_unknown_or_bad_per_call_settings_are_named(iotops_canary):
    with pytest.raises(ConfigError, match="deployment arguments: unknown key 'deploy.baek'"):
        iotops_canary.rollout("v2", baek=2)
    with pytest.raises(ConfigError, match="deployment arguments: deploy.analysis.failure_limit = -1"):
        iotops_canary.rollout("v2", analysis={"failure_limit": -1})
    # steps and bake are checked too, before any traffic moves
    for bad, named in ((dict(bake="ten"), "deploy.bake"), (dict(bake=float("nan")), "deploy.bake"),
                       (dict(bake=0), "deploy.bake"), (dict(steps=[10, 10, 100]), "deploy.steps")):
        with pytest.raises(ConfigError, match=named):
            iotops_canary.rollout("v2", **bad)
    assert iotops_canary.target.weights == {"v1": 100} and set(iotops_canary.target.processes) == {"v1"}

@pytest.mark.e2e
def test_per_call_analysis_overrides_merge_into_the_configured_table(iotops_canary):
    # a 20 % error rate passes once the limits (the clients' availability too) are loosened for this call only
    result = iotops_canary.rollout(
        "broken",
        steps=[10, 100],
        analysis={"error_rate_max": 50, "error_rate_max_increase": 50, "availability_min": 50},
    )
    assert result.promoted, result.explain()
    metric = result.steps[0].metrics[0]
    assert metric.name == "error_rate" and metric.threshold.startswith("<= 50.00%")
    assert result.steps[0].metrics[0].samples >= 8  # min_samples = 8 still comes from the configuration

@pytest.mark.e2e
def test_unknown_version_is_named(iotops_canary):
    with pytest.raises(DeployError, match="unknown version 'v3'; configured: \\\\['broken', 'v1', 'v2'\\\\]"):
        iotops_canary.rollout("v3")

pytestmark = pytest.mark.iotops_deploy(load={"rate": 150}, bake=0.3)

@pytest.mark.iotops_deploy(bake=0.2)
class TestMarkers:
    @pytest.mark.e2e
    @pytest.mark.iotops_deploy(load={"concurrency": 3})
    def test_markers_merge_closest_first_key_by_key(self, iotops_canary):
        d = iotops_canary.settings
        assert (d.bake, d.load_rate, d.load_concurrency) == (0.2, 150, 3)
"""

BAD_MARKER = """
import pytest

@pytest.mark.e2e
@pytest.mark.iotops_deploy(stabel="v2")
def test_bad_marker(iotops_canary):
    pass
"""


def test_per_test_overrides_and_bad_input(pytester: pytest.Pytester) -> None:
    make_project(pytester, DEPLOY, files={"tests/e2e/test_overrides.py": OVERRIDES})
    result = pytester.runpytest_subprocess("--iotops", "--iotops-no-cov", "-p", "no:randomly", "-k", "overrides")
    result.assert_outcomes(passed=5)


@pytest.mark.parametrize("iotops", [True, False], ids=["with-iotops", "without"])
def test_a_bad_marker_is_a_usage_error_before_anything_runs(pytester: pytest.Pytester, iotops: bool) -> None:
    make_project(pytester, DEPLOY, files={"tests/e2e/test_bad.py": BAD_MARKER})
    result = pytester.runpytest_subprocess(*(["--iotops", "--iotops-no-cov"] if iotops else []), "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    result.stderr.fnmatch_lines(["*::test_bad_marker: @pytest.mark.iotops_deploy: unknown key 'deploy.stabel'*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_bad_deploy_config_is_a_usage_error(pytester: pytest.Pytester) -> None:
    make_project(pytester, '[tool.iotops.deploy]\nstable = "v9"\n[tool.iotops.deploy.versions]\nv1 = ["svc"]\n')
    result = pytester.runpytest("--iotops", "--iotops-no-cov")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*deploy.versions.v1: the command needs a {port} placeholder*"])


def test_deployments_of_shards_are_merged_into_one_report(pytester: pytest.Pytester) -> None:
    make_project(pytester, DEPLOY, files={"tests/e2e/test_deploy.py": TESTS})
    for k in (1, 2):
        part = pytester.runpytest_subprocess(
            "--iotops", "--iotops-no-cov", "--iotops-shard", f"{k}/2", "--iotops-reports-dir", f"part{k}"
        )
        assert part.ret == 0, part.stdout.str()
    in_parts = sum(len(run_report(pytester.path, f"part{k}")["deployments"]) for k in (1, 2))
    merged = run_iotops(
        pytester.path, "merge", "part1/run-report.json", "part2/run-report.json", "--expect", "2", "--reports-dir", "m"
    )
    assert merged.returncode == 0, merged.stdout + merged.stderr
    deployments = run_report(pytester.path, "m")["deployments"]
    assert in_parts == len(deployments) == 3
    assert sorted(d["test"].split("::")[-1] for d in deployments) == [
        "test_broken_canary_rolls_back",
        "test_v2_blue_green",
        "test_v2_canary",
    ]


SIGNALLED = """
import os, threading, time
from pathlib import Path
import pytest

@pytest.mark.e2e
@pytest.mark.iotops_deploy(target=os.environ["IOTOPS_SIGNAL_TARGET"])
def test_signalled_mid_deployment(iotops_canary, iotops_blue_green):
    def mark():
        # signalled once v2 has traffic (a fixed delay could fire before it started, on a loaded machine)
        deadline = time.monotonic() + 60
        while "v2" not in iotops_canary.target.weights and time.monotonic() < deadline:
            time.sleep(0.01)
        Path("started").write_text(str(iotops_canary.target.weights))
    threading.Thread(target=mark, daemon=True).start()
    if os.environ["IOTOPS_SIGNAL_STRATEGY"] == "canary":
        iotops_canary.rollout("v2", steps=[10, 100], bake=20.0)
    else:
        iotops_blue_green.deploy("v2", keep_old_for=20.0)
"""

SIGNAL_CASES = [
    (sig, target, strategy)
    for sig in ("SIGTERM", "SIGINT", "SIGHUP")
    for target in ("local", "nginx", "haproxy")
    for strategy in ("canary", "blue-green")
]


@pytest.mark.parametrize(("sig", "target", "strategy"), SIGNAL_CASES, ids=["-".join(c) for c in SIGNAL_CASES])
def test_a_signal_mid_deployment_rolls_back_stops_everything_and_writes_the_report(
    pytester: pytest.Pytester, sig: str, target: str, strategy: str
) -> None:
    """CI runners stop jobs with SIGTERM: traffic back on stable, every process gone (servers, versions and
    their daemons), and the run report written with the deployment interrupted and the test not passed."""
    import signal
    import subprocess
    import sys
    import time
    import uuid

    from conftest import require_binary

    from pytest_iotops.deploy.process import owned_by

    if target != "local":
        require_binary(target)
    make_project(pytester, DEPLOY, files={"tests/e2e/test_signal.py": SIGNALLED})
    run = uuid.uuid4().hex
    env = {**os.environ, "IOTOPS_SIGNAL_TARGET": target, "IOTOPS_SIGNAL_STRATEGY": strategy, "IOTOPS_RUN": run}

    def as_from_a_terminal() -> None:
        # a job started in the background (nohup, `&`) inherits SIGINT and SIGHUP ignored: the run under test
        # gets the dispositions it would have in a terminal or a CI runner
        for each in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
            signal.signal(each, signal.SIG_DFL)

    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "--iotops", "--iotops-no-cov", "-p", "no:randomly", "-p", "no:cacheprovider"],
        cwd=pytester.path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=as_from_a_terminal,  # noqa: PLW1509 - no threads start between fork and exec here
    )
    try:
        deadline = time.monotonic() + 60
        while not (pytester.path / "started").exists():
            assert proc.poll() is None, proc.communicate()[0].decode()[-3000:]
            assert time.monotonic() < deadline, "the deployment never started"
            time.sleep(0.05)
        running = owned_by(run, "IOTOPS_RUN")
        assert len(running) >= 3, running  # pytest and both versions at least: the final check can see them
        proc.send_signal(getattr(signal, sig))
        output = proc.communicate(timeout=60)[0].decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, output[-3000:]
    # every process the run started inherits IOTOPS_RUN (versions, their daemons, nginx, HAProxy): none is left
    assert owned_by(run, "IOTOPS_RUN") == [], output[-2000:]
    report = run_report(pytester.path)
    deployment = report["deployments"][0]
    assert (deployment["outcome"], deployment["active"]) == ("interrupted", "v1"), output[-3000:]
    test = next(t for t in report["tests"] if t["nodeid"].endswith("test_signalled_mid_deployment"))
    assert test["outcome"] == "failed"
    assert test["message"] == f"interrupted ({'Ctrl-C' if sig == 'SIGINT' else sig})"
