"""Each test report, by role: a serial run (and the xdist controller) folds every report into the recorder; an
xdist worker annotates the reports of a test that ran deployments or was blocked, for xdist to carry to the
controller. One object per role, registered only where (and, on a worker, once) it is needed, so a worker's
reports pass through no folding hook and a serial run's through no tagging hook."""

from __future__ import annotations

from collections.abc import Generator
from itertools import compress, groupby, islice, repeat
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import pytest

from .. import fixtures, fleet_fixtures
from .common import worker_of
from .items import attach_rollouts, headline, message

if TYPE_CHECKING:
    from ..model import TestResult
    from .session import IotopsPlugin

__all__ = ["LiveFolder", "ReportFolder", "ReportsLost", "WorkerReports"]

_NOTHING = object()
_STOP, _LOCATION, _OUTCOME, _DURATION, _ORIGIN, _NODEID = map(
    attrgetter, ("stop", "location", "outcome", "duration", "origin", "nodeid")
)
_IS_REPORT = pytest.TestReport.__instancecheck__
#: the terminal reporter's categories of passed set-ups and teardowns, and of passed calls: pytest puts a report
#: there only when it passed and is not an xfail's (those are "xfailed" and "xpassed"), whatever stage it is of
_PLAIN = frozenset(("", "passed"))


class ReportsLost(Exception):
    """Reports a serial run reads from the terminal reporter were removed by a plugin: no verdict is possible."""


class ReportFolder:
    """Serial runs and the xdist controller: every report folded into its test's one outcome, in batches.

    pytest's own terminal reporter keeps every report it is handed (``stats``, by category); where it is the stock
    one, the reports are read from there when their outcomes are needed (:meth:`catch_up`: on entering a phase,
    whose blocking depends on the earlier ones, and at the end), which costs the run no hook call per report.
    Where it is not (``-p no:terminal``, a replacement such as pytest-sugar's), :class:`LiveFolder` takes each
    report from the hook. A failure's headline comes from the exception (:meth:`exception_seen`), the
    deployments from the item (:meth:`IotopsPlugin.take_waiting_records`); the controller gets the deployments on
    the workers' reports, each test's phase from their collection and the headlines with their output."""

    def __init__(self, plugin: IotopsPlugin, stats: dict[str, list[Any]] | None = None) -> None:
        self.plugin = plugin
        self.recorder = plugin.pipeline.recorder
        self.phases = plugin.pipeline.rules.phases
        self.distributed = plugin.pipeline.context.distributed
        self.stats = stats
        if stats is not None:  # phase windows from when tests ran, not from when their reports were folded
            self.recorder.live_windows = False
        #: how many entries of each ``stats`` category are folded
        self._done: dict[str, int] = {}
        #: id(report) -> (report, headline): failures whose headline came before the report was folded
        self._headlines: dict[int, tuple[pytest.TestReport, str]] = {}

    def catch_up(self, phase: str | None = None) -> None:
        """Fold the reports the terminal reporter has kept since the last call, in the order pytest logged them:
        by the time each ended (each category's list is in that order already). ``phase``: a serial run's, of
        every one of them (it calls this where the phase changes, so the tests since the last call ran in one
        phase), instead of each test's looked up."""
        stats = self.stats
        if stats is None:
            return
        done, plain, other = self._done, list[pytest.TestReport](), list[pytest.TestReport]()
        for category, entries in list(stats.items()):
            seen, count = done.get(category, 0), len(entries)
            if count == seen:
                continue
            if count < seen:  # never by pytest; a plugin that empties the lists would make outcomes vanish
                raise ReportsLost(
                    f"the terminal reporter's '{category}' reports went from {seen} to {count} during the run (a "
                    "plugin removed them): the tests' outcomes cannot be known"
                )
            done[category] = count
            if category in _PLAIN:
                plain.extend(filter(_IS_REPORT, islice(entries, seen, None)))
            else:  # (stats also hold collection and warning reports, and deselected items)
                other.extend(filter(_IS_REPORT, islice(entries, seen, None)))
        if plain and set(map(_OUTCOME, plain)) != {"passed"}:  # a plugin's own categories: then one by one
            other, plain = other + plain, []
        plain.sort(key=_STOP)  # sorted runs merged: about one comparison a report
        other.sort(key=_STOP)
        if self.distributed:  # a relayed passed teardown carries no phase: the others' records come first
            list(map(self.fold, other))
            self._fold_relayed(plain)
            return
        if plain:
            self._fold_plain(plain, phase)
        list(map(self.fold, other, repeat(phase)))

    def check_complete(self, ran: list[pytest.Item]) -> None:
        """A serial run's tests that ran (in order) each have a record: with reports read from the terminal
        reporter, a plugin that removed some before they were folded would otherwise make tests vanish."""
        recorded = list(map(_ORIGIN, self.recorder.tests.values())).count("pytest")
        if recorded >= len(ran):
            return
        missing = [n for n in dict.fromkeys(map(_NODEID, ran)) if n not in self.recorder.tests]
        if missing:
            more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            raise ReportsLost(
                f"{len(missing)} test{'s' * (len(missing) > 1)} ran but left no reports in the terminal reporter's "
                f"statistics (a plugin removed them): {', '.join(missing[:3])}{more}"
            )

    def _fold_plain(self, reports: list[pytest.TestReport], phase: str | None) -> None:
        """A serial run's plain passes, test by test (a report's ``location`` is its item's): each test's record
        made from its first, the others' times added, without a Python call per report."""
        from ..model import TestResult

        tests = self.recorder.tests
        for _, group in groupby(reports, _LOCATION):
            first = next(group)
            nodeid = first.nodeid
            duration = sum(map(_DURATION, group), first.duration)  # noqa: B031 - the rest, after the first
            test = tests.get(nodeid)
            if test is not None:
                test.duration += duration
                continue
            tests[nodeid] = TestResult(nodeid, phase or self._phase(nodeid), "passed", duration)

    def _fold_relayed(self, reports: list[pytest.TestReport]) -> None:
        """The xdist controller's plain passes, relayed by the workers: a test's reports are not next to each other
        (the workers' interleave), so each adds to its test's entry here, and each test's record and each phase's
        window are made once (the fold of one report, as :meth:`fold` does it, cost about 21,000 instructions).
        Reports carrying deployments go through :meth:`fold`, after the records are made."""
        from ..model import TestResult

        tests = self.recorder.tests
        seen: dict[str, list[Any]] = {}  # nodeid -> [phase, duration, worker]
        times: dict[str, tuple[list[float], list[float]]] = {}  # phase -> its reports' starts and stops
        carrying: list[pytest.TestReport] = []  # folded after the records they add to are made
        for report in reports:
            extra = vars(report)
            if "iotops_deployments" in extra or "iotops_fleet" in extra:
                carrying.append(report)
                continue
            nodeid = report.nodeid
            entry = seen.get(nodeid)
            if entry is None:  # (its first report here)
                entry = seen[nodeid] = [self._phase(nodeid), 0.0, ""]
            entry[1] += extra["duration"]
            if extra.get("when") == "call":
                entry[2] = worker_of(report)
            starts, stops = times.get(entry[0]) or times.setdefault(entry[0], ([], []))
            starts.append(extra.get("start", 0.0))
            stops.append(extra.get("stop", 0.0))
        for nodeid, (phase, duration, worker) in seen.items():
            test = tests.get(nodeid)
            if test is None:
                tests[nodeid] = TestResult(nodeid, phase, "passed", duration, worker=worker)
                continue
            test.duration += duration
            if worker:
                test.worker = worker
        for phase, (starts, stops) in times.items():
            placed = list(compress(stops, starts))  # a report without times (0.0) is not placed
            if placed:
                self.recorder.phase_span(phase, min(filter(None, starts)), max(placed))
        list(map(self.fold, carrying))

    def _phase(self, nodeid: str) -> str:
        """The test's phase: from the collection (this process's, or on the xdist controller the workers'), else as
        its test's earlier reports gave it; an unknown name is the default."""
        phase = self.plugin.phase_of(nodeid)
        if phase is None:
            known = self.recorder.tests.get(nodeid)
            phase = known.phase if known is not None else None
        return phase if phase in self.phases else self.plugin.settings.default_phase

    def fold(self, report: pytest.TestReport, phase: str | None = None) -> None:
        """One report into its test's outcome (``phase``: the live folder's, when it is the running test's)."""
        plugin, recorder = self.plugin, self.recorder
        extra = vars(report)  # what iotops attached, read without getattr's exception for the common absence
        nodeid = report.nodeid  # (a property that builds a string each time)
        if "iotops_deployments" in extra or "iotops_fleet" in extra:
            recorder.add_deployments(nodeid, extra.get("iotops_deployments") or [])
            recorder.add_fleet_rollouts(nodeid, extra.get("iotops_fleet") or [])
        phase = phase or self._phase(nodeid)
        if self.distributed and self.stats is not None:  # the phase's window: from its workers' report times
            recorder.phase_span(phase, extra.get("start", 0.0), extra.get("stop", 0.0))
        if extra["outcome"] == "passed" and extra.get("when") != "call":  # two of every three reports: keep it short
            recorder.add_passing_phase_report(nodeid, phase, report.duration)
            return
        failed, xfail = report.failed, "wasxfail" in extra
        headline = self._headlines.pop(id(report), None)
        recorder.add_report(
            nodeid,
            phase,
            report.when or "call",
            report.outcome,
            report.duration,
            xfail=xfail,
            blocked=nodeid in plugin.blocked or bool(extra.get("iotops_blocked", False)),
            message=headline[1] if headline is not None else message(report),
            longrepr=report.longreprtext if failed or (xfail and report.skipped) else "",
            worker=worker_of(report) if self.distributed else "",
        )

    def exception_seen(self, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
        """A serial run's failure: its headline, from the exception itself (pytest hands it over after the
        report's hook, so a live folder refines what it folded, a batch keeps it for its report)."""
        if isinstance(report, pytest.TestReport) and report.failed and call.excinfo is not None:
            if self.stats is None:
                self.recorder.refine_message(report.nodeid, report.when or "call", headline(call.excinfo))
            else:
                self._headlines[id(report)] = (report, headline(call.excinfo))


class LiveFolder(ReportFolder):
    """Each report folded as pytest hands it over: where no stock terminal reporter keeps them."""

    def __init__(self, plugin: IotopsPlugin) -> None:
        super().__init__(plugin)
        #: a serial run's running test, set by the session plugin before each: its reports' ``location`` (the
        #: item's own tuple, so one identity check says a report is of this test), its record once made, its
        #: phase. Most reports are plain passes of it, which only add their time.
        self.location: object = _NOTHING
        self.test: TestResult | None = None
        self.phase = ""

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.location is self.location and report.outcome == "passed" and "wasxfail" not in vars(report):
            test = self.test
            if test is None:
                nodeid = report.nodeid
                test = self.test = self.recorder.tests.get(nodeid) or self.recorder.new_test(nodeid, self.phase)
            test.duration += report.duration
            if report.when == "call":
                self.recorder.phase_seen(self.phase)
            return
        self.fold(report, self.phase if report.location is self.location else None)


class WorkerReports:
    """On xdist workers, registered once a test needs it (see :meth:`.session.IotopsPlugin.carry_on_reports`): the
    deployments and fleet rollouts the test ran (as plain data) and whether it was blocked, on its reports for xdist
    to carry to the controller. The controller knows each test's phase from the workers' collection and gets the
    failures' headlines with each worker's output, so a plain test's reports pass through no hook of ours."""

    def __init__(self, blocked: set[str]) -> None:
        self.blocked = blocked

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        stash = item.stash
        if fixtures.DEPLOYMENTS in stash or fleet_fixtures.FLEET_ROLLOUTS in stash:  # only a deploying test's
            attach_rollouts(report, stash)
        if self.blocked and item.nodeid in self.blocked:  # (pytest 9 builds ``nodeid`` on each access)
            report.iotops_blocked = True  # type: ignore[attr-defined]
        return report
