"""Canary on the local target: steps of traffic weight with a bake time each, the judge after every step
(canary against the stable version), Argo-style limits, abort = all traffic back to stable and the canary
stopped, promotion at the end. Every step and decision is an event with its numbers."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import DeployError
from .blue_green import LocalTarget
from .judge import JudgeResult, MetricSpec, Samples, judge

__all__ = ["CanaryResult", "canary"]


@dataclass
class CanaryResult:
    stable: str
    canary: str
    promoted: bool = False
    aborted_at: int | None = None
    reason: str = ""
    steps: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def canary_requests(self) -> int:
        return sum(s["canary_requests"] for s in self.steps)

    @property
    def total_requests(self) -> int:
        return sum(s["canary_requests"] + s["stable_requests"] for s in self.steps)

    def explain(self) -> str:
        lines = [f"{e['t']:7.3f}s {e['event']}: {e['detail']}" for e in self.events]
        return "\n".join(lines)


def canary(
    target: LocalTarget,
    stable: str,
    new: str,
    steps: Sequence[int] = (10, 25, 50, 75, 100),
    bake: float = 1.0,
    specs: Sequence[MetricSpec] = (),
    failure_limit: int = 0,
    inconclusive_limit: int = 1,
) -> CanaryResult:
    if not steps or any(not 0 < w <= 100 for w in steps) or list(steps) != sorted(steps) or steps[-1] != 100:
        raise DeployError(f"steps must be increasing weights in 1..100 ending at 100, got {list(steps)}")
    result = CanaryResult(stable, new)
    start = time.monotonic()

    def event(name: str, detail: str) -> None:
        result.events.append({"t": round(time.monotonic() - start, 3), "event": name, "detail": detail})

    try:
        target.start(new)
    except DeployError as exc:
        result.reason = f"{new} did not start: {exc}"
        event("aborted", result.reason)
        return result
    event("started", f"{new} healthy")
    failures = inconclusive = 0
    last_stable = Samples()
    for index, weight in enumerate(steps):
        target.router.set_weights({stable: 100 - weight, new: weight} if weight < 100 else {new: 100})
        target.router.window()
        time.sleep(bake)
        window = target.router.window()
        canary_samples, stable_samples = window.get(new, Samples()), window.get(stable, Samples())
        if stable_samples.requests:
            last_stable = stable_samples
        verdict: JudgeResult = judge(canary_samples, last_stable, specs)
        result.steps.append(
            {
                "weight": weight,
                "verdict": verdict.verdict,
                "score": verdict.score,
                "reason": verdict.reason,
                "canary_requests": canary_samples.requests,
                "stable_requests": stable_samples.requests,
                "canary_errors": canary_samples.errors,
            }
        )
        event(
            f"step {index + 1}",
            f"{weight} % to {new}: {canary_samples.requests} requests, "
            f"{canary_samples.errors} errors; {verdict.verdict} ({verdict.reason})",
        )
        failures += verdict.verdict == "fail"
        inconclusive += verdict.verdict == "inconclusive"
        if failures > failure_limit or inconclusive > inconclusive_limit:
            target.router.set_weights({stable: 100})
            target.router.drain(new)
            target.stop(new)
            result.aborted_at, result.reason = weight, verdict.reason
            event("aborted", f"100 % back to {stable}; {new} stopped: {verdict.reason}")
            return result
    result.promoted = True
    target.router.drain(stable)
    target.stop(stable)
    event("promoted", f"{new} serves all traffic; {stable} stopped")
    return result
