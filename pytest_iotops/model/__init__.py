"""The run report: one versioned document that every stage adds to and every renderer reads.

Plain dataclasses so the model is usable without pytest (the deployment records are in ``model.deploy``).
:mod:`pytest_iotops.codec` is the only (de)serialisation path: ``to_dict``/``from_dict`` (every field's type
checked, so a hand-edited or foreign file fails with the key path at fault instead of deep inside a renderer)
and the JSON Schema, re-exported here with :func:`load_report`, which reads and upgrades report files.
"""

from __future__ import annotations

import importlib
import typing
from dataclasses import field
from typing import TYPE_CHECKING, Any, Literal

from ..codec import expand_ranges, from_dict, line_ranges, to_dict, to_json
from ..errors import ReportFormatError
from ..values import Value, record
from .run import GitInfo, RunMeta, ShardInfo

if TYPE_CHECKING:
    from .deploy import DeployEvent, Deployment, DeployMetric, DeployStep, StepLog
    from .files import load_report
    from .fleet import FleetDecision, FleetRollout, FleetWave
    from .history import HistoryView, RunPoint

#: the deployment, fleet and history records, imported on first use (``from pytest_iotops.model import
#: Deployment`` works as ever): a run that deploys nothing and keeps no history never creates their classes
_LAZY = {
    **dict.fromkeys(("DeployEvent", "Deployment", "DeployMetric", "DeployStep", "StepLog"), ".deploy"),
    **dict.fromkeys(("FleetDecision", "FleetRollout", "FleetWave"), ".fleet"),
    **dict.fromkeys(("HistoryView", "RunPoint"), ".history"),
    "load_report": ".files",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # kept in the namespace: imported once, and the codec's type hints resolve from it
    value = globals()[name] = getattr(importlib.import_module(_LAZY[name], __name__), name)
    return value


__all__ = [
    "GATE_STATUSES",
    "OUTCOMES",
    "SCHEMA_VERSION",
    "CommandResult",
    "CoverageReport",
    "CoverageTotals",
    "DeployEvent",
    "DeployMetric",
    "DeployStep",
    "Deployment",
    "DiffCoverage",
    "DiffFile",
    "EvidenceResult",
    "FileCoverage",
    "Finding",
    "FleetDecision",
    "FleetRollout",
    "FleetWave",
    "GateResult",
    "GitInfo",
    "HistoryView",
    "IgnoreRecord",
    "PhaseCoverage",
    "PhaseResult",
    "ReportFormatError",
    "RunMeta",
    "RunPoint",
    "RunReport",
    "ShardInfo",
    "Stage",
    "StepLog",
    "TestResult",
    "Verdict",
    "expand_ranges",
    "from_dict",
    "line_ranges",
    "load_report",
    "to_dict",
]

#: ``major.minor``: readers accept any minor of their major; a new major means a breaking change.
SCHEMA_VERSION = "2.6"

Outcome = Literal["passed", "failed", "error", "skipped", "blocked", "xfailed", "xpassed"]
Severity = Literal["critical", "high", "medium", "low", "info"]
FindingStatus = Literal["open", "ignored", "baseline", "suppressed"]
GateStatus = Literal["passed", "failed", "error", "skipped"]
OUTCOMES: tuple[str, ...] = typing.get_args(Outcome)
GATE_STATUSES: tuple[str, ...] = typing.get_args(GateStatus)


#: one per test, file or finding (a big report holds hundreds of thousands), and no ``__slots__``: orjson encodes a
#: dataclass with a ``__dict__`` three times faster (3,400 instructions a test record against 10,200), and Python
#: 3.11 keeps its attributes inline, so it takes about 48 bytes more (279 against 231, a test record with its id)
@record(hot=True)
class TestResult(Value):
    """One test's outcome in the run (or in a JUnit file another runner wrote)."""

    __test__ = False  # not a pytest test class

    nodeid: str
    phase: str
    outcome: Outcome
    duration: float
    message: str = ""
    longrepr: str = ""
    worker: str = ""
    #: "pytest", or the name of the evidence source (JUnit from another test runner)
    origin: str = "pytest"
    #: outcome of every run of the test, in order, when it ran more than once (JUnit repeats, reruns)
    attempts: list[str] = field(default_factory=list)
    #: failed at first and passed on a rerun (JUnit flakyFailure/flakyError, pytest-rerunfailures' rerun)
    flaky: bool = False


@record
class PhaseResult(Value):
    """One phase of the pyramid: its tests by outcome, its time, its status and coverage."""

    name: str
    order: int
    tests: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    blocked: int = 0
    xfailed: int = 0
    xpassed: int = 0
    duration: float = 0.0
    status: Literal["passed", "failed", "blocked", "empty"] = "empty"
    coverage_percent: float | None = None


@record  # one per test, file or finding: no __slots__, see TestResult
class FileCoverage(Value):
    """One measured file's line and branch coverage."""

    path: str
    statements: int
    covered_lines: int
    #: the lines not run, as ranges in coverage.py's notation (``"3-7,12"``): a list of numbers would take
    #: gigabytes for a gigabyte-sized report (see :func:`line_ranges`, :func:`expand_ranges`)
    missing: str
    branches: int
    covered_branches: int
    percent: float
    branch_percent: float | None


@record
class CoverageTotals(Value):
    """Coverage over every measured file."""

    files: int
    statements: int
    covered_lines: int
    branches: int
    covered_branches: int
    percent: float
    branch_percent: float | None


@record
class PhaseCoverage(Value):
    """The lines one phase's tests ran (phase attribution)."""

    phase: str
    statements: int
    covered_lines: int
    percent: float


@record
class CoverageReport(Value):
    """The Python coverage of the run: how it was measured, its totals, files and phases."""

    #: ``measured``; ``off`` when turned off on purpose (gates end ``skipped``); ``error`` when it failed
    status: Literal["measured", "off", "error"]
    measured_by: Literal["iotops", "pytest-cov", "none"]
    branch: bool
    source: list[str]
    totals: CoverageTotals
    files: list[FileCoverage]
    phases: list[PhaseCoverage]
    phase_attribution: bool
    note: str = ""
    #: what coverage.py measured and why (the project's selection and where it is configured, or the guess)
    selection: str = ""
    #: coverage.py's own warnings, once each (never raised: they would turn into errors under filterwarnings)
    warnings: list[str] = field(default_factory=list)
    #: the collector that saw what ran (coveragepy, sysmon or slipcover); coverage.py computed every figure
    engine: str = ""
    #: when coverage.py's tracer ran: "always", "tests", or "always (why not around tests only)"; "" for others
    trace: str = ""

    @classmethod
    def unavailable(cls, status: Literal["off", "error"], note: str) -> CoverageReport:
        empty = CoverageTotals(0, 0, 0, 0, 0, 100.0, None)
        return cls(status, "none", False, [], empty, [], [], False, note)


@record  # one per test, file or finding: no __slots__, see TestResult
class Finding(Value):
    """One problem reported by a tool, normalised so every tool's findings gate and render alike."""

    tool: str
    rule: str
    severity: Severity
    message: str
    path: str | None = None
    line: int | None = None
    column: int | None = None
    package: str | None = None
    version: str | None = None
    fix_versions: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    #: stable across runs and line moves: sha256 of tool, rule, location/package and message, plus occurrence
    fingerprint: str = ""
    status: FindingStatus = "open"
    note: str = ""
    source: str = ""
    level: str = ""


@record
class CommandResult(Value):
    """A command an evidence source ran: its arguments, exit code, time and the ends of its output."""

    argv: list[str]
    exit_code: int | None
    duration: float
    stdout_tail: str = ""
    stderr_tail: str = ""


@record
class EvidenceResult(Value):
    """One evidence source as read: its status (an error says why), and what it contributed."""

    name: str
    kind: str
    path: str | None
    #: ``absent``: an optional source (required = false) whose file does not exist
    status: Literal["ok", "error", "absent"]
    error: str = ""
    #: why an ``error``: saw-nothing, contradiction, truncated, unsafe, command or unreadable (see EvidenceError)
    reason: str = ""
    command: CommandResult | None = None
    tool_version: str = ""
    totals: CoverageTotals | None = None
    files: list[FileCoverage] = field(default_factory=list)
    findings: int = 0
    tests: int = 0
    notes: list[str] = field(default_factory=list)


@record
class IgnoreRecord(Value):
    """One ``[[tool.iotops.ignore]]`` entry, whether it has expired and how many findings it matched."""

    id: str
    reason: str
    expires: str
    expired: bool
    matched: int
    tool: str | None = None
    path: str | None = None


@record
class DiffFile(Value):
    """One changed file's diff coverage."""

    path: str
    changed: int
    coverable: int
    covered: int
    uncovered_lines: list[int]
    origin: str


@record
class DiffCoverage(Value):
    """Coverage of the lines changed since the base, file by file."""

    status: Literal["measured", "no-source-lines", "error"]
    base: str
    merge_base: str
    files: list[DiffFile]
    unknown_files: list[str]
    coverable: int
    covered: int
    percent: float | None
    note: str = ""


@record
class GateResult(Value):
    """One gate's verdict: its status, the measured value against the threshold, and why."""

    id: str
    family: str
    status: GateStatus
    measured: float | None
    threshold: float | None
    comparison: Literal[">=", "<="]
    unit: str
    message: str
    threshold_source: str = ""


@record
class Stage(Value):
    """One stage of the pipeline (collect, a phase, coverage, evidence, gates, reports) and its time."""

    name: str
    kind: str
    started_at: str
    duration: float


@record
class Verdict(Value):
    """Whether the change is releasable: the status, the exit code and the reasons."""

    status: Literal["passed", "failed"]
    exit_code: int
    reasons: list[str]
    summary: str


@record
class RunReport(Value):
    """The run report: the one model every output (terminal, JSON, HTML, JUnit, SARIF, Markdown) renders."""

    run: RunMeta
    phases: list[PhaseResult]
    tests: list[TestResult]
    coverage: CoverageReport | None
    gates: list[GateResult]
    stages: list[Stage]
    verdict: Verdict
    evidence: list[EvidenceResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    ignores: list[IgnoreRecord] = field(default_factory=list)
    diff: DiffCoverage | None = None
    #: a shard's raw coverage data (file name in the reports directory), for iotops merge
    coverage_data: str | None = None
    #: deployments run by tests (the ``iotops_canary`` / ``iotops_blue_green`` fixtures)
    deployments: list[Deployment] = field(default_factory=list)
    #: firmware rollouts to simulated fleets run by tests (the ``iotops_fleet`` fixture; schema 2.2)
    fleet_rollouts: list[FleetRollout] = field(default_factory=list)
    #: the run history as read before the gates (schema 2.4; None: no history configured)
    history: HistoryView | None = None
    schema_version: str = SCHEMA_VERSION

    def to_json(self) -> str:
        return to_json(self)
