"""A run report as the history's rows: pure, one function per table, so both back-ends store the same thing.
The whole report is kept too (compressed JSON): nothing a later question needs is lost because no column held
it."""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import field
from pathlib import Path
from typing import Any

from ..model import RunReport
from ..values import Value, record

__all__ = ["CI_JOB", "Rows", "deployment_rows", "run_rows"]

#: where CI names the job that ran (the first set one is kept)
CI_JOB = ("IOTOPS_CI_JOB", "GITHUB_JOB", "CI_JOB_NAME", "JOB_NAME", "BUILD_DEFINITIONNAME")
#: deployment outcomes as DORA counts them: a success, a failure of the change, or neither (the stable version
#: degraded, a person interrupted it, the fleet's data could not decide)
_DEPLOY_RESULT = {
    "promoted": "success",
    "rolled_back": "failure",
    "aborted": "failure",
    "error": "failure",
    "halted": "none",
    "interrupted": "none",
    "inconclusive": "none",
}


@record
class Rows(Value):
    run: tuple[Any, ...]
    tests: list[tuple[Any, ...]] = field(default_factory=list)
    phases: list[tuple[Any, ...]] = field(default_factory=list)
    coverage_files: list[tuple[Any, ...]] = field(default_factory=list)
    gates: list[tuple[Any, ...]] = field(default_factory=list)
    findings: list[tuple[Any, ...]] = field(default_factory=list)
    deployments: list[tuple[Any, ...]] = field(default_factory=list)


def deployment_rows(run_id: str, report: RunReport) -> list[tuple[Any, ...]]:
    """Deployments and fleet rollouts, each with the environment it went to, its DORA result (in ``detail``,
    with the decisions) and when it ended."""
    rows: list[tuple[Any, ...]] = []
    for i, d in enumerate(report.deployments):
        detail = {
            "result": _DEPLOY_RESULT.get(d.outcome, "none"),
            "outcome": d.outcome,
            "reason": d.reason,
            "steps": [[s.index, s.weight, s.verdict, s.decision, s.score] for s in d.steps],
        }
        started = d.started_at or report.run.started_at
        rows.append(
            (run_id, i, d.strategy, d.test, d.target, d.candidate, d.outcome, started, d.duration, len(d.steps),
             json.dumps(detail, separators=(",", ":")))
        )  # fmt: skip
    for j, r in enumerate(report.fleet_rollouts):
        detail = {
            "result": _DEPLOY_RESULT.get(r.outcome, "none"),
            "outcome": r.outcome,
            "rule": r.rule,
            "decisions": [[x.t, x.wave, x.action, x.rule] for x in r.decisions],
        }
        rows.append(
            (run_id, len(report.deployments) + j, "fleet", r.test, f"fleet:{r.broker}", r.new, r.outcome,
             report.run.started_at, r.wall_seconds, len(r.waves), json.dumps(detail, separators=(",", ":")))
        )  # fmt: skip
    return rows


def run_rows(run_id: str, report: RunReport, environ: dict[str, str] | None = None) -> Rows:
    env = dict(os.environ) if environ is None else environ
    meta, cov = report.run, report.coverage
    measured = cov is not None and cov.status == "measured"
    shard = f"{meta.shard.index}/{meta.shard.total}" if meta.shard is not None else None
    blob = zlib.compress(report.to_json().encode(), 1)
    run = (
        run_id, meta.started_at, meta.finished_at, meta.duration, Path(meta.rootdir).name, meta.git.branch,
        meta.git.commit, meta.git.committed_at, next((env[k] for k in CI_JOB if env.get(k)), None), shard,
        report.verdict.status, report.verdict.exit_code, len(report.tests),
        sum(1 for t in report.tests if t.outcome in ("failed", "error")),
        cov.totals.percent if measured and cov else None,
        cov.totals.branch_percent if measured and cov else None, report.schema_version, blob,
    )  # fmt: skip
    rows = Rows(run)
    rows.tests = [
        (run_id, t.nodeid, t.phase, t.outcome, t.duration, ",".join(t.attempts), int(t.flaky)) for t in report.tests
    ]
    rows.phases = [
        (run_id, p.name, p.tests, p.failed + p.errors, p.status, p.duration, p.coverage_percent) for p in report.phases
    ]
    if measured and cov is not None:
        rows.coverage_files = [(run_id, f.path, f.statements, f.covered_lines, f.percent) for f in cov.files]
    rows.gates = [(run_id, g.id, g.status, g.measured, g.threshold) for g in report.gates]
    rows.findings = [(run_id, f.fingerprint, f.tool, f.rule, f.severity, f.status) for f in report.findings]
    rows.deployments = deployment_rows(run_id, report)
    return rows
