"""CI runners stop jobs with SIGTERM: a fleet rollout in progress stops its device hosts and its broker (every
process the run started is gone), pytest exits as interrupted and still writes its run report."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest
from conftest import make_project, run_report

from pytest_iotops.deploy.process import owned_by

FLEET = """
[tool.iotops.fleet]
devices = 300
hosts = 2
firmware_size = 4096
clock = "real"
deadline = 3600
[tool.iotops.fleet.policy]
waves = [50, 100]
"""

TEST = """
import pytest

@pytest.mark.e2e
def test_a_long_rollout(iotops_fleet):
    iotops_fleet.rollout("2.0.0")
"""


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT", "SIGHUP"])
def test_a_signal_mid_rollout_stops_the_hosts_and_the_broker(pytester: pytest.Pytester, sig: str) -> None:
    make_project(pytester, FLEET, files={"tests/e2e/test_fleet.py": TEST})
    run = uuid.uuid4().hex

    def as_from_a_terminal() -> None:
        for each in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
            signal.signal(each, signal.SIG_DFL)

    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "--iotops", "--iotops-no-cov", "-p", "no:randomly", "tests/e2e"],
        cwd=pytester.path,
        env={**os.environ, "IOTOPS_RUN": run},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=as_from_a_terminal,  # noqa: PLW1509 - no threads start between fork and exec here
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 120
        while not any("wave 1: start" in line for line in lines):  # the first wave is out: hosts and broker run
            assert proc.poll() is None, "".join(lines)[-3000:]
            assert time.monotonic() < deadline, "the rollout never started:\n" + "".join(lines)[-3000:]
            time.sleep(0.05)
        running = owned_by(run, "IOTOPS_RUN")
        assert len(running) >= 4, running  # pytest, the broker and two device hosts at least
        proc.send_signal(getattr(signal, sig))
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(10)
    if proc.stdout is not None:
        proc.stdout.close()
    output = "".join(lines)
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, output[-3000:]
    assert owned_by(run, "IOTOPS_RUN") == [], output[-2000:]
    report = run_report(pytester.path)
    test = next(t for t in report["tests"] if t["nodeid"].endswith("test_a_long_rollout"))
    assert test["outcome"] == "failed"
