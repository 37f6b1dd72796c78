"""The canary judge: thresholds per metric plus a statistical comparison of canary against baseline, as
Kayenta's judge does — each metric passes, is marginal, fails or is inconclusive, and the score is the share
of metrics that pass. Every metric says what no data means, and the judge refuses to pass on too few samples
(of the canary, and of the baseline a relative check compares with).

Every limit is a test, not a point estimate, so a limit means what it says and noise does not fail an equal
version: ``error_rate <= 1 %`` fails when a one-sided binomial test shows more than 1 % of requests failed;
``latency_p99 <= L`` fails when significantly more than 1 % of requests took longer than ``L`` (the tail
itself is counted, so a 5 % tail of +300 ms fails even when the median did not move); a relative latency limit
is the baseline's own quantile plus the allowed increase, with the Mann-Whitney shift test for the body.

Pure and seeded-free: the same samples always give the same verdict and the same explanation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import field, replace

from ..values import FrozenValue, Value, record
from .metrics import MetricSpec, Verdict
from .power import POWER, needed_absolute, needed_relative
from .stats import binomial_upper, fisher_greater, mann_whitney

__all__ = [
    "JudgeResult",
    "MetricResult",
    "MetricSpec",
    "Samples",
    "Verdict",
    "applicable",
    "combine",
    "judge",
    "merge",
    "proportion",
    "quantile",
]


@record(frozen=True)
class Samples(FrozenValue):
    """What one version served during a step: latencies (ms) of all requests and how many failed.

    A request that got no answer is never left out: one that timed out is an error whose latency is the
    timeout, one still unanswered when the step's window closed is an error whose latency is its age then.
    """

    latencies_ms: Sequence[float] = ()
    errors: int = 0
    #: of ``errors``: requests that got no answer within the request timeout
    timeouts: int = 0
    #: of ``errors``: requests still unanswered when the window closed
    outstanding: int = 0

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None


def merge(a: Samples, b: Samples) -> Samples:
    """Two windows of one version as one."""
    return Samples(
        (*a.latencies_ms, *b.latencies_ms),
        a.errors + b.errors,
        a.timeouts + b.timeouts,
        a.outstanding + b.outstanding,
    )


@record
class MetricResult(Value):
    name: str
    verdict: Verdict
    value: float | None
    baseline: float | None
    samples: int
    reason: str
    p_value: float | None = None
    shift: float | None = None
    ci: tuple[float, float] | None = None


@record
class JudgeResult(Value):
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


def _settle(result: MetricResult, spec: MetricSpec, canary: Samples, baseline: Samples, reason: str) -> MetricResult:
    return _settle_counts(result, spec, canary.requests, baseline.requests, reason)


def _settle_counts(result: MetricResult, spec: MetricSpec, n: int, base_n: int, reason: str) -> MetricResult:
    """Nothing failed: the metric passes, unless there were too few samples to say so — of the canary, or of
    the baseline a relative limit compares with."""
    if n < spec.min_samples:
        result.verdict = "inconclusive"
        result.reason = f"only {n} requests, fewer than the {spec.min_samples} needed to pass"
    elif spec.max_increase is not None and base_n < spec.min_samples:
        result.verdict = "inconclusive"
        result.reason = (
            f"the baseline has only {base_n} requests, fewer than the {spec.min_samples} needed to compare with"
        )
    else:
        result.reason = reason
    return result


def _unanswered(canary: Samples) -> str:
    parts = [f"{n} {what}" for n, what in ((canary.timeouts, "timed out"), (canary.outstanding, "unanswered"))]
    return (
        f" ({', '.join(p for p in parts if not p.startswith('0 '))})" if canary.timeouts or canary.outstanding else ""
    )


def _error_rate(spec: MetricSpec, canary: Samples, baseline: Samples) -> MetricResult:
    return proportion(
        spec,
        "error_rate",
        (canary.errors, canary.requests),
        (baseline.errors, baseline.requests),
        _unanswered(canary),
        "error rate",
    )


def proportion(
    spec: MetricSpec, name: str, canary: tuple[int, int], baseline: tuple[int, int], note: str = "", words: str = ""
) -> MetricResult:
    """A share of bad events (errors of requests), canary against limits and baseline by exact tests:
    binomial for the absolute limit, Fisher for the rise over the baseline; with an ``effect``, a pass on too
    few events to have seen it is inconclusive."""
    (bad, n), (base_bad, base_n) = canary, baseline
    rate, base = (bad / n if n else None), (base_bad / base_n if base_n else None)
    result = MetricResult(name, "pass", rate, base, n, "")
    if rate is None:
        result.verdict, result.reason = spec.no_data, f"no requests reached the canary: {spec.no_data}"
        return result
    seen = f"{words or name} {rate:.2%} ({bad} of {n}){note}"
    if spec.max_value is not None:
        p = binomial_upper(bad, n, spec.max_value)
        if p < spec.alpha:
            result.verdict, result.p_value = "fail", p
            result.reason = f"{seen} > limit {spec.max_value:.2%} (binomial p={p:.3g} < {spec.alpha:g})"
            return result
    if spec.max_increase is not None and base is not None and base_n >= spec.min_samples:
        result.p_value = fisher_greater(bad, n, base_bad, base_n)
        if rate > base + spec.max_increase and result.p_value < spec.alpha:
            result.verdict = "fail"
            result.reason = (
                f"{seen} vs baseline {base:.2%}: higher by more than {spec.max_increase:.2%} "
                f"(Fisher p={result.p_value:.3g} < {spec.alpha:g})"
            )
            return result
    result = _settle_counts(result, spec, n, base_n, seen + (f", baseline {base:.2%}" if base is not None else ""))
    if result.verdict == "pass" and spec.effect is not None:
        underpowered(result, spec, n, base if base is not None else 0.0, base_n)
    return result


def underpowered(result: MetricResult, spec: MetricSpec, n: int, base: float, base_n: int) -> None:
    """A pass the data could not have turned into a fail: inconclusive, with the requests it would need."""
    assert spec.effect is not None
    relative = spec.max_increase is not None and base_n >= spec.min_samples
    if relative:
        need = needed_relative(base, base_n, spec.effect, spec.max_increase or 0.0, spec.alpha)
    else:
        need = needed_absolute(spec.max_value if spec.max_value is not None else 1.0, base + spec.effect, spec.alpha)
    if need is not None and n >= need:
        return
    result.verdict = "inconclusive"
    against = f"the baseline's {base:.2%} ({base_n} requests)" if relative else "the limit"
    if need is None:
        result.reason = (
            f"underpowered: {result.name} +{spec.effect:.2%} over {against} cannot be detected "
            f"at alpha {spec.alpha:g} with this baseline; {result.reason}"
        )
    else:
        result.reason = (
            f"underpowered: {n} requests could not have detected {result.name} +{spec.effect:.2%} over {against} "
            f"(power < {POWER:.0%}); needs \u2248 {need} requests, {need - n} more; {result.reason}"
        )


def _availability(spec: MetricSpec, client: Samples) -> MetricResult:
    """Fail when significantly more than ``1 - min_value`` of the clients' requests failed (binomial test)."""
    served = 1 - client.error_rate if client.error_rate is not None else None
    result = MetricResult("availability", "pass", served, None, client.requests, "")
    if served is None:
        result.verdict, result.reason = spec.no_data, f"the load made no requests: {spec.no_data}"
        return result
    seen = f"availability {served:.2%} ({client.errors} of {client.requests} requests failed)"
    limit = 1.0 - (spec.min_value if spec.min_value is not None else 1.0)
    result.p_value = binomial_upper(client.errors, client.requests, limit) if limit > 0 else None
    if (result.p_value is not None and result.p_value < spec.alpha) or (limit <= 0 and client.errors):
        result.verdict = "fail"
        result.reason = f"{seen} < {1 - limit:.2%}" + (
            f" (binomial p={result.p_value:.3g} < {spec.alpha:g})" if result.p_value is not None else ""
        )
        return result
    return _settle(result, replace(spec, max_increase=None), client, client, seen)


def _exceedances(latencies: Sequence[float], limit: float) -> tuple[int, int]:
    """Requests over ``limit``, and how many count as independent: one stall of a process (a GC pause, a
    starved CPU) ends a burst of requests together, consecutive in completion order; a burst shorter than a
    tenth of the window counts once, so the binomial test does not take one event for many. A longer run (a
    version slow for a good part of the step) counts in full."""
    short = max(2, len(latencies) // 10)
    over = counted = run = 0
    for x in (*latencies, limit):  # the sentinel closes a run at the end
        if x > limit:
            run += 1
            continue
        over += run
        counted += (1 if run < short else run) if run else 0
        run = 0
    return over, counted


def _tail(spec: MetricSpec, canary: Samples, baseline: Samples, limit: float, what: str) -> MetricResult | None:
    """Fail when significantly more than the quantile's tail share of canary requests took longer than
    ``limit`` — and more than the baseline's own share over it (shared noise fails neither)."""
    share = 0.01 if spec.name == "latency_p99" else 0.5
    over, counted = _exceedances(canary.latencies_ms, limit)
    p = binomial_upper(counted, canary.requests, share)
    base_over = sum(1 for x in baseline.latencies_ms if x > limit)
    above_baseline = not baseline.requests or over / canary.requests > base_over / baseline.requests
    if p >= spec.alpha or not above_baseline:
        return None
    q = "p99" if share == 0.01 else "p50"
    return MetricResult(
        spec.name,
        "fail",
        quantile(canary.latencies_ms, 1 - share),
        quantile(baseline.latencies_ms, 1 - share),
        canary.requests,
        f"{spec.name}: {over} of {canary.requests} requests ({over / canary.requests:.1%}) took longer than "
        f"{limit:.1f} ms "
        f"({what}): more than the {share:.0%} a {q} limit allows (binomial p={p:.3g} < {spec.alpha:g})"
        + (f"; baseline {base_over} of {baseline.requests}" if baseline.requests else ""),
        p,
    )


def _latency(spec: MetricSpec, canary: Samples, baseline: Samples) -> MetricResult:
    q = 0.5 if spec.name == "latency_p50" else 0.99
    value, base = quantile(canary.latencies_ms, q), quantile(baseline.latencies_ms, q)
    result = MetricResult(spec.name, "pass", value, base, canary.requests, "")
    if value is None:
        result.verdict, result.reason = spec.no_data, f"no latencies from the canary: {spec.no_data}"
        return result
    if spec.max_value is not None:
        failed = _tail(spec, canary, Samples(), spec.max_value, "the limit")
        if failed is not None:
            return failed
    comparable = spec.max_increase is not None and baseline.requests >= spec.min_samples and canary.requests >= 2
    if comparable and base is not None and spec.max_increase is not None:
        mw = mann_whitney(canary.latencies_ms, baseline.latencies_ms, conf_level=1 - spec.alpha)
        result.p_value, result.shift, result.ci = mw.p_value, mw.shift, (mw.ci_low, mw.ci_high)
        if mw.p_value < spec.alpha and mw.ci_low > spec.max_increase:
            result.verdict = "fail"
            result.reason = (
                f"{spec.name}: latency shift {mw.shift:+.1f} ms ({1 - spec.alpha:.1%} CI "
                f"{mw.ci_low:+.1f}..{mw.ci_high:+.1f}) "
                f"exceeds +{spec.max_increase:.1f} ms (Mann-Whitney p={mw.p_value:.3g})"
            )
            return result
        limit, what = base + spec.max_increase, f"baseline {base:.1f} ms + {spec.max_increase:g} ms"
        failed = _tail(spec, canary, baseline, limit, what)
        if failed is not None:
            return failed
        if mw.p_value < spec.alpha and mw.shift > spec.max_increase:
            result.verdict = "marginal"
            result.reason = (
                f"{spec.name}: latency shift {mw.shift:+.1f} ms over +{spec.max_increase:.1f} ms, but its interval "
                f"{mw.ci_low:+.1f}..{mw.ci_high:+.1f} reaches the limit"
            )
            return result
    return _settle(
        result,
        spec,
        canary,
        baseline,
        f"{spec.name} {value:.1f} ms" + (f" (baseline {base:.1f} ms)" if base is not None else ""),
    )


def applicable(specs: Sequence[MetricSpec], client: Samples | None) -> list[MetricSpec]:
    """The metrics that can be judged: availability only where the clients' view is known."""
    return [s for s in specs if s.name != "availability" or client is not None]


def _metric(spec: MetricSpec, canary: Samples, baseline: Samples, client: Samples | None) -> MetricResult:
    if spec.name == "availability":
        return _availability(spec, client or Samples())
    return _error_rate(spec, canary, baseline) if spec.name == "error_rate" else _latency(spec, canary, baseline)


def judge(
    canary: Samples,
    baseline: Samples,
    specs: Sequence[MetricSpec],
    pass_score: float = 95.0,
    marginal_score: float = 75.0,
    client: Samples | None = None,
) -> JudgeResult:
    """Any failing metric fails the step; otherwise the score (share of passing metrics) decides. ``client``:
    what the load saw over the step, for the availability metric (left out without it)."""
    metrics = [_metric(s, canary, baseline, client) for s in applicable(specs, client)]
    return combine(metrics, pass_score, marginal_score)


def combine(metrics: Sequence[MetricResult], pass_score: float = 95.0, marginal_score: float = 75.0) -> JudgeResult:
    """The step's verdict from its metrics' (the router's measurements and monitoring signals alike)."""
    metrics = list(metrics)
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
