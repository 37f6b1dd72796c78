"""Canary: steps of traffic weight with a bake time each, the judge after every step (canary against the stable
version), Argo-style limits, abort = all traffic back to stable and the canary stopped, promotion at the end.

During a bake the canary's health path is probed and its process watched; the data of the step is gathered
in slices so the progress line is live. The decision after each step (the published truth table, docs/
deployments.md):

=================  ==================================================================================
step verdict       decision
=================  ==================================================================================
pass, marginal     next step (promote after the last)
fail               failures += 1; abort when failures > failure_limit, else next step
inconclusive       inconclusive += 1; abort when inconclusive > inconclusive_limit, else next step
error              the measurement itself failed: repeat the step; abort when more than
                   consecutive_error_limit errors in a row (a measured step resets the count)
=================  ==================================================================================

A canary that does not start, exits during a bake, or fails a health probe fails its step at once. Whatever
ends the rollout early — a decision, an exception, KeyboardInterrupt — traffic goes back to the stable version
and the canary is stopped before the function returns or re-raises.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import DeployError
from ..model import DeployStep
from .judge import MetricSpec, Samples, quantile
from .process import probe
from .result import DeployResult, Progress, interrupted, judged_step
from .target import Target

__all__ = ["CanaryLimits", "CanaryResult", "canary", "check_steps"]

CanaryResult = DeployResult


@dataclass(frozen=True)
class CanaryLimits:
    failure_limit: int = 0
    inconclusive_limit: int = 1
    consecutive_error_limit: int = 4
    #: failed health probes tolerated per step
    health_failures: int = 0


def check_steps(steps: Sequence[int]) -> list[int]:
    if (
        not steps
        or any(not isinstance(w, int) or isinstance(w, bool) or not 0 < w <= 100 for w in steps)
        or list(steps) != sorted(steps)
        or steps[-1] != 100
    ):
        raise DeployError(f"steps must be increasing whole percentages in 1..100 ending at 100, got {list(steps)}")
    return list(steps)


def _merge(a: Samples, b: Samples) -> Samples:
    return Samples(tuple(a.latencies_ms) + tuple(b.latencies_ms), a.errors + b.errors)


class _Bake:
    """One step's bake: slices of data, health probes and the canary's process, gathered until time is up."""

    def __init__(self, target: Target, stable: str, new: str, health_path: str, interval: float) -> None:
        self.target, self.stable, self.new = target, stable, new
        self.url = target.processes[new].url + health_path
        self.interval = interval
        self.canary, self.baseline = Samples(), Samples()
        self.probes = 0
        self.failed_probes: list[str] = []
        self.exited: int | None = None

    def collect(self) -> None:
        window = self.target.window()
        self.canary = _merge(self.canary, window.get(self.new, Samples()))
        self.baseline = _merge(self.baseline, window.get(self.stable, Samples()))

    def run(self, seconds: float, progress: Progress | None, line: str) -> None:
        end = time.monotonic() + seconds
        next_report = time.monotonic() + 0.5
        while (left := end - time.monotonic()) > 0:
            time.sleep(min(self.interval, left))
            self.exited = self.target.processes[self.new].proc.poll()
            if self.exited is not None:
                return
            # a second's grace: on a loaded CI machine a healthy answer can take a few hundred ms
            status, seen = probe(self.url, timeout=1.0)
            self.probes += 1
            if status != 200:
                self.failed_probes.append(seen)
            if progress is not None and time.monotonic() >= next_report:
                self.collect()
                progress(line + self.numbers(), False)
                next_report += 0.5

    def numbers(self) -> str:
        c = self.canary
        p99 = quantile(c.latencies_ms, 0.99)
        rate = f"{c.error_rate:.1%}" if c.error_rate is not None else "-"
        return (
            f"{c.requests} canary / {self.baseline.requests} stable requests, errors {rate}, "
            f"p99 {'-' if p99 is None else f'{p99:.0f} ms'}"
        )


def canary(
    target: Target,
    stable: str,
    new: str,
    steps: Sequence[int] = (10, 25, 50, 75, 100),
    bake: float = 1.0,
    specs: Sequence[MetricSpec] = (),
    limits: CanaryLimits = CanaryLimits(),
    health_interval: float = 0.1,
    progress: Progress | None = None,
) -> DeployResult:
    steps = check_steps(steps)
    result = target.begin("canary", stable, new)
    if new not in target.processes:
        return result
    try:
        _run(target, result, steps, bake, specs, limits, health_interval, progress)
    except BaseException as exc:

        def cleanup(reason: str) -> None:
            if new in target.processes and stable in target.processes:
                _abort(target, result, reason)

        interrupted(result, exc, cleanup)
        raise
    return result


def _abort(target: Target, result: DeployResult, reason: str) -> None:
    stable, new = result.stable, result.candidate
    result.rollback_seconds, drained = target.roll_back(stable, new)
    result.event(
        "aborted",
        f"100 % back to {stable}; {new} stopped"
        + ("" if drained else " (requests still running after 30 s)")
        + f": {reason}",
    )
    result.finish("rolled_back", stable, reason)


def _run(
    target: Target,
    result: DeployResult,
    steps: list[int],
    bake: float,
    specs: Sequence[MetricSpec],
    limits: CanaryLimits,
    health_interval: float,
    progress: Progress | None,
) -> None:
    stable, new = result.stable, result.candidate
    failures = inconclusive = errors = 0
    last_baseline = Samples()
    index = 0
    while index < len(steps):
        weight = steps[index]
        target.set_weights({stable: 100 - weight, new: weight} if weight < 100 else {new: 100})
        result.exposure = max(result.exposure, weight)
        started = result.now()
        result.event(f"step {index + 1}", f"{weight} % of traffic to {new}, baking {bake:g}s")
        with contextlib.suppress(DeployError):  # an unreadable backlog: the step's own measurement decides
            target.window()  # what came before this step's weights is not its data
        label = f"canary {new} step {index + 1}/{len(steps)} {weight:>3} %: "
        baked = _Bake(target, stable, new, target.health_path, health_interval)
        measurement_error = ""
        baked.run(bake, progress, label)
        try:
            baked.collect()
        except DeployError as exc:
            measurement_error = str(exc)
        if baked.baseline.requests:
            last_baseline = baked.baseline  # at 100 % there is no stable traffic: compare with the last step's
        step = _judge_step(index + 1, weight, started, result.now(), baked, last_baseline, specs, limits)
        if measurement_error:
            step.verdict, step.reason, step.metrics = "error", f"measurement failed: {measurement_error}", []
        result.steps.append(step)
        if step.verdict == "error":
            errors += 1
            abort = errors > limits.consecutive_error_limit
        else:
            errors = 0
            failures += step.verdict == "fail"
            inconclusive += step.verdict == "inconclusive"
            abort = failures > limits.failure_limit or inconclusive > limits.inconclusive_limit
        last = index == len(steps) - 1
        step.decision = "abort" if abort else "retry" if step.verdict == "error" else "promote" if last else "continue"
        if progress is not None:
            progress(f"{label}{baked.numbers()}; {step.verdict} -> {step.decision}", True)
        result.event(
            "decision",
            f"step {index + 1} ({weight} %): {step.verdict} ({step.reason}) -> {step.decision} "
            f"[failures {failures}/{limits.failure_limit}, inconclusive {inconclusive}/{limits.inconclusive_limit}, "
            f"consecutive errors {errors}/{limits.consecutive_error_limit}]",
        )
        if abort:
            _abort(target, result, f"step {index + 1} at {weight} %: {step.reason}")
            return
        if step.verdict != "error":
            index += 1
    drained = target.drain(stable)
    target.stop(stable)
    result.event("promoted", f"{new} serves all traffic; {stable} stopped" + ("" if drained else " (undrained)"))
    result.finish("promoted", new, f"all {len(steps)} steps passed")


def _judge_step(
    index: int,
    weight: int,
    started: float,
    ended: float,
    baked: _Bake,
    baseline: Samples,
    specs: Sequence[MetricSpec],
    limits: CanaryLimits,
) -> DeployStep:
    step = judged_step(index, weight, started, ended, baked.canary, baked.baseline, baseline, specs)
    step.health_probes, step.health_failures = baked.probes, len(baked.failed_probes)
    if baked.exited is not None:
        step.verdict, step.score = "fail", 0.0
        step.reason = f"the canary exited with code {baked.exited} during the bake"
    elif len(baked.failed_probes) > limits.health_failures:
        step.verdict, step.score = "fail", 0.0
        step.reason = (
            f"health check failed {len(baked.failed_probes)} of {baked.probes} probes "
            f"(allowed {limits.health_failures}): {', '.join(baked.failed_probes[:5])}"
        )
    return step
