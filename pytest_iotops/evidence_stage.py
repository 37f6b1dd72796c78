"""The evidence stage of the pipeline: collect tool outputs, apply ignores and the baseline, measure the diff.

Runs on the controller only, after the test phases and before the gates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import field
from pathlib import Path

from .config import Settings
from .diffcov import changed_lines, diff_coverage
from .errors import EvidenceError
from .evidence.base import LineData
from .evidence.run import Collected, collect
from .findings import apply_baseline, apply_ignores, load_baseline, write_baseline
from .model import CoverageReport, DiffCoverage, EvidenceResult, IgnoreRecord
from .render.output import write_output
from .values import Value, record

__all__ = ["EvidenceStage", "run_evidence_stage"]


@record
class EvidenceStage(Value):
    """The evidence stage's outcome: what was collected, the ignores, the diff coverage, the baseline written."""

    collected: Collected
    ignores: list[IgnoreRecord] = field(default_factory=list)
    diff: DiffCoverage | None = None
    baseline_written: Path | None = None


def run_evidence_stage(
    settings: Settings,
    rootdir: Path,
    python: CoverageReport | None,
    python_lines: Mapping[str, LineData],
    now: Callable[[], str],
    today: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
) -> EvidenceStage:
    stage = EvidenceStage(collect(settings.evidence, rootdir, now, progress))
    findings = stage.collected.findings
    stage.ignores = apply_ignores(findings, settings.ignores, today or dt.date.today())
    if settings.baseline:
        path = rootdir / settings.baseline
        if settings.update_baseline:
            stage.baseline_written = write_output(path, write_baseline(findings))
            apply_baseline(findings, {f.fingerprint for f in findings})
        else:
            try:
                apply_baseline(findings, load_baseline(path))
            except EvidenceError as exc:
                stage.collected.results.append(
                    EvidenceResult("baseline", "baseline", settings.baseline, "error", error=str(exc))
                )
    stage.diff = _diff(settings, rootdir, python, python_lines, stage.collected)
    return stage


def _python_roots(rootdir: Path, python: CoverageReport | None) -> list[tuple[str, frozenset[str]]]:
    roots = []
    for source in python.source if python is not None and python.status == "measured" else []:
        path = Path(source)
        if path.is_absolute():
            try:
                roots.append((path.resolve().relative_to(rootdir.resolve()).as_posix() or ".", frozenset({".py"})))
            except ValueError:
                continue
        else:  # a package name: its directory is found through the measured files
            roots.append((source.replace(".", "/"), frozenset({".py"})))
    return roots


def _diff(
    settings: Settings,
    rootdir: Path,
    python: CoverageReport | None,
    python_lines: Mapping[str, LineData],
    collected: Collected,
) -> DiffCoverage | None:
    base = settings.diff.base
    if base is None:
        return None
    data: dict[str, Mapping[str, LineData]] = {"python": python_lines} if python_lines else {}
    data.update(collected.lines)
    roots: list[tuple[str, frozenset[str]]] = _python_roots(rootdir, python)
    python_measured = python is not None and python.status == "measured"
    if not python_measured:  # nothing measured Python here: a changed .py file must be in some evidence's data
        roots.append((".", frozenset({".py"})))
    for source in settings.evidence:
        if source.name in collected.lines:
            suffixes = frozenset(Path(p).suffix for p in collected.lines[source.name]) or frozenset({".rs"})
            roots.append((source.root, suffixes))
    try:
        merge_base, changed = changed_lines(rootdir, base)
    except EvidenceError as exc:
        return DiffCoverage("error", base, "", [], [], 0, 0, None, str(exc))
    diff = diff_coverage(base, merge_base, changed, data, roots, settings.diff.include, settings.diff.exclude)
    python_files = [p for p in diff.unknown_files if p.endswith(".py")]
    if not python_measured and python_files:
        diff.note = (
            f"{len(python_files)} changed Python file(s) have no coverage data ({', '.join(python_files[:5])}): "
            "Python coverage is measured by pytest --iotops, not by iotops gate (or add a coveragepy-json or "
            "cobertura evidence source; list files that need none in diff.exclude)"
        )
    return diff
