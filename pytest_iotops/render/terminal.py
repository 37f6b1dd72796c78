"""The terminal summary, a pure rendering of the run report into (text, style) lines."""

from __future__ import annotations

from ..model import GateResult, PhaseResult, RunReport
from ..numbers import fmt_measured, fmt_threshold

__all__ = ["Line", "gates_table", "pyramid_table", "summary_lines", "table"]

Line = tuple[str, str]  # (text, style): style is "", "green", "red", "yellow" or "bold"

_STATUS_STYLE = {"passed": "green", "failed": "red", "error": "red", "skipped": "yellow"}


def table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def fmt(row: list[str]) -> str:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        return "  ".join(cells).rstrip()

    return [fmt(header), *(fmt(r) for r in rows)]


def _phase_row(p: PhaseResult, coverage: str) -> list[str]:
    return [
        p.name,
        str(p.tests),
        str(p.passed + p.xpassed),
        str(p.failed),
        str(p.errors),
        str(p.skipped + p.xfailed),
        str(p.blocked),
        f"{p.duration:.2f}s",
        coverage,
    ]


def pyramid_table(report: RunReport) -> list[str]:
    cov = report.coverage
    by_phase = {c.phase: c for c in cov.phases} if cov is not None else {}
    rows = []
    for p in report.phases:
        measured = by_phase.get(p.name)
        rows.append(_phase_row(p, f"{measured.percent:.1f} %" if measured else "-"))
    total = PhaseResult(name="total", order=len(report.phases))
    for p in report.phases:
        for attr in ("tests", "passed", "failed", "errors", "skipped", "blocked", "xfailed", "xpassed", "duration"):
            setattr(total, attr, getattr(total, attr) + getattr(p, attr))
    measured_total = f"{cov.totals.percent:.1f} %" if cov is not None and cov.status == "measured" else "-"
    rows.append(_phase_row(total, measured_total))
    header = ["phase", "tests", "passed", "failed", "error", "skipped", "blocked", "time", "coverage"]
    return table(header, rows, right=set(range(1, 9)))


def _gate_cells(g: GateResult) -> list[str]:
    unit = f" {g.unit}" if g.unit else ""
    measured = "-" if g.measured is None else fmt_measured(g.measured, g.threshold, g.comparison, g.unit) + unit
    threshold = (
        "-" if g.threshold is None else f"{'≥' if g.comparison == '>=' else '≤'} " + (fmt_threshold(g.threshold) + unit)
    )
    return [g.id, measured, threshold, g.status.upper()]


def gates_table(report: RunReport) -> list[Line]:
    if not report.gates:
        return [("no gates configured (set thresholds in [tool.iotops]; see docs/configuration.md)", "yellow")]
    lines = table(["gate", "measured", "threshold", "status"], [_gate_cells(g) for g in report.gates], {1, 2})
    out: list[Line] = [(lines[0], "bold")]
    out += [(text, _STATUS_STYLE[g.status]) for text, g in zip(lines[1:], report.gates, strict=True)]
    out += [(f"  {g.id}: {g.message}", _STATUS_STYLE[g.status]) for g in report.gates if g.status != "passed"]
    return out


def summary_lines(report: RunReport) -> list[Line]:
    """Pyramid, coverage note, gates, verdict — the last line is the verdict, styled by its status."""
    lines: list[Line] = [(text, "bold" if i == 0 else "") for i, text in enumerate(pyramid_table(report))]
    cov = report.coverage
    if cov is not None and cov.status != "measured":
        lines.append((f"coverage {cov.status}: {cov.note}", "yellow" if cov.status == "off" else "red"))
    elif cov is not None:
        branch = f", branch {cov.totals.branch_percent:.2f} %" if cov.totals.branch_percent is not None else ""
        lines.append(
            (
                f"coverage ({cov.measured_by}): line {cov.totals.percent:.2f} %{branch} "
                f"over {cov.totals.files} file(s)",
                "",
            )
        )
    lines.append(("", ""))
    lines += gates_table(report)
    lines.append(("", ""))
    style = "green" if report.verdict.status == "passed" else "red"
    lines.append((f"iotops verdict: {report.verdict.summary}", style + ",bold"))
    return lines
