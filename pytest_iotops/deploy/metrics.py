"""What a deployment is judged on: one metric's limits and tests (:class:`MetricSpec`). Apart from the judge
(:mod:`.judge`, with its statistics) so that reading ``[tool.iotops.deploy]`` does not import them."""

from __future__ import annotations

from typing import Literal

from ..values import FrozenValue, record

__all__ = ["ALPHA", "MetricSpec", "Verdict"]

Verdict = Literal["pass", "marginal", "fail", "inconclusive"]
#: per test, per step: a rollout runs up to ~5 steps x 2-3 metrics x 2 tests, so each must be strict
ALPHA = 0.005


@record(frozen=True)
class MetricSpec(FrozenValue):
    """One metric a canary step is judged on: its absolute limit and how much worse than the baseline it may be."""

    #: ``availability`` is the clients' view over the step (every request of every version, a failed response
    #: check included), judged only where a load reports to the target
    name: Literal["error_rate", "latency_p50", "latency_p99", "availability"]
    #: absolute limit on the canary: error rate as a fraction, latencies in ms
    max_value: float | None = None
    #: availability: the lowest share of requests the clients must see answered well
    min_value: float | None = None
    #: canary vs baseline: error rate may exceed the baseline by this much (fraction); latency shift in ms
    max_increase: float | None = None
    #: significance of each test; a canary fails only when a test says so. Calibrated so that equal versions
    #: pass a 5-step rollout >= 99 % of the time (benchmarks/bench_judge.py, docs/deployments.md)
    alpha: float = ALPHA
    min_samples: int = 50
    no_data: Verdict = "inconclusive"
    #: error rate: the smallest rise over the baseline (a fraction) that must not pass unseen; a step whose
    #: requests could not have detected it (power < 80 %) is inconclusive, with the number it needs
    effect: float | None = None
    #: how its limits read: "%" (a fraction), "ms", "" (a plain number); empty by name for the built-in metrics
    unit: Literal["", "%", "ms", "value"] = ""
    #: the limits in words where they are not numbers (a monitoring signal's criteria or conditions)
    described: str = ""
