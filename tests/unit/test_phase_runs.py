"""The phased items: runs of one phase in order, entered once each, current test, one phased iteration."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pytest_iotops.plugin.runloop import PhasedItems, PhaseRuns, runs


class _Item:
    def __init__(self, n: int) -> None:
        self.n = n


@given(st.lists(st.sampled_from(["unit", "integration", "e2e", None]), max_size=40))
def test_runs_cut_the_items_where_the_phase_changes(phases: list[str | None]) -> None:
    items = [_Item(i) for i in range(len(phases))]
    phase_by_id = {id(item): phase for item, phase in zip(items, phases, strict=True) if phase is not None}
    found = runs(items, phase_by_id, "unit")  # type: ignore[arg-type]
    assert [item for _, chunk in found for item in chunk] == items
    wanted = [phase or "unit" for phase in phases]
    for (phase, _), (following, _) in pairwise(found):
        assert phase != following
    assert [phase for phase, chunk in found for _ in chunk] == wanted


def test_each_run_is_entered_before_its_first_test_and_blocked_runs_are_marked() -> None:
    items = [_Item(i) for i in range(6)]
    phase_runs: list[tuple[str, list[Any]]] = [("unit", items[:3]), ("e2e", items[3:])]
    entered: list[int] = []
    marked: list[tuple[int, str]] = []

    def enter(item: Any) -> str | None:
        entered.append(item.n)
        return "blocked by failed unit phase" if item.n == 3 else None

    tracker = PhaseRuns(phase_runs, enter, lambda item, why: marked.append((item.n, why)))
    assert tracker.current() is None
    handed = []
    for item in tracker:
        handed.append(item)
        assert tracker.current() is item  # while it runs
        assert entered[-1] == (0 if item.n < 3 else 3)
    assert handed == items
    assert entered == [0, 3]
    assert marked == [(4, "blocked by failed unit phase"), (5, "blocked by failed unit phase")]
    assert tracker.current() is items[-1]


def test_only_the_first_iteration_is_phased() -> None:
    items = [_Item(i) for i in range(3)]
    phased = PhasedItems(items, iter(["first"]))  # type: ignore[list-item]
    assert list(phased) == ["first"]
    assert list(phased) == items
    assert phased == items
    assert phased[1] is items[1]
    assert len(phased) == 3
