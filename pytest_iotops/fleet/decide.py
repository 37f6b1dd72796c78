"""The rollout's statistical rule, pure: from how many devices ran the job and how many failed, is the failure
rate above the limit (stop), below it (go on), or not known yet (wait for more devices)?

Both sides are one-sided exact binomial tests at the stated confidence: *above* when P(X >= failed | rate =
limit) < 1 - confidence, *below* when P(X <= failed | rate = limit) < 1 - confidence. AWS IoT Jobs and hawkBit
compare the observed share with a threshold, whatever the count behind it: with a 5 % limit, one failure among
the first ten devices stops a rollout whose true rate is 2 % (that happens 18 % of the time), and none among ten
starts the next wave although a true 20 % shows no failure in ten devices 11 % of the time. Deciding only when
the test says so, and waiting otherwise, is the difference.
"""

from __future__ import annotations

from ..deploy.stats import binomial_upper
from ..values import FrozenValue, record

__all__ = ["Judgement", "binomial_lower", "judge_failures"]


@record(frozen=True)
class Judgement(FrozenValue):
    action: str  # "abort", "continue" or "wait"
    rule: str  # which rule said so
    detail: str  # the counts and the test behind it
    p_value: float | None = None


def binomial_lower(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p)."""
    if k >= n:
        return 1.0
    return max(0.0, 1.0 - binomial_upper(k + 1, n, p))


def judge_failures(
    executed: int,
    failed: int,
    limit: float,
    confidence: float,
    min_executed: int,
    scope: str = "fleet",
    outstanding: int = 0,
) -> Judgement:
    """``outstanding``: devices still running their job. The stop test counts them as successes: a failure
    usually ends a job sooner than a success does (a bad download fails in seconds, a good one still has to
    reboot and verify), so the first devices to finish over-represent failures, and a test on them alone would
    stop rollouts whose true rate is below the limit."""
    if not 0 <= failed <= executed or outstanding < 0:
        raise ValueError(f"need 0 <= failed <= executed, not {failed} of {executed}")
    counts = f"{failed} of {executed} failed in {scope}" + (f" ({outstanding} still running)" if outstanding else "")
    if executed < min_executed:
        return Judgement("wait", "min_executed", f"{counts}: fewer than the {min_executed} needed to decide")
    alpha = 1.0 - confidence
    notified = executed + outstanding
    above = binomial_upper(failed, notified, limit) if failed else 1.0
    if above < alpha:
        return Judgement(
            "abort",
            "failure_rate",
            f"{counts}: {failed / notified:.1%} of {notified} notified is above {limit:.1%} with "
            f"{confidence:.1%} confidence (binomial p={above:.2g})",
            above,
        )
    below = binomial_lower(failed, executed, limit)
    if below < alpha:
        return Judgement(
            "continue",
            "failure_rate",
            f"{counts} ({failed / executed:.1%}): below {limit:.1%} with {confidence:.0%} confidence "
            f"(binomial p={below:.2g})",
            below,
        )
    return Judgement(
        "wait",
        "failure_rate",
        f"{counts} ({failed / executed:.1%}): neither above nor below {limit:.1%} with {confidence:.0%} confidence yet",
    )
