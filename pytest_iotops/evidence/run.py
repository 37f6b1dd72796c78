"""Collect every configured evidence source: run its command (a pipeline stage), read its file, normalise."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import field
from pathlib import Path

from ..errors import EvidenceError
from ..model import CoverageTotals, EvidenceResult, FileCoverage, Finding, Stage, TestResult
from ..values import Value, record
from .base import LineData, Parsed, assign_fingerprints
from .command import CommandFailed, run_command
from .config import EvidenceSource
from .kinds import BUILTIN_KINDS, Parser

__all__ = ["PARSERS", "Collected", "collect", "parse_file", "totals_of"]

#: the built-in kinds' parsers by name (a source's own parser is ``source.parser``)
PARSERS: dict[str, Parser] = {k.name: k.parse for k in BUILTIN_KINDS}


@record
class Collected(Value):
    """Every evidence source's results, findings, tests, line data and stage timings, collected once."""

    results: list[EvidenceResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    tests: list[TestResult] = field(default_factory=list)
    lines: dict[str, dict[str, LineData]] = field(default_factory=dict)
    stages: list[Stage] = field(default_factory=list)


def totals_of(files: Sequence[FileCoverage], branch_data: bool) -> CoverageTotals:
    statements = sum(f.statements for f in files)
    covered = sum(f.covered_lines for f in files)
    branches = sum(f.branches for f in files)
    covered_branches = sum(f.covered_branches for f in files)
    return CoverageTotals(
        files=len(files),
        statements=statements,
        covered_lines=covered,
        branches=branches,
        covered_branches=covered_branches,
        percent=100.0 * covered / statements if statements else 100.0,
        branch_percent=(100.0 * covered_branches / branches if branches else 100.0) if branch_data else None,
    )


def parse_file(source: EvidenceSource, rootdir: Path) -> Parsed:
    """Parse one source and apply the one rule every kind obeys: a tool that examined nothing is an error."""
    run_in_process = source.kind_spec.run_in_process
    if source.path is None and run_in_process is not None:
        parsed = run_in_process(source, rootdir)
        where = f"{source.kind} in process on {list(source.targets)}"
    else:
        assert source.path is not None  # config guarantees a path for every other case
        parsed = source.parser(rootdir / source.path, source, rootdir)
        where = str(rootdir / source.path)
    if parsed.scanned == 0:
        raise EvidenceError(
            f"{where}: the {source.kind} report saw nothing (0 {parsed.scanned_what}): "
            "a tool that examined nothing cannot pass a gate",
            "saw-nothing",
        )
    return parsed


Progress = Callable[[str], None]


def collect(
    sources: Sequence[EvidenceSource], rootdir: Path, now: Callable[[], str], progress: Progress | None = None
) -> Collected:
    """Every source in order; ``progress`` gets a line when a command starts and when each source is done, so
    a long ``cargo clippy`` does not look hung."""
    out = Collected()
    for source in sources:
        started_at, start = now(), time.perf_counter()
        if progress is not None and source.command:
            progress(f"iotops: evidence {source.name}: running {' '.join(source.command)[:100]} …")
        result = EvidenceResult(source.name, source.kind, source.path, "ok")
        try:
            parsed = _one(source, rootdir, result)
        except EvidenceError as exc:
            absent = (
                not source.required
                and not source.command
                and source.path is not None
                and not (rootdir / source.path).exists()
            )
            result.status = "absent" if absent else "error"
            result.error = str(exc)
            result.reason = "" if absent else exc.reason
            parsed = None
        except Exception as exc:
            result.status = "error"
            result.error = f"{source.kind} evidence could not be read: {type(exc).__name__}: {exc}"
            result.reason = "unreadable"
            parsed = None
        if parsed is not None:
            _merge(out, source, parsed, result)
        out.results.append(result)
        if progress is not None:
            progress(_done_line(result, source.family, time.perf_counter() - start))
        out.stages.append(
            Stage(f"evidence:{source.name}", "evidence", started_at, round(time.perf_counter() - start, 6))
        )
    return out


def _done_line(result: EvidenceResult, family: str, seconds: float) -> str:
    if result.status == "ok":
        if result.totals is not None:
            what = f"{result.totals.files} files, {result.totals.covered_lines}/{result.totals.statements} lines"
        else:
            what = f"{result.tests} tests" if family == "tests" else f"{result.findings} findings"
        return f"iotops: evidence {result.name}: read ({what}) in {seconds:.1f} s"
    first = result.error.splitlines()[0][:160] if result.error else ""
    return f"iotops: evidence {result.name}: {result.status.upper()} {result.reason} in {seconds:.1f} s: {first}"


def _one(source: EvidenceSource, rootdir: Path, result: EvidenceResult) -> Parsed:
    path = rootdir / source.path if source.path else None
    if source.command:
        began = time.time()
        try:
            result.command = run_command(
                source.command,
                rootdir / source.cwd,
                source.timeout,
                source.ok_exit_codes,
                stdout_to=path if source.capture_stdout else None,
            )
        except CommandFailed as exc:
            result.command = exc.result
            raise
        if path is not None and (not path.exists() or path.stat().st_mtime < began - 1):
            raise EvidenceError(f"{path}: the command did not write this file (it is missing or older than the run)")
    return parse_file(source, rootdir)


def _merge(out: Collected, source: EvidenceSource, parsed: Parsed, result: EvidenceResult) -> None:
    result.tool_version = parsed.tool_version
    result.notes = parsed.notes
    if parsed.files is not None:
        result.files = parsed.files
        result.totals = totals_of(parsed.files, parsed.branch_data)
        out.lines[source.name] = parsed.lines
    for finding in parsed.findings:
        finding.source = source.name
    assign_fingerprints(parsed.findings)
    out.findings.extend(parsed.findings)
    result.findings = len(parsed.findings)
    out.tests.extend(parsed.tests)
    result.tests = len(parsed.tests)
