"""The session plugin: registered only when pytest-iotops is on; translates pytest's objects into calls of the
engine (:class:`pytest_iotops.pipeline.Pipeline`). The xdist roles are in :mod:`.xdist`."""

from __future__ import annotations

from collections.abc import Generator
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .. import fixtures, fleet_fixtures
from .common import BLOCKED_FILE, HEADLINES, WORKER_REPORTS
from .items import classify_items, headline
from .ordering import durations_source, longest_first, shard_slice
from .reports import LiveFolder, ReportFolder, ReportsLost, WorkerReports
from .runloop import PerTest, PhasedItems, PhaseRuns, own_loop, runs
from .terminal import TerminalLines

if TYPE_CHECKING:
    from ..config import Settings
    from ..model import Deployment, FleetRollout
    from ..pipeline import Pipeline
    from .xdist import Controller

__all__ = ["IotopsPlugin"]

_NODEID = attrgetter("nodeid")


class IotopsPlugin(TerminalLines):
    """Registered only when enabled; translates pytest objects into engine calls."""

    def __dir__(self) -> list[str]:
        """Its hooks only: registering an object, pluggy looks at every name ``dir()`` gives for a hook and
        pytest's fixture manager for a fixture, several lookups each (about 4.9 M instructions for this class's
        130 names, most of them its state and helpers)."""
        return list(_HOOKS)

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        from ..pipeline import Pipeline, RunContext

        self.config = config
        self.settings = settings
        workerinput = getattr(config, "workerinput", None)
        context = RunContext(
            rootdir=config.rootpath,
            args=[str(a) for a in config.invocation_params.args],
            pytest_version=pytest.__version__,
        )
        self.pipeline: Pipeline = Pipeline(settings, context)
        self.workerinput = workerinput
        #: the collected items, for :meth:`phase_of` (node ids are worked out only if a report needs them)
        self.items: list[pytest.Item] = []
        self._phase_of: dict[str, str] | None = None
        #: id(item) -> phase, in the process that collected (an id is cheaper to hash than an item or its node id)
        self.phase_by_id: dict[int, str] = {}
        #: serial runs: the items whose tests left deployments or rollouts, filled by the fixtures
        self.with_records: dict[int, pytest.Item] = {}
        self.blocked: set[str] = set()
        #: the test being run, for pytest_keyboard_interrupt
        self.running: pytest.Item | None = None
        #: the tests as pytest's own loop is handed them, run by run (see :mod:`.runloop`)
        self._runs: PhaseRuns | None = None
        #: why the current phase's tests are blocked (decided on entering the phase), or None
        self.block: str | None = None
        self.shared: Path | None = None  # xdist: the directory controller and workers share
        self.internal_error = ""
        #: a serial run's (and the controller's) report folder, chosen at the session's start; ``live``: the
        #: same when it takes each report from the hook
        self.folder: ReportFolder | None = None
        self.live: LiveFolder | None = None
        self.lost: ReportsLost | None = None
        self.controller: Controller | None = None

    # -- set-up -----------------------------------------------------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        from ..errors import ConfigError
        from ..registry import session_manager

        self.workerinput = getattr(config, "workerinput", None)
        try:
            if self.workerinput is None:  # (a worker writes no report: its deployment tests build the manager)
                self.pipeline.use_plugins(session_manager(config))
        except ConfigError as exc:
            raise pytest.UsageError(str(exc)) from None
        ctx = self.pipeline.context
        if self.workerinput is not None:
            ctx.worker_id = str(self.workerinput.get("workerid"))
            shared = self.workerinput.get("iotops_shared")
            self.shared = Path(shared) if shared else None
            self.pipeline.become_worker(bool(self.workerinput.get("iotops_strict")) and self.shared is not None)
            config.stash[fixtures.RECORD_KEPT] = self.record_kept
        else:
            ctx.distributed = getattr(config.option, "dist", "no") != "no"
            ctx.workers = int(getattr(config.option, "numprocesses", 0) or 0) if ctx.distributed else 0
            if not ctx.distributed:
                config.stash[fixtures.RECORD_KEPT] = self.record_kept
            if ctx.distributed:
                self.pipeline.become_controller()
                from .xdist import Controller

                self.controller = Controller(config, self.pipeline, self.catch_up)
                config.pluginmanager.register(self.controller, "iotops-xdist-controller")
            if ctx.distributed and self.settings.shard is not None:  # workers select; the controller reports
                from ..model import ShardInfo

                balanced = "durations" if self._previous_durations(config) else "count"
                self.pipeline.set_shard(ShardInfo(*self.settings.shard, balanced, 0))

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.pipeline.recorder.stage_start("collect")
        config = session.config
        if self.workerinput is None:
            self._choose_folder(config)
        if self.workerinput is None and (config.get_verbosity() < 0 or getattr(config.option, "no_header", False)):
            reporter = config.pluginmanager.get_plugin("terminalreporter")
            line = self._coverage_line()
            if reporter is not None and line:
                reporter.write_line(line)

    def _choose_folder(self, config: pytest.Config) -> None:
        """pytest's own terminal reporter keeps every report: the reports are folded from it in batches. Any other
        (or none) and each report is folded from the hook, as it comes (the only case that registers a plugin:
        registering costs pytest a look at every attribute for fixtures)."""
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if type(reporter) is pytest.TerminalReporter:
            self.folder = ReportFolder(self, reporter.stats)
        else:
            self.folder = self.live = LiveFolder(self)
            config.pluginmanager.register(self.live, "iotops-reports")

    def pytest_exception_interact(
        self, node: pytest.Item | pytest.Collector, call: pytest.CallInfo[None], report: pytest.TestReport
    ) -> None:
        """A failure's headline, from the exception itself: a serial run folds it; an xdist worker (which sent the
        report before pytest calls this) gives it to the controller with its output, at its end."""
        if self.folder is not None:
            self.folder.exception_seen(call, report)
        elif self.workerinput is not None and call.excinfo is not None and isinstance(report, pytest.TestReport):
            entry = [report.nodeid, report.when or "call", headline(call.excinfo)]
            self.config.workeroutput.setdefault(HEADLINES, []).append(entry)  # type: ignore[attr-defined]

    def record_kept(self, item: pytest.Item) -> None:
        """A test left a deployment or fleet rollout on its item: a serial run takes it before the next test, an
        xdist worker on the test's reports."""
        if self.workerinput is None:
            self.with_records[id(item)] = item
        else:
            self.carry_on_reports()

    def carry_on_reports(self) -> None:
        """An xdist worker's first test that ran deployments or was blocked: from then on its reports say so
        (:class:`.reports.WorkerReports`; the tests before it paid nothing for it)."""
        if self.config.pluginmanager.get_plugin(WORKER_REPORTS) is None:
            self.config.pluginmanager.register(WorkerReports(self.blocked), WORKER_REPORTS)

    def catch_up(self, phase: str | None = None) -> None:
        """Every report pytest has logged so far folded into the recorder (before a verdict depends on them).
        Reports that went missing are kept as the run's internal error (no verdict) for its end. ``phase``: a
        serial run's current one, which every test since the last call ran in."""
        if self.folder is not None and self.lost is None:
            try:
                self.folder.catch_up(phase)
            except ReportsLost as exc:
                self.lost = exc

    # -- collection: classify and order -----------------------------------------------------------------------
    def _quarantine(self, items: list[pytest.Item]) -> None:
        from ..history.quarantine import apply_quarantine

        def mark(item: pytest.Item, reason: str) -> None:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=False))

        self.pipeline.note(apply_quarantine(items, self.settings.history.quarantine, mark))

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        """Last, so the stable sort keeps whatever order other plugins chose within a phase."""
        phases, conflicts = classify_items(items, config.rootpath, self.pipeline.classify, self.settings.default_phase)
        self.phase_by_id.update(zip(map(id, items), phases, strict=True))
        if conflicts:
            more = f"\n... and {len(conflicts) - 10} more" if len(conflicts) > 10 else ""
            raise pytest.UsageError("pytest-iotops: " + "\n".join(conflicts[:10]) + more)
        if self.settings.history.quarantine:
            self._quarantine(items)
        self.items, self._phase_of = items, None
        ordered = self.pipeline.order(phases)
        if self.settings.longest_first and self.workerinput is not None:
            ordered = longest_first(items, phases, ordered, self._previous_durations(config), self.settings.phases)
        if ordered != list(range(len(items))):
            items[:] = [items[i] for i in ordered]
        if self.settings.shard is not None:
            self._select_shard(config, items)
        if self.shared is not None:  # an xdist worker: the scheduler needs each test's phase, in this order
            from ..phases import PHASES_FILE, collected_phases
            from ..render.output import write_output

            order = {p: i for i, p in enumerate(self.settings.phases)}
            indices = [order[self.phase_by_id[id(item)]] for item in items]
            write_output(self.shared / PHASES_FILE, collected_phases(list(map(_NODEID, items)), indices))

    def phase_of(self, nodeid: str) -> str | None:
        """A collected test's phase by node id (this process's collection, or the xdist workers' on the
        controller): for the report folder, which knows a test by its reports."""
        if self.controller is not None:
            return self.controller.phases.get(nodeid)
        if self._phase_of is None:
            items = self.items
            self._phase_of = dict(
                zip(map(_NODEID, items), map(self.phase_by_id.__getitem__, map(id, items)), strict=True)
            )
        return self._phase_of.get(nodeid)

    def _previous_durations(self, config: pytest.Config) -> dict[str, float]:
        from ..shards import previous_durations

        return previous_durations(durations_source(self.settings, self.pipeline.reports_dir(), config.rootpath))

    def _select_shard(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        from ..model import ShardInfo

        assert self.settings.shard is not None
        items[:], deselected, balanced_by = shard_slice(items, self.settings.shard, self._previous_durations(config))
        if deselected:
            config.hook.pytest_deselected(items=deselected)
        index, total = self.settings.shard
        self.pipeline.set_shard(
            ShardInfo(index, total, balanced_by, len(items)), [self.phase_by_id[id(i)] for i in items]
        )

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if self.workerinput is None:  # (a worker's stages go in no report)
            self.pipeline.recorder.stage_end("collect", "collect")

    # -- running: phase changes and blocking ------------------------------------------------------------------
    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        """Innermost, so pytest's own loop is the first to iterate the phased items (see :mod:`.runloop`)."""
        if self.pipeline.context.distributed and self.workerinput is None:
            return (yield)  # the xdist controller runs no test
        items = getattr(session, "items", None)
        # (a list that is not pytest's own, replaced by a plugin, is left as it is)
        if type(items) is not list or self.live is not None or not own_loop(session.config):
            session.config.pluginmanager.register(PerTest(self.before_test), "iotops-per-test")
            return (yield)
        phase_runs = runs(items, self.phase_by_id, self.settings.default_phase)
        self._runs = PhaseRuns(phase_runs, self.before_test, self._mark_blocked)
        session.items = PhasedItems(items, iter(self._runs))
        try:
            return (yield)
        finally:
            session.items = items
            self.running, self._runs = self._current(), None

    def _current(self) -> pytest.Item | None:
        """The test being run, or the last one run."""
        return (self._runs.current() if self._runs is not None else None) or self.running

    def before_test(self, item: pytest.Item) -> str | None:
        """Before each test, or the first of a phase's run: its phase entered if it changes; why it is blocked."""
        if self.with_records:  # the last test has ended, its teardown included
            self.take_waiting_records()
        self.running = item
        phase = self.phase_by_id.get(id(item)) or self.settings.default_phase
        live = self.live
        if live is not None:
            live.location, live.test, live.phase = item.location, None, phase
        if phase != self.pipeline.current_phase:
            self._enter(phase)
        if self.block:
            self._mark_blocked(item, self.block)
        return self.block

    def _mark_blocked(self, item: pytest.Item, reason: str) -> None:
        # a skip mark, evaluated by pytest's own set-up: the report points at the test, fixtures never run
        item.add_marker(pytest.mark.skip(reason=reason))
        self.blocked.add(item.nodeid)
        if self.workerinput is not None:
            self.carry_on_reports()

    def _enter(self, phase: str) -> None:
        """A new phase (or a return to one): what blocks it is known now, from the phases before it."""
        pipeline = self.pipeline
        if self.workerinput is None and self.live is None:  # the reports so far, and the phases' windows
            self.catch_up(pipeline.current_phase)
            recorder = pipeline.recorder
            if pipeline.current_phase:
                recorder.phase_seen(pipeline.current_phase)
            recorder.phase_seen(phase)
        pipeline.enter_phase(phase)
        if self.workerinput is not None and pipeline.strict_workers and self.shared is not None:
            pipeline.read_remote_failures(self.shared / BLOCKED_FILE)
        self.block = pipeline.block_reason(phase)
        if self.workerinput is None:
            self._phase_separator(phase)

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        """Ctrl-C, or SIGTERM/SIGHUP during a deployment (see fixtures): the test that was running did not pass,
        and the deployment it ran is recorded (as ``interrupted``), not lost with the missing call report."""
        item = self._current()
        if item is None or self.workerinput is not None:
            return
        self.take_waiting_records()
        what = str(excinfo.value) or "Ctrl-C"
        phase = self.phase_by_id.get(id(item), self.settings.default_phase)
        self.pipeline.recorder.add_report(item.nodeid, phase, "call", "failed", 0.0, message=f"interrupted ({what})")

    def take_waiting_records(self) -> None:
        """A serial run: the deployments and fleet rollouts the tests' fixtures left on their items (an xdist
        worker sends them on its reports instead)."""
        for item in self.with_records.values():
            stash = item.stash
            deployments: list[Deployment] = stash.get(fixtures.DEPLOYMENTS, [])
            rollouts: list[FleetRollout] = stash.get(fleet_fixtures.FLEET_ROLLOUTS, [])
            if deployments or rollouts:
                self.pipeline.recorder.take_records(item.nodeid, deployments, rollouts)
        self.with_records.clear()

    # -- the end: coverage, gates, verdict, report ------------------------------------------------------------
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.workerinput is not None:
            directory = self.workerinput.get("iotops_cov_dir")
            self.pipeline.finish_worker(Path(directory) if directory else None)
            return
        if self.config.option.collectonly:
            return
        if int(exitstatus) == pytest.ExitCode.USAGE_ERROR:
            if self.pipeline.meter is not None:
                self.pipeline.meter.stop()
            return  # a usage error (two phase markers on a test …) is the whole story: no gates, no report
        self.pipeline.recorder.stage_end("collect", "collect")
        self.take_waiting_records()
        meter = self.pipeline.meter
        if meter is not None and not meter.owned:
            meter.cov = _pytest_cov_result(self.config)
        from ..registry import session_manager

        try:
            self._fold_last()
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None and self.settings.evidence:
                self._end_progress_line(reporter)
                self.pipeline.report_progress(reporter.write_line)
            report = self.pipeline.finish(int(exitstatus), self.pipeline.plugins or session_manager(self.config))
        except Exception as exc:
            from ..verdict import EXIT_GATE_ERROR

            self.internal_error = f"{type(exc).__name__}: {exc}"
            if int(exitstatus) == 0:
                session.exitstatus = EXIT_GATE_ERROR
            return
        if int(exitstatus) == 0 and report.verdict.exit_code:
            session.exitstatus = report.verdict.exit_code

    @pytest.hookimpl(tryfirst=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """Everything is reported by now: the records go before pytest's own unconfigure collects garbage (twice,
        each collection walking every live object: 11 M instructions at 2,000 tests for the records kept)."""
        self.pipeline.release()
        self.items, self._phase_of, self.folder, self.live = [], None, None, None
        self.phase_by_id.clear()

    def _fold_last(self) -> None:
        """The run's last reports folded; a serial run read from the terminal reporter checks that every test
        that ran has its record, and closes the last phase's window."""
        self.catch_up(self.pipeline.current_phase)  # (the controller's folder takes each test's own)
        if self.lost is not None:
            raise self.lost
        if self.controller is not None:  # the workers' failures, named by their exceptions
            for nodeid, when, text in self.controller.headlines:
                self.pipeline.recorder.refine_message(nodeid, when, text)
        if self.folder is not None and self.live is None and not self.pipeline.context.distributed:
            last = self._current()
            ran = self.items.index(last) + 1 if last in self.items else 0
            self.folder.check_complete(self.items[:ran])
            if self.pipeline.current_phase:
                self.pipeline.recorder.phase_seen(self.pipeline.current_phase)


_HOOKS = tuple(name for cls in IotopsPlugin.__mro__ for name in vars(cls) if name.startswith("pytest_"))


def _pytest_cov_result(config: pytest.Config) -> Any:
    """pytest-cov's combined measurement: after its run loop it reports from ``cov_controller.cov``.

    Reading its attribute is the one coupling to pytest-cov's internals; when it is not there the coverage
    gates end ``error`` (the engine sees no tracer), never ``passed``.
    """
    import coverage

    controller = getattr(config.pluginmanager.get_plugin("_cov"), "cov_controller", None)
    cov = getattr(controller, "cov", None)
    return cov if isinstance(cov, coverage.Coverage) else None
