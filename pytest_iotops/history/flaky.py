"""Flaky tests, decided from the history of each test (pure: records in, classifications out).

Evidence, strongest first: a test that failed and then passed on a retry in one run; a pass and a failure on
the same commit (the code did not change, the outcome did); a flip rate — outcome changes between consecutive
runs — whose lower 95 % Wilson bound is above ``min_flip_rate``. A test whose recent runs all failed is
*failing*, never flaky (a real break flips once). A test that has passed ``reset_after`` runs in a row since its
last evidence is *stable* again: a fix resets it. Only the last ``window`` runs of a test are read."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import field
from typing import Literal

from ..values import FrozenValue, Value, record

__all__ = ["FlakyRule", "Record", "TestHistory", "classify", "wilson"]

Status = Literal["flaky", "failing", "stable", "new"]
_PASS, _FAIL = "passed", ("failed", "error")


@record(frozen=True)
class Record(FrozenValue):
    """One run of one test: when, on which commit, its outcome and every attempt's (retries)."""

    started_at: str
    commit: str
    outcome: str
    attempts: tuple[str, ...] = ()
    flaky: bool = False
    run_id: str = ""


@record(frozen=True)
class FlakyRule(FrozenValue):
    window: int = 30
    min_flip_rate: float = 0.05
    reset_after: int = 10
    #: this many failed runs in a row, latest last, make a test failing
    failing_after: int = 3
    min_runs: int = 5


@record
class TestHistory(Value):
    __test__ = False  # not a pytest test class

    nodeid: str
    status: Status
    runs: int
    failures: int
    flips: int
    flip_rate: float
    #: the 95 % Wilson interval of the flip rate
    band: tuple[float, float]
    evidence: list[str] = field(default_factory=list)


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _retried(r: Record) -> bool:
    """Failed, then passed on a retry within the run."""
    return r.flaky or (r.outcome == _PASS and any(a in _FAIL for a in r.attempts))


def _evidence(runs: Sequence[Record]) -> tuple[list[str], int]:
    """The flaky evidence in ``runs`` (oldest first), and the index of the last run that shows any."""
    found: list[str] = []
    last = -1
    outcomes_by_commit: dict[str, set[str]] = {}
    for i, r in enumerate(runs):
        if _retried(r):
            found.append(f"passed on a retry in run {r.run_id or i} ({r.started_at})")
            last = i
        if r.commit:
            seen = outcomes_by_commit.setdefault(r.commit, set())
            seen.add("fail" if r.outcome in _FAIL else "pass")
            if seen == {"pass", "fail"}:
                found.append(f"passed and failed on commit {r.commit[:12]} ({r.started_at})")
                seen.add("reported")  # once per commit
                last = i
    return found, last


def _streak(failed: Sequence[bool], value: bool) -> int:
    """How many of the latest runs in a row have ``failed == value``."""
    return next((i for i, f in enumerate(reversed(failed)) if f != value), len(failed))


def _reset_streak(runs: Sequence[Record], failed: Sequence[bool], rule: FlakyRule) -> int:
    """Passes in a row that reset a flaky test: ``reset_after``, or more when the test misbehaved so rarely
    that a still-flaky test would pass that many in a row more than 0.1 % of the time (its rate is read up to
    its last misbehaviour, which ends on one, so it is read high: the strict level makes up for it)."""
    bad = sum(1 for r, f in zip(runs, failed, strict=True) if f or _retried(r))
    rate = bad / len(runs) if runs else 0.0
    if rate <= 0 or rate >= 1:
        return rule.reset_after
    return max(rule.reset_after, math.ceil(math.log(0.001) / math.log(1 - rate)))


def _failing_streak(runs: Sequence[Record], failed: Sequence[bool], streak: int, rule: FlakyRule) -> int:
    """Failures in a row that make a test failing: ``failing_after``, or more when the runs before the streak
    failed so often that a flaky test would fail that many in a row more than 1 % of the time."""
    before = failed[: len(failed) - streak]
    rate = sum(before) / len(before) if before else 0.0
    if rate <= 0:
        return rule.failing_after
    if rate >= 1:
        return len(failed) + 1
    return max(rule.failing_after, math.ceil(math.log(0.01) / math.log(rate)))


def _status(runs: Sequence[Record], failed: Sequence[bool], evidence: list[str], last: int, rule: FlakyRule) -> Status:
    streak_fail, streak_pass = _streak(failed, True), _streak(failed, False)
    if len(runs) < rule.min_runs and not evidence:
        return "new"
    if (
        streak_fail
        and streak_fail >= _failing_streak(runs, failed, streak_fail, rule)
        and not any(_retried(r) for r in runs[-streak_fail:])
    ):
        return "failing"
    need = _reset_streak(runs[: last + 1], failed[: last + 1], rule)  # the rate while it misbehaved
    if evidence and len(runs) - 1 - last >= need and streak_pass >= need:
        evidence.append(f"passed the last {streak_pass} runs since (a fix needs {need} in a row): reset")
        return "stable"
    return "flaky" if evidence else "stable"


def classify(nodeid: str, records: Iterable[Record], rule: FlakyRule = FlakyRule()) -> TestHistory:
    """``records`` in any order; the last ``rule.window`` by time are read."""
    runs = sorted((r for r in records if r.outcome == _PASS or r.outcome in _FAIL), key=lambda r: r.started_at)
    runs = runs[-rule.window :]
    failed = [r.outcome in _FAIL for r in runs]
    changes = [i for i in range(1, len(runs)) if failed[i] != failed[i - 1]]
    n = max(len(runs) - 1, 0)
    band = wilson(len(changes), n)
    history = TestHistory(nodeid, "stable", len(runs), sum(failed), len(changes), len(changes) / n if n else 0.0, band)
    evidence, last = _evidence(runs)
    if band[0] > rule.min_flip_rate and len(runs) >= rule.min_runs:
        evidence.append(
            f"{len(changes)} flips in {len(runs)} runs (rate {history.flip_rate:.2f}, "
            f"95 % band {band[0]:.2f}-{band[1]:.2f})"
        )
        last = max(last, changes[-1])
    history.status = _status(runs, failed, evidence, last, rule)
    history.evidence = evidence
    return history
