"""Deployment targets on loopback: what the traffic splitter costs, and how fast a failing verdict turns into
all traffic back on the stable version.

1. Throughput and latency through each target vs straight to the backend (the example service,
   examples/deploy-service), measured by wrk (Debian's package) with the same connections and duration,
   interleaved rounds, medians. Targets: throughput >= 0.5 of direct, p99 added < 5 ms.
2. Rollback time: canaries of a version answering every API request with 500, aborted at their first step;
   the time from the failing decision until the target routes every new request to the stable version
   (``rollback_seconds``), over --aborts repetitions per target. Target on the local target: p99 < 100 ms.

Usage: .venv/bin/python benchmarks/bench_deploy.py [--seconds 5] [--rounds 3] [--connections 16] [--aborts 30]
       [--targets local nginx haproxy]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from pytest_iotops.deploy.canary import canary
from pytest_iotops.deploy.judge import MetricSpec
from pytest_iotops.deploy.load import Load
from pytest_iotops.deploy.process import start_version
from pytest_iotops.deploy.targets import make_target
from pytest_iotops.registry import plugin_manager

SRC = Path(__file__).resolve().parents[1] / "examples" / "deploy-service" / "src"
ENV = {**os.environ, "PYTHONPATH": str(SRC)}


def service(name: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "sensorapi.server", "--port", "{port}", "--version", name, *extra]


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, seconds: float, connections: int) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) of one wrk run; any socket error or non-2xx answer aborts the benchmark."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", url + "/sensors/boiler"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk saw failures against {url}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(p: str) -> float:
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * _UNITS[unit]

    return rps, pct("50"), pct("99")


def throughput(targets: list[str], seconds: float, rounds: int, connections: int) -> None:
    print(f"\n== throughput and latency, wrk -t1 -c{connections} -d{seconds:g}s, {rounds} interleaved rounds ==")
    pm = plugin_manager(load_entrypoints=False)
    direct = start_version("v1", service("v1"), env=ENV)
    opened = {}
    try:
        for name in targets:
            target = make_target(name, pm, {"v1": service("v1")}, env=ENV).open()
            target.start("v1")
            target.set_weights({"v1": 100})
            opened[name] = target
        runs: dict[str, list[tuple[float, float, float]]] = {"direct": [], **{n: [] for n in opened}}
        for _ in range(rounds):
            runs["direct"].append(wrk(direct.url, seconds, connections))
            for name, target in opened.items():
                runs[name].append(wrk(target.url, seconds, connections))
        med = {k: tuple(statistics.median(r[i] for r in v) for i in range(3)) for k, v in runs.items()}
        d_rps, d_p50, d_p99 = med["direct"]
        print(f"{'path':<10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'ratio':>8}{'+p50 ms':>10}{'+p99 ms':>10}")
        print(f"{'direct':<10}{d_rps:>10.0f}{d_p50:>10.2f}{d_p99:>10.2f}{1:>8.2f}{0:>10.2f}{0:>10.2f}")
        for name in opened:
            rps, p50, p99 = med[name]
            print(
                f"{name:<10}{rps:>10.0f}{p50:>10.2f}{p99:>10.2f}{rps / d_rps:>8.2f}"
                f"{p50 - d_p50:>10.2f}{p99 - d_p99:>10.2f}"
            )
    finally:
        for target in opened.values():
            target.close()
        direct.stop()


def rollback(targets: list[str], aborts: int) -> None:
    print(f"\n== failing verdict -> 100 % stable, {aborts} aborted canaries per target (200 req/s of load) ==")
    specs = [MetricSpec("error_rate", max_value=0.05, min_samples=5)]
    pm = plugin_manager(load_entrypoints=False)
    print(f"{'target':<10}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}{'aborted at first step':>24}")
    for name in targets:
        versions = {"stable": service("stable"), "broken": service("broken", "--error-rate", "1.0")}
        target = make_target(name, pm, versions, env=ENV).open()
        times: list[float] = []
        first = 0
        try:
            target.start("stable")
            target.set_weights({"stable": 100})
            with Load(target.url, rate=200, concurrency=16, paths=["/sensors/boiler"]):
                for _ in range(aborts):
                    result = canary(target, "stable", "broken", steps=[10, 100], bake=0.3, specs=specs)
                    if result.rollback_seconds is None or result.promoted:
                        raise SystemExit(f"{name}: the broken canary was not rolled back:\n{result.explain()}")
                    times.append(result.rollback_seconds * 1000)
                    first += result.aborted_at == 10
        finally:
            target.close()
        ordered = sorted(times)
        p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        print(f"{name:<10}{statistics.median(times):>10.2f}{p99:>10.2f}{max(times):>10.2f}{first:>18}/{aborts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--aborts", type=int, default=30)
    parser.add_argument("--targets", nargs="+", default=["local", "nginx", "haproxy"])
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    missing = [t for t in args.targets if t != "local" and not (shutil.which(t) or shutil.which(t, path="/usr/sbin"))]
    if missing:
        raise SystemExit(f"not installed: {missing} (apt-get install {' '.join(missing)})")
    print(f"machine: {os.cpu_count()} cores; backend: examples/deploy-service (Python ThreadingHTTPServer)")
    throughput(args.targets, args.seconds, args.rounds, args.connections)
    rollback(args.targets, args.aborts)


if __name__ == "__main__":
    main()
