"""Could the step have seen it? The requests a proportion test needs to detect a given increase of the error
rate, so a step that passes on too little data says "inconclusive: underpowered" with the number it needs,
instead of a pass no test earned. The anchors (Flagger, Argo, Kayenta) pass such a step."""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist

from .stats import binomial_upper

__all__ = ["POWER", "needed_absolute", "needed_relative"]

#: the chance of detecting the configured effect that counts as "could have seen it"
POWER = 0.8
_LIMIT = 10_000_000
_Z = NormalDist()


def _smallest(check: Callable[[int], bool], limit: int = _LIMIT) -> int | None:
    """The smallest n in 1..limit with check(n) (assumed to turn true and stay so), by doubling then halving,
    so no test is evaluated far beyond the answer; None when even ``limit`` is not enough."""
    hi = 1
    while not check(hi):
        if hi >= limit:
            return None
        hi = min(hi * 2, limit)
    lo = hi // 2 + 1 if hi > 1 else 1
    while lo < hi:
        mid = (lo + hi) // 2
        if check(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def needed_relative(base: float, base_n: int, effect: float, margin: float, alpha: float) -> int | None:
    """Canary requests for a one-sided comparison with a baseline of ``base_n`` requests at rate ``base`` to
    detect a canary at ``base + effect`` with probability :data:`POWER`, where the judge also requires the
    observed rise to exceed ``margin`` (normal approximation of the two tests). None: no number of canary
    requests is enough against this baseline."""
    p0 = min(max(base, 0.5 / max(base_n, 1)), 1.0)  # a baseline of zero errors still has sampling error
    p1 = min(p0 + effect, 1.0)
    z_alpha, z_power = _Z.inv_cdf(1 - alpha), _Z.inv_cdf(POWER)

    def ok(n: int) -> bool:
        sd = math.sqrt(p1 * (1 - p1) / n + p0 * (1 - p0) / max(base_n, 1))
        if sd == 0:
            return p1 - p0 > margin
        return (p1 - p0) / sd >= z_alpha + z_power and (p1 - p0 - margin) / sd >= z_power

    return _smallest(ok)


def needed_absolute(limit: float, rate: float, alpha: float) -> int | None:
    """Requests for the exact binomial test "more than ``limit`` failed" to detect a true ``rate`` with
    probability :data:`POWER`. None when ``rate`` is not above the limit."""
    if rate <= limit:
        return None
    if limit <= 0:
        return max(1, math.ceil(math.log(1 - POWER) / math.log1p(-rate)))

    def ok(n: int) -> bool:
        # the fewest failures that fail the test at n, then the chance of at least that many under ``rate``
        k = _critical(n, limit, alpha)
        return k is not None and binomial_upper(k, n, rate) >= POWER

    return _smallest(ok, 1_000_000)


def _critical(n: int, limit: float, alpha: float) -> int | None:
    lo, hi = 0, n
    if binomial_upper(n, n, limit) >= alpha:
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if binomial_upper(mid, n, limit) < alpha:
            hi = mid
        else:
            lo = mid + 1
    return lo
