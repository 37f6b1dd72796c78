"""Versions as real processes on 127.0.0.1: healthy start, clear failures, nothing left running."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import ROOT

from pytest_iotops.deploy.process import start_version
from pytest_iotops.errors import DeployError

SERVICE = ROOT / "examples" / "python-app" / "src"
COMMAND = [sys.executable, "-m", "telemetry.server", "--port", "{port}"]
ENV = {**os.environ, "PYTHONPATH": str(SERVICE)}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_start_healthy_then_stop_leaves_nothing() -> None:
    version = start_version("v1", COMMAND, env=ENV, timeout=30)
    try:
        assert version.running()
        assert version.health[-1] == "200"
        assert str(version.port) in version.argv
    finally:
        version.stop()
    assert not version.running()
    assert not _alive(version.proc.pid)
    assert not version.log.exists()


def test_a_version_that_exits_at_once_shows_its_output() -> None:
    crash = [sys.executable, "-c", "import sys; sys.stderr.write('config file missing'); sys.exit(3)"]
    with pytest.raises(DeployError, match=r"version 'v2' exited with code 3 while starting") as info:
        start_version("v2", crash, timeout=10)
    assert "config file missing" in str(info.value)


def test_health_never_green_times_out_with_the_last_answers() -> None:
    # the service answers, but not on the health path: 404s until the deadline
    with pytest.raises(DeployError, match=r"was not healthy within 1.5s: .*/ready answered 404") as info:
        start_version("v3", COMMAND, env=ENV, health_path="/ready", timeout=1.5)
    assert "404 Not Found" in str(info.value)


def test_port_in_use_and_missing_program() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(DeployError, match=f"port {port} on 127.0.0.1 is already in use"):
            start_version("v4", COMMAND, env=ENV, port=port)
    logs = set(Path(tempfile.gettempdir()).glob("iotops-v5-*.log"))
    with pytest.raises(DeployError, match="cannot start 'no-such-service-iotops'"):
        start_version("v5", ["no-such-service-iotops", "{port}"])
    assert set(Path(tempfile.gettempdir()).glob("iotops-v5-*.log")) == logs  # its output file is not left behind
