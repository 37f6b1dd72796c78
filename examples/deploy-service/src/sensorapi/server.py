"""``python -m sensorapi.server --port N [--version v2] [--error-rate 0.2] [--extra-ms 200] [--flap-every 3]
[--crash] [--seed 1] [--hang-rate 0.1] [--tail-rate 0.05 --tail-ms 300] [--busy-rps 100] [--degrade-after 3
--degraded-error-rate 0.3] [--corrupt-rate 0.05] [--daemon] [--log-json]``: serves ``/health`` and ``/sensors/<id>`` on
127.0.0.1; the options are the faults deployments must catch. ``/metrics`` is the service's own view in the
Prometheus text format (when prometheus_client is installed): requests counted when they arrive and when they are
answered (by status), and a latency histogram — what a monitoring system sees, not what a router measured."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .behaviour import Behaviour, reading

try:
    from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
except ImportError:  # the service runs without its metrics endpoint
    CollectorRegistry = None  # type: ignore[assignment,misc]


#: seconds after which the service counts a request it has not answered as ``code="timeout"`` (it still holds
#: the connection: the fault is a hang, the count is what a server's own request deadline would record)
TIMEOUT = 0.5


class Metrics:
    """Arrivals, and outcomes by ``code`` (a status, or ``timeout`` for a request past :data:`TIMEOUT`
    unanswered), and a latency histogram with prometheus_client's default buckets. A request in flight counts in
    no outcome yet: a window's ratio of outcomes is not biased by the requests still running at its ends."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.arrived = Counter("sensorapi_requests_arrived", "API requests received", registry=self.registry)
        self.answered = Counter(
            "sensorapi_requests", "API requests by outcome: status, or timeout", ["code"], registry=self.registry
        )
        self.seconds = Histogram(
            "sensorapi_request_duration_seconds", "Time to answer an API request", registry=self.registry
        )

    def text(self) -> bytes:
        return bytes(generate_latest(self.registry))


class Server(ThreadingHTTPServer):
    # the default listen backlog of 5 drops SYNs when a proxy opens connections in a burst: 1 s retransmits
    request_queue_size = 128
    daemon_threads = True


class AccessLog:
    """One JSON line per API request on standard output (``--log-json``): level, message, status, milliseconds —
    what a log pipeline reads. One write per line under a lock, flushed: lines never interleave or wait."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def write(self, level: str, message: str, **fields: object) -> None:
        line = json.dumps({"level": level, "msg": message, **fields}) + "\n"
        with self.lock:
            sys.stdout.write(line)
            sys.stdout.flush()


def make_handler(behaviour: Behaviour, access: AccessLog | None = None) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()
    metrics = Metrics() if CollectorRegistry is not None else None

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # one write per response and no Nagle delay: otherwise keep-alive clients wait ~40 ms for delayed ACKs
        wbufsize = 65536
        disable_nagle_algorithm = True

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path == "/health":
                with lock:
                    status = behaviour.health_status()
                self._send(status, {"status": "ok" if status == 200 else "unhealthy", "version": behaviour.version})
                return
            if self.path == "/metrics" and metrics is not None:
                self._send_text(metrics.text())
                return
            started = time.perf_counter()
            if metrics is not None:
                metrics.arrived.inc()
            with lock:
                delay = behaviour.api_delay_ms()
                status = behaviour.api_status()
                corrupt = behaviour.corrupt()
            if delay is None:  # never answer: hold the connection until the process ends
                if metrics is not None or access is not None:  # past its deadline a server counts it timed out
                    threading.Event().wait(TIMEOUT)
                if metrics is not None:
                    metrics.answered.labels(code="timeout").inc()
                if access is not None:
                    access.write("error", f"GET {self.path} timed out after {TIMEOUT:g} s", status=None)
                threading.Event().wait()
            elif delay:
                time.sleep(delay / 1000)
            if status != 200:
                self._send(status, {"error": "internal error", "version": behaviour.version})
            elif self.path.startswith("/sensors/"):
                self._send(200, reading(self.path.removeprefix("/sensors/"), behaviour.version), corrupt)
            else:
                status = 404
                self._send(status, {"error": f"no route {self.path}"})
            if metrics is not None:
                metrics.answered.labels(code=str(status)).inc()
                metrics.seconds.observe(time.perf_counter() - started)
            if access is not None:
                ms = round((time.perf_counter() - started) * 1000, 2)
                access.write("error" if status >= 500 else "info", f"GET {self.path} {status}", status=status, ms=ms)

        def _send(self, status: int, payload: dict[str, object], corrupt: bool = False) -> None:
            body = json.dumps(payload).encode()
            if corrupt:
                body = body[: len(body) // 2]
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _send_text(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--version", default="v1")
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--extra-ms", type=float, default=0.0)
    parser.add_argument("--flap-every", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--crash", action="store_true", help="fail at start, as a broken build would")
    parser.add_argument("--hang-rate", type=float, default=0.0)
    parser.add_argument("--tail-rate", type=float, default=0.0)
    parser.add_argument("--tail-ms", type=float, default=0.0)
    parser.add_argument("--busy-rps", type=float, default=0.0)
    parser.add_argument("--degrade-after", type=float, default=0.0)
    parser.add_argument("--degraded-error-rate", type=float, default=0.0)
    parser.add_argument("--corrupt-rate", type=float, default=0.0)
    parser.add_argument("--daemon", action="store_true", help="leave a double-forked daemon behind, as some do")
    parser.add_argument("--log-json", action="store_true", help="a JSON access-log line per API request")
    args = parser.parse_args(argv)
    if args.crash:
        sys.exit(f"sensorapi {args.version}: cannot read configuration: /etc/sensorapi.toml: no such file")
    if args.daemon:
        _daemonize_helper()
    behaviour = Behaviour(
        args.version,
        args.error_rate,
        args.extra_ms,
        args.flap_every,
        args.seed,
        hang_rate=args.hang_rate,
        tail_rate=args.tail_rate,
        tail_ms=args.tail_ms,
        busy_rps=args.busy_rps,
        degrade_after=args.degrade_after,
        degraded_error_rate=args.degraded_error_rate,
        corrupt_rate=args.corrupt_rate,
    )
    server = Server(("127.0.0.1", args.port), make_handler(behaviour, AccessLog() if args.log_json else None))
    server.serve_forever()


def _daemonize_helper() -> None:
    """A helper that double-forks and leaves the process group and session, as classic daemons do: stopping the
    version's group does not reach it."""
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.closerange(0, 3)
            while True:
                time.sleep(3600)
        os._exit(0)
    os.wait()


if __name__ == "__main__":
    main()
