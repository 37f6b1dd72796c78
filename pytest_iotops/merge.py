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
    pipeline.merged_from = [str(p) for p in paths]
    for _, report in parts:
        for test in report.tests:
            pipeline.recorder.tests[test.nodeid] = test
            if test.outcome in ("failed", "error"):
                pipeline.recorder.failed_phases().add(test.phase)
        pipeline.recorder.stages.extend(s for s in report.stages if s.kind in ("collect", "phase"))
        pipeline.recorder.deployments.extend(report.deployments)
    pipeline.collected.update(t.phase for _, r in parts for t in r.tests)
    _combine_coverage(pipeline, parts)
    any_failed = any(t.outcome in ("failed", "error") for _, r in parts for t in r.tests)
    interrupted = next((r.verdict.exit_code for _, r in parts if r.verdict.exit_code not in (0, 1)), 0)
    pipeline.finish(interrupted or int(any_failed))
    return pipeline


def _combine_coverage(pipeline: Pipeline, parts: Sequence[tuple[Path, RunReport]]) -> None:
    states = {r.coverage.status if r.coverage else "none" for _, r in parts}
    if states == {"off"} or not pipeline.settings.coverage.enabled:
        pipeline.coverage_off_reason = next((r.coverage.note for _, r in parts if r.coverage), "turned off")
        return
    files = []
    for path, report in parts:
        if report.coverage_data is None:
            shard = report.run.shard
            raise MergeError(
                f"{path}: shard {shard.index if shard else '?'} has no coverage data to combine "
                "(measured by pytest-cov, or coverage failed)"
            )
        files.append(path.parent / report.coverage_data)
    cov = new_coverage([])
    source = next((r.coverage.source for _, r in parts if r.coverage and r.coverage.source), [])
    if source:
        cov.set_option("run:source", source)
    cov.set_option("run:branch", any(r.coverage.branch for _, r in parts if r.coverage))
    measured = [r.coverage for _, r in parts if r.coverage is not None]
    meter = CoverageMeter(cov, owned=False, measured_by="iotops", selection=next((c.selection for c in measured), ""))
    meter.warnings = list(dict.fromkeys(w for c in measured for w in c.warnings))
    import_data(meter, files)
    pipeline.meter = meter
