"""A small load generator for bake steps (like Flagger's load tester): fixed rate, bounded concurrency, paths
and headers; it records every request's outcome so availability is measured, not assumed."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .judge import Samples

__all__ = ["Load", "LoadResult"]


@dataclass
class LoadResult:
    requests: int = 0
    failures: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def availability(self) -> float | None:
        return None if not self.requests else (self.requests - self.failures) / self.requests

    def samples(self) -> Samples:
        """What the judge needs from this load: every latency and how many requests failed."""
        return Samples(tuple(self.latencies_ms), self.failures)


class Load:
    """Requests ``url + path`` at ``rate`` per second (round-robin over ``paths``) until stopped."""

    def __init__(
        self,
        url: str,
        rate: float = 50.0,
        concurrency: int = 8,
        paths: Sequence[str] = ("/",),
        headers: Mapping[str, str] | None = None,
        timeout: float = 5.0,
    ) -> None:
        if rate <= 0 or concurrency <= 0 or not paths:
            raise ValueError("rate and concurrency must be positive and paths non-empty")
        if not url.startswith(("http://127.", "http://[::1]", "http://localhost")):
            raise ValueError(f"load only goes to loopback http:// addresses, not {url!r}")
        self.url, self.rate, self.concurrency = url.rstrip("/"), rate, concurrency
        self.paths, self.headers, self.timeout = list(paths), dict(headers or {}), timeout
        self.result = LoadResult()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _one(self, path: str) -> None:
        request = urllib.request.Request(self.url + path, headers=self.headers)  # noqa: S310 - loopback http only
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - loopback
                response.read()
                key, failed = str(response.status), response.status >= 500
        except urllib.error.HTTPError as err:
            key, failed = str(err.code), err.code >= 500
        except (urllib.error.URLError, OSError) as exc:
            key, failed = type(getattr(exc, "reason", exc)).__name__, True
        with self._lock:
            self.result.requests += 1
            self.result.failures += int(failed)
            self.result.latencies_ms.append((time.perf_counter() - started) * 1000)
            self.result.by_status[key] = self.result.by_status.get(key, 0) + 1

    def _run(self) -> None:
        interval = 1.0 / self.rate
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="iotops-load") as pool:
            pending: list[object] = []
            i = 0
            next_at = time.monotonic()
            while not self._stop.is_set():
                pending = [f for f in pending if not f.done()]  # type: ignore[attr-defined]
                if len(pending) < self.concurrency:
                    pending.append(pool.submit(self._one, self.paths[i % len(self.paths)]))
                    i += 1
                next_at += interval
                self._stop.wait(max(0.0, next_at - time.monotonic()))

    def start(self) -> Load:
        self._thread = threading.Thread(target=self._run, name="iotops-load", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> LoadResult:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
        return self.result

    def __enter__(self) -> Load:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
