"""Deployment targets: versions of a service run as local processes, and something in front of them that
splits traffic by weight and reports what each version served.

The strategies (blue-green, canary) only talk to :class:`Target`; the embedded router, nginx and HAProxy differ
in how they route and measure, never in how versions are started and stopped. A third party adds a target
with the ``iotops_deploy_target`` hook (see :mod:`pytest_iotops.hookspecs`).
"""

from __future__ import annotations

import abc
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import DeployError
from .checks import ResponseCheck
from .judge import Samples
from .ports import free_port, hold_port, release_port
from .process import VersionProcess, start_version
from .weights import check_weights

if TYPE_CHECKING:
    from .result import DeployResult

__all__ = ["Target", "check_weights"]


class Target(abc.ABC):
    """Versions as ``{port}`` commands on 127.0.0.1 behind a weighted traffic splitter.

    Subclasses implement the splitter: :meth:`open`, :meth:`close_router`, :meth:`route` (apply weights, return
    once new requests follow them), :meth:`drain`, :meth:`window` and :attr:`url`.
    """

    name: ClassVar[str] = "target"
    #: the keys of ``deploy.target_options`` this target understands
    options_known: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        commands: Mapping[str, Sequence[str]],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        health_path: str = "/health",
        start_timeout: float = 30.0,
        options: Mapping[str, Any] | None = None,
        request_timeout: float = 5.0,
        checks: Sequence[ResponseCheck] = (),
    ) -> None:
        self.commands = {k: list(c) for k, c in commands.items()}
        self.env, self.cwd, self.health_path, self.start_timeout = env, cwd, health_path, start_timeout
        #: a request without an answer after this long is an error of the version holding it (every target)
        self.request_timeout = request_timeout
        #: what a version must answer: applied to health probes here, to the load's responses by the load
        self.checks = tuple(checks)
        self.options = dict(options or {})
        unknown = sorted(set(self.options) - self.options_known)
        if unknown:
            raise DeployError(
                f"deploy.target_options: unknown key(s) {unknown} for the {self.name} target; "
                f"known: {sorted(self.options_known) or 'none'}"
            )
        self.processes: dict[str, VersionProcess] = {}
        self._reserved: dict[str, int] = {}
        self._weights: dict[str, int] = {}
        self._observed_lock = threading.Lock()
        #: a load reports to :meth:`observe`: until then nothing is known of what clients saw
        self.observing = False
        self._check_errors: dict[str, int] = {}
        self._client: list[tuple[float, bool]] = []

    # -- versions (shared by every target) -----------------------------------------------------------------
    def port_for(self, version: str) -> int | None:
        """A fixed port for ``version`` when the splitter needs one in advance; None = any free port."""
        return self._reserved.get(version)

    def reserve_ports(self) -> dict[str, int]:
        """A fixed port for every configured version, before any starts: a monitoring system that scrapes them
        learns its targets once (Prometheus applies discovered targets at most every 5 s)."""
        for version in self.commands:
            if version in self.processes:
                self._reserved[version] = self.processes[version].port
            elif self.port_for(version) is None:
                self._reserved[version] = free_port(hold=True)
        return {v: p for v in self.commands if (p := self.port_for(v)) is not None}

    def start(self, version: str) -> VersionProcess:
        if version not in self.commands:
            raise DeployError(f"unknown version {version!r}; configured: {sorted(self.commands)}")
        if version in self.processes:
            raise DeployError(f"version {version!r} is already running on port {self.processes[version].port}")
        process = start_version(
            version,
            self.commands[version],
            cwd=self.cwd,
            env=self.env,
            health_path=self.health_path,
            timeout=self.start_timeout,
            port=self.port_for(version),
        )
        self.processes[version] = process
        try:
            self.add_backend(version, process)
        except BaseException:
            self.processes.pop(version).stop()
            raise
        return process

    def stop(self, version: str) -> None:
        if self._weights.get(version):
            raise DeployError(f"cannot stop {version!r}: it still has {self._weights[version]} % of the traffic")
        process = self.processes.pop(version, None)
        if process is not None:
            self.remove_backend(version)
            process.stop()
            if self.port_for(version) == process.port:
                hold_port(process.port)  # still this version's until the target closes

    def set_weights(self, weights: Mapping[str, int]) -> None:
        checked = check_weights(weights, list(self.processes))
        self.route(checked)
        self._weights = checked

    @property
    def weights(self) -> dict[str, int]:
        return dict(self._weights)

    def begin(self, strategy: str, current: str, new: str) -> DeployResult:
        """Check a deployment's request and start ``new`` beside ``current``, which must serve all traffic.
        When ``new`` cannot start, the result is already finished: rolled back before any traffic."""
        from .result import DeployResult

        if new not in self.commands:
            raise DeployError(f"unknown version {new!r}; configured: {sorted(self.commands)}")
        if new == current:
            raise DeployError(f"{new!r} already serves all traffic")
        if self._weights != {current: 100}:
            raise DeployError(f"a {strategy} needs all traffic on {current!r}, have {self._weights}")
        result = DeployResult.begin(strategy, self.name, current, new)
        try:
            process = self.start(new)
        except DeployError as exc:
            result.event("aborted", f"{new} did not start; traffic stays on {current}: {exc}")
            result.finish("rolled_back", current, f"{new} did not start: {str(exc).splitlines()[0]}")
            return result
        result.event("started", f"{new} healthy on port {process.port}, beside {current}")
        return result

    def roll_back(self, stable: str, candidate: str) -> tuple[float | None, bool]:
        """All traffic to ``stable`` at once, then ``candidate`` drained and stopped. Returns how long the weight
        change took (None: traffic was already there) and whether the drain finished in time."""
        seconds = None
        if self._weights != {stable: 100}:
            started = time.monotonic()
            self.set_weights({stable: 100})
            seconds = round(time.monotonic() - started, 4)
        drained = self.drain(candidate) if candidate in self.processes else True
        self.stop(candidate)
        return seconds, drained

    def close(self) -> None:
        """Stop every version and the splitter: the cleanup guarantee, whatever happened before."""
        self._weights = {}
        errors: list[str] = []
        try:
            self.close_router()  # first: no request is routed to a version being stopped
        except Exception as exc:  # keep cleaning up; report everything at the end
            errors.append(f"{self.name} router: {exc}")
        for version, process in list(self.processes.items()):
            try:
                process.stop()
            except Exception as exc:
                errors.append(f"{version}: {exc}")
        self.processes.clear()
        self.release_ports()
        if errors:
            raise DeployError("cleanup: " + "; ".join(errors))

    def release_ports(self) -> None:
        """The versions' ports this target held (picked in advance) are free again: at close, or when opening
        failed."""
        for version in self.commands:
            port = self.port_for(version)
            if port is not None:
                release_port(port)

    def __enter__(self) -> Target:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what clients saw (fed by the load) ------------------------------------------------------------------
    def version_of(self, tag: str) -> str | None:
        """The version named by the value of a response's ``X-Iotops-Version`` header (None: not one of ours)."""
        return tag if tag in self.commands else None

    def observe(self, tag: str | None, latency_ms: float, failed: bool, check: str) -> None:
        """One answer a client got (the load calls this from its threads): ``check`` is why it failed a response
        check, an error of the version that answered, which the splitter's own measurement cannot see."""
        version = self.version_of(tag) if tag else None
        with self._observed_lock:
            self.observing = True
            self._client.append((latency_ms, failed))
            if check and version is not None:
                self._check_errors[version] = self._check_errors.get(version, 0) + 1

    def observed(self) -> tuple[dict[str, int], Samples]:
        """Since the previous call: per version, answers that failed a response check; and every request the
        clients made (their latencies and failures: the users' view of availability)."""
        with self._observed_lock:
            checks, client = self._check_errors, self._client
            self._check_errors, self._client = {}, []
        return checks, Samples(tuple(x for x, _ in client), sum(1 for _, failed in client if failed))

    # -- the traffic splitter --------------------------------------------------------------------------------
    @property
    @abc.abstractmethod
    def url(self) -> str:
        """Where clients (and the load generator) send requests."""

    @abc.abstractmethod
    def open(self) -> Target: ...

    @abc.abstractmethod
    def close_router(self) -> None: ...

    def add_backend(self, version: str, process: VersionProcess) -> None:  # noqa: B027 - optional hook
        """A version started: make it routable (with no traffic yet)."""

    def remove_backend(self, version: str) -> None:  # noqa: B027 - optional hook
        """A version stops (it has no traffic)."""

    @abc.abstractmethod
    def route(self, weights: Mapping[str, int]) -> None:
        """Apply checked weights; return only once new requests are routed by them."""

    @abc.abstractmethod
    def drain(self, version: str, timeout: float = 30.0) -> bool:
        """Wait until no request sent to ``version`` is still being answered; False on timeout."""

    def settle(self, before: float, timeout: float) -> None:  # noqa: B027 - optional hook
        """Wait (at most ``timeout`` s) until requests that arrived before ``before`` (``perf_counter``) have an
        answer, and count those that have none as errors, so a hung request is judged in its own step. A target
        that cannot see requests in flight answers them through its request timeout: they are judged when the
        timeout ends them, in a later window (the last step waits for that, see the canary)."""

    @abc.abstractmethod
    def window(self) -> dict[str, Samples]:
        """Samples per version since the previous call, and start a new window.

        Raises :class:`DeployError` when the measurement itself failed (the canary counts it as an error).
        """
