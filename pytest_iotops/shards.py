"""CI shards: a deterministic slice of the tests, balanced by recorded durations when a previous run report
is available, by count otherwise. Every process (xdist workers included) computes the same slice."""

from __future__ import annotations

import hashlib
import heapq
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path

from .errors import IotopsError
from .model import load_report

__all__ = ["previous_durations", "select_shard"]


def _stable(nodeid: str) -> str:
    """A tie-breaker independent of PYTHONHASHSEED (never ``hash()``)."""
    return hashlib.sha1(nodeid.encode(), usedforsecurity=False).hexdigest()


def previous_durations(path: Path | None) -> dict[str, float]:
    """Durations per test from an earlier run report; empty when there is none or it cannot be read."""
    if path is None or not path.is_file():
        return {}
    try:
        report = load_report(path)
    except IotopsError:
        return {}
    return {t.nodeid: t.duration for t in report.tests if t.origin == "pytest"}


def select_shard(
    nodeids: Sequence[str], shard: tuple[int, int], durations: Mapping[str, float]
) -> tuple[set[str], str]:
    """The node ids of slice ``shard`` = (K, N), and how the slices were balanced."""
    index, total = shard
    if durations:
        known = [durations[n] for n in nodeids if n in durations]
        default = statistics.median(known) if known else 1.0
        weighted = sorted(((durations.get(n, default), n) for n in nodeids), key=lambda w: (-w[0], _stable(w[1])))
        heap = [(0.0, k) for k in range(total)]  # (assigned time, shard): longest test to the least-loaded slice
        mine: set[str] = set()
        for seconds, nodeid in weighted:
            load, k = heapq.heappop(heap)
            if k == index - 1:
                mine.add(nodeid)
            heapq.heappush(heap, (load + seconds, k))
        return mine, "durations"
    return {n for i, n in enumerate(nodeids) if i % total == index - 1}, "count"
