"""The HTTP handler and the store together, server in a thread of this process."""

import json
import threading
import urllib.error
import urllib.request

import pytest

from telemetry.server import serve


@pytest.fixture
def base_url():
    server = serve(0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _request(url, data=None):
    try:
        with urllib.request.urlopen(url, data=data, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_post_then_read_stats(base_url):
    status, body = _request(f"{base_url}/readings", b"s1,20,50,1\ns1,30,50,2\n\ns1,bad,1,3\n")
    assert status == 200
    assert body["accepted"] == 2
    assert body["errors"][0]["line"] == 4
    status, stats = _request(f"{base_url}/sensors/s1")
    assert (status, stats["count"], stats["mean"]) == (200, 2, 25.0)


def test_errors_and_unknown_paths(base_url):
    assert _request(f"{base_url}/readings", b"junk\n")[0] == 400
    assert _request(f"{base_url}/sensors/none")[0] == 404
    assert _request(f"{base_url}/nowhere")[0] == 404
    assert _request(f"{base_url}/elsewhere", b"x")[0] == 404
