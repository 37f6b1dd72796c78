"""The run history's figures (issue 16): concurrent writers on both back-ends, write time per run of 10,000
tests, the trend query over 1,000 runs, and the flaky rule's precision and recall on seeded histories.

    .venv/bin/python benchmarks/bench_history.py                 # everything (PostgreSQL when installed)
    .venv/bin/python benchmarks/bench_history.py --runs 1000 --seeds 40

Goals: 1,000 runs by 8 writers, none lost, identical answers on both back-ends; SQLite write of a 10,000-test
run <= 0.2 s; a trend query over 1,000 runs <= 50 ms; precision and recall >= 0.95.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from history_data import flaky_history, report, write_concurrently  # noqa: E402
from pg_server import postgres_binaries, postgres_server  # noqa: E402

from pytest_iotops.history.flaky import FlakyRule, classify  # noqa: E402
from pytest_iotops.history.queries import flaky_tests, runs  # noqa: E402
from pytest_iotops.history.stores import open_store  # noqa: E402


def concurrent(url: str, total: int, writers: int = 8) -> dict[str, float]:
    started = time.perf_counter()
    ids = write_concurrently(url, writers, total // writers)
    seconds = time.perf_counter() - started
    store = open_store(url)
    stored = {r[0] for r in store.query("SELECT run_id FROM runs")}
    lost = len(set(ids) - stored)
    trend = []
    for _ in range(20):
        t = time.perf_counter()
        rows = runs(store, "main", total)
        trend.append(time.perf_counter() - t)
    assert len(rows) == total, len(rows)
    return {"runs": len(ids), "lost": lost, "seconds": seconds, "trend_ms": statistics.median(trend) * 1000}


def answers(url: str) -> list[object]:
    """What the queries answer, without the run ids (each writer got its own): equal on both back-ends."""
    store = open_store(url)
    listed = [
        (r.started_at, r.branch, r.commit, r.status, r.tests, r.failed, r.coverage) for r in runs(store, "main", 5000)
    ]
    flaky = [(h.nodeid, h.status, h.runs, h.failures, h.flips) for h in flaky_tests(store, FlakyRule())]
    return [listed, flaky]


def big_write(directory: Path, tests: int = 10_000, repeats: int = 7) -> float:
    store = open_store(f"sqlite:///{directory / 'big.db'}")
    outcomes = {f"tests/test_mod_{i // 50}.py::test_case_{i}": "passed" for i in range(tests)}
    times = []
    for i in range(repeats):
        r = report(i, outcomes)
        t = time.perf_counter()
        store.write(r)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def html_with_trends(tests: int = 10_000, repeats: int = 5) -> tuple[float, int]:
    """Seconds to render the HTML report of a 10,000-test run carrying 20 earlier runs, and its size."""
    from pytest_iotops.model import HistoryView, RunPoint
    from pytest_iotops.render import render

    r = report(0, {f"tests/test_mod_{i // 50}.py::test_case_{i}": "passed" for i in range(tests)})
    earlier = [RunPoint(f"r{i}", f"2026-10-{i + 1:02d}T10:00:00", "main", f"{i:040x}", "passed", tests, 0, 80.0, 30.0)
               for i in range(20)]  # fmt: skip
    r.history = HistoryView("sqlite:///h.db", "main", earlier, "main", earlier[0])
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        html = render(r, "html")
        times.append(time.perf_counter() - t)
    return statistics.median(times), len(html.encode())


def flaky_figures(seeds: int) -> tuple[float, float, int]:
    tp = fp = fn = failing_called = 0
    for seed in range(seeds):
        truth = flaky_history(seed)
        called = {n for n, r in truth.records.items() if classify(n, r, FlakyRule()).status == "flaky"}
        real = {n for n, k in truth.kind.items() if k == "flaky"}
        tp, fp, fn = tp + len(called & real), fp + len(called - real), fn + len(real - called)
        failing_called += sum(1 for n in called if truth.kind[n] == "failing")
    return tp / (tp + fp), tp / (tp + fn), failing_called


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite:///{Path(tmp) / 'history.db'}"
        sqlite = concurrent(sqlite_url, args.runs)
        print(f"sqlite: {sqlite['runs']} runs by 8 writers in {sqlite['seconds']:.1f} s, {sqlite['lost']} lost; "
              f"trend query over {args.runs} runs {sqlite['trend_ms']:.1f} ms (median of 20)")  # fmt: skip
        if postgres_binaries() is not None:
            with postgres_server() as url:
                pg = concurrent(url, args.runs)
                same = answers(url) == answers(sqlite_url)
            print(f"postgresql: {pg['runs']} runs by 8 writers in {pg['seconds']:.1f} s, {pg['lost']} lost; "
                  f"trend query {pg['trend_ms']:.1f} ms; every answer equal to SQLite's: {same}")  # fmt: skip
        else:
            print("postgresql: not installed, skipped")
        print(f"sqlite write of one run of 10,000 tests: {big_write(Path(tmp)):.3f} s (median of 7; goal <= 0.2)")
    seconds, size = html_with_trends()
    print(f"HTML report of 10,000 tests with 20 runs of trends: {seconds:.2f} s, {size / 1e6:.2f} MB "
          "(goal <= 1 s, <= 3 MB)")  # fmt: skip
    precision, recall, failing = flaky_figures(args.seeds)
    print(f"flaky rule over {args.seeds} seeded histories (30 flaky tests of 260 each): precision {precision:.3f}, "
          f"recall {recall:.3f}; consistently failing tests called flaky: {failing}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
