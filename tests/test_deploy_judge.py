"""The canary judge and its statistics, checked against R (tests/data/r-reference.json, made by r-reference.R)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_iotops.deploy.judge import MetricSpec, Samples, judge, quantile
from pytest_iotops.deploy.stats import fisher_greater, mann_whitney

REFERENCE = json.loads((Path(__file__).parent / "data" / "r-reference.json").read_text())


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
