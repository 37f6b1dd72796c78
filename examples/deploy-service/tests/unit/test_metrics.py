"""The service's own metrics: what its Prometheus endpoint says after requests arrived and were answered."""

import json

import pytest

pytest.importorskip("prometheus_client")

from sensorapi.server import Metrics  # noqa: E402 - only with prometheus_client installed


def test_an_unanswered_request_shows_as_arrived_but_not_answered():
    metrics = Metrics()
    metrics.arrived.inc(3)
    metrics.answered.labels(code="200").inc()
    metrics.answered.labels(code="500").inc()
    metrics.seconds.observe(0.3)
    text = metrics.text().decode()
    assert "sensorapi_requests_arrived_total 3.0" in text
    assert 'sensorapi_requests_total{code="200"} 1.0' in text
    assert 'sensorapi_requests_total{code="500"} 1.0' in text
    assert 'sensorapi_request_duration_seconds_bucket{le="0.25"} 0.0' in text
    assert 'sensorapi_request_duration_seconds_bucket{le="0.5"} 1.0' in text


def test_an_access_log_line_is_one_json_record(capsys):
    from sensorapi.server import AccessLog

    AccessLog().write("error", "GET /sensors/x 500", status=500, ms=1.5)
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line) == {"level": "error", "msg": "GET /sensors/x 500", "status": 500, "ms": 1.5}
