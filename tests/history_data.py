"""Synthetic run histories where the truth is known: run reports built from plain outcomes (for the stores),
and a seeded history of stable, flaky, consistently failing, fixed-after-N and broken-then-fixed tests (for the
flaky rule), with reruns on the same commit and retried passes as real CI produces them."""

from __future__ import annotations

import multiprocessing
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from pytest_iotops.history.flaky import Record
from pytest_iotops.history.stores import open_store
from pytest_iotops.model import (
    CoverageReport,
    CoverageTotals,
    Deployment,
    GitInfo,
    PhaseResult,
    RunMeta,
    RunReport,
    TestResult,
    Verdict,
)

START = datetime(2026, 11, 1, tzinfo=timezone.utc)


def report(
    i: int,
    outcomes: dict[str, str],
    *,
    commit: str = "",
    branch: str = "main",
    coverage: float | None = 80.0,
    when: datetime | None = None,
    committed_at: str | None = None,
    deployments: list[Deployment] | None = None,
    attempts: dict[str, list[str]] | None = None,
) -> RunReport:
    """Run ``i`` of a project: one test per entry of ``outcomes`` (node id -> outcome)."""
    started = when or START + timedelta(hours=i)
    tests = [
        TestResult(nodeid, "unit", outcome, 0.01, attempts=(attempts or {}).get(nodeid, []))  # type: ignore[arg-type]
        for nodeid, outcome in outcomes.items()
    ]
    failed = sum(1 for t in tests if t.outcome == "failed")
    meta = RunMeta(
        started.isoformat(),
        (started + timedelta(seconds=30)).isoformat(),
        30.0,
        "/work/synthetic-project",
        [],
        "3.11",
        "8",
        "0",
        "linux",
        1,
        GitInfo(commit or f"{i:040x}", branch, False, committed_at),
    )
    totals = CoverageTotals(1, 100, int(coverage or 0), 0, 0, coverage or 0.0, None)
    cov = CoverageReport("measured", "iotops", False, [], totals, [], [], False) if coverage is not None else None
    phase = PhaseResult("unit", 0, len(tests), len(tests) - failed, failed, status="failed" if failed else "passed")
    verdict = Verdict("failed" if failed else "passed", int(bool(failed)), [], "")
    return RunReport(meta, [phase], tests, cov, [], [], verdict, deployments=deployments or [])


@dataclass
class Truth:
    """The seeded history as each test's records, and what each test really is."""

    records: dict[str, list[Record]] = field(default_factory=dict)
    kind: dict[str, str] = field(default_factory=dict)


def flaky_history(seed: int, runs: int = 60) -> Truth:
    """``runs`` runs over about ``runs / 1.5`` commits (a third of the commits are run again, as CI reruns do):
    200 stable tests, 30 flaky ones (failing 10-35 % of runs, half of their failures passing on a retry), 10
    that break for good at a random commit, 10 flaky ones fixed after the first half, 10 that break for three
    commits and are fixed."""
    rng = random.Random(seed)
    truth = Truth()
    kinds = (
        [("stable", i) for i in range(200)]
        + [("flaky", i) for i in range(30)]
        + [("failing", i) for i in range(10)]
        + [("fixed", i) for i in range(10)]
        + [("broken-then-fixed", i) for i in range(10)]
    )
    params = {f"{k}_{i}": (k, rng.uniform(0.10, 0.35), rng.randrange(runs // 3, runs - 5)) for k, i in kinds}
    commit, started = 0, START
    for run in range(runs):
        if run == 0 or rng.random() > 0.33:
            commit += 1
        started += timedelta(minutes=rng.randrange(10, 300))
        for name, (kind, p, at) in params.items():
            outcome, attempts = "passed", ()
            flaky_now = kind == "flaky" or (kind == "fixed" and run < runs // 2)
            if flaky_now and rng.random() < p:
                if rng.random() < 0.5:
                    outcome, attempts = "passed", ("failed", "passed")  # a rerun plugin's retry
                else:
                    outcome = "failed"
            # a break comes with a commit: every run of the commits it spans fails (a rerun does not pass)
            if kind == "failing" and commit >= at * 2 // 3:
                outcome = "failed"
            if kind == "broken-then-fixed" and at * 2 // 3 <= commit < at * 2 // 3 + 3:
                outcome = "failed"
            record = Record(started.isoformat(), f"c{commit:05d}", outcome, attempts, bool(attempts), f"r{run}")
            truth.records.setdefault(name, []).append(record)
            truth.kind[name] = kind
    return truth


WRITERS, PER_WRITER = 8, 25


def _writer(url: str, writer: int, per_writer: int) -> list[str]:
    store = open_store(url)
    ids = []
    for k in range(per_writer):
        i = writer * per_writer + k
        outcomes = {f"tests/test_{j}.py::test_x": "failed" if (i + j) % 7 == 0 else "passed" for j in range(40)}
        ids.append(store.write(report(i, outcomes)))
    return ids


def write_concurrently(url: str, writers: int = WRITERS, per_writer: int = PER_WRITER) -> list[str]:
    """``writers`` processes writing ``per_writer`` runs each, all at once; every run id they got back."""
    with multiprocessing.get_context("spawn").Pool(writers) as pool:
        jobs = [(url, w, per_writer) for w in range(writers)]
        return [run_id for ids in pool.starmap(_writer, jobs) for run_id in ids]
