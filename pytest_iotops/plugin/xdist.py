"""The two xdist roles: the controller (tells each worker where to leave its coverage data, schedules one phase at
a time, publishes failed phases between them); the worker's report tagging is :class:`.reports.WorkerReports`.
Registered by the session plugin only in the process that has the role."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from .common import BLOCKED_FILE, HEADLINES

if TYPE_CHECKING:
    from ..pipeline import Pipeline

__all__ = ["Controller"]


class Controller:
    """On the xdist controller only."""

    def __init__(self, config: pytest.Config, pipeline: Pipeline, catch_up: Callable[[], None]) -> None:
        self.config, self.pipeline = config, pipeline
        self.catch_up = catch_up  # the reports relayed so far, folded: the failed phases depend on them
        self.collected: set[str] = set()  # workers that have finished collecting
        #: node id -> phase, from the workers' collection (they collect alike): no report carries its phase
        self.phases: dict[str, str] = {}
        #: [node id, stage, headline] of the workers' failures, sent with each worker's output at its end
        self.headlines: list[list[str]] = []
        self._indices: list[int] = []  # the same phases by position in the collection, for the scheduler
        #: workers still to start with the entry-point answer in the environment (None: it is not there)
        self._starting: int | None = None

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """Tell each worker where to leave its coverage data (pytest-cov combines its own)."""
        shared = str(self.pipeline.shared_dir())
        node.workerinput["iotops_shared"] = shared
        # our scheduler (below) takes over exactly when xdist would use its load scheduling
        node.workerinput["iotops_strict"] = getattr(self.config.option, "dist", "no") == "load"
        meter = self.pipeline.meter
        if meter is not None and meter.owned:
            node.workerinput["iotops_cov_dir"] = shared

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_setupnodes(self, config: pytest.Config, specs: list[Any]) -> None:
        """Workers started on this machine by this Python inherit the environment: the controller's answer to
        whether an installed package declares ``iotops`` entry points goes with it, for the time the workers
        start (a worker uses it only where its path entries are the controller's)."""
        from ..registry import ENTRY_POINTS_ENV, declared_for_workers

        answer = declared_for_workers()
        if answer is not None and ENTRY_POINTS_ENV not in os.environ:
            os.environ[ENTRY_POINTS_ENV] = answer
            self._starting = len(specs)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_newgateway(self, gateway: Any) -> None:
        if self._starting is not None:
            self._starting -= 1
            if self._starting <= 0:
                self._forget_handed_down()

    def _forget_handed_down(self) -> None:
        from ..registry import ENTRY_POINTS_ENV

        if self._starting is not None:
            os.environ.pop(ENTRY_POINTS_ENV, None)
            self._starting = None

    @pytest.hookimpl(optionalhook=True, tryfirst=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        """Strict phase order and blocking across workers: xdist's load scheduling, one phase at a time."""
        if getattr(config.option, "dist", "no") != "load":
            return None  # loadscope, loadfile, ...: the user chose a distribution; ours would override it
        from ..xdist_scheduler import PhaseScheduling

        return PhaseScheduling(
            config, log, self.collected_phases, self._phase_done, self.pipeline.settings.longest_first
        )

    def collected_phases(self) -> list[int]:
        """For the phase scheduler: each test's phase index in xdist's collection order, as read above."""
        return self._indices

    def _phase_done(self, phase_index: int, crashed: frozenset[int]) -> None:
        """Every test of a phase has finished: tell the workers which phases failed, before the next starts. A
        phase in which a worker died failed, though xdist reports the test that killed it only later."""
        from ..render.output import write_output

        names = self.pipeline.settings.phases
        self.catch_up()
        failed = sorted(self.pipeline.recorder.failed_phases() | {names[i] for i in crashed})
        write_output(self.pipeline.shared_dir() / BLOCKED_FILE, json.dumps(failed))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """The controller collects nothing itself: each test's phase is as the workers classified it (read once,
        before xdist schedules), and its collection stage ends when the last worker has collected, not at the end
        of the run."""
        if not self.collected and ids:
            from ..phases import PHASES_FILE, read_collected_phases

            names = self.pipeline.settings.phases
            self._indices = read_collected_phases(self.pipeline.shared_dir() / PHASES_FILE, ids, len(names))
            self.phases.update(zip(ids, map(names.__getitem__, self._indices), strict=True))
        self.collected.add(str(node.workerinput["workerid"]))
        if len(self.collected) >= int(getattr(self.config.option, "numprocesses", 0) or 1):
            self.pipeline.recorder.stage_end("collect", "collect")

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        self._forget_handed_down()  # (a worker that failed to start)
        self.pipeline.worker_finished(str(node.workerinput["workerid"]))
        # (a worker that crashed sends no output: its failures keep what pytest's report says crashed)
        self.headlines.extend((getattr(node, "workeroutput", None) or {}).get(HEADLINES, ()))
