"""The coverage figures of a run from coverage.py's own analysis: per file, total and per phase.

Figures come from the analysis every coverage.py report is made of (``get_analysis_to_report``): the same
files, statements, executed lines and branches as ``coverage json``, without what a report adds on top (the
JSON text written and read back, the function and class regions). That was 90 % of a run's finish: four JSON
reports, the total's and one per phase. A phase's executed statements are read from the same data, context by
context, in one pass per file, and counted as coverage.py's analysis counts them (its lines translated to
statements: a multi-line statement is one statement, whichever of its lines the tracer saw).

Where this coverage.py does not offer that analysis (a future version renaming its internals), the figures come
from its JSON reports as before: slower, same numbers (tested against each other).
"""

from __future__ import annotations

import json
import re
import tempfile
import typing
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import coverage
import coverage.exceptions

from .coverage import captured, option_list
from .covsource import describe_selection
from .errors import EvidenceError
from .evidence.base import LineData
from .model import CoverageReport, CoverageTotals, FileCoverage, PhaseCoverage, line_ranges
from .values import FrozenValue, record

if TYPE_CHECKING:
    from .coverage import CoverageMeter

__all__ = ["phase_lines", "phase_of_label", "summarize"]


@record(frozen=True)
class Analyzed(FrozenValue):
    """One reported file: coverage.py's name for it, its counts and lines; ``measured`` and ``reporter`` (the
    data's file name and coverage.py's file reporter) only from the analysis, None from a JSON report."""

    name: str
    statements: int
    covered: int
    branches: int
    covered_branches: int
    executed: frozenset[int]
    missing: frozenset[int]
    measured: str | None = None
    reporter: Any = None


def phase_of_label(label: str, phases: Sequence[str]) -> str | None:
    """The phase a context label belongs to (``unit`` or ``static|unit``); None for labels before any phase."""
    for p in phases:
        if label == p or label.endswith("|" + p):
            return p
    return None


def summarize(
    meter: CoverageMeter,
    rootdir: Path,
    phases: Sequence[str],
    ran_phases: Iterable[str],
    attribution: bool,
) -> tuple[CoverageReport, dict[str, LineData]]:
    """Per-file, total and per-phase numbers, and the executed/missing lines of each file (for diff coverage,
    kept out of the report)."""
    cov = meter.cov
    if cov is None:
        raise EvidenceError("coverage was not measured: no coverage.py tracer was running")
    if meter.owned:
        _reuse_file_reporters(cov)
    with captured(meter.warnings):
        # flush the collector into the data every report reads: with [paths] set, the first report replaces
        # that data with a re-mapped copy, and lines flushed later would land in the discarded original
        cov.get_data()
        analyzed = analyze(cov)
    branch = bool(cov.get_option("run:branch"))
    files = [_file(rootdir, a, branch) for a in analyzed]
    lines = {f.path: LineData(set(a.executed), set(a.missing)) for f, a in zip(files, analyzed, strict=True)}
    statements = sum(a.statements for a in analyzed)
    covered = sum(a.covered for a in analyzed)
    branches = sum(a.branches for a in analyzed)
    covered_branches = sum(a.covered_branches for a in analyzed)
    totals = CoverageTotals(
        files=len(files),
        statements=statements,
        covered_lines=covered,
        branches=branches,
        covered_branches=covered_branches,
        percent=_pct(covered, statements),
        branch_percent=_pct(covered_branches, branches) if branch else None,
    )
    phase_cov = []
    if attribution:
        with captured(meter.warnings):
            executed = phase_lines(cov, list(ran_phases), phases, analyzed)
        for phase, by_file in executed.items():
            n = sum(len(v) for v in by_file.values())
            phase_cov.append(PhaseCoverage(phase, totals.statements, n, _pct(n, totals.statements)))
    source = [str(s) for key in ("run:source", "run:source_pkgs") for s in option_list(cov, key)]
    report = CoverageReport(
        status="measured",
        measured_by="pytest-cov" if meter.measured_by == "pytest-cov" else "iotops",
        branch=branch,
        source=source,
        totals=totals,
        files=files,
        phases=phase_cov,
        phase_attribution=attribution,
        note=_note(meter, attribution),
        selection=meter.selection or f"{describe_selection(cov)} (pytest-cov)",
        warnings=list(meter.warnings),
        engine="coveragepy" if meter.measured_by == "pytest-cov" else meter.engine.name,
        trace=meter.trace,
    )
    return report, lines


def analyze(cov: coverage.Coverage) -> list[Analyzed]:
    """Every reported file, sorted by name, as ``coverage json`` would report it (errors in a file ignored)."""
    try:
        from coverage.control import override_config
        from coverage.report_core import get_analysis_to_report

        prepare = cov._prepare_data_for_reporting
    except (ImportError, AttributeError):
        return _from_json(_json_report(cov))
    prepare()
    # the contexts `[report] contexts` selects, as every coverage.py report reads them
    cov.get_data().set_query_contexts(cov.config.report_contexts)
    result = []
    try:
        with override_config(cov, ignore_errors=True):
            for reporter, analysis in get_analysis_to_report(cov, None):
                nums = analysis.numbers
                result.append(
                    Analyzed(
                        name=reporter.relative_filename(),
                        statements=nums.n_statements,
                        covered=nums.n_executed,
                        branches=nums.n_branches,
                        covered_branches=nums.n_executed_branches,
                        # older coverage.py (7.5) keeps executed lines that are not statements
                        executed=frozenset(analysis.executed & analysis.statements),
                        missing=frozenset(analysis.missing),
                        measured=analysis.filename,
                        reporter=reporter,
                    )
                )
    except coverage.exceptions.NoDataError:
        return []
    except coverage.exceptions.CoverageException as exc:
        raise EvidenceError(f"coverage.py could not report: {exc}") from exc
    return sorted(result, key=lambda a: a.name)


def phase_lines(
    cov: coverage.Coverage, ran: Sequence[str], phases: Sequence[str], analyzed: Sequence[Analyzed] | None = None
) -> dict[str, dict[str, set[int]]]:
    """Each ran phase's executed statements per file: what that phase's contexts and the contexts before any
    phase executed. A phase that every context belongs to is the total."""
    data = cov.get_data()
    labels = {label: phase_of_label(label, phases) for label in data.measured_contexts()}
    analyzed = analyze(cov) if analyzed is None else analyzed
    chosen = {phase: {label for label, owner in labels.items() if owner in (None, phase)} for phase in ran}
    result: dict[str, dict[str, set[int]]] = {phase: {} for phase in ran}
    if any(a.reporter is None for a in analyzed):  # figures from JSON reports: one report per phase
        for phase in ran:
            patterns = ["^" + re.escape(label) + "$" for label in chosen[phase]]
            report = _json_report(cov, contexts=patterns) if chosen[phase] else {"files": {}}
            result[phase] = {a.name: set(a.executed) for a in _from_json(report)}
        return result
    for a in analyzed:
        by_line = data.contexts_by_lineno(typing.cast("str", a.measured))
        statements = a.reporter.lines()
        for phase in ran:
            if len(chosen[phase]) == len(labels):
                result[phase][a.name] = set(a.executed)
                continue
            seen = [line for line, contexts in by_line.items() if not chosen[phase].isdisjoint(contexts)]
            result[phase][a.name] = set(a.reporter.translate_lines(seen)) & statements
    return result


def _note(meter: CoverageMeter, attribution: bool) -> str:
    if not attribution:
        return "phase attribution unavailable (per-test contexts are in use)"
    if meter.trace.startswith("always ("):  # trace = "tests" was asked for: why the tracer ran throughout
        return f"coverage.py's tracer ran throughout, not around tests only: {meter.trace[len('always (') : -1]}"
    costs = meter.collector.rearm_seconds if meter.collector is not None else []
    if costs:  # what per-phase figures cost with probes that fire once
        return f"SlipCover's probes armed again at {len(costs)} phase boundaries in {sum(costs):.3f} s"
    return ""


def _reuse_file_reporters(cov: coverage.Coverage) -> None:
    """For the JSON fallback, where the total and each phase are separate reports over the same files: each would
    parse every file again (most of a report's cost), so this Coverage object hands out one file reporter per
    file. Set on our own object only, never on pytest-cov's."""
    made = getattr(cov, "_get_file_reporter", None)
    if made is None or getattr(made, "iotops_cached", False):
        return
    cache: dict[str, Any] = {}

    def reporter(morf: Any) -> Any:
        if not isinstance(morf, str):
            return made(morf)
        if morf not in cache:
            cache[morf] = made(morf)
        return cache[morf]

    reporter.iotops_cached = True  # type: ignore[attr-defined]
    cov._get_file_reporter = reporter  # type: ignore[method-assign]


def _json_report(cov: coverage.Coverage, contexts: list[str] | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="iotops-cov-") as tmp:
        out = Path(tmp) / "coverage.json"
        try:
            cov.json_report(outfile=str(out), ignore_errors=True, contexts=contexts)
        except coverage.exceptions.NoDataError:
            return {"files": {}}
        except coverage.exceptions.CoverageException as exc:
            raise EvidenceError(f"coverage.py could not report: {exc}") from exc
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


def _from_json(report: dict[str, Any]) -> list[Analyzed]:
    result = []
    for name, entry in sorted(report["files"].items()):
        s = entry["summary"]
        result.append(
            Analyzed(
                name=name,
                statements=s["num_statements"],
                covered=s["covered_lines"],
                branches=s.get("num_branches", 0),
                covered_branches=s.get("covered_branches", 0),
                executed=frozenset(entry.get("executed_lines", [])),
                missing=frozenset(entry.get("missing_lines", [])),
            )
        )
    return result


def _pct(part: int, whole: int) -> float:
    """100 % when there is nothing to cover, as coverage.py reports it."""
    return 100.0 * part / whole if whole else 100.0


def _file(rootdir: Path, a: Analyzed, branch: bool) -> FileCoverage:
    path = Path(a.name)
    absolute = path if path.is_absolute() else (Path.cwd() / path)
    try:
        shown = absolute.resolve().relative_to(rootdir.resolve()).as_posix()
    except ValueError:
        shown = path.as_posix()
    return FileCoverage(
        path=shown,
        statements=a.statements,
        covered_lines=a.covered,
        missing=line_ranges(sorted(a.missing)),
        branches=a.branches,
        covered_branches=a.covered_branches,
        percent=_pct(a.covered, a.statements),
        branch_percent=_pct(a.covered_branches, a.branches) if branch else None,
    )
