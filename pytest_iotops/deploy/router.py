"""The embedded local target's traffic router: a weighted HTTP reverse proxy on 127.0.0.1 (aiohttp), recording
per-version outcomes and latencies for the judge.

It runs its own event loop in a background thread, so tests drive it from ordinary synchronous code. Weight
changes are atomic: a request is routed once, when it arrives, and in-flight requests finish where they began,
which is what makes a blue-green switch free of failed requests.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import field
from typing import Any

from ..errors import DeployError
from ..values import Value, record
from .judge import Samples
from .weights import check_weights

__all__ = ["Router", "VersionStats"]

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}


@record
class VersionStats(Value):
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    timeouts: int = 0
    outstanding: int = 0

    def samples(self) -> Samples:
        return Samples(tuple(self.latencies_ms), self.errors, self.timeouts, self.outstanding)


class Router:
    def __init__(self, seed: int = 0, timeout: float = 10.0) -> None:
        self._rng = random.Random(seed)  # noqa: S311 - seeded on purpose: routing must be reproducible
        self._timeout = timeout
        self._backends: dict[str, str] = {}
        self._weights: list[tuple[str, int]] = []
        self._stats: dict[str, VersionStats] = {}
        self._inflight: dict[str, int] = {}
        #: request id -> (version, start): what :meth:`settle` waits for
        self._started: dict[int, tuple[str, float]] = {}
        #: requests already counted as unanswered by :meth:`settle`: not counted again when they end
        self._written_off: set[int] = set()
        self._ids = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: object | None = None
        self.port = 0

    # -- configuration (any thread) ------------------------------------------------------------------------
    def set_backend(self, version: str, url: str) -> None:
        with self._lock:
            self._backends[version] = url.rstrip("/")

    def remove_backend(self, version: str) -> None:
        with self._lock:
            if any(v == version and w for v, w in self._weights):
                raise DeployError(f"cannot remove {version!r}: it still has traffic")
            self._backends.pop(version, None)

    def set_weights(self, weights: Mapping[str, int]) -> None:
        """Whole percentages that add up to 100, for versions with a backend."""
        with self._lock:
            self._weights = list(check_weights(weights, list(self._backends)).items())

    @property
    def weights(self) -> dict[str, int]:
        with self._lock:
            return dict(self._weights)

    def in_flight(self, version: str) -> int:
        with self._lock:
            return self._inflight.get(version, 0)

    def drain(self, version: str, timeout: float = 30.0) -> bool:
        """Wait until no request routed to ``version`` is still being answered; False on timeout."""
        deadline = time.monotonic() + timeout
        while self.in_flight(version):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def window(self) -> dict[str, Samples]:
        """Samples per version since the last call (a bake step's data), and start a new window."""
        with self._lock:
            stats, self._stats = self._stats, {}
        return {version: s.samples() for version, s in stats.items()}

    # -- serving -------------------------------------------------------------------------------------------
    def settle(self, before: float, timeout: float) -> None:
        """Wait until every request that arrived before ``before`` (a ``perf_counter`` time) has an answer, at
        most ``timeout`` seconds; one still unanswered then is counted as an error of its version (latency: its
        age), so no request of a step is left out of the step's data."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                waiting = {rid: vs for rid, vs in self._started.items() if vs[1] < before}
                if not waiting or time.monotonic() >= deadline:
                    now = time.perf_counter()
                    for rid, (version, started) in waiting.items():
                        stats = self._stats.setdefault(version, VersionStats())
                        stats.latencies_ms.append((now - started) * 1000)
                        stats.errors += 1
                        stats.outstanding += 1
                        self._written_off.add(rid)
                    return
            time.sleep(0.005)

    def _pick(self) -> tuple[str, str, int]:
        with self._lock:
            if not self._weights:
                raise DeployError("no version has traffic")
            roll = self._rng.randrange(100)
            version = self._weights[-1][0]
            for candidate, weight in self._weights:
                if roll < weight:
                    version = candidate
                    break
                roll -= weight
            # counted as in flight under the same lock as the choice: a drain can never miss it
            self._inflight[version] = self._inflight.get(version, 0) + 1
            self._ids += 1
            self._started[self._ids] = (version, time.perf_counter())
            return version, self._backends[version], self._ids

    def _record(self, rid: int, started: float, error: bool, timeout: bool = False) -> None:
        with self._lock:
            version, _ = self._started.pop(rid)
            if rid in self._written_off:  # already counted, unanswered, by settle()
                self._written_off.discard(rid)
                return
            stats = self._stats.setdefault(version, VersionStats())
            stats.latencies_ms.append((time.perf_counter() - started) * 1000)
            stats.errors += int(error)
            stats.timeouts += int(timeout)

    async def _handle(self, request: object) -> object:
        from aiohttp import web

        assert isinstance(request, web.Request)
        try:
            version, base, rid = self._pick()
        except DeployError as exc:
            return web.Response(status=503, text=str(exc))
        started = time.perf_counter()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        try:
            return await self._forward(request, version, base, headers, started, rid)
        finally:
            with self._lock:
                self._inflight[version] -= 1
                if rid in self._started:  # cancelled (the client went away): not an answer, not an error
                    self._started.pop(rid)
                    self._written_off.discard(rid)

    async def _forward(
        self, request: Any, version: str, base: str, headers: dict[str, str], started: float, rid: int
    ) -> Any:
        from aiohttp import ClientError, web

        try:
            body = await request.read() if request.body_exists else None
            async with self._session.request(
                request.method, base + request.rel_url.path_qs, headers=headers, data=body, allow_redirects=False
            ) as upstream:
                payload = await upstream.read()
                out = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP}
                out["X-Iotops-Version"] = version
                self._record(rid, started, upstream.status >= 500)
                return web.Response(status=upstream.status, body=payload, headers=out)
        except asyncio.TimeoutError:
            self._record(rid, started, True, timeout=True)
            return web.Response(status=504, text=f"{version}: no answer within {self._timeout:g}s")
        except ClientError as exc:
            self._record(rid, started, True)
            return web.Response(status=502, text=f"{version}: {type(exc).__name__}")

    def start(self) -> Router:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._shutdown())
            loop.close()

        self._thread = threading.Thread(target=run, name="iotops-router", daemon=True)
        self._thread.start()
        if not ready.wait(30) or failure:
            raise DeployError(f"the local router did not start: {failure[0] if failure else 'timeout'}")
        return self

    async def _serve(self) -> None:
        from aiohttp import ClientSession, ClientTimeout, TCPConnector, web

        self._session = ClientSession(
            timeout=ClientTimeout(total=self._timeout),
            connector=TCPConnector(limit=256, force_close=False),
            # bodies pass through as the version sent them, with their Content-Encoding
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding"),
        )
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)  # type: ignore[arg-type]
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def _shutdown(self) -> None:
        from aiohttp import web

        if isinstance(self._runner, web.AppRunner):
            await self._runner.cleanup()
        await self._session.close()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Router:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
