"""The example deploy service (examples/deploy-service) as versions for the deployment tests: healthy, or one
of the faults a deployment must catch."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from conftest import require_binary

from pytest_iotops.deploy.judge import MetricSpec
from pytest_iotops.deploy.stats import binomial_upper
from pytest_iotops.deploy.target import Target
from pytest_iotops.deploy.targets import make_target
from pytest_iotops.registry import plugin_manager

SRC = Path(__file__).resolve().parents[1] / "examples" / "deploy-service" / "src"
ENV = {**os.environ, "PYTHONPATH": str(SRC)}
TARGETS = ("local", "nginx", "haproxy")
#: the faults of the issue, as options of the service
FAULTS: dict[str, dict[str, Any]] = {
    "healthy": {},
    "errors": {"error_rate": 0.2},
    "slow": {"extra_ms": 200.0},
    "flapping": {"flap_every": 3},
    "crash": {"crash": True},
}
SPECS = [
    MetricSpec("error_rate", max_value=0.05, max_increase=0.02, min_samples=8),
    MetricSpec("latency_p99", max_value=1000.0, max_increase=100.0, min_samples=8),
]


def version(
    name: str = "v1",
    *,
    error_rate: float = 0.0,
    extra_ms: float = 0.0,
    flap_every: int = 0,
    seed: int = 1,
    crash: bool = False,
) -> list[str]:
    argv = [sys.executable, "-m", "sensorapi.server", "--port", "{port}", "--version", name, "--seed", str(seed)]
    argv += ["--error-rate", str(error_rate), "--extra-ms", str(extra_ms), "--flap-every", str(flap_every)]
    return argv + (["--crash"] if crash else [])


def open_target(name: str, commands: dict[str, list[str]], seed: int = 0, request_timeout: float = 5.0) -> Target:
    """A target of the named kind, opened; a missing nginx/haproxy skips locally and fails in CI."""
    if name != "local":
        require_binary(name)
    options = {"seed": seed} if name == "local" else {}
    pm = plugin_manager(load_entrypoints=False)
    target = make_target(name, pm, commands, env=ENV, options=options, request_timeout=request_timeout)
    return target.open()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def share_problem(canary_requests: int, stable_requests: int, weight: int) -> str:
    """The empty string when the canary's share of a step fits its weight, else what is wrong. nginx splits by a
    random request id and the local router draws each request, so the share is binomial; the bake stops once the
    canary has its minimum sample, which favours a lucky early streak (50 of 329 at 10 % happened in CI, p = 0.002),
    so a fixed bound such as 15 % fails now and then. A router sending twice the weight gives p < 1e-6 here."""
    total = canary_requests + stable_requests
    if not total:
        return "no requests in the step"
    p_value = binomial_upper(canary_requests, total, weight / 100)
    if p_value >= 1e-6:
        return ""
    return f"canary share {canary_requests / total:.2%} at the {weight} % step (binomial p = {p_value:.2g})"


#: the example service's own metrics as the judge's only signals ([tool.iotops.deploy.monitoring]): requests whose
#: outcome was not a 200 (a 5xx, or a hang past the service's own deadline) over requests with an outcome, and the
#: tail of its latency histogram; Prometheus (Debian's) started by the monitor and scraping each version
_V = '{version="{{ version }}"}'
SIGNALS: dict[str, Any] = {
    "builtin": False,
    "prometheus": {"scrape_interval": 0.25},
    "metrics": [
        {
            "name": "errors",
            "type": "ratio",
            "events": 'sum(sensorapi_requests_total{version="{{ version }}",code!="200"}) or vector(0)',
            "total": f"sum(sensorapi_requests_total{_V})",
            "max_value": 0.01,
            "max_increase": 0.005,
        },
        {
            "name": "latency_p99",
            "type": "histogram",
            "buckets": f"sum by (le) (sensorapi_request_duration_seconds_bucket{_V})",
            "max_increase": 50,
        },
    ],
}
