"""The canary's health probe against a real HTTP server on loopback: a late answer is not a failed check, a
hung endpoint is."""

from __future__ import annotations


def test_a_health_probe_that_times_out_is_asked_again_before_it_counts() -> None:
    """A stall of the machine (the first answer 1.5 s late) is not a failed health check; a canary whose health
    endpoint hangs still fails it (the second ask, with 3 s, times out too)."""
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from pytest_iotops.deploy.bake import health

    calls: list[float] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            calls.append(time.monotonic())
            if self.path == "/hang" or len(calls) == 1:
                time.sleep(4.5 if self.path == "/hang" else 1.5)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert health(f"{base}/health") == (200, "200")  # the late first answer, then a prompt second one
        assert len(calls) == 2
        status, seen = health(f"{base}/hang")
        assert status is None
        assert "imeout" in seen
    finally:
        server.shutdown()
        server.server_close()
