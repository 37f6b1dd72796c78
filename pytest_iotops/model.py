"""The run report: one versioned document that every stage adds to and every renderer reads.

Plain dataclasses so the model is usable without pytest; ``to_dict``/``from_dict`` are the only
(de)serialisation path, and ``from_dict`` checks every field's type so a hand-edited or foreign
file fails with the key path at fault instead of deep inside a renderer.
"""

from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, Union

from .errors import IotopsError

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
    "GateResult",
    "GitInfo",
    "IgnoreRecord",
    "PhaseCoverage",
    "PhaseResult",
    "ReportFormatError",
    "RunMeta",
    "RunReport",
    "ShardInfo",
    "Stage",
    "TestResult",
    "Verdict",
    "expand_ranges",
    "from_dict",
    "line_ranges",
    "load_report",
    "to_dict",
]

#: ``major.minor``: readers accept any minor of their major; a new major means a breaking change.
SCHEMA_VERSION = "2.1"
#: older majors :func:`load_report` still reads, upgrading them on the way in
_UPGRADABLE = ("1",)
_RANGE = re.compile(r"(\d+)(?:-(\d+))?")

Outcome = Literal["passed", "failed", "error", "skipped", "blocked", "xfailed", "xpassed"]
Severity = Literal["critical", "high", "medium", "low", "info"]
FindingStatus = Literal["open", "ignored", "baseline", "suppressed"]
GateStatus = Literal["passed", "failed", "error", "skipped"]
OUTCOMES: tuple[str, ...] = typing.get_args(Outcome)
GATE_STATUSES: tuple[str, ...] = typing.get_args(GateStatus)


class ReportFormatError(IotopsError):
    """A run report file does not match the schema this version reads."""


@dataclass(slots=True)  # one per test, file or finding: a big report holds hundreds of thousands
class TestResult:
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


@dataclass
class PhaseResult:
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


@dataclass(slots=True)  # one per test, file or finding: a big report holds hundreds of thousands
class FileCoverage:
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


@dataclass
class CoverageTotals:
    files: int
    statements: int
    covered_lines: int
    branches: int
    covered_branches: int
    percent: float
    branch_percent: float | None


@dataclass
class PhaseCoverage:
    phase: str
    statements: int
    covered_lines: int
    percent: float


@dataclass
class CoverageReport:
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

    @classmethod
    def unavailable(cls, status: Literal["off", "error"], note: str) -> CoverageReport:
        empty = CoverageTotals(0, 0, 0, 0, 0, 100.0, None)
        return cls(status, "none", False, [], empty, [], [], False, note)


@dataclass(slots=True)  # one per test, file or finding: a big report holds hundreds of thousands
class Finding:
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


@dataclass
class CommandResult:
    argv: list[str]
    exit_code: int | None
    duration: float
    stdout_tail: str = ""
    stderr_tail: str = ""


@dataclass
class EvidenceResult:
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


@dataclass
class IgnoreRecord:
    id: str
    reason: str
    expires: str
    expired: bool
    matched: int
    tool: str | None = None
    path: str | None = None


@dataclass
class DiffFile:
    path: str
    changed: int
    coverable: int
    covered: int
    uncovered_lines: list[int]
    origin: str


@dataclass
class DiffCoverage:
    status: Literal["measured", "no-source-lines", "error"]
    base: str
    merge_base: str
    files: list[DiffFile]
    unknown_files: list[str]
    coverable: int
    covered: int
    percent: float | None
    note: str = ""


@dataclass
class DeployEvent:
    #: seconds since the deployment started
    t: float
    event: str
    detail: str


@dataclass
class DeployMetric:
    name: str
    verdict: str
    value: float | None
    baseline: float | None
    #: the limits it was held to, in words ("<= 1.00 %, +0.50 % over baseline")
    threshold: str
    reason: str
    p_value: float | None = None
    samples: int = 0


@dataclass
class DeployStep:
    index: int
    weight: int
    #: seconds since the deployment started
    started: float
    ended: float
    verdict: Literal["pass", "marginal", "fail", "inconclusive", "error"]
    score: float
    reason: str
    #: what the strategy did next: continue, retry (a measurement error), abort, promote, or halt (the stable
    #: version degraded: neither version can be judged, traffic goes back to the stable one)
    decision: Literal["continue", "retry", "abort", "promote", "halt"]
    canary_requests: int = 0
    canary_errors: int = 0
    stable_requests: int = 0
    stable_errors: int = 0
    canary_p50_ms: float | None = None
    canary_p99_ms: float | None = None
    stable_p99_ms: float | None = None
    health_probes: int = 0
    health_failures: int = 0
    metrics: list[DeployMetric] = field(default_factory=list)
    #: the step whose stable data the canary was compared with (the last with enough of it)
    baseline_step: int | None = None
    #: of canary_errors: requests with no answer within the request timeout, and still unanswered at the end
    canary_timeouts: int = 0
    canary_unanswered: int = 0


@dataclass
class Deployment:
    #: the test that ran it
    test: str
    strategy: Literal["canary", "blue-green"]
    target: str
    stable: str
    candidate: str
    #: halted: the stable version degraded, so the rollout stopped without blaming the candidate;
    #: interrupted: a signal or KeyboardInterrupt ended it (traffic put back on the stable version)
    outcome: Literal["promoted", "rolled_back", "halted", "interrupted", "error"]
    #: the version serving all traffic at the end
    active: str
    reason: str
    duration: float
    #: highest traffic weight (percent) the candidate held
    exposure: int
    candidate_requests: int = 0
    requests: int = 0
    #: share of the load generator's requests that succeeded while it ran
    availability: float | None = None
    #: the load's answers that failed a response check, by reason (the first 20 reasons)
    check_failures: dict[str, int] = field(default_factory=dict)
    #: seconds from the failing decision until all traffic was back on the stable version
    rollback_seconds: float | None = None
    steps: list[DeployStep] = field(default_factory=list)
    events: list[DeployEvent] = field(default_factory=list)


@dataclass
class GateResult:
    id: str
    family: str
    status: GateStatus
    measured: float | None
    threshold: float | None
    comparison: Literal[">=", "<="]
    unit: str
    message: str
    threshold_source: str = ""


@dataclass
class Stage:
    name: str
    kind: str
    started_at: str
    duration: float


@dataclass
class GitInfo:
    commit: str | None = None
    branch: str | None = None
    dirty: bool | None = None


@dataclass
class ShardInfo:
    index: int
    total: int
    #: "durations" (balanced by a previous run report) or "count"
    balanced_by: str
    tests: int


@dataclass
class RunMeta:
    started_at: str
    finished_at: str
    duration: float
    rootdir: str
    args: list[str]
    python: str
    pytest: str
    iotops: str
    platform: str
    workers: int
    git: GitInfo
    settings_sources: dict[str, str] = field(default_factory=dict)
    #: set on a partial report written by a shard (``--iotops-shard K/N``)
    shard: ShardInfo | None = None
    #: on a merged report: the partial reports it was made from
    merged_from: list[str] = field(default_factory=list)


@dataclass
class Verdict:
    status: Literal["passed", "failed"]
    exit_code: int
    reasons: list[str]
    summary: str


@dataclass
class RunReport:
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
    schema_version: str = SCHEMA_VERSION

    def to_json(self) -> str:
        return json.dumps(to_dict(self), separators=(",", ":"))


def to_dict(obj: Any) -> dict[str, Any]:
    """A JSON-ready dict; ``schema_version`` first so a reader sees it before anything else.

    Hand-rolled rather than ``dataclasses.asdict``, which deep-copies every value: 3x slower on 10,000 tests.
    """
    data: dict[str, Any] = _plain(obj)
    if "schema_version" in data:
        data = {"schema_version": data.pop("schema_version"), **data}
    return data


def _plain(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


T = TypeVar("T")


def from_dict(cls: type[T], data: Any, where: str = "$") -> T:
    """Build ``cls`` from JSON data, checking every field; errors name the key path."""
    return typing.cast(T, _convert(cls, data, where))


def _convert(tp: Any, value: Any, where: str) -> Any:
    # the common cases first: most fields are plain strings and numbers
    if tp is str and type(value) is str:
        return value
    if tp is float and type(value) in (float, int):
        return float(value)
    return _convert_slow(tp, value, where)


def _convert_slow(tp: Any, value: Any, where: str) -> Any:  # noqa: PLR0911 - one branch per type form
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _convert_dataclass(tp, value, where)
    if origin in (Union, types.UnionType):
        errors = []
        for option in typing.get_args(tp):
            try:
                return _convert(option, value, where)
            except ReportFormatError as exc:
                errors.append(str(exc))
        raise ReportFormatError(errors[-1])
    if origin is Literal:
        allowed = typing.get_args(tp)
        if value not in allowed:
            raise ReportFormatError(f"{where}: expected one of {list(allowed)}, got {value!r}")
        return value
    if origin is list:
        (item_tp,) = typing.get_args(tp)
        _expect(isinstance(value, list), where, "a list", value)
        return [_convert(item_tp, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        _, val_tp = typing.get_args(tp)
        _expect(isinstance(value, dict), where, "an object", value)
        return {str(k): _convert(val_tp, v, f"{where}.{k}") for k, v in value.items()}
    if tp is type(None):
        _expect(value is None, where, "null", value)
        return None
    if tp is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        _expect(ok, where, "a number", value)
        return float(value)
    if tp in (int, bool, str):
        ok = isinstance(value, tp) and (tp is bool or not isinstance(value, bool))
        _expect(ok, where, f"a {tp.__name__}", value)
        return value
    raise ReportFormatError(f"{where}: unsupported type {tp!r}")  # pragma: no cover - model bug


_SCHEMAS: dict[type[Any], tuple[tuple[tuple[str, Any, bool], ...], frozenset[str]]] = {}


def _schema_of(cls: type[Any]) -> tuple[tuple[tuple[str, Any, bool], ...], frozenset[str]]:
    """(name, type, required) per field, resolved once per class: type hints are slow to compute."""
    if cls in _SCHEMAS:
        return _SCHEMAS[cls]
    hints = typing.get_type_hints(cls)
    fields = tuple(
        (f.name, hints[f.name], f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
        for f in dataclasses.fields(cls)
    )
    _SCHEMAS[cls] = (fields, frozenset(name for name, _, _ in fields))
    return _SCHEMAS[cls]


def _convert_dataclass(cls: type[Any], value: Any, where: str) -> Any:
    _expect(isinstance(value, dict), where, "an object", value)
    fields, names = _schema_of(cls)
    kwargs: dict[str, Any] = {}
    for name, tp, required in fields:
        if name in value:
            kwargs[name] = _convert(tp, value[name], f"{where}.{name}")
        elif required:
            raise ReportFormatError(f"{where}: required key {name!r} is missing")
    if len(value) > len(kwargs) and not value.keys() <= names:
        raise ReportFormatError(f"{where}: unknown key(s) {sorted(set(value) - names)}")
    return cls(**kwargs)


def _expect(ok: bool, where: str, expected: str, value: Any) -> None:
    if not ok:
        raise ReportFormatError(f"{where}: expected {expected}, got {type(value).__name__} {value!r:.80}")


def line_ranges(lines: Iterable[int]) -> str:
    """Sorted line numbers as ranges: ``[1, 2, 3, 7]`` -> ``"1-3,7"``."""
    parts: list[str] = []
    start = end = -2
    for line in sorted(set(lines)):
        if line != end + 1:
            if end >= 0:
                parts.append(str(start) if start == end else f"{start}-{end}")
            start = line
        end = line
    if end >= 0:
        parts.append(str(start) if start == end else f"{start}-{end}")
    return ",".join(parts)


def expand_ranges(text: str) -> list[int]:
    """The inverse of :func:`line_ranges`; a malformed range is a ``ValueError`` naming it."""
    out: list[int] = []
    for part in text.split(",") if text else ():
        match = _RANGE.fullmatch(part.strip())
        if match is None or (match.group(2) and int(match.group(2)) < int(match.group(1))):
            raise ValueError(f"not a line range: {part!r}")
        first = int(match.group(1))
        out.extend(range(first, int(match.group(2) or first) + 1))
    return out


def _upgrade_1(data: dict[str, Any]) -> dict[str, Any]:
    """A 1.x report as 2.0: ``files[].missing_lines`` (a list) became ``files[].missing`` (ranges)."""
    holders = [data.get("coverage"), *(data.get("evidence") or [])]
    for holder in holders:
        for entry in (holder.get("files") or []) if isinstance(holder, dict) else []:
            if isinstance(entry, dict) and isinstance(entry.get("missing_lines"), list):
                entry["missing"] = line_ranges(x for x in entry.pop("missing_lines") if isinstance(x, int))
    return {**data, "schema_version": SCHEMA_VERSION}


def load_report(path: str | Path) -> RunReport:
    """Read a run report file, refusing other major schema versions with a clear message."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportFormatError(f"{path}: run report not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportFormatError(f"{path}: not a readable JSON run report ({exc})") from None
    version = data.get("schema_version") if isinstance(data, dict) else None
    major = SCHEMA_VERSION.split(".", maxsplit=1)[0]
    if isinstance(version, str) and version.split(".")[0] in _UPGRADABLE:
        data = _upgrade_1(data)
    elif not isinstance(version, str) or version.split(".")[0] != major:
        readable = ", ".join(f"{m}.x" for m in (*_UPGRADABLE, major))
        message = f"schema_version {version!r} is not readable by this version (reads {readable})"
        raise ReportFormatError(f"{path}: {message}")
    try:
        return from_dict(RunReport, data)
    except ReportFormatError as exc:
        raise ReportFormatError(f"{path}: {exc}") from None
