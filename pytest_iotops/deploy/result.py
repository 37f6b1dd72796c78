"""What a deployment leaves behind: the outcome, every step with its numbers and every decision as an event.

The same record is the return value a test asserts on, the text ``explain()`` prints and the run report's
``deployments`` entry (:class:`pytest_iotops.model.Deployment`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import field, fields
from datetime import datetime, timezone
from typing import Literal

from ..model import DeployEvent, Deployment, DeployMetric, DeployStep
from ..values import record
from . import judge as _judge  # looked up at call time: a test can replace judge.judge
from .judge import JudgeResult, MetricResult, MetricSpec, Samples, quantile

__all__ = ["DeployResult", "Outcome", "Progress", "describe_threshold", "interrupted", "judged_step", "metric_record"]

Outcome = Literal["promoted", "rolled_back", "halted", "interrupted", "error"]
#: called with a one-line status; ``final`` once per step (else a live update of the current step)
Progress = Callable[[str, bool], None]


def describe_threshold(spec: MetricSpec) -> str:
    def amount(x: float) -> str:
        unit = spec.unit or ("%" if spec.name in ("error_rate", "availability") else "ms")
        return f"{x:.2%}" if unit == "%" else f"{x:g} ms" if unit == "ms" else f"{x:g}"

    parts = [spec.described] if spec.described else []
    if spec.min_value is not None:
        parts.append(f">= {amount(spec.min_value)} (alpha {spec.alpha:g})")
    if spec.max_value is not None:
        parts.append(f"<= {amount(spec.max_value)}")
    if spec.max_increase is not None:
        parts.append(f"+{amount(spec.max_increase)} over baseline (alpha {spec.alpha:g})")
    parts.append(f"min {spec.min_samples} samples, no data = {spec.no_data}")
    return "; ".join(parts)


def judged_step(
    index: int,
    weight: int,
    started: float,
    ended: float,
    candidate: Samples,
    stable: Samples,
    baseline: Samples,
    specs: Sequence[MetricSpec],
    client: Samples | None = None,
    signals: Sequence[tuple[MetricResult, MetricSpec, bool]] = (),
    scorer: Callable[[Sequence[MetricResult], Sequence[tuple[MetricResult, MetricSpec, bool]]], JudgeResult]
    | None = None,
) -> DeployStep:
    """The judge's verdict on what ``candidate`` served, against ``baseline``, as a step of the record;
    ``stable`` is what the stable version served meanwhile (the baseline, unless it had no traffic);
    ``client`` what the load saw (None: no load reported to the target)."""
    specs = _judge.applicable(specs, client)
    verdict = _judge.judge(candidate, baseline, specs, client=client)
    if signals:  # monitoring signals join the router's measurements; a dry-run signal is shown, never decides
        router = verdict.metrics
        if scorer is not None:
            verdict = scorer(router, signals)
        else:
            verdict = _judge.combine([*router, *(m for m, _, dry in signals if not dry)])
        verdict.metrics = router
    return DeployStep(
        index=index,
        weight=weight,
        started=started,
        ended=ended,
        verdict=verdict.verdict,
        score=round(verdict.score, 1),
        reason=verdict.reason,
        decision="continue",
        canary_requests=candidate.requests,
        canary_errors=candidate.errors,
        stable_requests=stable.requests,
        stable_errors=stable.errors,
        canary_p50_ms=quantile(candidate.latencies_ms, 0.5),
        canary_p99_ms=quantile(candidate.latencies_ms, 0.99),
        stable_p99_ms=quantile(baseline.latencies_ms, 0.99),
        metrics=[metric_record(m, s) for m, s in zip(verdict.metrics, specs, strict=True)]
        + [metric_record(m, s) for m, s, _ in signals],
    )


def metric_record(result: MetricResult, spec: MetricSpec) -> DeployMetric:
    return DeployMetric(
        result.name,
        result.verdict,
        result.value,
        result.baseline,
        describe_threshold(spec),
        result.reason,
        result.p_value,
        result.samples,
    )


@record
class DeployResult(Deployment):
    """A deployment in progress, and its record: the fields are the run report's :class:`Deployment` (one
    definition), plus the clock it is timed by; :meth:`deployment` is the plain record for the report."""

    started: float = field(default_factory=time.monotonic, repr=False)

    @classmethod
    def begin(cls, strategy: str, target: str, stable: str, candidate: str) -> DeployResult:
        """A deployment from ``stable`` (serving all traffic) to ``candidate``: rolled back until it says otherwise."""
        kind: Literal["canary", "blue-green"] = "canary" if strategy == "canary" else "blue-green"
        started_at = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        return cls("", kind, target, stable, candidate, "rolled_back", stable, "", 0.0, 0, started_at=started_at)

    @property
    def promoted(self) -> bool:
        return self.outcome == "promoted"

    @property
    def aborted_at(self) -> int | None:
        """The weight of the step at which the candidate was rolled back (None: promoted, or never got traffic)."""
        if self.promoted or not self.steps:
            return None
        return self.steps[-1].weight

    def now(self) -> float:
        return round(time.monotonic() - self.started, 3)

    def event(self, name: str, detail: str) -> None:
        self.events.append(DeployEvent(self.now(), name, detail))

    def finish(self, outcome: Outcome, active: str, reason: str) -> None:
        self.outcome, self.active, self.reason = outcome, active, reason
        self.duration = self.now()

    def explain(self) -> str:
        """Every step and decision in words: what a failing assertion should show."""
        lines = [
            f"{self.strategy} {self.stable} -> {self.candidate} on {self.target}: {self.outcome.replace('_', ' ')}"
            + (f" ({self.reason})" if self.reason else ""),
            f"  active: {self.active}; highest exposure: {self.exposure} %"
            + (f"; availability {self.availability:.4%}" if self.availability is not None else "")
            + (
                f"; back on {self.stable} {self.rollback_seconds * 1000:.1f} ms after the decision"
                if self.rollback_seconds is not None
                else ""
            ),
        ]
        for step in self.steps:
            lines.append(
                f"  step {step.index} at {step.weight} %: {step.verdict} -> {step.decision}; "
                f"{step.canary_requests} canary requests ({step.canary_errors} errors), "
                f"{step.stable_requests} stable; {step.reason}"
            )
            lines.extend(
                f"      {m.name}: {m.verdict}, {_num(m.value)} vs baseline {_num(m.baseline)} "
                f"[{m.threshold}]: {m.reason}"
                for m in step.metrics
            )
        lines.append("  events:")
        lines.extend(f"  {e.t:8.3f}s {e.event}: {e.detail}" for e in self.events)
        return "\n".join(lines)

    def deployment(self) -> Deployment:
        """The record for the run report: a plain :class:`Deployment` with the request totals of its steps."""
        values = {f.name: getattr(self, f.name) for f in fields(Deployment)}
        values.update(
            candidate_requests=sum(s.canary_requests for s in self.steps),
            requests=sum(s.canary_requests + s.stable_requests for s in self.steps),
            check_failures=dict(self.check_failures),
            steps=list(self.steps),
            events=list(self.events),
        )
        return Deployment(**values)


def interrupted(result: DeployResult, exc: BaseException, cleanup: Callable[[str], None]) -> None:
    """An exception or KeyboardInterrupt ended the deployment: ``cleanup(reason)`` puts traffic back (its own
    failure is only an event — the original exception matters more, and the fixture stops the rest), the outcome
    is ``error``, and the exception carries the result so the fixture can still record it."""
    try:
        cleanup(f"interrupted by {type(exc).__name__}: {exc}".rstrip(": "))
    except Exception as failure:
        result.event("cleanup failed", f"{type(failure).__name__}: {failure}")
    # a signal (SIGTERM and SIGHUP arrive as KeyboardInterrupt, see fixtures) or Ctrl-C: interrupted, not failed
    result.outcome = "interrupted" if isinstance(exc, KeyboardInterrupt) else "error"
    result.reason = result.reason or f"interrupted by {type(exc).__name__}"
    with contextlib.suppress(AttributeError, TypeError):
        exc.iotops_result = result  # type: ignore[attr-defined]


def _num(value: float | None) -> str:
    return "no data" if value is None else f"{value:.4g}"
