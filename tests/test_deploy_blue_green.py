"""Blue-green on the local target with real processes: zero failed requests under load, clean rollback."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_iotops.deploy.blue_green import LocalTarget, blue_green
from pytest_iotops.deploy.load import Load
from pytest_iotops.errors import DeployError

SERVICE = Path(__file__).resolve().parents[1] / "examples" / "python-app" / "src"
SERVE = [sys.executable, "-m", "telemetry.server", "--port", "{port}"]
CRASH = [sys.executable, "-c", "import sys; sys.stderr.write('v3: bad config'); sys.exit(2)"]


@pytest.fixture
def target() -> Iterator[LocalTarget]:
    target = LocalTarget({"v1": SERVE, "v2": SERVE, "v3": CRASH}, env={**os.environ, "PYTHONPATH": str(SERVICE)})
    target.router.start()
    try:
        yield target
    finally:
        target.close()
        assert all(not p.running() for p in target.processes.values())


def test_switch_under_continuous_load_fails_no_request(target: LocalTarget) -> None:
    v1 = target.start("v1")
    target.router.set_weights({"v1": 100})
    with Load(target.router.url, rate=80, concurrency=4, paths=["/health", "/sensors/none"]) as load:
        result = blue_green(target, "v1", "v2", keep_old_for=0.3)
        time.sleep(0.3)  # keep the load going after the switch: requests now reach v2
    assert result.active == "v2"
    assert result.promoted
    assert load.result.requests > 30
    assert load.result.availability == 1.0, load.result.by_status
    assert not v1.running()
    assert [e["event"] for e in result.events] == ["started", "switched", "retired"]
    assert "100 % of traffic to v2" in result.explain()


def test_a_version_that_cannot_start_leaves_traffic_where_it_was(target: LocalTarget) -> None:
    v1 = target.start("v1")
    target.router.set_weights({"v1": 100})
    with pytest.raises(DeployError, match=r"traffic stays on 'v1'(.|\n)*v3: bad config"):
        blue_green(target, "v1", "v3")
    assert target.router.weights == {"v1": 100}
    assert v1.running()
    assert "v3" not in target.processes
    with pytest.raises(DeployError, match=r"unknown version 'v9'"):
        blue_green(target, "v1", "v9")
