"""The deployment records of the run report: one per deployment a test ran, with its steps, metrics and events.
``pytest_iotops.deploy.result.DeployResult`` builds them; the renderers read them."""

from __future__ import annotations

from dataclasses import field
from typing import Literal

from ..values import Value, record

__all__ = ["Decision", "DeployEvent", "DeployMetric", "DeployStep", "Deployment", "StepLog"]

#: what a canary does after a step
Decision = Literal["continue", "retry", "abort", "promote", "halt"]


@record
class DeployEvent(Value):
    """One thing that happened in a deployment (a step began, traffic moved, a rollback), and when."""

    #: seconds since the deployment started
    t: float
    event: str
    detail: str


@record
class DeployMetric(Value):
    """One metric of a step as judged: the canary's value, the baseline's and the verdict."""

    name: str
    verdict: str
    value: float | None
    baseline: float | None
    #: the limits it was held to, in words ("<= 1.00 %, +0.50 % over baseline")
    threshold: str
    reason: str
    p_value: float | None = None
    samples: int = 0


@record
class StepLog(Value):
    """What one version wrote during a step (schema 2.4): lines, lines by level, the last few (redacted)."""

    version: str
    lines: int
    levels: dict[str, int]
    last: list[str]


@record
class DeployStep(Value):
    """One step of a rollout: its traffic weight, the load served and how it was judged."""

    index: int
    weight: int
    #: seconds since the deployment started
    started: float
    ended: float
    verdict: Literal["pass", "marginal", "fail", "inconclusive", "error"]
    score: float
    reason: str
    #: what the strategy did next: continue, retry (a measurement error), abort, promote, or halt (the stable
    #: version degraded: neither version can be judged, traffic goes back to the stable one)
    decision: Decision
    canary_requests: int = 0
    canary_errors: int = 0
    stable_requests: int = 0
    stable_errors: int = 0
    canary_p50_ms: float | None = None
    canary_p99_ms: float | None = None
    stable_p99_ms: float | None = None
    health_probes: int = 0
    health_failures: int = 0
    metrics: list[DeployMetric] = field(default_factory=list)
    #: the step whose stable data the canary was compared with (the last with enough of it)
    baseline_step: int | None = None
    #: of canary_errors: requests with no answer within the request timeout, and still unanswered at the end
    canary_timeouts: int = 0
    canary_unanswered: int = 0
    #: each running version's output during the step (schema 2.4)
    logs: list[StepLog] = field(default_factory=list)


@record
class Deployment(Value):
    """One deployment a test ran: its strategy, versions, steps, events and outcome."""

    #: the test that ran it
    test: str
    strategy: Literal["canary", "blue-green"]
    target: str
    stable: str
    candidate: str
    #: halted: the stable version degraded, so the rollout stopped without blaming the candidate;
    #: interrupted: a signal or KeyboardInterrupt ended it (traffic put back on the stable version)
    outcome: Literal["promoted", "rolled_back", "halted", "interrupted", "error"]
    #: the version serving all traffic at the end
    active: str
    reason: str
    duration: float
    #: highest traffic weight (percent) the candidate held
    exposure: int
    candidate_requests: int = 0
    requests: int = 0
    #: share of the load generator's requests that succeeded while it ran
    availability: float | None = None
    #: the load's answers that failed a response check, by reason (the first 20 reasons)
    check_failures: dict[str, int] = field(default_factory=dict)
    #: seconds from the failing decision until all traffic was back on the stable version
    rollback_seconds: float | None = None
    steps: list[DeployStep] = field(default_factory=list)
    events: list[DeployEvent] = field(default_factory=list)
    #: when it started (UTC, ISO 8601; schema 2.3): steps' and events' times are seconds after it
    started_at: str = ""
