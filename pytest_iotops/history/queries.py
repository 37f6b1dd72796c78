"""What the history is asked: each test's records for the flaky rule, the deployments for the DORA keys, the
runs of a branch for trends. Plain SQL both back-ends read alike (``?`` markers, translated by the store)."""

from __future__ import annotations

import json
import zlib
from collections import defaultdict
from datetime import datetime, timedelta

from ..model import RunPoint, RunReport, from_dict
from .dora import DeployRecord
from .flaky import FlakyRule, Record, TestHistory, classify
from .store import HistoryStore

__all__ = ["branch_reports", "deploy_records", "flaky_tests", "records_by_test", "runs", "signal_history"]


def runs(store: HistoryStore, branch: str | None = None, limit: int = 50) -> list[RunPoint]:
    """The newest full runs (not shards), of one branch or all, newest first."""
    columns = "run_id, started_at, branch, commit_sha, status, tests, failed, coverage, duration"
    on_branch = "branch = ? AND " if branch else ""  # a condition the index (branch, started_at) answers
    found = store.query(
        f"SELECT {columns} FROM runs WHERE {on_branch}shard IS NULL ORDER BY started_at DESC, run_id LIMIT ?",  # noqa: S608
        [branch, limit] if branch else [limit],
    )
    return [RunPoint(*row) for row in found]


def records_by_test(store: HistoryStore, window: int = 30, runs_read: int = 500) -> dict[str, list[Record]]:
    """Each test's records over the newest ``runs_read`` runs (each test keeps its last ``window``)."""
    rows = store.query(
        "SELECT t.nodeid, r.started_at, COALESCE(r.commit_sha, ''), t.outcome, t.attempts, t.flaky, r.run_id "
        "FROM tests t JOIN runs r ON r.run_id = t.run_id WHERE r.run_id IN "
        "(SELECT run_id FROM runs ORDER BY started_at DESC LIMIT ?)",
        [runs_read],
    )
    by_test: dict[str, list[Record]] = defaultdict(list)
    for nodeid, started, commit, outcome, attempts, flaky, run_id in rows:
        by_test[nodeid].append(
            Record(started, commit, outcome, tuple(a for a in attempts.split(",") if a), bool(flaky), run_id)
        )
    return {k: sorted(v, key=lambda r: r.started_at)[-window:] for k, v in by_test.items()}


def flaky_tests(store: HistoryStore, rule: FlakyRule) -> list[TestHistory]:
    """Every test classified (flaky first, then failing, by flip rate)."""
    order = {"flaky": 0, "failing": 1, "new": 2, "stable": 3}
    found = [classify(nodeid, records, rule) for nodeid, records in records_by_test(store, rule.window).items()]
    return sorted(found, key=lambda h: (order[h.status], -h.flip_rate, h.nodeid))


def deploy_records(store: HistoryStore) -> list[DeployRecord]:
    """Every deployment and fleet rollout, ended at its start plus its duration."""
    rows = store.query(
        "SELECT d.environment, d.detail, d.started_at, d.duration, COALESCE(r.committed_at, ''), "
        "COALESCE(r.commit_sha, '') FROM deployments d JOIN runs r ON r.run_id = d.run_id"
    )
    out = []
    for environment, detail, started, duration, committed, commit in rows:
        ended = (datetime.fromisoformat(started.replace("Z", "+00:00")) + timedelta(seconds=duration)).isoformat()
        out.append(DeployRecord(environment, json.loads(detail)["result"], ended, committed, commit))
    return out


def branch_reports(store: HistoryStore, branch: str, days: float) -> list[RunReport]:
    """The full runs of a branch in the last ``days`` days before its newest, as run reports (from the stored,
    compressed report)."""
    newest = store.query("SELECT MAX(started_at) FROM runs WHERE branch = ? AND shard IS NULL", [branch])
    if not newest or newest[0][0] is None:
        return []
    end = datetime.fromisoformat(newest[0][0].replace("Z", "+00:00"))
    since = (end - timedelta(days=days)).isoformat()
    rows = store.query(
        "SELECT report FROM runs WHERE branch = ? AND shard IS NULL AND started_at >= ? ORDER BY started_at",
        [branch, since],
    )
    return [from_dict(RunReport, json.loads(zlib.decompress(bytes(blob)))) for (blob,) in rows]


def signal_history(
    store: HistoryStore, names: list[str], runs: int, promoted_only: bool = True, scan: int = 200
) -> dict[str, list[float]]:
    """Per signal, its canary value at the last step that measured it, in each of the newest ``runs``
    deployments that measured it (promoted ones only, or all), newest first, from the newest ``scan`` reports."""
    found: dict[str, list[float]] = {name: [] for name in names}
    rows = store.query("SELECT report FROM runs ORDER BY started_at DESC LIMIT ?", [scan])
    for (blob,) in rows:
        report = from_dict(RunReport, json.loads(zlib.decompress(bytes(blob))))
        for d in sorted(report.deployments, key=lambda d: d.started_at, reverse=True):
            if promoted_only and d.outcome != "promoted":
                continue
            for name, values in found.items():
                last = [m.value for s in d.steps for m in s.metrics if m.name == name and m.value is not None]
                if last and len(values) < runs:
                    values.append(last[-1])
        if all(len(v) >= runs for v in found.values()):
            break
    return found
