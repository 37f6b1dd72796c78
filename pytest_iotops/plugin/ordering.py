"""What orders and selects a session's tests beyond their phases: the longest first on xdist workers, one shard's
slice; both by the durations of a previous run report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ..config import Settings

__all__ = ["durations_source", "longest_first", "shard_slice"]


def durations_source(settings: Settings, reports_dir: Path, rootpath: Path) -> Path:
    """The run report whose durations order and balance: ``durations`` if set, else this project's last one."""
    source = settings.durations
    previous = Path(source) if source else reports_dir / "run-report.json"
    return previous if previous.is_absolute() else rootpath / previous


def longest_first(
    items: Sequence[pytest.Item],
    phases: Sequence[str],
    ordered: list[int],
    durations: dict[str, float],
    names: Sequence[str],
) -> list[int]:
    """xdist workers (each the same way, from the same file): within each phase, the tests the previous run
    report timed go first, longest first, then the others in their order — xdist hands tests out in this
    order, so the long ones do not start last and hold the phase's end (every phase ends at a barrier)."""
    if not durations:
        return ordered
    rank = {p: i for i, p in enumerate(names)}

    def key(index: int) -> tuple[int, int, float]:
        seconds = durations.get(items[index].nodeid)
        return (rank[phases[index]], 0, -seconds) if seconds is not None else (rank[phases[index]], 1, 0.0)

    return sorted(ordered, key=key)


def shard_slice(
    items: list[pytest.Item], shard: tuple[int, int], durations: dict[str, float]
) -> tuple[list[pytest.Item], list[pytest.Item], str]:
    """This shard's tests, the others (deselected), and what the slices were balanced by."""
    from ..shards import select_shard

    mine, balanced_by = select_shard([i.nodeid for i in items], shard, durations)
    return [i for i in items if i.nodeid in mine], [i for i in items if i.nodeid not in mine], balanced_by
