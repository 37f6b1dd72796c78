"""The anchors' own ways of judging one metric, for signals imported from them or written in their shape:
Keptn's criteria (pass and warning bands, absolute or relative to a comparison value — here the stable
version, until a run history gives the last good run) and Kayenta's comparison of two time series (a
Mann-Whitney test on the samples of canary and stable over the step, a direction, and an effect size as the
ratio of their means)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from ..deploy.judge import MetricResult, Verdict
from ..deploy.stats import mann_whitney
from ..values import FrozenValue, record

__all__ = ["Criterion", "judge_criteria", "judge_series", "parse_criterion", "without_nan"]

_CRITERION = re.compile(r"^\s*(<=|>=|=|<|>)\s*([+-])?\s*(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+))?\s*(%)?\s*$")


@record(frozen=True)
class Criterion(FrozenValue):
    """``op`` and ``number``; ``relative``: a signed change against the comparison value (``+10%`` a percent
    of it, ``+100`` an amount); otherwise the value itself (a trailing ``%`` only says the value is a
    percentage, as Keptn writes ``<=1%`` for an error rate reported in percent)."""

    text: str
    op: str
    number: float
    relative: bool
    percent: bool

    def holds(self, value: float, base: float | None) -> bool | None:
        """None when a relative criterion has no comparison value."""
        target = self.number
        if self.relative:
            if base is None:
                return None
            target = base * (1 + self.number / 100) if self.percent else base + self.number
        return {
            "<": value < target,
            "<=": value <= target,
            ">": value > target,
            ">=": value >= target,
            "=": math.isclose(value, target, rel_tol=1e-9, abs_tol=1e-12),
        }[self.op]


def parse_criterion(text: str) -> Criterion:
    """ValueError naming the accepted forms when ``text`` is not one."""
    m = _CRITERION.match(text)
    if m is None:
        raise ValueError(
            f"cannot read the criterion {text!r}; expected <op><number> (absolute, e.g. <600) or "
            "<op><+|-><number>[%] (relative to the stable version, e.g. <=+10%); op one of < <= = >= >"
        )
    op, sign, digits, exponent, percent = m.groups()
    number = float(digits) * (10 ** int(exponent) if exponent else 1)
    return Criterion(text.strip(), op, -number if sign == "-" else number, sign is not None, percent is not None)


def _band(
    blocks: Sequence[Sequence[str]], value: float, base: float | None, compared: str = "stable"
) -> tuple[bool, list[str]]:
    """Whether any block holds in full (blocks are or'ed, criteria in one and'ed), and what did not hold."""
    missed: list[str] = []
    for block in blocks:
        results = [(c, parse_criterion(c).holds(value, base)) for c in block]
        if all(r is True for _, r in results):
            return True, []
        missed += [c if r is False else f"{c} (no {compared} value)" for c, r in results if r is not True]
    return False, missed


def judge_criteria(
    name: str,
    value: float | None,
    base: float | None,
    passing: Sequence[Sequence[str]],
    warning: Sequence[Sequence[str]],
    no_data: Verdict,
    compared: str = "stable",
) -> MetricResult:
    """Keptn's evaluation of one objective on the step's value: pass, marginal (Keptn's warning) or fail;
    ``compared``: what the relative criteria compare with (the stable version, or earlier runs)."""
    result = MetricResult(name, "pass", value, base, 0, "")
    if value is None:
        result.verdict, result.reason = no_data, f"{name}: no value for the canary: {no_data}"
        return result
    seen = f"{name} = {value:g}" + (f" ({compared} {base:g})" if base is not None else "")
    ok, missed = _band(passing, value, base, compared)
    if ok:
        result.reason = f"{seen}: pass criteria hold"
        return result
    warned, _ = _band(warning, value, base, compared) if warning else (False, [])
    result.verdict = "marginal" if warned else "fail"
    result.reason = f"{seen}: pass criteria {', '.join(missed)} not met" + ("; warning criteria hold" if warned else "")
    return result


def without_nan(values: Sequence[float], strategy: str) -> list[float]:
    """Kayenta's nanStrategy: ``remove`` drops NaN samples, ``replace`` counts them as 0."""
    if strategy == "replace":
        return [0.0 if math.isnan(x) else x for x in values]
    return [x for x in values if not math.isnan(x)]


def judge_series(
    name: str,
    canary: Sequence[float],
    stable: Sequence[float],
    *,
    direction: str,
    allowed_increase: float,
    allowed_decrease: float,
    alpha: float,
    min_samples: int,
    no_data: Verdict,
) -> MetricResult:
    """Kayenta's classification of one metric: a two-sided Mann-Whitney test of canary against stable at
    confidence ``1 - alpha``; a significant shift fails when it goes the bad ``direction`` and the ratio of the
    means leaves the allowed effect size. Too few samples of either is inconclusive; none of the canary is
    ``no_data``."""
    c, s = list(canary), list(stable)
    mean_c, mean_s = _mean(c), _mean(s)
    result = MetricResult(name, "pass", mean_c, mean_s, len(c), "")
    if mean_c is None:
        result.verdict, result.reason = no_data, f"{name}: no samples of the canary: {no_data}"
        return result
    if mean_s is None or len(c) < min_samples or len(s) < min_samples:
        result.verdict = "inconclusive"
        result.reason = (
            f"only {min(len(c), len(s))} samples of {name} (canary {len(c)}, stable {len(s)}), fewer than the "
            f"{min_samples} needed of each"
        )
        return result
    test = mann_whitney(c, s, 1 - alpha)
    result.p_value, result.shift = test.p_value, test.shift
    ratio = _ratio(mean_c, mean_s)
    seen = f"{name}: mean {mean_c:g} vs stable {mean_s:g} (ratio {ratio:.3g}, Mann-Whitney p={test.p_value:.3g})"
    significant = test.p_value < alpha
    high = significant and mean_c > mean_s and ratio > allowed_increase
    low = significant and mean_c < mean_s and ratio < allowed_decrease
    if (high and direction != "decrease") or (low and direction != "increase"):
        limit = f"above {allowed_increase:g}" if high else f"below {allowed_decrease:g}"
        result.verdict, result.reason = "fail", f"{seen}: a significant {'rise' if high else 'fall'}, {limit}"
    else:
        result.reason = f"{seen}: no significant change the {direction} direction forbids"
    return result


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _ratio(canary: float, stable: float) -> float:
    """The effect size: canary over stable (a stable mean of 0 makes any rise infinite)."""
    if stable:
        return canary / stable
    return math.inf if canary > 0 else 1.0 if canary == 0 else 0.0
