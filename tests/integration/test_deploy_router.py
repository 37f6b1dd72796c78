"""The local target's weighted router, against real HTTP backends on 127.0.0.1."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pytest_iotops.deploy.router import Router
from pytest_iotops.errors import DeployError


def _backend(version: str, status: int = 200) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = version.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@pytest.fixture
def backends() -> Iterator[dict[str, ThreadingHTTPServer]]:
    servers = {"v1": _backend("v1"), "v2": _backend("v2"), "broken": _backend("broken", 500)}
    try:
        yield servers
    finally:
        for server in servers.values():
            server.shutdown()
            server.server_close()


@pytest.fixture
def router(backends: dict[str, ThreadingHTTPServer]) -> Iterator[Router]:
    with Router(seed=42) as router:
        for version, server in backends.items():
            router.set_backend(version, f"http://127.0.0.1:{server.server_address[1]}")
        yield router


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_weights_split_traffic_reproducibly(router: Router) -> None:
    router.set_weights({"v1": 75, "v2": 25})
    bodies = Counter(_get(router.url + "/hello?x=1")[1] for _ in range(400))
    assert set(bodies) == {"v1", "v2"}
    assert 60 <= bodies["v2"] <= 140  # 25 % of 400, seeded
    window = router.window()
    assert window["v1"].requests + window["v2"].requests == 400
    assert window["v1"].errors == window["v2"].errors == 0
    assert router.window() == {}


def test_switch_under_load_fails_no_request(router: Router) -> None:
    router.set_weights({"v1": 100})
    results: list[tuple[int, str]] = []

    def client(n: int) -> None:
        for _ in range(n):
            results.append(_get(router.url + "/"))

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(client, 40) for _ in range(8)]
        router.set_weights({"v1": 50, "v2": 50})
        router.set_weights({"v2": 100})
        for f in futures:
            f.result()
    assert len(results) == 320
    assert {status for status, _ in results} == {200}
    after = [_get(router.url + "/")[1] for _ in range(20)]
    assert set(after) == {"v2"}


def test_errors_are_recorded_per_version(router: Router, backends: dict[str, ThreadingHTTPServer]) -> None:
    router.set_weights({"broken": 100})
    assert _get(router.url + "/")[0] == 500
    backends["v2"].shutdown()
    backends["v2"].server_close()
    router.set_weights({"v2": 100})
    assert _get(router.url + "/")[0] == 502
    window = router.window()
    assert (window["broken"].errors, window["v2"].errors) == (1, 1)


def test_bad_weights_are_refused(router: Router) -> None:
    with pytest.raises(DeployError, match="add up to 100"):
        router.set_weights({"v1": 60, "v2": 30})
    with pytest.raises(DeployError, match=r"unknown version\(s\) \['v9'\]"):
        router.set_weights({"v9": 100})
    with pytest.raises(DeployError, match="whole percentages"):
        router.set_weights({"v1": -10, "v2": 110})
    router.set_weights({"v1": 100})
    with pytest.raises(DeployError, match="still has traffic"):
        router.remove_backend("v1")


def test_drain_waits_for_requests_in_flight(router: Router, backends: dict[str, ThreadingHTTPServer]) -> None:
    router.set_weights({"v1": 100})
    assert router.drain("v1", timeout=1)
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(_get, router.url + "/") for _ in range(40)]
        router.set_weights({"v2": 100})
        assert router.drain("v1", timeout=10)
        assert router.in_flight("v1") == 0
        assert all(f.result()[0] == 200 for f in futures)


def test_compressed_bodies_pass_through_unchanged_with_their_encoding() -> None:
    import gzip

    payload = gzip.compress(b'{"celsius": 21.5}' * 50)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        with Router() as router:
            router.set_backend("v1", f"http://127.0.0.1:{server.server_address[1]}")
            router.set_weights({"v1": 100})
            request = urllib.request.Request(router.url + "/x", headers={"Accept-Encoding": "gzip"})
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.headers["Content-Encoding"] == "gzip"
                assert gzip.decompress(response.read()) == b'{"celsius": 21.5}' * 50
    finally:
        server.shutdown()
        server.server_close()
