import json
import socket
import sys
import threading
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer

import pytest
from sensorapi.behaviour import Behaviour
from sensorapi.server import main, make_handler


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
