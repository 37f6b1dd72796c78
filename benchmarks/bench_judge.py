"""The canary judge's calibration: false-rollback rate on equal versions (A/A) and detection rate per fault (A/B),
over seeded simulated rollouts judged by the real judge with the default analysis.

Each rollout has the default steps (10, 25, 50, 75, 100 %), each step as many requests as the adaptive bake
gathers (at least ``min_samples`` for the canary and for the stable version; the 100 % step compares with the
last step's stable data), latencies log-normal around 4 ms with rare shared spikes of 20-200 ms (a loaded CI
machine), and a rollout is rolled back at its first failing step (failure_limit 0). The real-service matrix
(tests/soak/test_deploy_scenarios.py) checks the same cells on the three targets with fewer seeds.

Usage: .venv/bin/python benchmarks/bench_judge.py [--rollouts 2000] [--alpha 0.002]
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from dataclasses import replace

from pytest_iotops.deploy.config import DeploySettings
from pytest_iotops.deploy.judge import MetricSpec, Samples, judge, merge

STEPS = (10, 25, 50, 75, 100)
RATE = 50.0
#: timeout of a hung request (deploy.request_timeout's default), ms
TIMEOUT_MS = 2000.0

Request = Callable[[random.Random], tuple[float, bool]]


def healthy(error_rate: float = 0.0) -> Request:
    def one(rng: random.Random) -> tuple[float, bool]:
        latency = rng.lognormvariate(1.4, 0.4)
        if rng.random() < 0.003:  # the machine, not the version: both see it
            latency += rng.uniform(20, 200)
        return latency, rng.random() < error_rate

    return one


def fault(kind: str) -> Request:
    base = healthy()

    def one(rng: random.Random) -> tuple[float, bool]:
        latency, error = base(rng)
        roll = rng.random()
        if kind == "5xx" and roll < 0.03:
            return latency, True
        if kind == "slow":
            return latency + 100.0, error
        if kind == "hang" and roll < 0.10:
            return TIMEOUT_MS, True
        if kind == "tail" and roll < 0.05:
            return latency + 300.0, error
        if kind == "noise" and roll < 0.005:
            return latency, True
        return latency, error

    return one


def draw(request: Request, n: int, rng: random.Random) -> Samples:
    latencies, errors = [], 0
    for _ in range(n):
        latency, error = request(rng)
        latencies.append(latency)
        errors += error
    return Samples(tuple(latencies), errors)


def rollout(stable: Request, canary: Request, specs: tuple[MetricSpec, ...], rng: random.Random) -> int | None:
    """The weight at which the canary was rolled back, or None when promoted."""
    minimum = max(s.min_samples for s in specs)
    baseline = Samples()
    seen_canary, seen_stable = Samples(), Samples()
    for weight in STEPS:
        if weight < 100:
            # the adaptive bake: long enough for both sides to reach the minimum
            seconds = max(1.0, minimum / (RATE * weight / 100), minimum / (RATE * (100 - weight) / 100))
            n_canary, n_stable = round(RATE * seconds * weight / 100), round(RATE * seconds * (100 - weight) / 100)
            baseline = draw(stable, n_stable, rng)
        else:
            n_canary = max(minimum, round(RATE))
        step = draw(canary, n_canary, rng)
        if weight < 100:
            seen_stable = merge(seen_stable, baseline)
        seen_canary = merge(seen_canary, step)
        verdict = judge(step, baseline, specs).verdict
        if verdict in ("fail", "inconclusive") or judge(seen_canary, seen_stable, specs).verdict == "fail":
            return weight
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rollouts", type=int, default=2000)
    parser.add_argument("--alpha", type=float, default=None, help="override every metric's alpha")
    args = parser.parse_args()
    specs = DeploySettings().metrics
    if args.alpha is not None:
        specs = tuple(replace(s, alpha=args.alpha) for s in specs)
    print(f"{args.rollouts} seeded rollouts per cell, steps {STEPS}, {RATE:g} requests/s, alpha {specs[0].alpha:g}")
    print("| stable | canary | promoted | rolled back | first rollback at |")
    print("|---|---|---|---|---|")
    cells = [
        ("healthy", healthy(), "healthy (A/A)", healthy()),
        ("0.5 % errors", healthy(0.005), "0.5 % errors (A/A)", healthy(0.005)),
        ("healthy", healthy(), "3 % 5xx", fault("5xx")),
        ("healthy", healthy(), "+100 ms", fault("slow")),
        ("healthy", healthy(), "10 % hang", fault("hang")),
        ("healthy", healthy(), "5 % +300 ms tail", fault("tail")),
    ]
    for stable_name, stable, canary_name, canary in cells:
        outcomes = [rollout(stable, canary, specs, random.Random(seed)) for seed in range(args.rollouts)]
        rolled = [w for w in outcomes if w is not None]
        first = {w: rolled.count(w) for w in sorted(set(rolled))}
        print(
            f"| {stable_name} | {canary_name} | {outcomes.count(None) / len(outcomes):.2%} | "
            f"{len(rolled) / len(outcomes):.2%} | {', '.join(f'{w} %: {n}' for w, n in first.items()) or '-'} |"
        )


if __name__ == "__main__":
    main()
