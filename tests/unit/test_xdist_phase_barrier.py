"""The xdist phase scheduler driven by fake workers, as xdist tests its own schedulers: no processes, no clocks,
thousands of interleavings in a second. A fake worker behaves like a real one: it runs a test only once it holds
the next one (``nextitem`` decides fixture teardown), and runs everything it holds once told to shut down.

Checked on every interleaving: no test of a later phase starts before every test of the earlier phase has
finished and the failed phases were published (``on_phase_done``), every test runs exactly once, and every
worker is shut down at the end."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_iotops.phases import PHASES_FILE
from pytest_iotops.xdist_scheduler import PhaseScheduling


class FakeConfig:
    def __init__(self, workers: int) -> None:
        self.hook = SimpleNamespace()
        self._workers = workers

    def getvalue(self, name: str) -> Any:
        assert name == "tx"
        return [f"{self._workers}*popen"]

    def getoption(self, name: str) -> Any:
        assert name == "maxschedchunk"
        return None


class FakeWorker:
    def __init__(self, number: int) -> None:
        self.gateway = SimpleNamespace(id=f"gw{number}")
        self.queue: list[int] = []
        self.shutting_down = False

    def send_runtest_some(self, indices: list[int]) -> None:
        assert not self.shutting_down, "tests sent to a worker that was told to shut down"
        self.queue.extend(indices)

    def send_runtest_all(self) -> None:  # pragma: no cover - LoadScheduling never uses it
        raise AssertionError("send_runtest_all")

    def shutdown(self) -> None:
        self.shutting_down = True

    def can_run(self) -> bool:
        """A real worker runs its first test once it has a second, or once it is shutting down."""
        return len(self.queue) >= 2 or (self.shutting_down and bool(self.queue))


def known(phases: list[int]) -> Callable[[], list[int]]:
    """What the controller hands the scheduler: each collected test's phase, as the workers wrote them."""
    return lambda: list(phases)


def start(sched: Any, workers: int, tests: int) -> list[FakeWorker]:
    """``workers`` fake workers that collected ``tests`` tests, scheduled as xdist's controller does."""
    fakes = [FakeWorker(n) for n in range(workers)]
    for fake in fakes:
        sched.add_node(fake)
    for fake in fakes:
        sched.add_node_collection(fake, [f"test_{i}" for i in range(tests)])
    sched.schedule()
    return fakes


def simulate(phases: list[int], workers: int, seed: int, longest_first: bool = False) -> list[str]:
    """Run the whole schedule with a random worker finishing a test at each step; returns what went wrong."""
    published: list[int] = []
    quiet = SimpleNamespace(loadsched=lambda *args: None)  # xdist's own log would print every decision
    sched = PhaseScheduling(FakeConfig(workers), quiet, known(phases), lambda p, _: published.append(p), longest_first)
    fakes = start(sched, workers, len(phases))
    rng = random.Random(seed)
    finished: list[int] = []
    problems: list[str] = []
    for _ in range(len(phases) * 4 + 10):
        ready = [f for f in fakes if f.can_run()]
        if not ready:
            break
        fake = rng.choice(ready)
        index = fake.queue.pop(0)
        phase = phases[index]
        unfinished = [i for i in range(len(phases)) if phases[i] < phase and i not in finished]
        if unfinished:
            problems.append(f"test {index} (phase {phase}) started before {unfinished} of an earlier phase finished")
        if any(p < phase for p in set(phases)) and min(p for p in set(phases) if p < phase) not in published:
            problems.append(f"test {index} (phase {phase}) started before the earlier phase was published")
        finished.append(index)
        sched.mark_test_complete(fake, index)
    if sorted(finished) != list(range(len(phases))):
        problems.append(f"ran {sorted(finished)}, expected every test once")
    if not all(f.shutting_down for f in fakes):
        problems.append("a worker was never shut down")
    if not sched.tests_finished:
        problems.append("the scheduler never said it had finished")
    return problems


@pytest.mark.parametrize("longest_first", [False, True])
@pytest.mark.parametrize("workers", [1, 2, 3, 4])
def test_phases_in_order_across_fake_workers(workers: int, longest_first: bool) -> None:
    phases = [0] * 12 + [1] * 5 + [2] * 3  # a pyramid: 60 % unit, 25 % integration, 15 % e2e
    for seed in range(200):
        assert simulate(phases, workers, seed, longest_first) == [], f"seed {seed}"


@settings(max_examples=150, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 9), min_size=1, max_size=4),
    workers=st.integers(1, 4),
    seed=st.integers(0, 10_000),
)
def test_any_pyramid_any_interleaving(sizes: list[int], workers: int, seed: int) -> None:
    phases = [p for p, size in enumerate(sizes) for _ in range(size)]
    assert simulate(phases, workers, seed) == []


def makespan(sched: Any, durations: list[float], workers: int) -> float:
    """When the last test ends if each test takes its duration and every worker runs what it holds as soon as it
    can: the scheduler's balance, on a virtual clock."""
    fakes = start(sched, workers, len(durations))
    now, running = 0.0, {}
    while True:
        for n, fake in enumerate(fakes):
            if n not in running and fake.can_run():
                index = fake.queue.pop(0)
                running[n] = (now + durations[index], index)
        if not running:
            return now
        n, (now, index) = min(running.items(), key=lambda item: item[1][0])
        del running[n]
        sched.mark_test_complete(fakes[n], index, durations[index])


@pytest.mark.parametrize("workers", [2, 3, 4])
@pytest.mark.parametrize("long_at", [0, 10, 50, 99])
def test_each_phase_balances_as_plain_xdist_balances_it(workers: int, long_at: int) -> None:
    """A short phase, then one long test among short ones (an e2e level: a conformance run among deployments),
    then a large later phase: the run ends within a few short tests of plain xdist's load scheduling run on each
    phase on its own. (Sizing the queues by everything pending, later phases included, gave the worker with the
    long test a third of the phase to hold back: 31 s where plain xdist needs 23 s.)"""
    from xdist.scheduler import LoadScheduling

    middle = [0.2] * 99
    middle.insert(long_at, 20.0)
    parts = [[0.01] * 10, middle, [0.01] * 200]
    durations = [d for part in parts for d in part]
    collected = known([k for k, part in enumerate(parts) for _ in part])
    quiet = SimpleNamespace(loadsched=lambda *args: None)
    ours = makespan(PhaseScheduling(FakeConfig(workers), quiet, collected, lambda *_: None), durations, workers)
    plain = sum(makespan(LoadScheduling(FakeConfig(workers), quiet), part, workers) for part in parts)
    assert ours <= plain + 12 * 0.2, (ours, plain)


@pytest.mark.parametrize("first_phase", [2, 3, 5])
def test_a_small_first_phase_goes_to_every_worker(first_phase: int) -> None:
    """A phase of two tests on two workers: one each, not both to the first worker (xdist's first chunk, two
    tests, is more than a worker's share of so small a phase)."""
    phases = [0] * first_phase + [1, 2]
    quiet = SimpleNamespace(loadsched=lambda *args: None)
    sched = PhaseScheduling(FakeConfig(2), quiet, known(phases), lambda *_: None)
    fakes = start(sched, 2, len(phases))
    assert all(any(phases[i] == 0 for i in fake.queue) for fake in fakes), [f.queue for f in fakes]


@pytest.mark.parametrize("workers", [2, 3, 4])
def test_longest_first_deals_the_long_tests_one_to_each_worker(workers: int) -> None:
    """Tests ordered longest first (``longest_first``) are handed out two at a time, so the long ones at the
    front go one to each worker and the phase ends near its ideal; in xdist's usual chunks the first worker drew
    every long test and the phase lasted as long as all of them together."""
    durations = [30.0, 25.0, 20.0] + [0.5] * 120
    collected = known([0] * len(durations))
    quiet = SimpleNamespace(loadsched=lambda *args: None)
    chunked = makespan(PhaseScheduling(FakeConfig(workers), quiet, collected, lambda *_: None), durations, workers)
    dealt = makespan(PhaseScheduling(FakeConfig(workers), quiet, collected, lambda *_: None, True), durations, workers)
    ideal = max(*durations, sum(durations) / workers)
    assert dealt <= ideal + 2 * 0.5, (dealt, ideal)
    assert chunked >= sum(durations[:3]), chunked  # the three long tests on one worker


def front_run(sched: Any, phases: list[int]) -> int:
    """The oracle: the current phase's unsent tests, walked from the front of xdist's pending list."""
    count = 0
    for index in sched.pending:
        if phases[index] != sched._current:
            break
        count += 1
    return count


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 40), min_size=1, max_size=4),
    workers=st.integers(2, 4),
    seed=st.integers(0, 10_000),
    longest_first=st.booleans(),
    requeue=st.booleans(),
)
def test_the_kept_unsent_count_is_the_walked_one_after_every_event(
    sizes: list[int], workers: int, seed: int, longest_first: bool, requeue: bool
) -> None:
    """The scheduler keeps the current phase's unsent count instead of walking ``pending`` on every call: after
    any mix of finished tests, crashed and replaced workers (xdist puts a crashed worker's other tests back at the
    end of ``pending``, behind later phases' tests) and re-queued tests (at the front), the kept count is the
    walked one. Without re-queues the phases still run in order, every test but the crashed ones once, and a
    phase in which a worker died is published with it (a crash at a phase's end once made the phase look
    finished with two of its tests unsent: endless recursion)."""
    phases = [p for p, size in enumerate(sizes) for _ in range(size)]
    quiet = SimpleNamespace(loadsched=lambda *args: None)
    published: list[tuple[int, frozenset[int]]] = []
    sched = PhaseScheduling(
        FakeConfig(workers), quiet, known(phases), lambda p, c: published.append((p, c)), longest_first
    )
    fakes = start(sched, workers, len(phases))
    rng = random.Random(seed)
    finished: list[int] = []
    crashed: set[int] = set()
    for _ in range(len(phases) * 4 + 10):
        assert sched._current_unsent() == front_run(sched, phases)
        event = rng.random()
        if event < 0.04 and len(fakes) > 1:
            fake = fakes.pop(rng.randrange(len(fakes)))
            if fake.queue:
                crashed.add(fake.queue[0])  # xdist reports the first test a crashed worker held as the crash
            sched.remove_node(fake)
            spare = FakeWorker(workers + len(crashed) + rng.randrange(1000))  # xdist starts a replacement
            sched.add_node(spare)
            sched.add_node_collection(spare, [f"test_{i}" for i in range(len(phases))])
            sched.schedule()  # what xdist calls once a late worker's collection is in
            fakes.append(spare)
            continue
        if requeue and event < 0.08 and finished:
            sched.mark_test_pending(f"test_{finished.pop()}")
            continue
        ready = [f for f in fakes if f.can_run()]
        if not ready:
            break
        fake = rng.choice(ready)
        index = fake.queue.pop(0)
        if not requeue:
            earlier = [i for i, p in enumerate(phases) if p < phases[index] and i not in finished and i not in crashed]
            assert not earlier, f"test {index} started before {earlier} of an earlier phase"
        finished.append(index)
        sched.mark_test_complete(fake, index)
    assert sched._current_unsent() == front_run(sched, phases)
    if not requeue:
        assert sorted(finished + sorted(crashed)) == list(range(len(phases)))
        for phase, crashed_phases in published:
            assert {phases[i] for i in crashed if phases[i] <= phase} <= crashed_phases


IDS = ["t.py::a", "t.py::b", "t.py::c"]


def _file(ids: object = IDS, phases: object = (2, 0, 1)) -> str:
    return json.dumps({"ids": ids, "phases": list(phases) if isinstance(phases, tuple) else phases})


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (None, "cannot read"),
        ('{"ids": [', "cannot read"),
        ("[0, 1, 2]", "does not list the tests' ids and phases alike"),
        (_file(phases=[0, 1]), "does not list the tests' ids and phases alike"),
        (_file(ids=IDS[:2], phases=[0, 1]), "lists other tests than xdist collected (2 against 3)"),
        (_file(ids=["t.py::a", "t.py::b", "t.py::d"]), "lists other tests than xdist collected"),
        (_file(ids=[IDS[1], IDS[0], IDS[2]]), "lists the same tests in another order than xdist collected"),
        (_file(phases=[0, 1, 3]), "holds 3, not the index of a configured phase"),
        (_file(phases=[0, -1, 1]), "holds -1"),
        (_file(phases=[0, True, 1]), "holds True"),
        (_file(phases=[0, "1", 1]), "holds '1'"),
    ],
)
def test_the_workers_phases_file_is_checked_never_guessed(tmp_path: Path, content: str | None, error: str) -> None:
    """The controller and its scheduler place every test by this file: a missing or foreign one, or one whose
    tests are not xdist's (other tests, or a plugin that reordered them after pytest-iotops), is an error naming
    the file, not tests put in a wrong phase."""
    from pytest_iotops.phases import read_collected_phases

    path = tmp_path / PHASES_FILE
    if content is not None:
        path.write_text(content)
    with pytest.raises(RuntimeError, match=re.escape(error)) as caught:
        read_collected_phases(path, IDS, 3)
    assert str(path) in str(caught.value)
    path.write_text(_file())
    assert read_collected_phases(path, IDS, 3) == [2, 0, 1]
