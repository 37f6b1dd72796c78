"""``iotops merge``: partial reports of a sharded run become one report — tests joined, coverage data combined
— and only then are evidence collected and the gates evaluated, once. No verdict while a shard is missing,
given twice, or from another commit: a partial upload must never look like a passing run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .config import Settings
from .coverage import CoverageMeter, import_data, new_coverage
from .errors import IotopsError
from .model import RunReport, load_report
from .pipeline import Pipeline, RunContext
from .registry import plugin_manager

__all__ = ["MergeError", "check_parts", "merge_parts"]


class MergeError(IotopsError):
    """The parts do not make one complete run."""


def check_parts(parts: Sequence[tuple[Path, RunReport]], expect: int) -> None:
    seen: dict[int, Path] = {}
    for path, report in parts:
        shard = report.run.shard
        if shard is None:
            raise MergeError(f"{path}: not a partial report (it was not written with --iotops-shard)")
        if shard.total != expect:
            raise MergeError(f"{path}: shard {shard.index}/{shard.total}, but --expect {expect}")
        if shard.index in seen:
            raise MergeError(f"shard {shard.index}/{expect} given twice: {seen[shard.index]} and {path}")
        seen[shard.index] = path
    missing = sorted(set(range(1, expect + 1)) - set(seen))
    if missing:
        raise MergeError(
            f"shard(s) {', '.join(f'{m}/{expect}' for m in missing)} missing: no verdict from a partial run"
        )
    commits = {r.run.git.commit for _, r in parts if r.run.git.commit}
    if len(commits) > 1:
        raise MergeError(f"the shards ran on different commits: {', '.join(sorted(commits))}")
    owners: dict[str, Path] = {}
    for path, report in parts:
        for test in report.tests:
            if test.nodeid in owners:
                raise MergeError(f"{test.nodeid} is in two shards ({owners[test.nodeid]} and {path})")
            owners[test.nodeid] = path


def merge_parts(paths: Sequence[Path], expect: int, settings: Settings, rootdir: Path) -> Pipeline:
    parts = [(p, load_report(p)) for p in paths]
    check_parts(parts, expect)
    parts.sort(key=lambda part: part[1].run.shard.index if part[1].run.shard else 0)
    first = parts[0][1]
    pipeline = Pipeline(
        settings,
        RunContext(
            rootdir=rootdir,
            args=["merge", *map(str, paths)],
            pytest_version=first.run.pytest,
            started_at=first.run.started_at,
        ),
    )
    pipeline.use_plugins(plugin_manager())
    for path, report in parts:
        pipeline.adopt(path, report)
    _combine_coverage(pipeline, parts)
    any_failed = any(t.outcome in ("failed", "error") for _, r in parts for t in r.tests)
    interrupted = next((r.verdict.exit_code for _, r in parts if r.verdict.exit_code not in (0, 1)), 0)
    pipeline.finish(interrupted or int(any_failed))
    return pipeline


def _combine_coverage(pipeline: Pipeline, parts: Sequence[tuple[Path, RunReport]]) -> None:
    states = {r.coverage.status if r.coverage else "none" for _, r in parts}
    if states == {"off"} or not pipeline.settings.coverage.enabled:
        pipeline.use_meter(None, next((r.coverage.note for _, r in parts if r.coverage), "turned off"))
        return
    files = [_data_file(path, report) for path, report in parts]
    measured = [r.coverage for _, r in parts if r.coverage is not None]
    cov = new_coverage([])
    source = next((c.source for c in measured if c.source), [])
    if source:
        cov.set_option("run:source", source)
    cov.set_option("run:branch", any(c.branch for c in measured))
    meter = CoverageMeter(cov, owned=False, measured_by="iotops", selection=next((c.selection for c in measured), ""))
    meter.warnings = list(dict.fromkeys(w for c in measured for w in c.warnings))
    import_data(meter, files)
    pipeline.use_meter(meter)


def _data_file(path: Path, report: RunReport) -> Path:
    """The coverage data a part's run report names; a part without it cannot be combined (fail closed)."""
    if report.coverage_data is None:
        shard = report.run.shard
        raise MergeError(
            f"{path}: shard {shard.index if shard else '?'} has no coverage data to combine "
            "(measured by pytest-cov, or coverage failed)"
        )
    return path.parent / report.coverage_data
