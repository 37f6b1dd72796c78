"""Fleet rollouts at scale and the fault matrix (docs/fleet.md publishes the figures).

``scale``: one good rollout to N devices in W waves on the virtual clock, per broker: wall seconds, devices
simulated per second of wall time and per CPU second (this process, the device hosts and the broker, from
getrusage), peak memory per device (the largest device host's maxrss over its devices), and for a corrupt build
the real time from the abort decision until every device had its command.

``calibrate``: the statistical rule alone (controller and devices wired without a broker, tests/fleet_sim.py):
builds whose true failure rate is below, at and above the limit (2 %), S seeds of 1,000 devices each — how
often each is stopped, promoted, or left inconclusive (the fleet too small to show it below the limit).

``matrix``: every row of tests/fleet_matrix.py on both brokers with power lost at every state, S seeds of
1,000 devices each; a cell counts the rollouts that ended as their row says with every check holding. Exit 1
if any did not.

Usage: .venv/bin/python benchmarks/bench_fleet.py calibrate [--seeds 100]
       .venv/bin/python benchmarks/bench_fleet.py scale [--devices 10000] [--waves 5] [--brokers embedded,mosquitto]
       .venv/bin/python benchmarks/bench_fleet.py matrix [--seeds 20] [--brokers embedded,mosquitto]
"""

from __future__ import annotations

import argparse
import resource
import signal
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fleet_matrix import HARDWARE, POLICY, ROWS, problems, run_row
from fleet_sim import simulate

from pytest_iotops.fleet import FleetSpec, Policy, build_firmware, make_broker, rollout


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def scale(devices: int, waves: int, brokers: list[str]) -> None:
    steps = tuple(round(100 * (i + 1) / waves, 6) for i in range(waves))
    # a day between waves: five waves take four days of rollout time, run in seconds on the virtual clock
    policy = Policy(waves=steps, max_failure_rate=0.02, min_executed=10, wave_soak=86400.0, source="bench")
    old, new = build_firmware("1.0.0", 16 * 1024), build_firmware("2.0.0", 16 * 1024)
    bad = build_firmware("2.0.1", 16 * 1024, corrupt=True)
    print(
        "| broker | devices | waves | outcome | wall (s) | virtual (h) | ticks | devices/s | devices per CPU s | "
        "peak MB per 1,000 devices | abort -> all told (ms) |\n|---|---|---|---|---|---|---|---|---|---|---|"
    )
    for name in brokers:
        with make_broker(name) as broker:
            cpu = _cpu()
            result = rollout(FleetSpec(devices, seed=1), new, old, policy, broker, deadline=1800)
            cpu = _cpu() - cpu
            per_host = devices / result.hosts  # the largest host's peak memory over its devices
            aborted = rollout(FleetSpec(devices, seed=2), bad, old, policy, broker, deadline=1800)
            told = aborted.told_all_seconds
            print(
                f"| {name} | {devices} | {waves} | {result.outcome} | {result.wall_seconds:.1f} | "
                f"{result.virtual_seconds / 3600:.2f} | {result.ticks} | {devices / result.wall_seconds:.0f} | "
                f"{devices / cpu:.0f} | {result.host_peak_kb / 1024 / per_host * 1000:.1f} | "
                f"{'-' if told is None else f'{told * 1000:.0f}'} ({aborted.outcome}) |",
                flush=True,
            )
            assert not result.invariant_problems(), result.explain()


def calibrate(seeds: int) -> None:
    old = build_firmware("1.0.0", 2048)
    print(
        f"limit {POLICY.max_failure_rate:.0%} at {POLICY.confidence:.0%}, waves {list(POLICY.waves)}, 1,000 devices, "
        f"{seeds} seeds\n\n| true failure rate | stopped | promoted | inconclusive | median devices exposed |\n"
        "|---|---|---|---|---|"
    )
    for rate in (0.0, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05):
        ends: dict[str, int] = {}
        exposed = []
        for seed in range(seeds):
            new = build_firmware("2.0.0", 2048, seed=seed, install_failure_rate=rate)
            result, _ = simulate(POLICY, FleetSpec(1000, seed=seed, hardware=HARDWARE), new, old)
            ends[result.outcome] = ends.get(result.outcome, 0) + 1
            exposed.append(result.released)
        print(
            f"| {rate:.1%} | {ends.get('aborted', 0)}/{seeds} | {ends.get('promoted', 0)}/{seeds} | "
            f"{ends.get('inconclusive', 0)}/{seeds} | {statistics.median(exposed):.0f} |",
            flush=True,
        )


def matrix(seeds: int, brokers: list[str]) -> int:
    failures = 0
    print("| row | broker | as expected | median wall (s) | first failure |\n|---|---|---|---|---|")
    for name in brokers:
        with make_broker(name) as broker:
            for row in ROWS:
                ok, walls, first = 0, [], ""
                for seed in range(100, 100 + seeds):
                    result = run_row(row, broker, seed)
                    walls.append(result.wall_seconds)
                    found = problems(row, result)
                    ok += not found
                    if found and not first:
                        first = f"seed {seed}: {found[0][:120]}"
                failures += seeds - ok
                print(
                    f"| {row} | {name} | {ok}/{seeds} | {statistics.median(walls):.1f} | {first or '-'} |", flush=True
                )
    return failures


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["scale", "matrix", "calibrate"])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--waves", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--brokers", default="embedded,mosquitto")
    args = parser.parse_args()
    brokers = args.brokers.split(",")
    started = time.monotonic()
    if args.what == "scale":
        scale(args.devices, args.waves, brokers)
    elif args.what == "calibrate":
        calibrate(args.seeds)
    else:
        failed = matrix(args.seeds, brokers)
        print(f"\n{failed} rollouts did not end as their row says ({time.monotonic() - started:.0f} s)")
        sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
