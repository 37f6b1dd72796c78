"""Each test report, by role: a serial run (and the xdist controller) folds every report into the recorder; an
xdist worker only annotates its reports (a failure's headline, the deployments its test ran, the phase) for xdist
to carry to the controller. One object per role, registered only where the role is, so a worker's reports pass
through no folding hook and a serial run's through no tagging hook."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import pytest

from .. import fixtures, fleet_fixtures
from .items import attach_rollouts, headline, message
from .xdist import worker_of

if TYPE_CHECKING:
    from ..model import TestResult
    from .session import IotopsPlugin

__all__ = ["ReportFolder", "WorkerReports"]

_NOTHING = object()


class ReportFolder:
    """Serial runs and the xdist controller: every report folded into the test's one outcome. No per-report
    wrapper here (it cost a generator per report): a serial run takes a failure's headline when pytest hands
    over the exception (:meth:`pytest_exception_interact`), and the deployments from the item
    (:meth:`IotopsPlugin.take_waiting_records`); the controller gets both on the workers' reports."""

    def __init__(self, plugin: IotopsPlugin) -> None:
        self.plugin = plugin
        self.recorder = plugin.pipeline.recorder
        self.phases = plugin.pipeline.rules.phases
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
        self._fold(report)

    def _fold(self, report: pytest.TestReport) -> None:
        plugin, recorder = self.plugin, self.recorder
        extra = vars(report)  # what iotops attached, read without getattr's exception for the common absence
        nodeid = report.nodeid  # (a property that builds a string each time)
        if "iotops_deployments" in extra or "iotops_fleet" in extra:
            recorder.add_deployments(nodeid, extra.get("iotops_deployments") or [])
            recorder.add_fleet_rollouts(nodeid, extra.get("iotops_fleet") or [])
        phase = (self.phase if report.location is self.location else plugin.phase_of(nodeid)) or extra.get(
            "iotops_phase"
        )
        if phase not in self.phases:
            phase = plugin.settings.default_phase
        if extra["outcome"] == "passed" and extra.get("when") != "call":  # two of every three reports: keep it short
            recorder.add_passing_phase_report(nodeid, phase, report.duration)
            return
        failed, xfail = report.failed, "wasxfail" in extra
        recorder.add_report(
            nodeid,
            phase,
            report.when or "call",
            report.outcome,
            report.duration,
            xfail=xfail,
            blocked=nodeid in plugin.blocked or bool(extra.get("iotops_blocked", False)),
            message=message(report),
            longrepr=report.longreprtext if failed or (xfail and report.skipped) else "",
            worker=worker_of(report) if plugin.pipeline.context.distributed else "",
        )

    def pytest_exception_interact(
        self, node: pytest.Item | pytest.Collector, call: pytest.CallInfo[None], report: pytest.TestReport
    ) -> None:
        """After a failed report was folded (serial runs): its headline, from the exception itself."""
        if isinstance(report, pytest.TestReport) and report.failed and call.excinfo is not None:
            self.recorder.refine_message(report.nodeid, report.when or "call", headline(call.excinfo))


class WorkerReports:
    """On xdist workers only: each report carries to the controller a failure's headline (taken where the
    exception is), the deployments the test ran (as plain data), its phase, and whether it was blocked."""

    def __init__(self, blocked: set[str], phase_by_id: dict[int, str]) -> None:
        self.blocked = blocked
        self.phase_by_id = phase_by_id

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if call.excinfo is not None and report.outcome == "failed":
            report.iotops_headline = headline(call.excinfo)  # type: ignore[attr-defined]
        stash = item.stash
        if fixtures.DEPLOYMENTS in stash or fleet_fixtures.FLEET_ROLLOUTS in stash:  # only a deploying test's
            attach_rollouts(report, stash)
        self.tag(item, report)
        return report

    def tag(self, item: pytest.Item, report: pytest.TestReport) -> None:
        # less to serialise per report: a passed teardown needs no phase (its test is known by then), and
        # "blocked" travels only when true
        if report.when != "teardown" or report.failed:
            report.iotops_phase = self.phase_by_id.get(id(item))  # type: ignore[attr-defined]
        if self.blocked and item.nodeid in self.blocked:  # (pytest 9 builds ``nodeid`` on each access)
            report.iotops_blocked = True  # type: ignore[attr-defined]
