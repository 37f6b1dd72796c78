"""Statistics for the canary judge, written to agree with R: ``wilcox.test(x, y, conf.int = TRUE)`` (Mann-Whitney U
with the Hodges-Lehmann shift and its confidence interval) and ``fisher.test(..., alternative = "greater")``.

Exact distributions for small samples without ties, R's normal approximation (tie and continuity corrections,
interval by root finding) otherwise. Checked against vectors produced by R (tests/data/r-reference.json).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from functools import lru_cache
from statistics import NormalDist, median

from ..values import FrozenValue, record

__all__ = ["MannWhitney", "binomial_upper", "fisher_greater", "mann_whitney"]

_NORMAL = NormalDist()
_EXACT_LIMIT = 50


@record(frozen=True)
class MannWhitney(FrozenValue):
    w: float  # R's W: rank sum of x minus n(n+1)/2
    p_value: float
    shift: float  # Hodges-Lehmann estimate of location(x) - location(y)
    ci_low: float
    ci_high: float
    exact: bool


@lru_cache(maxsize=64)
def _wilcox_counts(m: int, n: int) -> tuple[int, ...]:
    """Number of arrangements giving each U = 0..m*n (the exact null distribution, no ties)."""
    # f[i][j] as a rolling table of polynomials: counts for i items of x and j of y
    table: list[list[list[int]]] = [[[1] for _ in range(n + 1)] for _ in range(m + 1)]
    for i in range(1, m + 1):
        for j in range(0, n + 1):
            if j == 0:
                table[i][j] = [1]
                continue
            a = table[i - 1][j]  # the largest value is from x: it exceeds all j y's
            b = table[i][j - 1]
            size = i * j + 1
            out = [0] * size
            for u, c in enumerate(b):
                out[u] += c
            for u, c in enumerate(a):
                out[u + j] += c
            table[i][j] = out
    return tuple(table[m][n])


def _pwilcox(q: int, m: int, n: int) -> float:
    counts = _wilcox_counts(m, n)
    if q < 0:
        return 0.0
    return sum(counts[: q + 1]) / sum(counts)


def _qwilcox(p: float, m: int, n: int) -> int:
    """Smallest q with P(U <= q) >= p, as R's qwilcox."""
    counts = _wilcox_counts(m, n)
    total = sum(counts)
    cumulative = 0
    for q, c in enumerate(counts):
        cumulative += c
        if cumulative / total >= p - 1e-12:
            return q
    return len(counts) - 1


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def _bisect(f: Callable[[float], float], lo: float, hi: float, tol: float = 1e-4) -> float:
    f_lo = f(lo)
    for _ in range(200):
        mid = (lo + hi) / 2
        f_mid = f(mid)
        if abs(hi - lo) < tol or f_mid == 0:
            return mid
        if (f_mid < 0) == (f_lo < 0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    return (lo + hi) / 2


def mann_whitney(x: Sequence[float], y: Sequence[float], conf_level: float = 0.95) -> MannWhitney:
    """Two-sided test that x and y differ in location; the shift estimate and interval are for x - y."""
    m, n = len(x), len(y)
    if m == 0 or n == 0:
        raise ValueError("both samples need at least one value")
    combined = [*x, *y]
    ranks = _ranks(combined)
    w = sum(ranks[:m]) - m * (m + 1) / 2
    ties = len(set(combined)) < len(combined)
    alpha = 1 - conf_level
    if m < _EXACT_LIMIT and n < _EXACT_LIMIT and not ties:
        wq = round(w)
        p = 2 * min(_pwilcox(wq, m, n), 1 - _pwilcox(wq - 1, m, n))
        diffs = sorted(a - b for a in x for b in y)
        qu = _qwilcox(alpha / 2, m, n) or 1
        ql = m * n - qu
        return MannWhitney(w, min(1.0, p), median(diffs), diffs[qu - 1], diffs[ql], True)
    return _normal(x, y, w, alpha)


def _sigma(m: int, n: int, values: Sequence[float]) -> float:
    tie_term = sum(t**3 - t for t in Counter(values).values())
    return math.sqrt((m * n / 12) * ((m + n + 1) - tie_term / ((m + n) * (m + n - 1))))


def _normal(x: Sequence[float], y: Sequence[float], w: float, alpha: float) -> MannWhitney:
    m, n = len(x), len(y)
    z = w - m * n / 2
    sigma = _sigma(m, n, [*x, *y])
    correction = math.copysign(0.5, z) if z != 0 else 0.0
    zstat = (z - correction) / sigma if sigma else 0.0
    p = 2 * min(_NORMAL.cdf(zstat), 1 - _NORMAL.cdf(zstat))

    def wdiff(d: float, zq: float) -> float:
        shifted = [a - d for a in x]
        combined = [*shifted, *y]
        ranks = _ranks(combined)
        dz = sum(ranks[:m]) - m * (m + 1) / 2 - m * n / 2
        corr = math.copysign(0.5, dz) if dz != 0 else 0.0
        s = _sigma(m, n, combined)
        return (dz - corr) / s - zq if s else -zq

    mumin, mumax = min(x) - max(y), max(x) - min(y)

    def root(zq: float) -> float:
        lower, upper = wdiff(mumin, zq), wdiff(mumax, zq)
        if lower <= 0:
            return mumin
        if upper >= 0:
            return mumax
        return _bisect(lambda d: wdiff(d, zq), mumin, mumax)

    z_hi = _NORMAL.inv_cdf(1 - alpha / 2)
    ci_low, ci_high = root(z_hi), root(-z_hi)
    shift = _bisect(lambda d: wdiff(d, 0.0), mumin, mumax)
    return MannWhitney(w, min(1.0, p), shift, ci_low, ci_high, False)


def fisher_greater(errors_a: int, total_a: int, errors_b: int, total_b: int) -> float:
    """One-sided Fisher exact p-value that group A's error rate is greater than group B's."""
    if min(errors_a, total_a, errors_b, total_b) < 0 or errors_a > total_a or errors_b > total_b:
        raise ValueError("counts must satisfy 0 <= errors <= total")
    row1, col1, total = total_a, errors_a + errors_b, total_a + total_b
    low, high = max(0, col1 - (total - row1)), min(row1, col1)

    def log_pmf(k: int) -> float:
        return (
            math.lgamma(col1 + 1)
            - math.lgamma(k + 1)
            - math.lgamma(col1 - k + 1)
            + math.lgamma(total - col1 + 1)
            - math.lgamma(row1 - k + 1)
            - math.lgamma(total - col1 - row1 + k + 1)
            - math.lgamma(total + 1)
            + math.lgamma(row1 + 1)
            + math.lgamma(total - row1 + 1)
        )

    return min(1.0, sum(math.exp(log_pmf(k)) for k in range(max(errors_a, low), high + 1)))


def binomial_upper(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), as R's ``pbinom(k - 1, n, p, lower.tail = FALSE)``: the one-sided p-value
    that more than a share ``p`` of ``n`` requests were bad, when ``k`` were. Summed from ``k`` up in log space
    until the terms stop mattering, so a step of 100,000 requests costs little."""
    if not 0 <= k <= n or not 0.0 <= p <= 1.0:
        raise ValueError("need 0 <= k <= n and 0 <= p <= 1")
    if k == 0 or p == 1.0:
        return 1.0
    if p == 0.0:
        return 0.0
    log_term = (
        math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * math.log(p) + (n - k) * math.log1p(-p)
    )
    term, total, ratio = math.exp(log_term), 0.0, p / (1 - p)
    for j in range(k, n + 1):
        total += term
        if j > n * p and term < total * 1e-17:
            break
        term *= (n - j) / (j + 1) * ratio
    return min(1.0, total)
