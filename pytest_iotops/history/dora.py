"""The four DORA keys from the project's own deployment records (pure: deployments in, figures out).

- **Deployment frequency**: successful deployments (promoted canaries and blue-greens, promoted fleet
  rollouts) per day, per environment, over the period asked for.
- **Lead time for changes**: from the commit's time (git's committer time, recorded with the run) to the end of
  the deployment that promoted it; the median.
- **Change failure rate**: failed deployments (rolled back, aborted, errored) over deployments that ended in a
  success or a failure — over deployments, not over changes. A halted rollout (the stable version degraded), an
  interrupted one and an inconclusive fleet rollout are neither.
- **Time to restore**: from a failed deployment's end to the end of the next successful deployment to the same
  environment; the median over failures that were restored.

Bands follow the clusters of the 2023 Accelerate State of DevOps report (elite, high, medium, low)."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import field
from datetime import datetime, timedelta

from ..values import FrozenValue, Value, record

__all__ = ["BANDS_YEAR", "DeployRecord", "DoraKeys", "band", "dora"]

BANDS_YEAR = 2023
_DAY = 86400.0
#: per key, the upper edges of elite, high and medium (anything beyond is low); frequency is "at least"
_EDGES: dict[str, tuple[float, float, float]] = {
    "deployments_per_day": (1.0, 1 / 7, 1 / 30),
    "lead_time_hours": (24.0, 24 * 7, 24 * 30),
    "change_failure_rate": (0.05, 0.10, 0.15),
    "time_to_restore_hours": (1.0, 24.0, 24 * 7),
}


@record(frozen=True)
class DeployRecord(FrozenValue):
    environment: str
    #: success, failure or none (neither: halted, interrupted, inconclusive)
    result: str
    #: when it ended (ISO 8601)
    ended_at: str
    #: when the commit it deployed was made (ISO 8601; empty: unknown)
    committed_at: str = ""
    commit: str = ""


@record
class DoraKeys(Value):
    environment: str
    days: float
    deployments: int
    successes: int
    failures: int
    deployments_per_day: float
    lead_time_hours: float | None
    change_failure_rate: float | None
    time_to_restore_hours: float | None
    bands: dict[str, str] = field(default_factory=dict)
    #: what each figure was computed from, in words
    sources: list[str] = field(default_factory=list)


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def band(key: str, value: float | None) -> str:
    if value is None:
        return "no data"
    elite, high, medium = _EDGES[key]
    if key == "deployments_per_day":
        return "elite" if value >= elite else "high" if value >= high else "medium" if value >= medium else "low"
    return "elite" if value <= elite else "high" if value <= high else "medium" if value <= medium else "low"


def _restores(ordered: Sequence[DeployRecord]) -> list[float]:
    """Seconds from each failure to the next success (failures never restored are not counted)."""
    out: list[float] = []
    pending: list[datetime] = []
    for r in ordered:
        if r.result == "failure":
            pending.append(_t(r.ended_at))
        elif r.result == "success" and pending:
            out += [(_t(r.ended_at) - f).total_seconds() for f in pending]
            pending = []
    return out


def _window(records: Iterable[DeployRecord], environment: str, days: float | None) -> tuple[list[DeployRecord], float]:
    """The environment's records in time order within the period, and the period's length in days (the whole
    history: from the first record to the last, at least one day)."""
    chosen = sorted((r for r in records if environment in ("*", r.environment)), key=lambda r: (r.ended_at, r.result))
    if not chosen:
        return [], float(days or 0.0)
    if days is not None:
        cutoff = _t(chosen[-1].ended_at) - timedelta(days=days)
        return [r for r in chosen if _t(r.ended_at) >= cutoff], days
    return chosen, max((_t(chosen[-1].ended_at) - _t(chosen[0].ended_at)).total_seconds() / _DAY, 1.0)


def dora(records: Iterable[DeployRecord], environment: str, days: float | None = None) -> DoraKeys:
    """The keys of one environment (``"*"``: all), over the last ``days`` before its newest record (None: the
    whole history, from its first record)."""
    chosen, span = _window(records, environment, days)
    successes = [r for r in chosen if r.result == "success"]
    failures = [r for r in chosen if r.result == "failure"]
    leads = [(_t(r.ended_at) - _t(r.committed_at)).total_seconds() / 3600 for r in successes if r.committed_at]
    decided = len(successes) + len(failures)
    restores = [s / 3600 for s in _restores(chosen)]
    keys = DoraKeys(
        environment,
        span,
        len(chosen),
        len(successes),
        len(failures),
        len(successes) / span if span else 0.0,
        statistics.median(leads) if leads else None,
        len(failures) / decided if decided else None,
        statistics.median(restores) if restores else None,
    )
    keys.bands = {key: band(key, getattr(keys, key) if chosen else None) for key in _EDGES}
    keys.sources = [
        f"{len(chosen)} deployments to {environment} over {span:.1f} days: {len(successes)} succeeded, "
        f"{len(failures)} failed, {len(chosen) - decided} neither",
        f"lead time from {len(leads)} successful deployments with a known commit time",
        f"time to restore from {len(restores)} restored failures",
    ]
    return keys
