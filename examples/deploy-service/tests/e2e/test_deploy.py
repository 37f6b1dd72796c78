"""Releases as tests: each deployment runs against real processes behind the configured traffic router."""

import shutil

import pytest


@pytest.mark.e2e
def test_v2_canary_is_promoted(iotops_canary):
    result = iotops_canary.rollout("v2")
    assert result.promoted, result.explain()
    assert iotops_canary.target.weights == {"v2": 100}


@pytest.mark.e2e
@pytest.mark.parametrize("broken", ["v2-errors", "v2-slow", "v2-flapping", "v2-corrupt"])
def test_a_broken_canary_is_rolled_back_at_the_first_step(iotops_canary, broken):
    result = iotops_canary.rollout(broken)
    assert not result.promoted
    assert result.aborted_at == 10, result.explain()
    if broken == "v2-corrupt":  # its 200s have half a body: only the response check sees it
        assert any("body is not JSON" in reason for reason in result.check_failures), result.explain()
    assert iotops_canary.target.weights == {"v1": 100}


@pytest.mark.e2e
def test_a_build_that_cannot_start_never_gets_traffic(iotops_canary):
    result = iotops_canary.rollout("v2-crash")
    assert not result.promoted and result.exposure == 0
    assert "cannot read configuration" in result.explain()


@pytest.mark.e2e
def test_v2_blue_green_loses_no_request(iotops_blue_green):
    result = iotops_blue_green.deploy("v2")
    assert result.active == "v2" and result.availability == 1.0, result.explain()


#: the service's own metrics (its /metrics endpoint, scraped by a Prometheus the fixture starts) as the only
#: judge: requests whose outcome was not a 200 (a 5xx, or a hang past the service's deadline), and the tail of
#: its latency histogram
VERSION = '{version="{{ version }}"}'
SIGNALS = {
    "builtin": False,
    "metrics": [
        {
            "name": "errors",
            "type": "ratio",
            "events": 'sum(sensorapi_requests_total{version="{{ version }}",code!="200"}) or vector(0)',
            "total": f"sum(sensorapi_requests_total{VERSION})",
            "max_value": 0.01,
            "max_increase": 0.005,
        },
        {
            "name": "latency_p99",
            "type": "histogram",
            "buckets": f"sum by (le) (sensorapi_request_duration_seconds_bucket{VERSION})",
            "max_increase": 100,
        },
    ],
}
NO_PROMETHEUS = shutil.which("prometheus") is None


@pytest.mark.e2e
@pytest.mark.skipif(NO_PROMETHEUS, reason="prometheus is not installed (apt-get install prometheus)")
@pytest.mark.iotops_deploy(monitoring=SIGNALS)
def test_a_hanging_canary_is_caught_by_its_own_metrics(iotops_canary):
    result = iotops_canary.rollout("v2-hangs")
    assert not result.promoted
    assert "errors" in result.reason, result.explain()


def _proxy(name):
    missing = shutil.which(name) is None and shutil.which(name, path="/usr/sbin") is None
    return pytest.param(
        name,
        marks=[
            pytest.mark.iotops_deploy(target=name),
            pytest.mark.skipif(missing, reason=f"{name} is not installed (apt-get install {name})"),
        ],
    )


@pytest.mark.e2e
@pytest.mark.parametrize("router", [_proxy("nginx"), _proxy("haproxy")])
def test_v2_blue_green_behind_a_real_proxy(iotops_blue_green, router):
    assert iotops_blue_green.target.name == router
    result = iotops_blue_green.deploy("v2")
    assert result.active == "v2" and result.availability == 1.0, result.explain()
