"""Phases entered between tests, without a hook call per test where pytest's own run loop runs them.

A phase is entered where a run of same-phase tests starts (the tests run in pyramid order): its blocking is
decided there, from the phases before it. An implementation of ``pytest_runtest_protocol`` that looks at every
test for that cost about 7,000 instructions a test (pluggy's call, the check), a third of what ``--iotops
--iotops-no-cov`` added to a fast test. pytest's own run loop iterates ``session.items``; for the loop's duration
that list is a :class:`PhasedItems`, whose first iteration hands the items out run by run and enters each run's
phase before its first test (each further iteration, by anyone, is a plain one). Where another loop runs the
tests (xdist's worker, a plugin's own), or each test must be known as it starts (a terminal reporter other than
pytest's, whose reports are folded one by one), :class:`PerTest` implements the hook instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import compress, islice, repeat
from operator import length_hint, ne
from typing import Any

import pytest

__all__ = ["PerTest", "PhaseRuns", "PhasedItems", "own_loop", "runs"]


class PhasedItems(list[pytest.Item]):
    """``session.items`` while pytest's own loop runs the tests: the same items; the first iteration is ``first``
    (the loop's, which starts right after the last ``pytest_runtestloop`` wrapper), later ones are plain."""

    __slots__ = ("_first",)

    def __init__(self, items: Iterable[pytest.Item], first: Iterator[pytest.Item]) -> None:
        super().__init__(items)
        self._first: Iterator[pytest.Item] | None = first

    def __iter__(self) -> Iterator[pytest.Item]:
        first, self._first = self._first, None
        return first if first is not None else super().__iter__()


class PhaseRuns:
    """The items in runs of one phase: ``enter`` before each run's first test (it returns why the run is blocked,
    if it is), ``mark`` for each further test of a blocked run; :meth:`current` is the test being run."""

    def __init__(
        self,
        phase_runs: list[tuple[str, list[pytest.Item]]],
        enter: Callable[[pytest.Item], str | None],
        mark: Callable[[pytest.Item, str], None],
    ) -> None:
        self._runs, self._enter, self._mark = phase_runs, enter, mark
        self._chunk: list[pytest.Item] = []
        self._it: Iterator[pytest.Item] = iter(self._chunk)

    def __iter__(self) -> Iterator[pytest.Item]:
        for _, chunk in self._runs:
            reason = self._enter(chunk[0])
            if reason:
                for item in chunk[1:]:
                    self._mark(item, reason)
            self._chunk, self._it = chunk, iter(chunk)
            yield from self._it

    def current(self) -> pytest.Item | None:
        """The last test handed out (None before the first of a run is): how far the run's iterator has gone."""
        handed = len(self._chunk) - length_hint(self._it)
        return self._chunk[handed - 1] if handed else None


class PerTest:
    """The per-test hook, registered where :class:`PhasedItems` cannot be used: ``step`` before each test."""

    def __init__(self, step: Callable[[pytest.Item], object]) -> None:
        self.step = step

    def __dir__(self) -> list[str]:
        """The hook only (pluggy and pytest's fixture manager look at every name ``dir()`` gives)."""
        return ["pytest_runtest_protocol"]

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> None:
        self.step(item)


def own_loop(config: pytest.Config) -> bool:
    """Whether pytest's own ``pytest_runtestloop`` is the one that runs the tests (no other implementation but
    wrappers, which run around it)."""
    impls = config.hook.pytest_runtestloop.get_hookimpls()
    return all(impl.plugin_name == "main" for impl in impls if not (impl.wrapper or impl.hookwrapper))


def runs(items: list[pytest.Item], phase_by_id: dict[int, str], default: str) -> list[tuple[str, list[Any]]]:
    """The items as runs of consecutive tests of one phase, in order (no Python step per item)."""
    phases = list(map(phase_by_id.get, map(id, items), repeat(default)))
    if not phases:
        return []
    starts = [0, *compress(range(1, len(phases)), map(ne, islice(phases, 1, None), phases))]
    ends = [*starts[1:], len(phases)]
    return [(phases[start], items[start:end]) for start, end in zip(starts, ends, strict=True)]
