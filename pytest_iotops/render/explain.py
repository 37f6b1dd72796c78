"""The verdict and every decision of a run, in plain words (``iotops explain``)."""

from __future__ import annotations

from ..model import GateResult, RunReport
from ..numbers import fmt_measured, fmt_threshold
from .deploy import outcome_words, summary_words
from .fleet import fleet_sentences

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


def _headline(report: RunReport) -> list[str]:
    v, run = report.verdict, report.run
    lines = [
        f"The run {'PASSED' if v.status == 'passed' else 'FAILED'} with exit code {v.exit_code}.",
        f"Commit {run.git.commit or 'unknown'} on {run.git.branch or 'an unknown branch'}, "
        f"started {run.started_at}, took {run.duration:.1f} s"
        + (f" on {run.workers} xdist workers." if run.workers else "."),
    ]
    return lines + (["", "Why:"] + [f"- {r}" for r in v.reasons] if v.reasons else [])


def _phases(report: RunReport) -> list[str]:
    ran = [p for p in report.phases if p.tests]
    lines = ["", "Phases, in pyramid order:"] if ran else []
    for p in ran:
        extra = f", {p.blocked} blocked because an earlier phase failed" if p.blocked else ""
        cov = f", its tests alone cover {p.coverage_percent:.1f} % of the lines" if p.coverage_percent else ""
        lines.append(
            f"- {p.name}: {p.status}; {p.tests} tests, {p.passed + p.xpassed} passed, "
            f"{p.failed + p.errors} failed{extra}{cov}."
        )
    return lines


def _failed_tests(report: RunReport) -> list[str]:
    failed = [t for t in report.tests if t.outcome in ("failed", "error")]
    if not failed:
        return []
    lines = ["", f"Failed tests ({len(failed)}):"]
    lines += [f"- {t.nodeid} ({t.phase}, {t.outcome}): {t.message or 'no message'}" for t in failed[:20]]
    return lines + ([f"- ... and {len(failed) - 20} more (see the run report)"] if len(failed) > 20 else [])


def _gates(report: RunReport) -> list[str]:
    if not report.gates:
        return ["", "No gates were configured."]
    return ["", "Gates:"] + [_gate(g) for g in report.gates]


def _evidence_and_ignores(report: RunReport) -> list[str]:
    lines: list[str] = []
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
    return lines


def _deployments(report: RunReport) -> list[str]:
    if not report.deployments:
        return []
    return ["", f"Deployments ({summary_words(report)}):"] + [
        f"- {dep.test}: {dep.strategy} from {dep.stable} to {dep.candidate} on the {dep.target} target was "
        f"{outcome_words(dep)} ({dep.reason}); {dep.active} serves all traffic; the candidate held at most "
        f"{dep.exposure} % of it."
        for dep in report.deployments
    ]


def _diff(report: RunReport) -> list[str]:
    d = report.diff
    if d is None:
        return []
    shown = f"{d.percent:.2f} % of {d.coverable} changed lines covered" if d.percent is not None else d.status
    return [
        "",
        f"Diff against {d.base} (merge base {d.merge_base[:12] or 'unknown'}): {shown}."
        + (f" {d.note}" if d.note else ""),
    ]


_SECTIONS = (_headline, _phases, _failed_tests, _gates, _evidence_and_ignores, _deployments, fleet_sentences, _diff)


def explain(report: RunReport) -> str:
    """Every section in order; each says nothing when it has nothing to say."""
    return "\n".join(line for section in _SECTIONS for line in section(report)) + "\n"
