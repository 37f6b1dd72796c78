"""The canary's truth table as a pure function: what happens after a step, from its verdict and the counts so
far. No processes, no clocks: tested row by row and by property in milliseconds (the canary calls it)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ..model.deploy import Decision
from ..values import FrozenValue, record

if TYPE_CHECKING:
    from .canary import CanaryLimits

__all__ = ["Tally", "decide"]


@record(frozen=True)
class Tally(FrozenValue):
    """The counts the truth table keeps across steps, and the decision after the last one."""

    failures: int = 0
    inconclusive: int = 0
    #: consecutive measurement errors (reset by any measured step)
    errors: int = 0
    decision: Decision = "continue"


def decide(verdict: str, tally: Tally, limits: CanaryLimits, last: bool) -> Tally:
    """The truth table of docs/deployments.md, pure: after a step judged ``verdict`` (pass, marginal, fail,
    inconclusive, error), the counts and the decision: abort, retry (the step again), promote or continue."""
    decision: Decision
    if verdict == "error":
        errors = tally.errors + 1
        decision = "abort" if errors > limits.consecutive_error_limit else "retry"
        return replace(tally, errors=errors, decision=decision)
    failures = tally.failures + (verdict == "fail")
    inconclusive = tally.inconclusive + (verdict == "inconclusive")
    abort = failures > limits.failure_limit or inconclusive > limits.inconclusive_limit
    decision = "abort" if abort else "promote" if last else "continue"
    return Tally(failures, inconclusive, 0, decision)
