"""A small load generator for bake steps (like Flagger's load tester): fixed rate, bounded concurrency, paths
and headers; it records every request's outcome so availability is measured, not assumed, applies the
response checks to every answer, and tells the target (``observe``) which version answered and how it went,
so a check failure is an error of that version and the client's view of availability can be judged."""

from __future__ import annotations

import http.client
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import field
from email.message import Message

from ..values import Value, record
from .checks import VERSION_HEADER, ResponseCheck, failures
from .judge import Samples

__all__ = ["Load", "LoadResult", "Observer"]

#: (the version header's value or None, latency in ms, the request failed, why a response check failed or "")
Observer = Callable[[str | None, float, bool, str], None]
#: distinct check-failure reasons kept in a result (the count goes on beyond them)
_REASONS = 20


@record
class LoadResult(Value):
    requests: int = 0
    failures: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    #: of ``failures``: answers that failed a response check, and the first reasons with their counts
    check_failures: int = 0
    by_check: dict[str, int] = field(default_factory=dict)

    @property
    def availability(self) -> float | None:
        return None if not self.requests else (self.requests - self.failures) / self.requests

    def samples(self) -> Samples:
        """What the judge needs from this load: every latency and how many requests failed."""
        return Samples(tuple(self.latencies_ms), self.failures)


def _get(request: urllib.request.Request, timeout: float) -> tuple[int, Message, bytes]:
    """Status, headers and body of one answer, whatever its status; raises when nothing was answered."""
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback http only
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.headers, err.read()


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
        checks: Sequence[ResponseCheck] = (),
        observe: Observer | None = None,
    ) -> None:
        if rate <= 0 or concurrency <= 0 or not paths:
            raise ValueError("rate and concurrency must be positive and paths non-empty")
        if not url.startswith(("http://127.", "http://[::1]", "http://localhost")):
            raise ValueError(f"load only goes to loopback http:// addresses, not {url!r}")
        self.url, self.rate, self.concurrency = url.rstrip("/"), rate, concurrency
        self.paths, self.headers, self.timeout = list(paths), dict(headers or {}), timeout
        self.checks, self.observe = tuple(checks), observe
        self.result = LoadResult()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _one(self, path: str) -> None:
        request = urllib.request.Request(self.url + path, headers=self.headers)  # noqa: S310 - loopback http only
        started = time.perf_counter()
        tag, check = None, ""
        try:
            status, headers, body = _get(request, self.timeout)
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            # no answer, a reset, or a broken one (a body cut short, a garbled status line): a failed request,
            # counted like any other, never an exception lost in the pool
            key, failed = type(getattr(exc, "reason", exc)).__name__, True
        else:
            key, failed, tag = str(status), status >= 500, headers.get(VERSION_HEADER)
            if self.checks:
                check = failures(self.checks, path, status, dict(headers.items()), body)
                failed = failed or bool(check)
        with self._lock:
            r = self.result
            r.requests += 1
            r.failures += int(failed)
            latency = (time.perf_counter() - started) * 1000
            r.latencies_ms.append(latency)
            r.by_status[key] = r.by_status.get(key, 0) + 1
            if check:
                r.check_failures += 1
                if check in r.by_check or len(r.by_check) < _REASONS:
                    r.by_check[check] = r.by_check.get(check, 0) + 1
        if self.observe is not None:
            self.observe(tag, latency, failed, check)

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
