"""The service as users run it: a real process on 127.0.0.1, driven over HTTP."""

import json
import subprocess
import sys
import urllib.request

import pytest


@pytest.fixture
def service():
    proc = subprocess.Popen(
        [sys.executable, "-m", "telemetry.server", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": "src"},
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("listening on "), line
        yield f"http://127.0.0.1:{int(line.split()[-1])}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


@pytest.mark.smoke
def test_health(service):
    with urllib.request.urlopen(f"{service}/health", timeout=5) as response:
        assert json.loads(response.read()) == {"status": "ok", "sensors": 0}


def test_alert_after_hot_reading(service):
    urllib.request.urlopen(f"{service}/readings", data=b"boiler,80,10,1\n", timeout=5).close()
    with urllib.request.urlopen(f"{service}/sensors/boiler", timeout=5) as response:
        assert json.loads(response.read())["alert"] is True
