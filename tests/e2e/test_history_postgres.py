"""The run history on a real PostgreSQL (Debian's, started by the test on 127.0.0.1 in a private data
directory): concurrent writers lose nothing, and every query answers exactly as it does on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

import pytest
from history_data import PER_WRITER, START, WRITERS, report, write_concurrently
from pg_server import postgres_server

from pytest_iotops.history.dora import dora
from pytest_iotops.history.flaky import FlakyRule
from pytest_iotops.history.queries import deploy_records, flaky_tests, records_by_test, runs
from pytest_iotops.history.stores import open_store
from pytest_iotops.model import Deployment


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


def test_eight_concurrent_writers_lose_no_run_on_postgresql(pg_url: str) -> None:
    ids = write_concurrently(pg_url)
    store = open_store(pg_url)
    assert len(set(ids)) == WRITERS * PER_WRITER
    assert {r[0] for r in store.query("SELECT run_id FROM runs")} == set(ids)
    assert store.query("SELECT COUNT(*) FROM tests") == [(WRITERS * PER_WRITER * 40,)]
    assert store.query("SELECT COUNT(*) FROM iotops_schema") == [(1,)]
    store.prune(keep_runs=0)


def _history() -> list[tuple[str, object]]:
    """60 runs: tests with every kind of history, deployments that succeed, roll back and halt."""
    out: list[tuple[str, object]] = []
    for i in range(60):
        outcomes = {
            "steady": "passed",
            "shaky": "failed" if i % 4 == 1 else "passed",
            "broken": "failed" if i >= 50 else "passed",
        }
        outcome = ("promoted", "rolled_back", "promoted", "halted")[i % 4]
        when = START + timedelta(hours=3 * i)
        deployment = Deployment(
            f"t{i}", "canary", ("nginx", "haproxy")[i % 2], "v1", f"v{i}", outcome, "v1", "", 40.0, 50,  # type: ignore[arg-type]
            started_at=when.isoformat(),
        )  # fmt: skip
        committed = (when - timedelta(hours=i % 5)).isoformat()
        out.append(
            (
                f"run{i:03d}",
                report(i, outcomes, commit=f"c{i // 2}", when=when, committed_at=committed, deployments=[deployment]),
            )
        )
    return out


def test_every_query_answers_alike_on_postgresql_and_sqlite(pg_url: str, tmp_path: Path) -> None:
    stores = {"postgres": open_store(pg_url), "sqlite": open_store(f"sqlite:///{tmp_path / 'h.db'}")}
    history = _history()
    answers = {}
    for name, store in stores.items():
        store.prune(keep_runs=0)
        for run_id, r in history:
            store.write(r, run_id=run_id)  # type: ignore[arg-type]
        records = deploy_records(store)
        answers[name] = {
            "runs": runs(store, "main", 100),
            "records": records_by_test(store, 30),
            "flaky": [asdict(h) for h in flaky_tests(store, FlakyRule())],
            "deployments": sorted(records, key=lambda d: (d.ended_at, d.environment)),
            "dora": [asdict(dora(records, env)) for env in ("nginx", "haproxy", "*")],
        }
    assert answers["postgres"] == answers["sqlite"]
    flaky = {h["nodeid"]: h["status"] for h in answers["sqlite"]["flaky"]}
    assert flaky == {"shaky": "flaky", "broken": "failing", "steady": "stable"}
    all_envs = answers["sqlite"]["dora"][2]
    assert (all_envs["successes"], all_envs["failures"]) == (30, 15)  # halted rollouts are neither
