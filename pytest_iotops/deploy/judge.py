"""The canary judge: thresholds per metric plus a statistical comparison of canary against baseline, as
Kayenta's judge does — each metric passes, is marginal, fails or is inconclusive, and the score is the share
of metrics that pass. Every metric says what no data means, and the judge refuses to pass on too few samples.

Pure and seeded-free: the same samples always give the same verdict and the same explanation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from .stats import fisher_greater, mann_whitney

__all__ = ["JudgeResult", "MetricResult", "MetricSpec", "Samples", "judge", "quantile"]

Verdict = Literal["pass", "marginal", "fail", "inconclusive"]


@dataclass(frozen=True)
class Samples:
    """What one version served during a step: latencies (ms) of all requests and how many failed."""

    latencies_ms: Sequence[float] = ()
    errors: int = 0

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None


@dataclass(frozen=True)
class MetricSpec:
    name: Literal["error_rate", "latency_p50", "latency_p99"]
    #: absolute limit on the canary: error rate as a fraction, latencies in ms
    max_value: float | None = None
    #: canary vs baseline: error rate may exceed the baseline by this much (fraction); latency shift in ms
    max_increase: float | None = None
    #: significance for the comparison; a worse canary fails only when the test says so
    alpha: float = 0.05
    min_samples: int = 50
    no_data: Verdict = "inconclusive"


@dataclass
class MetricResult:
    name: str
    verdict: Verdict
    value: float | None
    baseline: float | None
    samples: int
    reason: str
    p_value: float | None = None
    shift: float | None = None
    ci: tuple[float, float] | None = None


@dataclass
class JudgeResult:
    verdict: Verdict
    score: float
    metrics: list[MetricResult] = field(default_factory=list)
    reason: str = ""


def quantile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (R type 7, numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _settle(result: MetricResult, spec: MetricSpec, canary: Samples, reason: str) -> MetricResult:
    """Nothing failed: the metric passes, unless there were too few samples to say so."""
    if canary.requests < spec.min_samples:
        result.verdict = "inconclusive"
        result.reason = f"only {canary.requests} requests, fewer than the {spec.min_samples} needed to pass"
    else:
        result.reason = reason
    return result


def _error_rate(spec: MetricSpec, canary: Samples, baseline: Samples) -> MetricResult:
    rate, base = canary.error_rate, baseline.error_rate
    result = MetricResult("error_rate", "pass", rate, base, canary.requests, "")
    if rate is None:
        result.verdict, result.reason = spec.no_data, f"no requests reached the canary: {spec.no_data}"
        return result
    if spec.max_value is not None and rate > spec.max_value:
        result.verdict, result.reason = "fail", f"error rate {rate:.2%} > limit {spec.max_value:.2%}"
        return result
    if spec.max_increase is not None and base is not None and baseline.requests:
        result.p_value = fisher_greater(canary.errors, canary.requests, baseline.errors, baseline.requests)
        if rate > base + spec.max_increase and result.p_value < spec.alpha:
            result.verdict = "fail"
            result.reason = (
                f"error rate {rate:.2%} vs baseline {base:.2%}: higher (Fisher p={result.p_value:.3g} < {spec.alpha})"
            )
            return result
    return _settle(
        result, spec, canary, f"error rate {rate:.2%}" + (f" (baseline {base:.2%})" if base is not None else "")
    )


def _latency(spec: MetricSpec, canary: Samples, baseline: Samples) -> MetricResult:
    q = 0.5 if spec.name == "latency_p50" else 0.99
    value, base = quantile(canary.latencies_ms, q), quantile(baseline.latencies_ms, q)
    result = MetricResult(spec.name, "pass", value, base, canary.requests, "")
    if value is None:
        result.verdict, result.reason = spec.no_data, f"no latencies from the canary: {spec.no_data}"
        return result
    if spec.max_value is not None and value > spec.max_value:
        result.verdict, result.reason = "fail", f"{spec.name} {value:.1f} ms > limit {spec.max_value:.1f} ms"
        return result
    if spec.max_increase is not None and len(baseline.latencies_ms) >= 2 and canary.requests >= 2:
        mw = mann_whitney(canary.latencies_ms, baseline.latencies_ms, conf_level=1 - spec.alpha)
        result.p_value, result.shift, result.ci = mw.p_value, mw.shift, (mw.ci_low, mw.ci_high)
        if mw.p_value < spec.alpha and mw.ci_low > spec.max_increase:
            result.verdict = "fail"
            result.reason = (
                f"latency shift {mw.shift:+.1f} ms ({1 - spec.alpha:.0%} CI {mw.ci_low:+.1f}..{mw.ci_high:+.1f}) "
                f"exceeds +{spec.max_increase:.1f} ms (Mann-Whitney p={mw.p_value:.3g})"
            )
            return result
        if mw.p_value < spec.alpha and mw.shift > spec.max_increase:
            result.verdict = "marginal"
            result.reason = (
                f"latency shift {mw.shift:+.1f} ms over +{spec.max_increase:.1f} ms, but its interval "
                f"{mw.ci_low:+.1f}..{mw.ci_high:+.1f} reaches the limit"
            )
            return result
    return _settle(
        result, spec, canary, f"{spec.name} {value:.1f} ms" + (f" (baseline {base:.1f} ms)" if base is not None else "")
    )


def judge(
    canary: Samples,
    baseline: Samples,
    specs: Sequence[MetricSpec],
    pass_score: float = 95.0,
    marginal_score: float = 75.0,
) -> JudgeResult:
    """Any failing metric fails the step; otherwise the score (share of passing metrics) decides."""
    metrics = [
        _error_rate(s, canary, baseline) if s.name == "error_rate" else _latency(s, canary, baseline) for s in specs
    ]
    if not metrics:
        return JudgeResult("inconclusive", 0.0, [], "no metrics configured")
    passed = sum(1 for m in metrics if m.verdict == "pass") + 0.5 * sum(1 for m in metrics if m.verdict == "marginal")
    score = 100.0 * passed / len(metrics)
    failed = [m for m in metrics if m.verdict == "fail"]
    if failed:
        return JudgeResult("fail", score, metrics, "; ".join(m.reason for m in failed))
    if any(m.verdict == "inconclusive" for m in metrics):
        reasons = "; ".join(m.reason for m in metrics if m.verdict == "inconclusive")
        return JudgeResult("inconclusive", score, metrics, reasons)
    verdict: Verdict = "pass" if score >= pass_score else "marginal" if score >= marginal_score else "fail"
    return JudgeResult(verdict, score, metrics, f"score {score:.0f} ({verdict})")
