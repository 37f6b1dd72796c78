"""Monitoring signals as judged metrics: what each is (a ratio of two counters, a histogram of latencies, a
value), read from a provider at both ends of a step, and judged canary against stable with the same tests as
the router's measurements — counters differenced over the step give exact counts, so a ratio gets the exact
binomial and Fisher tests and a histogram the tail test on its bucket counts; a value (a gauge, any expression)
is compared with its limits, which is all a single number allows."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import field, replace
from typing import Literal

from ..deploy.judge import MetricResult, MetricSpec, Verdict, proportion
from ..deploy.stats import binomial_upper
from ..values import FrozenValue, Value, record
from .analysis import judge_criteria, without_nan
from .analysis import judge_series as compare_series

__all__ = ["KINDS", "Reading", "SignalMetric", "histogram_quantile", "judge_series", "judge_signal"]

KINDS = ("ratio", "histogram", "value", "series")
Kind = Literal["ratio", "histogram", "value", "series"]
Direction = Literal["increase", "decrease", "either"]


@record(frozen=True)
class SignalMetric(FrozenValue):
    """One ``[[tool.iotops.deploy.monitoring.metrics]]`` table."""

    name: str
    kind: Kind
    provider: str = "prometheus"
    #: value: the expression; ratio: ``events`` over ``total`` (counters); histogram: ``buckets``, a vector of
    #: cumulative bucket counters labelled ``le``
    query: str = ""
    events: str = ""
    total: str = ""
    buckets: str = ""
    #: histogram: the quantile judged, and milliseconds per unit of the bucket bounds (seconds: 1000)
    quantile: float = 0.99
    unit_ms: float = 1000.0
    #: the limits, significance, minimum samples, no-data verdict and effect, as for the router's metrics
    limits: MetricSpec = field(default_factory=lambda: MetricSpec("error_rate"))
    #: a dry-run metric (Argo's dryRun) is measured and reported, never decides
    dry_run: bool = False
    #: value: Argo's successCondition / failureCondition, e.g. ``result[0] >= 0.99`` (empty: none)
    success: str = ""
    failure: str = ""
    #: weighted scoring: the group it scores in (empty: a group of its own) and whether its failure fails the
    #: step whatever the score (Kayenta's critical, Keptn's key_sli)
    group: str = ""
    critical: bool = False
    #: which way a change is bad (Kayenta's direction): a value's max_increase, a series' effect size
    direction: Direction = "increase"
    #: a NaN reading (0/0): ``remove`` it (no data) or ``replace`` it with 0 (Kayenta's nanStrategy)
    nan: Literal["remove", "replace"] = "remove"
    #: series: the canary's mean over the stable's may reach these ratios before a significant shift fails
    #: (Kayenta's effectSize allowedIncrease / allowedDecrease)
    allowed_increase: float = 1.0
    allowed_decrease: float = 1.0
    #: Keptn criteria: any list of ``pass`` whose every criterion holds passes; else any of ``warning`` is
    #: marginal; else it fails. ``<600`` is absolute, ``<=+10%`` relative to the stable version
    pass_criteria: tuple[tuple[str, ...], ...] = ()
    warning_criteria: tuple[tuple[str, ...], ...] = ()
    #: Argo's failureLimit and inconclusiveLimit: failed (inconclusive) steps of this signal tolerated in one
    #: deployment before one decides (0: the first decides)
    failure_limit: int = 0
    inconclusive_limit: int = 0
    #: what relative criteria compare with: the stable version in the step, or the mean of this signal's value
    #: in the last ``history_runs`` promoted deployments of the run history (Keptn's comparison); without a
    #: history, the stable version
    compare_with: Literal["stable", "history"] = "stable"
    history_runs: int = 1
    #: which earlier deployments count: promoted ones (Keptn's pass) or all
    history_include: Literal["pass", "all"] = "pass"

    def queries(self) -> dict[str, str]:
        """The counters read at both ends of a step (ratio, histogram), by role."""
        if self.kind == "ratio":
            return {"events": self.events, "total": self.total}
        return {"buckets": self.buckets} if self.kind == "histogram" else {}

    def spec(self) -> MetricSpec:
        """The limits as the judge's own spec, reading as this signal's unit (the name is a carrier: the result
        is named after the signal)."""
        return replace(
            self.limits,
            name="latency_p99" if self.kind == "histogram" else "error_rate",
            unit="%" if self.kind == "ratio" else "ms" if self.kind == "histogram" else "value",
            described=self.described(),
        )

    def described(self) -> str:
        """What decides it beyond number limits: conditions, criteria, a series' test; critical and group."""
        parts = [
            f"successCondition {self.success}" if self.success else "",
            f"failureCondition {self.failure}" if self.failure else "",
        ]
        if self.pass_criteria:
            parts.append("pass " + " or ".join(" and ".join(b) for b in self.pass_criteria))
        if self.warning_criteria:
            parts.append("warning " + " or ".join(" and ".join(b) for b in self.warning_criteria))
        if self.kind == "series":
            parts.append(
                f"Mann-Whitney vs stable, direction {self.direction}, effect within "
                f"{self.allowed_decrease:g}-{self.allowed_increase:g}x"
            )
        if self.critical:
            parts.append("critical")
        if self.group:
            parts.append(f"group {self.group}")
        return "; ".join(p for p in parts if p)

    @property
    def scored_in(self) -> str:
        return self.group or self.name


@record
class Reading(Value):
    """A version's counters at one moment, by role (a ratio: one value each; a histogram: value by ``le``)."""

    values: dict[str, dict[str, float]] = field(default_factory=dict)

    def since(self, start: Reading) -> dict[str, dict[str, float]]:
        """What was counted between ``start`` and this reading; a counter that went down was reset (a new
        process), so it counted its whole current value."""
        out: dict[str, dict[str, float]] = {}
        for role, now in self.values.items():
            before = start.values.get(role, {})
            out[role] = {k: (x - before.get(k, 0.0) if x >= before.get(k, 0.0) else x) for k, x in now.items()}
        return out


def _count(x: float) -> int:
    return max(0, round(x))


def _bounds(buckets: Mapping[str, float]) -> list[tuple[float, int]]:
    """Cumulative buckets sorted by bound (``+Inf`` last), counts made monotone: scrapes of one histogram are
    consistent, but a sum over series scraped at different moments may not be."""
    pairs = sorted((float(le), x) for le, x in buckets.items())
    out: list[tuple[float, int]] = []
    running = 0
    for bound, x in pairs:
        running = max(running, _count(x))
        out.append((bound, running))
    return out


def histogram_quantile(q: float, buckets: list[tuple[float, int]]) -> float | None:
    """As PromQL's: linear interpolation inside the bucket holding the rank; the highest finite bound when the
    rank falls in ``+Inf``."""
    if not buckets or buckets[-1][1] == 0 or not math.isinf(buckets[-1][0]):
        return None
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower
            return lower + (bound - lower) * ((rank - below) / (count - below) if count > below else 1.0)
        lower, below = bound, count
    return lower


def _over(buckets: list[tuple[float, int]], limit: float) -> tuple[float, int] | None:
    """The first bound at or above ``limit`` and how many observations lie above it; None when only ``+Inf``
    is."""
    total = buckets[-1][1]
    for bound, count in buckets:
        if bound >= limit and not math.isinf(bound):
            return bound, total - count
    return None


def _tail(
    metric: SignalMetric, c: list[tuple[float, int]], s: list[tuple[float, int]], limit_ms: float, what: str
) -> MetricResult | None:
    """Fail when significantly more than the quantile's tail share of the canary's observations lie above the
    first bucket bound at or over the limit, and more than the baseline's share; inconclusive without such a
    bound."""
    n, base_n, share = c[-1][1], (s[-1][1] if s else 0), 1 - metric.quantile
    found = _over(c, limit_ms / metric.unit_ms)
    if found is None:
        reason = f"{metric.name}: no bucket bound at or above {limit_ms:.1f} ms ({what}) to count the tail"
        return MetricResult(metric.name, "inconclusive", None, None, n, reason)
    bound, over = found
    p = binomial_upper(over, n, share)
    base_over = (base_n - next(x for b, x in s if b >= bound)) if s else 0
    if p >= metric.limits.alpha or (base_n and over / n <= base_over / base_n):
        return None
    reason = (
        f"{metric.name}: {over} of {n} observations ({over / n:.1%}) above {bound * metric.unit_ms:g} ms (the "
        f"first bucket bound over {limit_ms:.1f} ms, {what}): more than the {share:.0%} a q{metric.quantile:g} "
        f"limit allows (binomial p={p:.3g} < {metric.limits.alpha:g})"
        + (f"; baseline {base_over} of {base_n}" if base_n else "")
    )
    return MetricResult(metric.name, "fail", None, None, n, reason, p)


def _histogram(metric: SignalMetric, canary: dict[str, float], stable: dict[str, float]) -> MetricResult:
    c, s = _bounds(canary), _bounds(stable)
    n, base_n = (c[-1][1] if c else 0), (s[-1][1] if s else 0)
    unit = metric.unit_ms
    value, base = histogram_quantile(metric.quantile, c), histogram_quantile(metric.quantile, s)
    result = MetricResult(
        metric.name, "pass", None if value is None else value * unit, None if base is None else base * unit, n, ""
    )
    if value is None:
        result.verdict, result.reason = metric.limits.no_data, f"no observations of the canary: {metric.limits.no_data}"
        return result
    limits: list[tuple[float, str]] = []
    if metric.limits.max_value is not None:
        limits.append((metric.limits.max_value, "the limit"))
    if metric.limits.max_increase is not None and base is not None and base_n >= metric.limits.min_samples:
        what = f"baseline {base * unit:.1f} ms + {metric.limits.max_increase:g} ms"
        limits.append((base * unit + metric.limits.max_increase, what))
    for limit_ms, what in limits:
        failed = _tail(metric, c, s, limit_ms, what)
        if failed is not None:
            failed.value, failed.baseline = result.value, result.baseline
            return failed
    if n < metric.limits.min_samples:
        result.verdict = "inconclusive"
        result.reason = f"only {n} observations, fewer than the {metric.limits.min_samples} needed to pass"
    else:
        result.reason = f"{metric.name} {value * unit:.1f} ms" + (f" (baseline {base * unit:.1f} ms)" if base else "")
    return result


_CONDITION = re.compile(r"^\s*result(?:\[0\])?\s*(==|!=|<=|>=|<|>)\s*(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")
_OPS: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}


def parse_condition(text: str) -> tuple[str, float]:
    """Argo's condition, the form a single value allows: ``result[0] <op> <number>`` (or ``result``); anything
    else (``&&``, ``len(result)``, fields of a JSON result) raises ValueError naming the supported form."""
    m = _CONDITION.match(text)
    if m is None:
        raise ValueError(
            f"cannot read the condition {text!r}; supported: result[0] <op> <number>, op one of == != < <= > >="
        )
    return m.group(1), float(m.group(2))


def _conditions(metric: SignalMetric, value: float, seen: str) -> tuple[Verdict, str]:
    """Argo's rules: the failure condition true fails; the success condition true passes; with both given and
    neither true the measurement is inconclusive; with only a success condition, false fails."""

    def holds(text: str) -> bool:
        op, number = parse_condition(text)
        return _OPS[op](value, number)

    if metric.failure and holds(metric.failure):
        return "fail", f"{seen}: failureCondition {metric.failure!r} is true"
    if metric.success and holds(metric.success):
        return "pass", f"{seen}: successCondition {metric.success!r} is true"
    if metric.success and metric.failure:
        return "inconclusive", f"{seen}: neither successCondition nor failureCondition is true"
    if metric.success:
        return "fail", f"{seen}: successCondition {metric.success!r} is false"
    return "pass", f"{seen}: failureCondition {metric.failure!r} is false"


def _broken(metric: SignalMetric, value: float, base: float | None) -> list[str]:
    """Each limit the value breaks, as words (empty strings for those it keeps)."""
    high, low, rise = metric.limits.max_value, metric.limits.min_value, metric.limits.max_increase
    over = under = False
    if rise is not None and base is not None:
        over = metric.direction != "decrease" and value > base + rise
        under = metric.direction != "increase" and value < base - rise
    return [
        f"above the limit {high:g}" if high is not None and value > high else "",
        f"below the limit {low:g}" if low is not None and value < low else "",
        f"more than {rise:g} over the stable version" if over else "",
        f"more than {rise:g} under the stable version" if under else "",
    ]


def _value(metric: SignalMetric, value: float | None, base: float | None) -> MetricResult:
    limits = metric.limits
    result = MetricResult(metric.name, "pass", value, base, 0, "")
    if value is None or math.isnan(value):
        result.verdict, result.reason = limits.no_data, f"{metric.name}: no value for the canary: {limits.no_data}"
        return result
    seen = f"{metric.name} = {value:g}" + (f" (stable {base:g})" if base is not None else "")
    if metric.success or metric.failure:
        result.verdict, result.reason = _conditions(metric, value, seen)
        return result
    broken = _broken(metric, value, base)
    if any(broken):
        result.verdict, result.reason = "fail", f"{seen}: " + "; ".join(b for b in broken if b)
    elif limits.max_increase is not None and base is None:
        result.verdict, result.reason = "inconclusive", f"{seen}: no stable value to compare with"
    else:
        result.reason = f"{seen} (a value against its limits, not a statistical test)"
    return result


def judge_signal(
    metric: SignalMetric,
    canary: Mapping[str, Mapping[str, float]],
    stable: Mapping[str, Mapping[str, float]],
) -> MetricResult:
    """``canary``/``stable``: by role, what the step counted (ratio, histogram) or the value read at its end
    (role ``value``, key ``""``)."""
    if metric.kind == "ratio":
        c = (_count(canary.get("events", {}).get("", 0.0)), _count(canary.get("total", {}).get("", 0.0)))
        s = (_count(stable.get("events", {}).get("", 0.0)), _count(stable.get("total", {}).get("", 0.0)))
        c = (min(c), c[1])  # events beyond the total (scrapes a moment apart) are capped
        s = (min(s), s[1])
        return proportion(metric.spec(), metric.name, c, s)
    if metric.kind == "histogram":
        return _histogram(metric, dict(canary.get("buckets", {})), dict(stable.get("buckets", {})))
    value, base = canary.get("value", {}).get(""), stable.get("value", {}).get("")
    if metric.nan == "replace":
        value, base = (0.0 if x is not None and math.isnan(x) else x for x in (value, base))
    value, base = (None if x is not None and math.isnan(x) else x for x in (value, base))
    if metric.pass_criteria:
        limits = metric.limits
        compared = "earlier runs'" if "history" in stable else "stable"
        if "history" in stable:
            base = stable["history"].get("")
        return judge_criteria(
            metric.name, value, base, metric.pass_criteria, metric.warning_criteria, limits.no_data, compared
        )
    return _value(metric, value, base)


def judge_series(metric: SignalMetric, canary: Sequence[float], stable: Sequence[float]) -> MetricResult:
    """A series signal: every sample of each version over the step, NaN handled as configured."""
    return compare_series(
        metric.name,
        without_nan(canary, metric.nan),
        without_nan(stable, metric.nan),
        direction=metric.direction,
        allowed_increase=metric.allowed_increase,
        allowed_decrease=metric.allowed_decrease,
        alpha=metric.limits.alpha,
        min_samples=metric.limits.min_samples,
        no_data=metric.limits.no_data,
    )
