"""A Markdown summary for pull-request comments and ``$GITHUB_STEP_SUMMARY``: verdict, pyramid, gates, top
findings. Cell text is escaped: GitHub renders HTML inside Markdown, and a test name may contain ``|``."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..model import RunReport
from .deploy import outcome_words, summary_words
from .fleet import fleet_rows
from .fleet import outcome_words as fleet_outcome
from .present import finding_location, gate_measured, gate_threshold, open_by_severity
from .view import PHASE_COLUMNS, phase_cells

__all__ = ["md_code", "md_escape", "render_markdown"]


def md_escape(text: object) -> str:
    out = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    out = out.replace("|", "\\|").replace("`", "\\`").replace("*", "\\*").replace("_", "\\_")
    return " ".join(out.split())


def md_code(text: object) -> str:
    """A CommonMark code span: its content is literal (no backslash escapes), fenced by more backticks than
    it contains, padded when it starts or ends with one."""
    content = " ".join(str(text).split())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", content)), default=0) + 1)
    pad = " " if content.startswith("`") or content.endswith("`") else ""
    return f"{fence}{pad}{content}{pad}{fence}"


def _row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(md_escape(c) for c in cells) + " |"


def _headline_and_pyramid(report: RunReport) -> list[str]:
    v = report.verdict
    icon = "✅" if v.status == "passed" else "❌"
    lines = [f"## {icon} pytest-iotops: {v.status.upper()} (exit {v.exit_code})", "", md_escape(v.summary), ""]
    lines += [_row([*PHASE_COLUMNS, "time (s)", "coverage"]), "|---|" + "---:|" * (len(PHASE_COLUMNS) + 1)]
    for p in report.phases:
        cov = "-" if p.coverage_percent is None else f"{p.coverage_percent:.1f} %"
        lines.append(_row([*phase_cells(p), f"{p.duration:.2f}", cov]))
    return lines


def _coverage(report: RunReport) -> list[str]:
    lines = []
    if report.coverage is not None and report.coverage.status == "measured":
        t = report.coverage.totals
        branch = f", branch {t.branch_percent:.2f} %" if t.branch_percent is not None else ""
        lines += ["", f"Coverage: line {t.percent:.2f} %{branch} over {t.files} files."]
    d = report.diff
    if d is not None and d.percent is not None:
        lines.append(
            f"Diff coverage against {md_code(d.base)}: {d.percent:.2f} % ({d.covered}/{d.coverable} changed lines)."
        )
    return lines


def _gates(report: RunReport) -> list[str]:
    if not report.gates:
        return []
    lines = ["", "### Gates", "", _row(["gate", "measured", "threshold", "status"]), "|---|---:|---:|---|"]
    for g in report.gates:
        measured = gate_measured(g.measured, g.threshold, g.comparison, g.unit)
        lines.append(_row([g.id, measured, gate_threshold(g.threshold, g.comparison, g.unit), g.status.upper()]))
    return lines


def _deployments(report: RunReport) -> list[str]:
    if not report.deployments:
        return []
    lines = [
        "",
        f"### Deployments ({summary_words(report)})",
        "",
        _row(["strategy", "versions", "target", "outcome", "exposure", "availability", "test"]),
        "|---|---|---|---|---:|---:|---|",
    ]
    for d in report.deployments:
        availability = "-" if d.availability is None else f"{d.availability:.2%}"
        versions = f"{d.stable} → {d.candidate}"
        lines.append(_row([d.strategy, versions, d.target, outcome_words(d), f"{d.exposure} %", availability, d.test]))
    return lines


def _fleet(report: RunReport) -> list[str]:
    lines = []
    for r in report.fleet_rollouts:
        lines += [
            "",
            f"### Fleet rollout {r.old} → {r.new} ({r.devices} devices, {r.broker}): {fleet_outcome(r)}",
            "",
            f"Decided by {r.rule}. The fleet now runs {', '.join(f'{v}: {n}' for v, n in r.versions.items())}"
            + (f"; **{len(r.problems)} checks failed**" if r.problems else "; every check held")
            + f" ({r.test}).",
            "",
            _row(["wave", "devices", "succeeded", "failed", "timed out", "rejected", "canceled", "failure rate"]),
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
            *(_row(list(row)) for row in fleet_rows(r)),
        ]
    return lines


def _findings_and_failures(report: RunReport, top: int) -> list[str]:
    lines: list[str] = []
    open_findings = open_by_severity(report.findings)
    if open_findings:
        lines += [
            "",
            f"### Top findings ({len(open_findings)} open)",
            "",
            _row(["severity", "tool", "rule", "location", "message"]),
            "|---|---|---|---|---|",
        ]
        lines += [_row([f.severity, f.tool, f.rule, finding_location(f), f.message[:140]]) for f in open_findings[:top]]
    failed = [t for t in report.tests if t.outcome in ("failed", "error")]
    if failed:
        lines += ["", f"### Failed tests ({len(failed)})", ""]
        lines += [f"- {md_code(t.nodeid)} ({t.phase}): {md_escape(t.message[:160])}" for t in failed[:top]]
    return lines


def render_markdown(report: RunReport, top: int = 10) -> str:
    """Verdict and pyramid, coverage, gates, deployments, the top findings and failed tests."""
    lines = [
        *_headline_and_pyramid(report),
        *_coverage(report),
        *_gates(report),
        *_deployments(report),
        *_fleet(report),
        *_findings_and_failures(report, top),
    ]
    return "\n".join(lines) + "\n"
