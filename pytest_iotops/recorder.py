"""Collects what a run learns — test outcomes per phase, stage timings — without knowing pytest.

The plugin feeds it plain values taken from pytest reports; on xdist only the controller has one.
"""

from __future__ import annotations

import time
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import field
from datetime import datetime, timezone
from itertools import accumulate, chain, repeat
from operator import attrgetter, mul, truediv
from typing import TYPE_CHECKING, Any

from .values import Value, record

if TYPE_CHECKING:  # the model is imported where records are made: an xdist worker (it keeps none) never loads it
    from .model import Deployment, FleetRollout, PhaseResult, Stage, TestResult

__all__ = ["Recorder", "utc_now"]

_RANK = {"error": 6, "failed": 5, "xfailed": 4, "blocked": 3, "skipped": 2, "xpassed": 1, "passed": 0}
MAX_LONGREPR = 20_000
_PHASE, _DURATION, _NODEID = attrgetter("phase"), attrgetter("duration"), attrgetter("nodeid")
_OUTCOME = attrgetter("outcome")


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="milliseconds")


def _clip(text: str, limit: int = MAX_LONGREPR) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... [{len(text) - limit} characters cut] ...\n{text[-half:]}"


@record
class _Window(Value):
    """When a stage started (wall clock) and its monotonic start and end."""

    started_at: str
    start: float
    end: float


@record
class Recorder(Value):
    """What a run records as it goes (tests, stages, deployments, failed phases): the run report's raw data."""

    phases: Sequence[str]
    tests: dict[str, TestResult] = field(default_factory=dict)
    stages: list[Stage] = field(default_factory=list)
    _windows: dict[str, _Window] = field(default_factory=dict)
    _open: dict[str, tuple[str, float]] = field(default_factory=dict)
    _failed: set[str] = field(default_factory=set)
    #: tests other runners ran (JUnit evidence, merged shards' external tests)
    _external: list[TestResult] = field(default_factory=list)
    #: per test, which of its reports (setup, call, teardown) gave its outcome and message
    _decided_by: dict[str, str] = field(default_factory=dict)
    deployments: list[Deployment] = field(default_factory=list)
    fleet_rollouts: list[FleetRollout] = field(default_factory=list)
    #: phase windows moved by each folded report (a live folder); False: by the caller (:meth:`phase_seen` on
    #: entering and leaving a phase, or :meth:`phase_span` with a report's own times)
    live_windows: bool = True

    # -- stages -----------------------------------------------------------------------------------------------
    def stage_start(self, name: str) -> None:
        self._open.setdefault(name, (utc_now(), time.perf_counter()))

    def stage_end(self, name: str, kind: str) -> None:
        if name in self._open:
            started_at, start = self._open.pop(name)
            from .model import Stage

            self.stages.append(Stage(name, kind, started_at, round(time.perf_counter() - start, 6)))

    def phase_seen(self, phase: str) -> None:
        """Wall-clock window of a phase: from its first test report to its last."""
        now = time.perf_counter()
        window = self._windows.get(phase)
        if window is None:
            self._windows[phase] = _Window(utc_now(), now, now)
        else:
            window.end = now

    def phase_span(self, phase: str, start: float, stop: float) -> None:
        """Wall-clock window of a phase from its reports' own start and stop times (epoch seconds); a report
        without them (0.0) is not placed."""
        if not start:
            return
        window = self._windows.get(phase)
        if window is None:
            self._windows[phase] = _Window(_iso(start), start, max(start, stop))
            return
        if start < window.start:
            window.start, window.started_at = start, _iso(start)
        window.end = max(window.end, stop)

    # -- tests ------------------------------------------------------------------------------------------------
    def add_report(
        self,
        nodeid: str,
        phase: str,
        when: str,
        outcome: str,
        duration: float,
        *,
        xfail: bool = False,
        blocked: bool = False,
        message: str = "",
        longrepr: str = "",
        worker: str = "",
    ) -> None:
        """One pytest report (setup, call or teardown) folded into the test's single outcome."""
        test = self.tests.get(nodeid)
        if test is None:
            from .model import TestResult

            test = self.tests[nodeid] = TestResult(nodeid, phase, "passed", 0.0)
        if worker:
            test.worker = worker
        test.duration += duration
        if outcome != "passed" or xfail:  # the common case, a plain pass, changes nothing else
            kind = _outcome(when, outcome, xfail, blocked)
            if kind in ("failed", "error"):
                self._failed.add(phase)
            if _RANK[kind] > _RANK[test.outcome]:
                test.outcome = kind  # type: ignore[assignment]
                test.message = message
                test.longrepr = _clip(longrepr)
                self._decided_by[nodeid] = when
        if self.live_windows:
            self.phase_seen(phase)

    def refine_message(self, nodeid: str, when: str, message: str) -> None:
        """A failure's better message, known only after its report was folded (a serial run takes the headline
        from the exception, which pytest hands over after the report): kept if that report gave the outcome."""
        test = self.tests.get(nodeid)
        if test is not None and self._decided_by.get(nodeid) == when:
            test.message = message

    def add_passing_phase_report(self, nodeid: str, phase: str, duration: float) -> None:
        """A passed set-up or teardown: only its time counts (the outcome is decided by the other reports)."""
        test = self.tests.get(nodeid)
        if test is None:
            test = self.new_test(nodeid, phase)
        test.duration += duration

    def new_test(self, nodeid: str, phase: str) -> TestResult:
        """A test's record, made by its first report: passed until a report says otherwise."""
        from .model import TestResult

        test = self.tests[nodeid] = TestResult(nodeid, phase, "passed", 0.0)
        # the phase's first test opens its window; its reports move the end
        if self.live_windows and phase not in self._windows:
            self.phase_seen(phase)
        return test

    def take_records(self, nodeid: str, deployments: list[Deployment], rollouts: list[FleetRollout]) -> None:
        """The records a test's fixtures left where the test ran (a serial run): moved here, the lists emptied."""
        for deployment in deployments:
            deployment.test = nodeid
        for rollout in rollouts:
            rollout.test = nodeid
        self.deployments.extend(deployments)
        self.fleet_rollouts.extend(rollouts)
        deployments.clear()
        rollouts.clear()

    def add_deployments(self, nodeid: str, records: list[dict[str, Any]]) -> None:
        """Deployments a test ran (the fixtures attach them to its reports, so they cross from xdist workers)."""
        from .model import Deployment, from_dict

        for i, data in enumerate(records):
            deployment = from_dict(Deployment, data, f"{nodeid}: deployment {i}")
            deployment.test = nodeid
            self.deployments.append(deployment)

    def add_fleet_rollouts(self, nodeid: str, records: list[dict[str, Any]]) -> None:
        """Fleet rollouts a test ran (attached to its reports like deployments, so they cross from xdist)."""
        from .model import FleetRollout, from_dict

        for i, data in enumerate(records):
            rollout = from_dict(FleetRollout, data, f"{nodeid}: fleet rollout {i}")
            rollout.test = nodeid
            self.fleet_rollouts.append(rollout)

    def add_external(self, tests: list[TestResult]) -> None:
        """Tests run by another runner (JUnit evidence): they join their phase's counts and status."""
        for test in tests:
            if test.phase not in self.phases:
                test.phase = self.phases[-1]
            self.tests[f"{test.origin}::{test.nodeid}"] = test
            self._external.append(test)
            if test.outcome in ("failed", "error"):
                self._failed.add(test.phase)

    def adopt(self, test: TestResult) -> None:
        """A test recorded by another run (``iotops merge``), kept as it was."""
        self.tests[test.nodeid] = test
        if test.origin != "pytest":
            self._external.append(test)
        if test.outcome in ("failed", "error"):
            self._failed.add(test.phase)

    def external_failed(self) -> bool:
        """A test another runner ran (JUnit evidence, or a merged shard's) failed: a failed run even when pytest's
        own tests passed. Only those tests are looked at."""
        return any(t.origin != "pytest" and t.outcome in ("failed", "error") for t in self._external)

    def failed_phases(self) -> set[str]:
        """Kept as reports arrive: asked before every test, so it must not scan all tests."""
        return self._failed

    # -- results ----------------------------------------------------------------------------------------------
    def _ordered(self) -> tuple[list[TestResult], list[tuple[int, int]]]:
        """Every test in pyramid order, then by node id, and each phase's slice of that list: two sorts with keys
        read in C, no Python step per test (a run holds tens of thousands)."""
        tests = sorted(self.tests.values(), key=_NODEID)
        tests.sort(key=_PHASE)  # stable: by node id within each phase (its name's place in the alphabet for now)
        names = list(map(_PHASE, tests))
        spans = [(bisect_left(names, p), bisect_right(names, p)) for p in self.phases]
        ordered = list(chain.from_iterable(tests[a:b] for a, b in spans))
        if len(ordered) < len(tests):  # a phase this run does not have (never from the recorder's own methods)
            known = set(self.phases)
            ordered += [t for t in tests if t.phase not in known]
        starts = list(accumulate((b - a for a, b in spans), initial=0))
        return ordered, [(starts[i], starts[i + 1]) for i in range(len(spans))]

    def _phases(
        self, tests: list[TestResult], spans: list[tuple[int, int]], collected: dict[str, int] | None
    ) -> list[PhaseResult]:
        from .model import PhaseResult

        results = [PhaseResult(name=p, order=i) for i, p in enumerate(self.phases)]
        for r, (a, b) in zip(results, spans, strict=True):
            block = tests[a:b]
            for outcome, count in Counter(map(_OUTCOME, block)).items():
                field_name = {"error": "errors"}.get(outcome, outcome)
                setattr(r, field_name, getattr(r, field_name) + count)
            r.tests = b - a
            r.duration = round(sum(map(_DURATION, block)), 6)
        by_name = {r.name: r for r in results}
        for name, count in (collected or {}).items():
            if name in by_name:  # tests collected but never reported (e.g. -x stopped the run)
                by_name[name].tests = max(by_name[name].tests, count)
        for r in results:
            if r.failed or r.errors:
                r.status = "failed"
            elif r.tests and r.blocked == r.tests:
                r.status = "blocked"
            elif r.tests:
                r.status = "passed"
        return results

    def phase_results(self, collected: dict[str, int] | None = None) -> list[PhaseResult]:
        """Each phase's tests by outcome, its time and status."""
        return self._phases(*self._ordered(), collected)

    def results(self, collected: dict[str, int] | None = None) -> tuple[list[PhaseResult], list[TestResult]]:
        """:meth:`phase_results`, and every test in pyramid order then by node id (durations rounded to
        microseconds), from one sort (the phases' times from the tests' own,
        before the tests' are rounded)."""
        tests, spans = self._ordered()
        phases = self._phases(tests, spans, collected)
        # to the microsecond, in C: round(x, 6) converts each float to decimal digits and back (3,500 instructions)
        micro = map(round, map(mul, map(_DURATION, tests), repeat(1e6)))
        list(map(setattr, tests, repeat("duration"), map(truediv, micro, repeat(1e6))))
        return phases, tests

    def phase_stages(self) -> list[Stage]:
        from .model import Stage

        return [
            Stage(f"phase:{p}", "phase", w.started_at, round(w.end - w.start, 6))
            for p, w in sorted(self._windows.items(), key=lambda kv: kv[1].start)
        ]


def _outcome(when: str, outcome: str, xfail: bool, blocked: bool) -> str:
    if outcome == "failed":
        # pytest's own rule: only set-up and teardown failures are errors (xdist reports a test that killed its
        # worker with ``when="???"``: a failure, as pytest counts it)
        return "error" if when in ("setup", "teardown") else "failed"
    if outcome == "skipped":
        if xfail:
            return "xfailed"
        return "blocked" if blocked else "skipped"
    return "xpassed" if xfail and when == "call" else "passed"
