"""Scale-out figures for issue 6.

1. A generated 5,000-test CPU-bound suite (each test burns a few ms of CPU): ``-n 2 --iotops`` (coverage and
   gates, strict phase scheduler) vs ``-n 2`` without the plugin (target <= 1.05), and vs serial ``--iotops``
   (target >= 1.6x faster on 2 cores). Runs interleaved, medians.
2. ``iotops merge`` of 8 shards of 5,000 tests each (partial reports and coverage data made by real sharded
   runs of a 40,000-test suite): wall clock of the merge command (target <= 2 s).

Usage: .venv/bin/python benchmarks/bench_scale.py [--tests 5000] [--rounds 3] [--shards 8]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_core import generate, run


def cpu_bound(root: Path) -> None:
    """Make every generated test burn about a millisecond of CPU, so parallelism has work to share."""
    for path in (root / "tests").rglob("test_*.py"):
        text = path.read_text().replace("    assert m.", "    sum(i * i for i in range(150_000))\n    assert m.")
        path.write_text(text)


def bench_xdist(tests: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="iotops-scale-") as tmp:
        root = Path(tmp)
        generate(root, tests)
        cpu_bound(root)
        base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "xdist.plugin"]
        ours = ["-p", "pytest_iotops.plugin", "--iotops"]
        variants = {
            "serial": base,
            "-n 2": [*base, "-n", "2"],
            "-n 2 --iotops --iotops-no-cov": [*base, *ours, "--iotops-no-cov", "-n", "2"],
            "serial --iotops --iotops-no-cov": [*base, *ours, "--iotops-no-cov"],
            "-n 2 --iotops": [*base, *ours, "-n", "2"],
            "-n 2 --cov (pytest-cov)": [*base, "-p", "pytest_cov.plugin", "--cov=benchpkg", "--cov-branch", "-n", "2"],
            "serial --iotops": [*base, *ours],
        }
        times: dict[str, list[float]] = {k: [] for k in variants}
        for _ in range(rounds):
            for name, cmd in variants.items():
                times[name].append(run(cmd, root))
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"\n{tests} CPU-bound tests, {rounds} interleaved rounds, medians:")
        for name, value in med.items():
            print(f"  {name:32} {value:7.2f}s")

        def ratio(label: str, value: float, target: str, ok: bool) -> None:
            print(f"  {label:58} {value:6.3f}  (target {target}: {'met' if ok else 'NOT met'})")

        xdist_alone = med["serial"] / med["-n 2"]
        print(f"  {'reference: speed-up of plain -n 2 over plain serial (xdist itself)':58} {xdist_alone:6.3f}")
        overhead = med["-n 2 --iotops --iotops-no-cov"] / med["-n 2"]
        ratio("-n 2 --iotops (no coverage) / -n 2 without iotops", overhead, "<= 1.05", overhead <= 1.05)
        speedup = med["serial --iotops --iotops-no-cov"] / med["-n 2 --iotops --iotops-no-cov"]
        ratio("speed-up of -n 2 over serial, --iotops without coverage", speedup, ">= 1.6", speedup >= 1.6)
        cov_ratio = med["-n 2 --iotops"] / med["-n 2 --cov (pytest-cov)"]
        ratio("-n 2 --iotops (coverage) / -n 2 --cov --cov-branch", cov_ratio, "<= 1.05", cov_ratio <= 1.05)
        cov_speedup = med["serial --iotops"] / med["-n 2 --iotops"]
        ratio("speed-up of -n 2 over serial, --iotops with coverage", cov_speedup, ">= 1.6", cov_speedup >= 1.6)


def bench_merge(tests: int, shards: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="iotops-merge-") as tmp:
        root = Path(tmp)
        generate(root, tests * shards)
        base = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "pytest_iotops.plugin",
            "--iotops",
            "--iotops-format",
            "md",
        ]
        for k in range(1, shards + 1):
            run([*base, "--iotops-shard", f"{k}/{shards}", "--iotops-reports-dir", f"part{k}"], root)
        parts = [f"part{k}/run-report.json" for k in range(1, shards + 1)]
        cmd = [
            sys.executable,
            "-m",
            "pytest_iotops.cli",
            "merge",
            *parts,
            "--expect",
            str(shards),
            "--reports-dir",
            "merged",
        ]
        seconds = [run(cmd, root) for _ in range(rounds)]
        merged = statistics.median(seconds)
        print(
            f"\niotops merge of {shards} shards x {tests} tests ({tests * shards} tests, coverage combined, all "
            f"report formats): {merged:.2f}s (target <= 2 s: {'met' if merged <= 2 else 'NOT met'})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tests", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shards", type=int, default=8)
    args = parser.parse_args()
    bench_xdist(args.tests, args.rounds)
    bench_merge(args.tests, args.shards, args.rounds)


if __name__ == "__main__":
    main()
