import json
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer

import pytest
from sensorapi.behaviour import Behaviour
from sensorapi.server import AccessLog, main, make_handler


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(Behaviour("v9", flap_every=2)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_a_sensor_reading_names_the_version(server):
    status, body = _get(server + "/sensors/boiler")
    assert status == 200 and body["version"] == "v9" and body["sensor"] == "boiler"


def test_unknown_routes_are_404(server):
    assert _get(server + "/nope")[0] == 404


def test_health_flaps_as_configured(server):
    assert [_get(server + "/health")[0] for _ in range(4)] == [200, 503, 200, 503]


def test_a_crashing_build_exits_with_its_reason(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--port", "1", "--version", "v2-crash", "--crash"])
    assert "cannot read configuration" in str(exc.value.code)


@pytest.fixture
def observed(capsys):
    """A version with its metrics endpoint and JSON access log, one request in five answered 500, one in ten
    hanging."""
    behaviour = Behaviour("v7", error_rate=0.2, hang_rate=0.1, seed=3)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(behaviour, AccessLog()))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_metrics_and_access_log_count_every_outcome(observed, capsys):
    pytest.importorskip("prometheus_client")
    statuses = []
    for _ in range(40):
        try:
            with urllib.request.urlopen(observed + "/sensors/attic", timeout=1.0) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as err:
            statuses.append(err.code)
        except (TimeoutError, urllib.error.URLError):  # held past the service's 0.5 s deadline
            statuses.append("hang")
    deadline = time.monotonic() + 10  # a hang gets its outcome at the service's own deadline
    while time.monotonic() < deadline:
        with urllib.request.urlopen(observed + "/metrics", timeout=5) as response:
            text = response.read().decode()
        if f'code="timeout"}} {float(statuses.count("hang"))}' in text or "hang" not in statuses:
            break
        time.sleep(0.05)
    assert f"sensorapi_requests_arrived_total {float(len(statuses))}" in text
    assert f'sensorapi_requests_total{{code="500"}} {float(statuses.count(500))}' in text
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sum(1 for r in lines if r["level"] == "error") == statuses.count(500) + statuses.count("hang")
    assert all(r["msg"].startswith("GET /sensors/attic") for r in lines)
