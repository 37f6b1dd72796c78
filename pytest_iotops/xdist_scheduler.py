"""Strict pyramid order on pytest-xdist: xdist's own load scheduling, one phase at a time.

xdist sends each worker test indices; a worker runs a test only once it knows the next one (``nextitem``
decides fixture teardown), so it always holds one test back. At the end of a phase the scheduler therefore
sends each worker exactly one test of the next phase: that lets the worker finish its last test of this
phase, but not start the next one. Only when every test of the phase has finished does the scheduler write
the failed phases to a file the workers read (so they skip blocked tests) and release the next phase.

Imported only under xdist: ``pytest_xdist_make_scheduler`` is the one extension point used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from xdist.scheduler import LoadScheduling

__all__ = ["PhaseScheduling"]


class PhaseScheduling(LoadScheduling):  # type: ignore[misc]
    def __init__(
        self,
        config: Any,
        log: Any,
        collected_phases: Callable[[], list[int]],
        on_phase_done: Callable[[int, frozenset[int]], None],
        longest_first: bool = False,
    ) -> None:
        super().__init__(config, log)
        #: the tests come longest first (``longest_first``): they are dealt one at a time, each worker in turn,
        #: and each worker holds two (it runs one once it knows the next), so the long ones at the front go one
        #: to each worker instead of all into the first worker's chunk
        self._dealt = longest_first
        #: each collected test's phase index, in xdist's collection order (the controller reads the workers' list
        #: once and checks it against xdist's node ids)
        self._collected_phases = collected_phases
        self._on_phase_done = on_phase_done
        self._phase: list[int] | None = None
        self._current = 0
        self._lookahead_sent = False
        self._in_barrier = False
        self._phase_size = 0
        #: the current phase's unsent count and the (pending length, phase) it holds for; sends from the front
        #: keep it, any other change to ``pending`` (a crashed worker's tests, a re-queued test) recounts it
        self._unsent = 0
        self._unsent_key: tuple[int, int] | None = None
        #: phases in which a worker died: the test it was running failed, though its report is made only after
        #: xdist has re-queued the dead worker's other tests (which may end the phase)
        self._crashed: set[int] = set()

    # -- the phase of each collection index, as the workers classified and ordered the tests ------------------
    def _phases(self) -> list[int]:
        if self._phase is None:
            self._phase = self._collected_phases()
            if len(self._phase) != len(self.collection):
                raise RuntimeError(
                    f"pytest-iotops: {len(self._phase)} test phases known, xdist collected {len(self.collection)}"
                )
            self._current = self._phase[self.pending[0]] if self.pending else 0
            self._phase_size = self._phase.count(self._current)
        return self._phase

    def _current_unsent(self) -> int:
        """How many of the pending (unsent) tests at the front belong to the current phase. Asked about three
        times per finished test: counted by a walk only when ``pending`` changed other than by this scheduler's
        own sends (a walk on each call made a phase of n tests cost about n² steps in all)."""
        phase = self._phases()
        key = (len(self.pending), self._current)
        if key == self._unsent_key:
            return self._unsent
        # a crashed worker's tests go back to the end, behind later phases' tests: back into collection order,
        # which is phase order (else the phase would look finished with tests of it still unsent); one C pass
        # when nothing moved
        self.pending.sort()
        count = 0
        for index in self.pending:
            if phase[index] != self._current:
                break
            count += 1
        self._unsent, self._unsent_key = count, key
        return count

    def _ready(self, node: Any) -> bool:
        """A worker holding a test of a later phase must get nothing now: it would run that test first."""
        phase = self._phases()
        return all(phase[i] <= self._current for i in self.node2pending[node])

    # -- LoadScheduling overrides ----------------------------------------------------------------------------
    def _send_tests(self, node: Any, num: int) -> None:
        unsent = self._current_unsent()
        # xdist sizes chunks by the whole collection; here by the phase (a quarter of each worker's share of
        # it, as xdist's first chunk): a worker that drew a long test holds back only a few short ones
        workers = max(1, len(self.nodes))
        # ... and never more than a worker's share of the phase (a phase of two tests goes to two workers)
        first = min(-(-self._phase_size // workers), max(2, self._phase_size // workers // 4))
        if self._dealt:
            first = 1
        allowed = min(num, unsent, first)
        if allowed > 0:
            super()._send_tests(node, allowed)  # the first ``allowed`` of the front run: the count follows
            self._unsent, self._unsent_key = unsent - allowed, (len(self.pending), self._current)

    def _refill(self, node: Any, duration: float) -> None:
        """xdist's own refill rule, counted on the current phase's unsent tests instead of everything pending: a
        worker's queue shrinks as the phase drains, so the phase ends with every worker busy to the end."""
        unsent = self._current_unsent()
        workers = max(1, len(self.node2pending))
        low, high = max(2, unsent // workers // 4), max(2, unsent // workers // 2)
        if self._dealt:
            low, high = 2, 2
        queued = len(self.node2pending[node])
        if queued >= low or (duration >= 0.1 and queued >= 2):
            return
        chunk = max(2 - queued, self.maxschedchunk or unsent)
        self._send_tests(node, min(high - queued, chunk))  # at most a first chunk, as when xdist starts

    def schedule(self) -> None:
        super().schedule()
        if self.collection:
            self._deal_second()
            self._barrier()

    def _deal_second(self) -> None:
        """Dealt one at a time, each worker got one test in the round just made: a second round gives each its
        second (the first one runs only then)."""
        if self._dealt:
            for node in list(self.nodes):
                if self._ready(node) and not node.shutting_down and self._current_unsent() > 0:
                    self._refill(node, 0.0)

    @property
    def tests_finished(self) -> bool:
        """xdist shuts every worker down once this is true: not while one still holds a later phase's test."""
        if not super().tests_finished:
            return False
        return not self.collection or all(self._ready(node) for node in self.nodes)

    def check_schedule(self, node: Any, duration: float = 0) -> None:
        if node.shutting_down:
            if self.collection and not self._in_barrier:
                self._barrier()  # its last test may have been the phase's last: release the next phase
            return
        if not self.collection:
            super().check_schedule(node, duration)
            return
        # a worker holding a later phase's test gets nothing, not even shutdown (it would run that test now);
        # otherwise more tests of this phase, or shutdown when nothing is left to send
        if self._ready(node):
            if self._current_unsent() > 0:
                self._refill(node, duration)
            elif not self.pending:
                super().check_schedule(node, duration)
        if not self._in_barrier:
            self._barrier()

    def remove_node(self, node: Any) -> Any:
        held = self.node2pending.get(node)
        if held and self.collection:
            self._crashed.add(self._phases()[held[0]])  # xdist reports the first test a dead worker held
        crashed = super().remove_node(node)
        if self.collection and self.pending:
            self._barrier()
        return crashed

    # -- the barrier between two phases ----------------------------------------------------------------------
    def _barrier(self) -> None:
        if self._current_unsent() > 0:
            return
        self._in_barrier = True
        try:
            self._cross()
        finally:
            self._in_barrier = False

    def _cross(self) -> None:
        phase = self._phases()
        running = {node: [i for i in items if phase[i] == self._current] for node, items in self.node2pending.items()}
        if not any(running.values()):
            left = [*self.pending, *(i for items in self.node2pending.values() for i in items)]
            if not left:
                return
            # every test of the phase has finished: publish its result, then release the next phase
            self._on_phase_done(self._current, frozenset(self._crashed))
            self._current = min(phase[i] for i in left)
            self._phase_size = phase.count(self._current)
            self._lookahead_sent = False
            for node in list(self.nodes):
                self.check_schedule(node)
            self._deal_second()
            self._barrier_after_release()
            return
        if self._lookahead_sent or any(len(items) > 1 for items in running.values()):
            return
        # each worker now holds back only its last test of this phase: one test of a later phase lets it run
        # that test, while the later test itself waits for the release above
        self._lookahead_sent = True
        for node, items in running.items():
            if len(items) == 1 and len(self.node2pending[node]) == 1 and not node.shutting_down:
                if self.pending:
                    super()._send_tests(node, 1)
                else:
                    node.shutdown()

    def _barrier_after_release(self) -> None:
        """The released phase may have nothing left to send (all its tests went out as look-ahead)."""
        if self._current_unsent() == 0:
            self._cross()
