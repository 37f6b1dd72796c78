"""The misbehaving-service matrix of docs/deployments.md: every scenario of tests/deploy_scenarios.py (hang 10 %,
tail 5 % +300 ms, slow only at 100 %, equal versions with 0.5 % noise, a degrading stable version, double-forked
daemons) on every target, ten seeds each, with the default analysis; each cell says how many rollouts ended as
they must and how long they took. Exit 1 if any did not.

Usage: .venv/bin/python benchmarks/bench_deploy_scenarios.py [--seeds 10] [--targets local,nginx,haproxy]
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from deploy_scenarios import SCENARIOS, run


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main() -> None:
    # stopped with SIGTERM or SIGHUP, the rollout in progress cleans up as it does for Ctrl-C
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--targets", default="local,nginx,haproxy")
    args = parser.parse_args()
    failures = 0
    print("| scenario | target | as expected | outcome | median rollout (s) |\n|---|---|---|---|---|")
    for scenario in SCENARIOS:
        for target in args.targets.split(","):
            ok, seconds, problems = 0, [], []
            for seed in range(1, args.seeds + 1):
                started = time.monotonic()
                problem, _ = run(scenario, target, seed)
                seconds.append(time.monotonic() - started)
                ok += not problem
                if problem:
                    problems.append(f"seed {seed}: {problem}")
            failures += args.seeds - ok
            print(
                f"| {scenario.name} | {target} | {ok}/{args.seeds} | {scenario.outcome} | "
                f"{statistics.median(seconds):.1f} |",
                flush=True,
            )
            for line in problems:
                print(f"|   | {line} |", flush=True)
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
