"""A Markdown summary for pull-request comments and ``$GITHUB_STEP_SUMMARY``: verdict, pyramid, gates, top
findings. Cell text is escaped: GitHub renders HTML inside Markdown, and a test name may contain ``|``."""

from __future__ import annotations

import re

from ..model import RunReport
from .deploy import outcome_words, summary_words
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


def _row(cells: list[object]) -> str:
    return "| " + " | ".join(md_escape(c) for c in cells) + " |"


def render_markdown(report: RunReport, top: int = 10) -> str:
    v = report.verdict
    icon = "✅" if v.status == "passed" else "❌"
    lines = [f"## {icon} pytest-iotops: {v.status.upper()} (exit {v.exit_code})", "", md_escape(v.summary), ""]
    lines += [_row([*PHASE_COLUMNS, "time (s)", "coverage"]), "|---|" + "---:|" * (len(PHASE_COLUMNS) + 1)]
    for p in report.phases:
        cov = "-" if p.coverage_percent is None else f"{p.coverage_percent:.1f} %"
        lines.append(_row([*phase_cells(p), f"{p.duration:.2f}", cov]))
    if report.coverage is not None and report.coverage.status == "measured":
        t = report.coverage.totals
        branch = f", branch {t.branch_percent:.2f} %" if t.branch_percent is not None else ""
        lines += ["", f"Coverage: line {t.percent:.2f} %{branch} over {t.files} files."]
    if report.diff is not None and report.diff.percent is not None:
        lines.append(
            f"Diff coverage against {md_code(report.diff.base)}: {report.diff.percent:.2f} % "
            f"({report.diff.covered}/{report.diff.coverable} changed lines)."
        )
    if report.gates:
        lines += ["", "### Gates", "", _row(["gate", "measured", "threshold", "status"]), "|---|---:|---:|---|"]
        for g in report.gates:
            measured = gate_measured(g.measured, g.threshold, g.comparison, g.unit)
            lines.append(_row([g.id, measured, gate_threshold(g.threshold, g.comparison, g.unit), g.status.upper()]))
    if report.deployments:
        lines += [
            "",
            f"### Deployments ({summary_words(report)})",
            "",
            _row(["strategy", "versions", "target", "outcome", "exposure", "availability", "test"]),
            "|---|---|---|---|---:|---:|---|",
        ]
        for d in report.deployments:
            availability = "-" if d.availability is None else f"{d.availability:.2%}"
            lines.append(
                _row(
                    [
                        d.strategy,
                        f"{d.stable} → {d.candidate}",
                        d.target,
                        outcome_words(d),
                        f"{d.exposure} %",
                        availability,
                        d.test,
                    ]
                )
            )
    open_findings = open_by_severity(report.findings)
    if open_findings:
        lines += [
            "",
            f"### Top findings ({len(open_findings)} open)",
            "",
            _row(["severity", "tool", "rule", "location", "message"]),
            "|---|---|---|---|---|",
        ]
        for f in open_findings[:top]:
            lines.append(_row([f.severity, f.tool, f.rule, finding_location(f), f.message[:140]]))
    failed = [t for t in report.tests if t.outcome in ("failed", "error")]
    if failed:
        lines += ["", f"### Failed tests ({len(failed)})", ""]
        lines += [f"- {md_code(t.nodeid)} ({t.phase}): {md_escape(t.message[:160])}" for t in failed[:top]]
    return "\n".join(lines) + "\n"
