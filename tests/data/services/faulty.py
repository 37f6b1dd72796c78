"""A test service with a configurable fault: ``faulty.py PORT ERROR_RATE EXTRA_MS SEED``. /health is always 200."""

import random
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, error_rate, extra_ms, seed = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/health":
            time.sleep(extra_ms / 1000)
        status = 500 if self.path != "/health" and rng.random() < error_rate else 200
        body = b"ok" if status == 200 else b"boom"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
