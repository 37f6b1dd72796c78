"""One run as a pipeline: classify and order tests, block after a failed phase, measure, gate, decide, write.

This is the engine the pytest plugin drives; it never imports pytest, so the same code is used by the CLI
and can be tested on plain values.
"""

from __future__ import annotations

import platform
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .config import Settings
from .errors import IotopsError
from .values import Value, record

if TYPE_CHECKING:  # the report's model, gates, git and the verdict: imported where the run's end needs them, so
    # an xdist worker (it writes no report) does not load them
    import pluggy

    from .coverage import CoverageMeter
    from .evidence.base import LineData
    from .evidence_stage import EvidenceStage
    from .model import CoverageReport, RunMeta, RunReport, ShardInfo
    from .render.formats import ReportFormat
from .phases import Classification, PhaseRules, blocking_phase, classify, order_indices
from .recorder import Recorder, utc_now
from .registry import plugin_manager, report_formats

__all__ = ["REPORT_NAME", "Pipeline", "RunContext"]

REPORT_NAME = "run-report.json"


@record
class RunContext(Value):
    """Facts about the invocation that the plugin reads from pytest once."""

    rootdir: Path
    args: list[str]
    pytest_version: str
    workers: int = 0
    distributed: bool = False  # xdist controller
    worker_id: str | None = None  # set on an xdist worker
    started_at: str = field(default_factory=utc_now)
    start: float = field(default_factory=time.perf_counter)


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        context: RunContext,
        *,
        report_stem: str = "run",
        progress: Callable[[str], None] | None = None,
        coverage_off: str = "",
    ) -> None:
        self.settings = settings
        self.context = context
        self.rules = PhaseRules(settings.phases, settings.default_phase, settings.paths, settings.marker_aliases)
        self.recorder = Recorder(settings.phases)
        self.meter: CoverageMeter | None = None
        self.coverage_off_reason = coverage_off
        self.phase_attribution = True
        self.collected: Counter[str] = Counter()
        self.current_phase: str | None = None
        self._shared_dir: Path | None = None
        self.finished_workers: list[str] = []
        self.report: RunReport | None = None
        self.python_lines: dict[str, LineData] = {}
        self.baseline_written: Path | None = None
        self.outputs: dict[str, Path] = {}
        #: the run history's line for the terminal, and whether the run was stored ("" when no history)
        self.history_note: tuple[str, bool] = ("", True)
        #: lines for the terminal summary from the run's own settings (the quarantine list's)
        self.notes: list[str] = []
        self.shard: ShardInfo | None = None  # set when this run is one slice of a sharded run
        self.merged_from: list[str] = []
        self.strict_workers = False  # an xdist worker under the phase scheduler
        #: report file names: run-report.* for pytest runs, gate-report.* for iotops gate (never the same files)
        self.report_stem = report_stem
        #: where progress lines go while evidence commands run (the terminal reporter, stderr), if anywhere
        self.progress = progress
        self.remote_failed: set[str] = set()  # failed phases seen by other workers
        #: the session's iotops plugins and the report formats they define (set by use_plugins)
        self.plugins: pluggy.PluginManager | None = None
        self.formats: dict[str, ReportFormat] | None = None

    def use_plugins(self, pm: pluggy.PluginManager) -> None:
        """The session's iotops plugins: their report formats join the built-in ones, and a configured format
        that none defines is a configuration error now, not a missing file at the end."""
        self.plugins, self.formats = pm, report_formats(pm)
        s = self.settings
        from .render.formats import check_formats

        check_formats(s.formats, self.formats, f"{s.config_file or 'configuration'} ({s.source_of('formats')})")

    # -- coverage ---------------------------------------------------------------------------------------------
    def start_coverage(self, pytest_cov: str | None, per_test_contexts: bool) -> None:
        """``pytest_cov``: None when pytest-cov does not measure, else "on" or "off" (``--no-cov``)."""
        if not self.settings.coverage.enabled:
            self.coverage_off_reason = f"turned off by {self.settings.source_of('coverage.enabled')}"
        elif pytest_cov == "off":
            self.coverage_off_reason = "turned off by pytest-cov's --no-cov"
        elif pytest_cov == "on":
            from .coverage import CoverageMeter

            self.meter = CoverageMeter.borrow()
            self.phase_attribution = not per_test_contexts
        else:
            from .coverage import CoverageMeter

            origin = self.settings.source_of("coverage.source")
            self.meter = CoverageMeter.start(self.settings.coverage, self.context.rootdir, origin)
            # the project's own per-test contexts ([run] dynamic_context) replace ours, as pytest-cov's do
            self.phase_attribution = not (self.meter.cov and self.meter.cov.get_option("run:dynamic_context"))

    def become_controller(self) -> None:
        """On the xdist controller: the workers measure, this process only combines (and does not trace)."""
        if self.meter is not None:
            origin = self.settings.source_of("coverage.source")
            self.meter.stop_tracing(self.settings.coverage, self.context.rootdir, origin)

    def become_worker(self, strict: bool) -> None:
        """On an xdist worker: ``strict`` when the phase scheduler runs the phases in order across workers, so
        this worker may block later phases on failures the controller reports."""
        self.strict_workers = strict

    def worker_finished(self, worker_id: str) -> None:
        """The controller combines the coverage data of the workers that finished, in id order."""
        self.finished_workers.append(worker_id)

    def set_shard(self, shard: ShardInfo, phases: Sequence[str] | None = None) -> None:
        """This run is one slice of a sharded run; ``phases`` are the phases of the tests this shard selected."""
        self.shard = shard
        if phases is not None:
            self.collected = Counter(phases)

    def report_progress(self, progress: Callable[[str], None] | None) -> None:
        self.progress = progress

    def adopt(self, path: Path, report: RunReport) -> None:
        """``iotops merge``: one part's tests, phase stages and deployments become this run's."""
        self.merged_from.append(str(path))
        for test in report.tests:
            self.recorder.adopt(test)
            self.collected[test.phase] += 1
        self.recorder.stages.extend(s for s in report.stages if s.kind in ("collect", "phase"))
        self.recorder.deployments.extend(report.deployments)
        self.recorder.fleet_rollouts.extend(report.fleet_rollouts)

    def use_meter(self, meter: CoverageMeter | None, off_reason: str = "") -> None:
        """Coverage measured elsewhere (``iotops merge`` combines the shards' data), or off for ``off_reason``."""
        self.meter, self.coverage_off_reason = meter, off_reason

    def worker_data_file(self, directory: Path, worker_id: str) -> Path:
        return directory / f"{worker_id}.coverage"

    def shared_dir(self) -> Path:
        """xdist: the directory the controller shares with its workers (coverage data, phases, failed phases)."""
        if self._shared_dir is None:
            self._shared_dir = Path(tempfile.mkdtemp(prefix="iotops-xdist-"))
        return self._shared_dir

    def finish_worker(self, directory: Path | None) -> None:
        """On an xdist worker: stop the tracer and hand the data to the controller."""
        if self.meter is None or not self.meter.owned or self.meter.cov is None:
            return
        self.meter.stop()
        if directory is not None and self.context.worker_id is not None:
            self.meter.export(self.worker_data_file(directory, self.context.worker_id))

    # -- phases -----------------------------------------------------------------------------------------------
    def classify(self, nodeid: str, relpath: str, markers: Sequence[str]) -> Classification:
        return classify(nodeid, relpath, markers, self.rules)

    def order(self, item_phases: Sequence[str]) -> list[int]:
        self.collected = Counter(item_phases)
        return order_indices(item_phases, self.settings.phases)

    @property
    def blocking_enabled(self) -> bool:
        """Serial runs, and xdist workers under the phase scheduler (which tells them what failed elsewhere)."""
        if not self.settings.block_on_failure:
            return False
        if self.context.worker_id is not None:
            return self.strict_workers
        return not self.context.distributed

    def read_remote_failures(self, path: Path) -> None:
        """On a worker entering a phase: the phases that failed on any worker, published by the scheduler."""
        import json

        try:
            self.remote_failed = set(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            self.remote_failed = set()

    def block_reason(self, phase: str) -> str | None:
        failed = self.recorder.failed_phases() | self.remote_failed
        if not failed or not self.blocking_enabled:
            return None
        blocker = blocking_phase(phase, failed, self.settings.phases)
        return f"blocked by failed {blocker} phase" if blocker else None

    def enter_phase(self, phase: str) -> bool:
        """Called before each test; switches the coverage context when the phase changes. True on a change."""
        if phase == self.current_phase:
            return False
        self.current_phase = phase
        if self.meter is not None and self.phase_attribution:
            self.meter.switch(phase)
        return True

    # -- the end of the run -----------------------------------------------------------------------------------
    def _coverage_report(self) -> CoverageReport | None:
        from .model import CoverageReport

        if self.coverage_off_reason:
            return CoverageReport.unavailable("off", self.coverage_off_reason)
        if self.meter is None:
            return None
        from .coverage import import_data
        from .covreport import summarize

        try:
            self.meter.stop()
            if self.meter.owned and self.meter.cov is not None and self._shared_dir is not None:
                files = [self.worker_data_file(self._shared_dir, w) for w in sorted(self.finished_workers)]
                import_data(self.meter, files)
            ran = [p.name for p in self.recorder.phase_results() if p.status in ("passed", "failed")]
            report, self.python_lines = summarize(
                self.meter, self.context.rootdir, self.settings.phases, ran, self.phase_attribution
            )
            return report
        except IotopsError as exc:
            return CoverageReport.unavailable("error", str(exc))
        except Exception as exc:
            return CoverageReport.unavailable("error", f"coverage.py failed: {type(exc).__name__}: {exc}")

    def _evidence_stage(self, coverage_report: CoverageReport | None) -> EvidenceStage | None:
        """None when there is nothing outside the test run to read (no evidence, ignores, baseline or diff base),
        so a run that only tests imports none of the evidence readers; and for a shard, whose evidence, diff and
        gates are for ``iotops merge``, once."""
        settings = self.settings
        if self.shard is not None or not (
            settings.evidence or settings.ignores or settings.baseline or settings.diff.base is not None
        ):
            return None
        from .evidence_stage import run_evidence_stage

        return run_evidence_stage(
            settings, self.context.rootdir, coverage_report, self.python_lines, utc_now, progress=self.progress
        )

    def finish(self, pytest_exit: int, pm: pluggy.PluginManager | None = None) -> RunReport:
        """Build the run report, evaluate gates, decide, write the JSON. Never raises for user problems."""
        from .gates import evaluate_gates
        from .model import RunReport, Verdict
        from .redact import Redactor
        from .verdict import decide

        rec = self.recorder
        rec.stage_start("coverage")
        try:
            coverage_report = self._coverage_report()
        finally:
            if self._shared_dir is not None:
                shutil.rmtree(self._shared_dir, ignore_errors=True)
        rec.stage_end("coverage", "coverage")
        evidence = self._evidence_stage(coverage_report)
        if evidence is not None:
            rec.stages.extend(evidence.collected.stages)
            rec.add_external(evidence.collected.tests)
        phases, tests = rec.results(dict(self.collected))
        if coverage_report is not None:
            measured = {c.phase: c.percent for c in coverage_report.phases}
            for phase in phases:
                phase.coverage_percent = measured.get(phase.name)
        # in the tests' order (phase, then node id), each test's own in the order it ran them: the same report
        # whichever xdist worker finished first
        order = {t.nodeid: i for i, t in enumerate(tests)} if rec.deployments or rec.fleet_rollouts else {}
        report = RunReport(
            run=self._meta(),
            phases=phases,
            tests=tests,
            coverage=coverage_report,
            gates=[],
            stages=[],
            verdict=Verdict("failed", pytest_exit, [], "not decided"),
            evidence=evidence.collected.results if evidence else [],
            findings=evidence.collected.findings if evidence else [],
            ignores=evidence.ignores if evidence else [],
            diff=evidence.diff if evidence else None,
            deployments=sorted(rec.deployments, key=lambda d: order.get(d.test, len(order))),
            fleet_rollouts=sorted(rec.fleet_rollouts, key=lambda r: order.get(r.test, len(order))),
        )
        self.baseline_written = evidence.baseline_written if evidence else None
        if self.shard is not None:
            self.shard.tests = len(report.tests)
            report.run.shard = self.shard
            report.coverage_data = self._export_shard_coverage()
        else:
            if self.settings.history.url:
                from .history.view import read_view

                report.history = read_view(self.settings.history, report, self.context.rootdir, self.settings.diff.base)
            rec.stage_start("gates")
            report.gates = evaluate_gates(pm or self.plugins or plugin_manager(), self.settings, report)
            rec.stage_end("gates", "gates")
        report.run.merged_from = list(self.merged_from)
        report.stages = sorted([*rec.stages, *rec.phase_stages()], key=lambda s: s.started_at)
        external_failed = rec.external_failed()
        report.verdict = decide(pytest_exit or int(external_failed), report.gates)
        if self.shard is not None:
            report.verdict.summary = (
                f"shard {self.shard.index}/{self.shard.total}: {report.verdict.summary}; gates are evaluated by "
                "iotops merge"
            )
        report.run = replace(report.run, finished_at=utc_now(), duration=self._elapsed())
        Redactor().apply(report)
        self._write(report, pytest_exit)
        self.report = report
        return report

    def release(self) -> None:
        """The run is reported: its records go (pytest's closing garbage collections would walk every test's,
        and a process that runs pytest more than once would keep them)."""
        self.report = None
        self.recorder = Recorder(self.settings.phases)

    def note(self, lines: list[str]) -> None:
        """Lines for the terminal summary (the quarantine list's)."""
        self.notes.extend(lines)

    def reports_dir(self) -> Path:
        target = Path(self.settings.reports_dir)
        return target if target.is_absolute() else self.context.rootdir / target

    def _export_shard_coverage(self) -> str | None:
        """The shard's raw coverage data next to its report, so iotops merge can combine the shards."""
        if self.meter is None or not self.meter.owned or self.meter.cov is None or self.shard is None:
            return None
        from .coverage import export_data

        name = f"coverage-shard-{self.shard.index}-of-{self.shard.total}.sqlite"
        target = self.reports_dir()
        target.mkdir(parents=True, exist_ok=True)
        (target / name).unlink(missing_ok=True)
        export_data(self.meter.cov, target / name)  # the shard's warnings are in its report
        return name

    def _write(self, report: RunReport, pytest_exit: int) -> None:
        """Reports that cannot be written fail the run (exit 7): CI would otherwise gate on nothing."""
        from .render import write_reports
        from .verdict import decide

        target = self.reports_dir()
        self.outputs, problems = write_reports(report, target, self.settings.formats, self.report_stem, self.formats)
        if problems:
            report.verdict = decide(pytest_exit or int(report.verdict.exit_code == 1), report.gates, problems)
        if self.settings.history.url:
            from .history.record import record_run

            self.history_note = record_run(self.settings.history, report, self.context.rootdir)

    def _elapsed(self) -> float:
        return round(time.perf_counter() - self.context.start, 6)

    def _meta(self) -> RunMeta:
        from .gitinfo import git_info
        from .model import RunMeta

        ctx = self.context
        return RunMeta(
            started_at=ctx.started_at,
            finished_at=utc_now(),
            duration=self._elapsed(),
            rootdir=str(ctx.rootdir),
            args=list(ctx.args),
            python=platform.python_version(),
            pytest=ctx.pytest_version,
            iotops=__version__,
            platform=f"{sys.platform}-{platform.machine()}",
            workers=ctx.workers,
            git=git_info(ctx.rootdir),
            settings_sources=dict(self.settings.sources),
        )
