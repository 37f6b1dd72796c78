"""HTTP front end: ``POST /readings`` (text lines), ``GET /sensors/<id>``, ``GET /health``."""

from __future__ import annotations

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .aggregate import Store
from .readings import ReadingError, parse_line

MAX_BODY = 64 * 1024


def make_handler(store: Store) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
            """Quiet: tests read stdout for the port only."""

        def _send(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/health":
                self._send(200, {"status": "ok", "sensors": len(store.sensors)})
            elif self.path.startswith("/sensors/"):
                stats = store.stats(self.path.removeprefix("/sensors/"))
                if stats is None:
                    self._send(404, {"error": "unknown sensor"})
                else:
                    self._send(200, stats.as_dict())
            else:
                self._send(404, {"error": "not found"})

        def do_POST(self) -> None:
            if self.path != "/readings":
                self._send(404, {"error": "not found"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(413, {"error": "body too large"})
                return
            lines = self.rfile.read(length).decode("utf-8", "replace").splitlines()
            accepted, errors = 0, []
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    accepted += store.add(parse_line(line))
                except ReadingError as exc:
                    errors.append({"line": number, "error": str(exc)})
            self._send(400 if errors and not accepted else 200, {"accepted": accepted, "errors": errors})

    return Handler


def serve(port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    return ThreadingHTTPServer((host, port), make_handler(Store()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="telemetry")
    parser.add_argument("--port", type=int, default=0, help="0 lets the OS pick a free port")
    args = parser.parse_args(argv)
    server = serve(args.port)
    print(f"listening on {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
