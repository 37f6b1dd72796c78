"""The seed's maturity score and value stream, computed from the run history (pure: run reports in, figures
and their sources out).

    M = 100 x (0.30 automation + 0.20 integration + 0.20 deployment + 0.30 monitoring)

- **automation** (0-1): of five checks, the share the latest run of the branch had — tests in two or more
  phases, a coverage gate, a gate on a tool's findings (evidence), a diff coverage gate, a deployment judged by
  the pipeline;
- **integration**: runs of the branch per day, 1 per day or more scoring 1 (linear below);
- **deployment**: successful deployments and fleet rollouts per day, 1 per day or more scoring 1;
- **monitoring**: the share of deployments judged with monitoring signals or alert rules beyond the router's
  own measurements.

The value stream: each stage's mean time per run (collect, each phase, coverage, evidence, gates) over the
runs read, and deployments' time (spent inside the phases that ran them), with the stage that costs most
named."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import field
from datetime import datetime

from ..model import RunReport
from ..values import Value, record

__all__ = ["WEIGHTS", "Maturity", "maturity"]

WEIGHTS = {"automation": 0.30, "integration": 0.20, "deployment": 0.20, "monitoring": 0.30}
#: the router's own measurements: a deployment judged by anything else was judged with monitoring
_ROUTER = frozenset({"error_rate", "latency_p50", "latency_p99", "availability"})


@record
class Maturity(Value):
    score: float
    inputs: dict[str, float]
    #: per input, the records it was computed from, in words
    sources: dict[str, str]
    #: stage -> mean seconds per run
    value_stream: dict[str, float] = field(default_factory=dict)
    costliest: str = ""


def _days(reports: Sequence[RunReport]) -> float:
    times = [datetime.fromisoformat(r.run.started_at.replace("Z", "+00:00")) for r in reports]
    return max((max(times) - min(times)).total_seconds() / 86400, 1.0) if times else 1.0


def _automation(latest: RunReport) -> tuple[float, str]:
    families = {g.family for g in latest.gates}
    checks = {
        "tests in 2+ phases": sum(1 for p in latest.phases if p.tests) >= 2,
        "a coverage gate": "coverage" in families,
        "a gate on tools' findings": "evidence" in families,
        "a diff coverage gate": "diff" in families,
        "a deployment judged": bool(latest.deployments or latest.fleet_rollouts),
    }
    have = [name for name, ok in checks.items() if ok]
    missing = [name for name, ok in checks.items() if not ok]
    words = f"latest run {latest.run.started_at[:16]}: has {', '.join(have) or 'none'}"
    return len(have) / len(checks), words + (f"; lacks {', '.join(missing)}" if missing else "")


def _judged_with_monitoring(report: RunReport) -> tuple[int, int]:
    """(deployments, of them judged with signals or alerts)."""
    total = len(report.deployments)
    monitored = sum(1 for d in report.deployments if any(m.name not in _ROUTER for s in d.steps for m in s.metrics))
    return total, monitored


def _value_stream(reports: Sequence[RunReport]) -> dict[str, float]:
    spent: dict[str, float] = defaultdict(float)
    for r in reports:
        for stage in r.stages:
            spent[stage.name if stage.kind == "phase" else stage.kind] += stage.duration
        spent["deployments (inside phases)"] += sum(d.duration for d in r.deployments)
    return {k: round(v / len(reports), 3) for k, v in sorted(spent.items(), key=lambda kv: -kv[1])}


def maturity(reports: Sequence[RunReport]) -> Maturity:
    """``reports``: the runs of one branch over the period, any order (at least one)."""
    ordered = sorted(reports, key=lambda r: r.run.started_at)
    days = _days(ordered)
    automation, automation_words = _automation(ordered[-1])
    deployments = [d for r in ordered for d in r.deployments]
    promoted = sum(1 for d in deployments if d.outcome == "promoted")
    promoted += sum(1 for r in ordered for f in r.fleet_rollouts if f.outcome == "promoted")
    counts = [_judged_with_monitoring(r) for r in ordered]
    total, monitored = sum(c[0] for c in counts), sum(c[1] for c in counts)
    inputs = {
        "automation": automation,
        "integration": min(1.0, len(ordered) / days),
        "deployment": min(1.0, promoted / days),
        "monitoring": monitored / total if total else 0.0,
    }
    sources = {
        "automation": automation_words,
        "integration": f"{len(ordered)} runs over {days:.1f} days ({len(ordered) / days:.2f} a day; 1 scores 1)",
        "deployment": f"{promoted} successful deployments over {days:.1f} days ({promoted / days:.2f} per day)",
        "monitoring": f"{monitored} of {total} deployments judged with monitoring signals or alert rules",
    }
    score = 100 * sum(WEIGHTS[k] * v for k, v in inputs.items())
    stream = _value_stream(ordered)
    costliest = next((k for k in stream if not k.startswith("deployments")), "")
    return Maturity(round(score, 1), inputs, sources, stream, costliest)
