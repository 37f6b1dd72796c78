"""How a step's metrics make one verdict. ``gate`` (the default): any deciding metric that fails fails the step,
as the router's own judge always did. ``weighted``: the signals score as Kayenta's and Keptn's do — each group's
share of passing signals (a marginal one counts half), weighted by the group's weight, against the pass and
marginal thresholds; a critical signal that fails (Kayenta's ``critical``, Keptn's ``key_sli``) fails the step
at score 0. The router's own measurements and the alert gate stay gates in both: they are the safety net a
score must not average away."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import field
from typing import Literal

from ..deploy.judge import JudgeResult, MetricResult, Verdict, combine
from ..values import FrozenValue, record
from .signals import SignalMetric

__all__ = ["MODES", "Scoring"]

MODES = ("gate", "weighted")

_POINTS = {"pass": 1.0, "marginal": 0.5}


@record(frozen=True)
class Scoring(FrozenValue):
    mode: Literal["gate", "weighted"] = "gate"
    pass_score: float = 95.0
    marginal_score: float = 75.0
    #: weighted: each group's weight (a group not named weighs 1)
    weights: Mapping[str, float] = field(default_factory=dict)

    def score(self, gates: Sequence[MetricResult], signals: Sequence[tuple[MetricResult, SignalMetric]]) -> JudgeResult:
        """``gates``: results that fail the step on their own (the router's, the alert gate); ``signals``: the
        deciding (not dry-run) signals with their definitions."""
        if self.mode == "gate":
            return combine([*gates, *(r for r, _ in signals)], self.pass_score, self.marginal_score)
        results = [*gates, *(r for r, _ in signals)]
        failed = [r for r in gates if r.verdict == "fail"]
        critical = [(r, m) for r, m in signals if m.critical and r.verdict == "fail"]
        if failed or critical:
            reasons = [r.reason for r in failed] + [f"critical signal {m.name} failed: {r.reason}" for r, m in critical]
            return JudgeResult("fail", 0.0, results, "; ".join(reasons))
        short = [r for r in results if r.verdict == "inconclusive"]
        if short:
            return JudgeResult("inconclusive", 0.0, results, "; ".join(r.reason for r in short))
        if not signals:
            return combine(list(gates), self.pass_score, self.marginal_score)
        return self._banded(results, signals)

    def _banded(self, results: list[MetricResult], signals: Sequence[tuple[MetricResult, SignalMetric]]) -> JudgeResult:
        """The weighted score against the pass and marginal thresholds, with what did not pass."""
        score = self.weighted(signals)
        verdict: Verdict = "fail"
        if score >= self.marginal_score:
            verdict = "pass" if score >= self.pass_score else "marginal"
        missed = [f"{m.name} ({m.scored_in}): {r.reason}" for r, m in signals if r.verdict != "pass"]
        reason = f"score {score:.1f} ({verdict}: pass >= {self.pass_score:g}, marginal >= {self.marginal_score:g})"
        return JudgeResult(verdict, score, results, reason + (f"; not passing: {'; '.join(missed)}" if missed else ""))

    def weighted(self, signals: Sequence[tuple[MetricResult, SignalMetric]]) -> float:
        """The weighted mean of the groups' scores, 0-100."""
        groups: dict[str, list[float]] = {}
        for result, metric in signals:
            groups.setdefault(metric.scored_in, []).append(_POINTS.get(result.verdict, 0.0))
        total = sum(self.weights.get(g, 1.0) for g in groups)
        if total <= 0:
            return 0.0
        return 100.0 * sum(self.weights.get(g, 1.0) * sum(p) / len(p) for g, p in groups.items()) / total
