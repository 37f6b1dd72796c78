"""The verdict and every decision of a run, in plain words (``iotops explain``)."""

from __future__ import annotations

from .model import GateResult, RunReport
from .numbers import fmt_measured, fmt_threshold
from .render.deploy import outcome_words, summary_words

__all__ = ["explain"]

_STATUS = {
    "passed": "passed",
    "failed": "FAILED",
    "error": "could not be evaluated (ERROR)",
    "skipped": "was skipped on purpose",
}


def _gate(g: GateResult) -> str:
    unit = f" {g.unit}" if g.unit else ""
    words = f"- {g.id} {_STATUS[g.status]}"
    if g.measured is not None and g.threshold is not None:
        need = "at least" if g.comparison == ">=" else "at most"
        words += (
            f": measured {fmt_measured(g.measured, g.threshold, g.comparison, g.unit)}{unit}, "
            f"{need} {fmt_threshold(g.threshold)}{unit} required"
        )
        if g.threshold_source:
            words += f" (threshold from {g.threshold_source})"
    return words + f". {g.message}"


def explain(report: RunReport) -> str:
    v = report.verdict
    run = report.run
    lines = [
        f"The run {'PASSED' if v.status == 'passed' else 'FAILED'} with exit code {v.exit_code}.",
        f"Commit {run.git.commit or 'unknown'} on {run.git.branch or 'an unknown branch'}, "
        f"started {run.started_at}, took {run.duration:.1f} s"
        + (f" on {run.workers} xdist workers." if run.workers else "."),
    ]
    if v.reasons:
        lines += ["", "Why:"] + [f"- {r}" for r in v.reasons]
    ran = [p for p in report.phases if p.tests]
    if ran:
        lines += ["", "Phases, in pyramid order:"]
        for p in ran:
            extra = f", {p.blocked} blocked because an earlier phase failed" if p.blocked else ""
            cov = f", its tests alone cover {p.coverage_percent:.1f} % of the lines" if p.coverage_percent else ""
            lines.append(
                f"- {p.name}: {p.status}; {p.tests} tests, {p.passed + p.xpassed} passed, "
                f"{p.failed + p.errors} failed{extra}{cov}."
            )
    failed = [t for t in report.tests if t.outcome in ("failed", "error")]
    if failed:
        lines += ["", f"Failed tests ({len(failed)}):"]
        lines += [f"- {t.nodeid} ({t.phase}, {t.outcome}): {t.message or 'no message'}" for t in failed[:20]]
        lines += [f"- ... and {len(failed) - 20} more (see the run report)"] if len(failed) > 20 else []
    if report.gates:
        lines += ["", "Gates:"] + [_gate(g) for g in report.gates]
    else:
        lines += ["", "No gates were configured."]
    bad = [e for e in report.evidence if e.status == "error"]
    if bad:
        lines += ["", "Evidence that could not be read:"] + [f"- {e.name} ({e.kind}): {e.error}" for e in bad]
    active = [i for i in report.ignores if not i.expired]
    expired = [i for i in report.ignores if i.expired]
    if active:
        lines += ["", "Accepted findings (ignores in force):"]
        lines += [f"- {i.id} until {i.expires}: {i.reason} ({i.matched} matched)" for i in active]
    if expired:
        lines += ["", "Expired ignores (their findings count again):"]
        lines += [f"- {i.id} expired {i.expires}: {i.reason}" for i in expired]
    if report.deployments:
        lines += ["", f"Deployments ({summary_words(report)}):"]
        for dep in report.deployments:
            lines.append(
                f"- {dep.test}: {dep.strategy} from {dep.stable} to {dep.candidate} on the {dep.target} target was "
                f"{outcome_words(dep)} ({dep.reason}); {dep.active} serves all traffic; the candidate held at most "
                f"{dep.exposure} % of it."
            )
    if report.diff is not None:
        d = report.diff
        shown = f"{d.percent:.2f} % of {d.coverable} changed lines covered" if d.percent is not None else d.status
        lines += [
            "",
            f"Diff against {d.base} (merge base {d.merge_base[:12] or 'unknown'}): {shown}."
            + (f" {d.note}" if d.note else ""),
        ]
    return "\n".join(lines) + "\n"
