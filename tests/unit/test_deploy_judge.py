"""The canary judge and its statistics, checked against R (tests/data/r-reference.json, made by r-reference.R)."""

from __future__ import annotations

import json
import random

import pytest
from conftest import DATA
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_iotops.deploy.judge import MetricSpec, Samples, judge, quantile
from pytest_iotops.deploy.stats import fisher_greater, mann_whitney

REFERENCE = json.loads((DATA / "r-reference.json").read_text())


@pytest.mark.parametrize("case", REFERENCE["wilcox"], ids=[c["name"] for c in REFERENCE["wilcox"]])
def test_mann_whitney_agrees_with_r_wilcox_test(case: dict) -> None:
    result = mann_whitney(case["x"], case["y"])
    assert result.w == case["w"]
    assert result.p_value == pytest.approx(case["p_value"], rel=1e-7, abs=1e-12)
    # R finds the normal-approximation estimate and interval with uniroot(tol = 1e-4): compare at that precision
    tol = 1e-9 if result.exact else 5e-4
    assert result.shift == pytest.approx(case["shift"], abs=tol)
    assert result.ci_low == pytest.approx(case["ci_low"], abs=tol)
    assert result.ci_high == pytest.approx(case["ci_high"], abs=tol)


@pytest.mark.parametrize("case", REFERENCE["fisher"], ids=lambda c: str(c["counts"]))
def test_fisher_agrees_with_r_fisher_test(case: dict) -> None:
    assert fisher_greater(*map(int, case["counts"])) == pytest.approx(case["p_value"], rel=1e-9)


samples = st.lists(st.integers(0, 400).map(float), min_size=2, max_size=40)


@settings(max_examples=150, deadline=None)
@given(samples, samples)
def test_mann_whitney_properties(x: list[float], y: list[float]) -> None:
    forward, backward = mann_whitney(x, y), mann_whitney(y, x)
    assert 0.0 <= forward.p_value <= 1.0
    assert forward.p_value == pytest.approx(backward.p_value, abs=1e-9)
    assert forward.ci_low <= forward.shift + 1e-3
    assert forward.shift <= forward.ci_high + 1e-3
    assert forward.shift == pytest.approx(-backward.shift, abs=2e-3)


def test_quantile_matches_numpy_default() -> None:
    assert quantile([1, 2, 3, 4], 0.5) == 2.5
    assert quantile([10.0], 0.99) == 10.0
    assert quantile(list(range(101)), 0.99) == pytest.approx(99.0)
    assert quantile([], 0.5) is None


SPECS = [
    MetricSpec("error_rate", max_value=0.05, max_increase=0.01),
    MetricSpec("latency_p99", max_value=500.0, max_increase=50.0),
]


def _traffic(rng: random.Random, n: int, error_rate: float = 0.0, extra_ms: float = 0.0) -> Samples:
    latencies = [rng.lognormvariate(3.4, 0.35) + extra_ms for _ in range(n)]
    return Samples(latencies, sum(1 for _ in range(n) if rng.random() < error_rate))


@pytest.mark.parametrize("seed", range(20))
def test_verdicts_hold_for_every_seed(seed: int) -> None:
    rng = random.Random(seed)
    baseline = _traffic(rng, 400, 0.002)
    assert judge(_traffic(rng, 200, 0.002), baseline, SPECS).verdict == "pass"
    bad_errors = judge(_traffic(rng, 200, 0.20), baseline, SPECS)
    assert bad_errors.verdict == "fail"
    assert "error rate" in bad_errors.reason
    slow = judge(_traffic(rng, 200, 0.002, extra_ms=200.0), baseline, SPECS)
    assert slow.verdict == "fail"
    assert "latency shift" in slow.reason


def test_no_data_and_too_few_samples_never_pass() -> None:
    baseline = _traffic(random.Random(1), 300)
    empty = judge(Samples(), baseline, SPECS)
    assert empty.verdict == "inconclusive"
    assert "no requests reached the canary" in empty.reason
    few = judge(_traffic(random.Random(2), 10), baseline, SPECS)
    assert few.verdict == "inconclusive"
    assert "fewer than the 50 needed to pass" in few.reason
    strict = [MetricSpec("error_rate", max_value=0.05, no_data="fail")]
    assert judge(Samples(), baseline, strict).verdict == "fail"


def test_explanations_carry_the_numbers() -> None:
    rng = random.Random(7)
    result = judge(_traffic(rng, 200, extra_ms=200.0), _traffic(rng, 300), SPECS)
    latency = next(m for m in result.metrics if m.name == "latency_p99")
    assert latency.p_value is not None
    assert latency.p_value < 0.05
    assert latency.ci is not None
    assert latency.ci[0] > 150
    assert result.score == 50.0


DEFAULT = [
    MetricSpec("error_rate", max_value=0.01, max_increase=0.005),
    MetricSpec("latency_p99", max_increase=50.0),
]


def _with_tail(rng: random.Random, n: int, share: float, extra: float) -> Samples:
    """Exactly ``share`` of the requests slowed by ``extra`` ms (every k-th one)."""
    base = _traffic(rng, n)
    every = round(1 / share)
    return Samples([x + extra if i % every == 0 else x for i, x in enumerate(base.latencies_ms)], base.errors)


@pytest.mark.parametrize("seed", range(10))
def test_latency_p99_limits_the_tail_not_the_median(seed: int) -> None:
    """A 5 % tail of +300 ms leaves the median where it was; the p99 limit must still fail it."""
    rng = random.Random(seed)
    result = judge(_with_tail(rng, 300, 0.05, 300.0), _traffic(rng, 300), DEFAULT)
    latency = next(m for m in result.metrics if m.name == "latency_p99")
    assert latency.verdict == "fail", latency.reason
    assert "took longer than" in latency.reason
    # the same tail inside the limit (+30 ms) passes
    assert judge(_with_tail(rng, 300, 0.05, 30.0), _traffic(rng, 300), DEFAULT).verdict == "pass"


def test_an_absolute_p99_limit_counts_requests_over_it() -> None:
    spec = [MetricSpec("latency_p99", max_value=100.0)]
    slow_tail = Samples([150.0 if i % 20 == 0 else 5.0 for i in range(100)])  # 5 %, spread over the window
    assert judge(slow_tail, Samples(), spec).verdict == "fail"
    assert judge(Samples([5.0] * 100 + [150.0]), Samples(), spec).verdict == "pass"  # 1 of 101: within p99


def test_one_stall_is_one_event_not_many() -> None:
    """A process paused for 200 ms finishes the requests it held together: 5 consecutive slow answers in 100
    are one event (a loaded CI machine does this), 5 spread ones are a tail."""
    spec = [MetricSpec("latency_p99", max_value=100.0)]
    assert judge(Samples([5.0] * 50 + [150.0] * 5 + [5.0] * 45), Samples(), spec).verdict == "pass"
    # a version slow for a good part of the step is not a burst: every request counts
    assert judge(Samples([5.0] * 60 + [150.0] * 40), Samples(), spec).verdict == "fail"


def test_a_baseline_too_small_cannot_pass_a_relative_check() -> None:
    """One stray stable request used to make every relative check pass (153 ms against 3 ms)."""
    canary, stray = Samples([153.0] * 100), Samples([3.0])
    result = judge(canary, stray, [MetricSpec("latency_p99", max_increase=50.0)])
    assert result.verdict == "inconclusive"
    assert "the baseline has only 1 requests" in result.reason


@pytest.mark.parametrize("seed", range(40))
def test_equal_versions_with_the_same_noise_pass(seed: int) -> None:
    """0.5 % errors on both sides, under a 1 % limit: a point estimate failed 1 error in 50; the test does not."""
    rng = random.Random(seed)
    assert judge(_traffic(rng, 100, 0.005), _traffic(rng, 400, 0.005), DEFAULT).verdict in ("pass", "marginal")


def test_unanswered_requests_are_errors_and_say_so() -> None:
    hung = Samples([5.0] * 90 + [1000.0] * 10, errors=10, timeouts=8, outstanding=2)
    result = judge(hung, _traffic(random.Random(3), 300), DEFAULT)
    assert result.verdict == "fail"
    assert "(8 timed out, 2 unanswered)" in result.reason


def test_binomial_upper_agrees_with_exact_sums() -> None:
    from fractions import Fraction
    from math import comb

    from pytest_iotops.deploy.stats import binomial_upper

    rng = random.Random(5)
    for _ in range(200):
        n, p = rng.randint(1, 200), Fraction(rng.choice([1, 5, 10, 50, 500]), 1000)
        k = rng.randint(0, n)
        exact = float(sum(comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k, n + 1)))
        assert binomial_upper(k, n, float(p)) == pytest.approx(exact, rel=1e-9, abs=1e-300)
    assert binomial_upper(5, 100, 0.01) == pytest.approx(0.0034323, rel=1e-4)  # R: pbinom(4, 100, 0.01, FALSE)
