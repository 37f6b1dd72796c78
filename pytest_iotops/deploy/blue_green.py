"""Blue-green on the local target: start the new version beside the active one, wait until it is healthy,
switch all traffic at once, keep the old version for instant rollback, then stop it. Every step is an event;
whatever fails, traffic ends on a version that is running and nothing started is left behind."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DeployError
from .process import VersionProcess, start_version
from .router import Router

__all__ = ["BlueGreenResult", "LocalTarget", "blue_green"]


@dataclass
class LocalTarget:
    """Versions as local processes behind the embedded router."""

    commands: Mapping[str, Sequence[str]]
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    health_path: str = "/health"
    start_timeout: float = 30.0
    router: Router = field(default_factory=Router)
    processes: dict[str, VersionProcess] = field(default_factory=dict)

    def start(self, version: str) -> VersionProcess:
        if version not in self.commands:
            raise DeployError(f"unknown version {version!r}; configured: {sorted(self.commands)}")
        process = start_version(
            version,
            self.commands[version],
            cwd=self.cwd,
            env=self.env,
            health_path=self.health_path,
            timeout=self.start_timeout,
        )
        self.processes[version] = process
        self.router.set_backend(version, process.url)
        return process

    def stop(self, version: str) -> None:
        process = self.processes.pop(version, None)
        if process is not None:
            process.stop()

    def close(self) -> None:
        """Stop every process and the router: the cleanup guarantee of a test."""
        for version in list(self.processes):
            self.stop(version)
        self.router.stop()


@dataclass
class BlueGreenResult:
    active: str
    promoted: bool
    events: list[dict[str, Any]] = field(default_factory=list)
    #: share of requests that succeeded while the deployment ran (set when it ran under load)
    availability: float | None = None

    def explain(self) -> str:
        return "\n".join(f"{e['t']:7.3f}s {e['event']}: {e['detail']}" for e in self.events)


def blue_green(target: LocalTarget, active: str, new: str, keep_old_for: float = 0.5) -> BlueGreenResult:
    start = time.monotonic()
    result = BlueGreenResult(active=active, promoted=False)

    def event(name: str, detail: str) -> None:
        result.events.append({"t": round(time.monotonic() - start, 3), "event": name, "detail": detail})

    if target.router.weights.get(active) != 100:
        raise DeployError(
            f"blue-green needs all traffic on the active version {active!r}, have {target.router.weights}"
        )
    try:
        process = target.start(new)
        event("started", f"{new} healthy on port {process.port}")
    except DeployError as exc:
        event("rollback", f"{new} did not start; traffic stays on {active}")
        raise DeployError(f"blue-green to {new!r} aborted, traffic stays on {active!r}: {exc}") from None
    target.router.set_weights({new: 100})
    result.active, result.promoted = new, True
    event("switched", f"100 % of traffic to {new}")
    time.sleep(keep_old_for)
    drained = target.router.drain(active)  # requests routed before the switch finish on the old version
    target.stop(active)
    event(
        "retired",
        f"{active} stopped after {keep_old_for:g}s kept for rollback"
        + ("" if drained else "; some of its requests were still running after 30 s"),
    )
    return result
