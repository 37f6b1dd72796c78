"""The misbehaving-service matrix of docs/deployments.md: every scenario of tests/deploy_scenarios.py (hang 10 %,
tail 5 % +300 ms, slow only at 100 %, equal versions with 0.5 % noise, a degrading stable version, double-forked
daemons) on every target, ten seeds each, with the default analysis; each cell says how many rollouts ended as
they must and how long they took. Exit 1 if any did not.

With ``--signals`` the scenarios the service's own metrics can show are judged through Prometheus only (the
example service's counters and latency histogram, tests/deploy_service.SIGNALS), and the time each step's
readings add is printed: waiting for a scrape past the step's end plus the PromQL queries.

Usage: .venv/bin/python benchmarks/bench_deploy_scenarios.py [--seeds 10] [--targets local,nginx,haproxy]
    [--signals] [--only "hang 10 %,stable degrading"]
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from deploy_scenarios import SCENARIOS, SIGNAL_SCENARIOS, run

from pytest_iotops.monitoring.monitor import Monitor

#: seconds of every Monitor.mark (scrape wait + queries) and Monitor.judge (value queries + tests)
TIMES: dict[str, list[float]] = {"mark": [], "judge": []}


def _timed(name: str) -> None:
    original = getattr(Monitor, name)

    def timed(self: Monitor, *args: object) -> object:
        started = time.perf_counter()
        try:
            return original(self, *args)
        finally:
            TIMES[name].append(time.perf_counter() - started)

    setattr(Monitor, name, timed)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main() -> None:
    # stopped with SIGTERM or SIGHUP, the rollout in progress cleans up as it does for Ctrl-C
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--targets", default="local,nginx,haproxy")
    parser.add_argument("--signals", action="store_true", help="judge by Prometheus signals only")
    parser.add_argument("--only", default="", help="comma-separated scenario names (default: all)")
    args = parser.parse_args()
    scenarios = [s for s in SCENARIOS if s.name in SIGNAL_SCENARIOS] if args.signals else SCENARIOS
    if args.only:
        scenarios = [s for s in scenarios if s.name in args.only.split(",")]
    if args.signals:
        _timed("mark")
        _timed("judge")
    failures = 0
    print("| scenario | target | as expected | outcome | median rollout (s) |\n|---|---|---|---|---|")
    for scenario in scenarios:
        for target in args.targets.split(","):
            ok, seconds, problems = 0, [], []
            for seed in range(1, args.seeds + 1):
                started = time.monotonic()
                problem, _ = run(scenario, target, seed, signals=args.signals)
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
    if args.signals:
        for name, values in TIMES.items():
            ordered = sorted(values)
            print(
                f"Monitor.{name}: {len(values)} calls, median {statistics.median(values) * 1000:.0f} ms, "
                f"p90 {ordered[int(0.9 * (len(ordered) - 1))] * 1000:.0f} ms"
            )
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
