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
import itertools
import time
from collections.abc import Sequence
from dataclasses import field, replace
from pathlib import Path

from ..errors import DeployError
from ..model import DeployStep
from ..monitoring.monitor import Mark, Monitor
from ..monitoring.promql import MonitoringError
from ..values import FrozenValue, Value, record
from .bake import Bake
from .decision import Tally, decide
from .judge import MetricSpec, Samples, judge, merge
from .result import DeployResult, Outcome, Progress, interrupted, judged_step
from .steplogs import StepLogs
from .target import Target

__all__ = ["CanaryLimits", "CanaryResult", "Tally", "canary", "check_steps", "decide"]

CanaryResult = DeployResult


@record(frozen=True)
class CanaryLimits(FrozenValue):
    failure_limit: int = 0
    inconclusive_limit: int = 1
    consecutive_error_limit: int = 4
    #: failed health probes tolerated per step
    health_failures: int = 0


def check_steps(steps: Sequence[int]) -> list[int]:
    if (
        not steps
        or any(not isinstance(w, int) or isinstance(w, bool) or not 0 < w <= 100 for w in steps)
        or any(a >= b for a, b in itertools.pairwise(steps))
        or steps[-1] != 100
    ):
        raise DeployError(f"steps must be increasing whole percentages in 1..100 ending at 100, got {list(steps)}")
    return list(steps)


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
    bake_max: float = 30.0,
    monitor: Monitor | None = None,
) -> DeployResult:
    """``bake`` is each step's shortest bake; it goes on until the canary and the stable version have each
    served the metrics' ``min_samples`` requests and the data no longer looks bad without proving it, at most
    ``bake_max`` seconds. ``monitor``: monitoring signals judged with (or, ``builtin = false``, instead of) the
    router's measurements."""
    steps = check_steps(steps)
    result = target.begin("canary", stable, new)
    if new not in target.processes:
        return result
    if monitor is not None and not monitor.builtin:
        specs = ()
    plan = _Plan(steps, bake, max(bake, bake_max), specs, limits, health_interval, monitor)
    try:
        _run(target, result, plan, progress)
    except BaseException as exc:

        def cleanup(reason: str) -> None:
            if new in target.processes and stable in target.processes:
                _abort(target, result, reason)

        interrupted(result, exc, cleanup)
        raise
    return result


@record(frozen=True)
class _Plan(FrozenValue):
    steps: list[int]
    bake: float
    bake_max: float
    specs: Sequence[MetricSpec]
    limits: CanaryLimits
    health_interval: float
    monitor: Monitor | None = None
    #: the monitor's last reading: the next step's window starts there
    marks: list[Mark] = field(default_factory=list)

    @property
    def need(self) -> int:
        return max((s.min_samples for s in self.specs), default=0)


def _abort(target: Target, result: DeployResult, reason: str, outcome: Outcome = "rolled_back") -> None:
    stable, new = result.stable, result.candidate
    result.rollback_seconds, drained = target.roll_back(stable, new)
    result.event(
        "aborted" if outcome == "rolled_back" else outcome,
        f"100 % back to {stable}; {new} stopped"
        + ("" if drained else " (requests still running after 30 s)")
        + f": {reason}",
    )
    result.finish(outcome, stable, reason)


@record
class _History(Value):
    """What earlier steps measured: the baseline to compare with, all data so far, the stable's reference."""

    baseline: Samples = field(default_factory=Samples)
    baseline_step: int | None = None
    canary_so_far: Samples = field(default_factory=Samples)
    stable_so_far: Samples = field(default_factory=Samples)
    #: the stable version's first step with enough data: a later step judged against it says "stable degraded"
    reference: Samples | None = None
    reference_step: int = 0

    def add(self, index: int, weight: int, baked: Bake, need: int) -> None:
        if weight < 100 and (baked.baseline.requests >= need or self.baseline_step is None):
            # the last step with enough stable data; at 100 % there is none: keep the last one's
            self.baseline, self.baseline_step = baked.baseline, index

    def so_far(self, weight: int, baked: Bake) -> tuple[Samples, Samples]:
        """Both versions over the steps that did not fail, and this one."""
        stable = merge(self.stable_so_far, baked.baseline) if weight < 100 else self.stable_so_far
        return merge(self.canary_so_far, baked.canary), stable

    def keep(self, index: int, weight: int, baked: Bake, need: int) -> None:
        """A step that did not fail joins the data later steps are judged on as a whole (a failed step the
        limits tolerated is not counted again); the first with enough stable data is the stable's reference."""
        self.canary_so_far, self.stable_so_far = self.so_far(weight, baked)
        if self.reference is None and weight < 100 and baked.baseline.requests >= need:
            self.reference, self.reference_step = baked.baseline, index


def _run(target: Target, result: DeployResult, plan: _Plan, progress: Progress | None) -> None:
    stable, new = result.stable, result.candidate
    limits, steps = plan.limits, plan.steps
    tally = Tally()
    history = _History()
    index = 0
    outputs = StepLogs()
    outputs.take(_logs(target))  # what the versions wrote before the first step is not a step's
    if plan.monitor is not None:
        plan.monitor.begin()
        plan.marks.append(plan.monitor.mark([stable, new], _logs(target)))
    while index < len(steps):
        weight = steps[index]
        target.set_weights({stable: 100 - weight, new: weight} if weight < 100 else {new: 100})
        result.exposure = max(result.exposure, weight)
        started = result.now()
        result.event(f"step {index + 1}", f"{weight} % of traffic to {new}, baking {plan.bake:g}s")
        label = f"canary {new} step {index + 1}/{len(steps)} {weight:>3} %: "
        baked = _bake(target, result, weight, plan, progress, label)
        history.add(index + 1, weight, baked, plan.need)
        step = _judge_step(index + 1, weight, started, result.now(), baked, history, plan)
        step.logs = outputs.take(_logs(target))
        result.steps.append(step)
        if step.verdict in ("pass", "marginal", "inconclusive"):
            history.keep(index + 1, weight, baked, plan.need)
        if step.decision == "halt":
            _abort(target, result, f"step {index + 1} at {weight} %: {step.reason}", "halted")
            return
        tally = decide(step.verdict, tally, limits, last=index == len(steps) - 1)
        step.decision = tally.decision
        if progress is not None:
            progress(f"{label}{baked.numbers()}; {step.verdict} -> {step.decision}", True)
        result.event(
            "decision",
            f"step {index + 1} ({weight} %): {step.verdict} ({step.reason}) -> {step.decision} "
            f"[failures {tally.failures}/{limits.failure_limit}, "
            f"inconclusive {tally.inconclusive}/{limits.inconclusive_limit}, "
            f"consecutive errors {tally.errors}/{limits.consecutive_error_limit}]",
        )
        if tally.decision == "abort":
            _abort(target, result, f"step {index + 1} at {weight} %: {step.reason}")
            return
        if step.verdict != "error":
            index += 1
    drained = target.drain(stable)
    target.stop(stable)
    result.event("promoted", f"{new} serves all traffic; {stable} stopped" + ("" if drained else " (undrained)"))
    result.finish("promoted", new, f"all {len(steps)} steps passed")


def _bake(
    target: Target, result: DeployResult, weight: int, plan: _Plan, progress: Progress | None, label: str
) -> Bake:
    """One step's data: from the weight change until both versions served enough, and every request that
    arrived meanwhile has an answer or has timed out."""
    with contextlib.suppress(DeployError):  # an unreadable backlog: the step's own measurement decides
        target.window()  # what came before this step's weights is not its data
    target.observed()
    need = (plan.need, plan.need if weight < 100 else 0)
    baked = Bake(target, result.stable, result.candidate, plan.health_interval, need, plan.specs)
    baked.run(plan.bake, plan.bake_max, progress, label)
    if baked.set_aside:
        result.event(
            "confirming",
            f"{weight} % step: a window failed on latency alone ({baked.set_aside}); judged again on a fresh "
            "window at the same weight (one stall slows every request in flight)",
        )
    if not baked.error:
        try:
            target.settle(baked.ended, target.request_timeout)
            baked.collect()
        except DeployError as exc:
            baked.error = str(exc)
    if plan.monitor is not None and not baked.error:
        _signals(plan.monitor, result, baked, plan)
    return baked


def _logs(target: Target) -> dict[str, Path]:
    return {version: process.log for version, process in target.processes.items()}


def _signals(monitor: Monitor, result: DeployResult, baked: Bake, plan: _Plan) -> None:
    """The step's monitoring signals, from the last reading to one taken now; while a signal is short of
    samples and the longest bake allows, read again."""
    running = [v for v in (result.stable, result.candidate) if v in baked.target.processes]
    try:
        while True:
            end = monitor.mark(running, _logs(baked.target))
            judged = monitor.judge(plan.marks[-1], end, result.candidate, result.stable)
            if not monitor.short(judged) or time.monotonic() - baked.started >= plan.bake_max:
                break
            time.sleep(monitor.poll)
    except MonitoringError as exc:
        baked.error = str(exc)
        return
    baked.signals = monitor.settle(judged)
    if result.stable in running:
        baked.stable_degraded = monitor.stable_degraded(plan.marks[-1], end, result.stable)
    plan.marks.append(end)


def _stable_specs(specs: Sequence[MetricSpec]) -> list[MetricSpec]:
    """What the stable version is held to against its own earlier step: its error rate (absolute and relative)
    and the absolute latency limits. Not its latency relative to an earlier window: that moves with the load on
    the machine, which the canary-vs-stable comparison in one window cancels and a comparison across time does
    not (a loaded CI runner would halt healthy rollouts)."""
    return [
        s if s.name == "error_rate" else replace(s, max_increase=None)
        for s in specs
        if s.name == "error_rate" or s.max_value is not None
    ]


def _judge_step(
    index: int, weight: int, started: float, ended: float, baked: Bake, history: _History, plan: _Plan
) -> DeployStep:
    client = baked.client if baked.target.observing else None
    specs = baked.judged_by(plan.specs)
    step = judged_step(
        index,
        weight,
        started,
        ended,
        baked.canary,
        baked.baseline,
        history.baseline,
        specs,
        client,
        baked.signals,
        plan.monitor.score if plan.monitor is not None else None,
    )
    step.health_probes, step.health_failures = baked.probes, len(baked.failed_probes)
    step.baseline_step = history.baseline_step
    step.canary_timeouts, step.canary_unanswered = baked.canary.timeouts, baked.canary.outstanding
    if baked.error:
        step.verdict, step.reason, step.metrics = "error", f"measurement failed: {baked.error}", []
        return step
    if baked.stable_exited is not None:
        step.verdict, step.decision = "inconclusive", "halt"
        step.reason = f"stable degraded: the stable version exited with code {baked.stable_exited}"
        return step
    if baked.stable_degraded:
        step.verdict, step.decision = "inconclusive", "halt"
        step.reason = f"stable degraded: {baked.stable_degraded}"
        return step
    if weight < 100 and baked.baseline.requests:
        reference = history.reference  # from an earlier step: this one's joins only once judged
        degraded = judge(baked.baseline, reference or Samples(), _stable_specs(plan.specs))
        if degraded.verdict == "fail":
            since = f" since step {history.reference_step}" if reference is not None else ""
            step.verdict, step.decision = "inconclusive", "halt"
            step.reason = f"stable degraded{since}: {degraded.reason}"
            return step
    if baked.exited is not None:
        step.verdict, step.score = "fail", 0.0
        step.reason = f"the canary exited with code {baked.exited} during the bake"
    elif len(baked.failed_probes) > plan.limits.health_failures:
        step.verdict, step.score = "fail", 0.0
        step.reason = (
            f"health check failed {len(baked.failed_probes)} of {baked.probes} probes "
            f"(allowed {plan.limits.health_failures}): {', '.join(baked.failed_probes[:5])}"
        )
    elif step.verdict in ("pass", "marginal") and history.canary_so_far.requests:
        so_far = judge(*history.so_far(weight, baked), plan.specs)
        if so_far.verdict == "fail":  # each step alone can be too small to see a 3 % error rate; all of them not
            step.verdict, step.score = "fail", round(so_far.score, 1)
            step.reason = f"over steps 1-{index}: {so_far.reason}"
    return step
