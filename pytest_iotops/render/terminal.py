"""The terminal summary, a pure rendering of the run report into (text, style) lines."""

from __future__ import annotations

from ..model import GateResult, RunReport
from .present import evidence_result, finding_location, gate_measured, gate_threshold, open_by_severity, severity_counts
from .view import PHASE_COLUMNS, phase_cells, phase_total

__all__ = ["Line", "gates_table", "pyramid_table", "summary_lines", "table"]

Line = tuple[str, str]  # (text, style): style is "", "green", "red", "yellow" or "bold"

_STATUS_STYLE = {"passed": "green", "failed": "red", "error": "red", "skipped": "yellow"}


def table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def fmt(row: list[str]) -> str:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        return "  ".join(cells).rstrip()

    return [fmt(header), *(fmt(r) for r in rows)]


def pyramid_table(report: RunReport) -> list[str]:
    cov = report.coverage
    by_phase = {c.phase: c for c in cov.phases} if cov is not None else {}
    rows = []
    for p in report.phases:
        measured = by_phase.get(p.name)
        rows.append([*phase_cells(p), f"{p.duration:.2f}s", f"{measured.percent:.1f} %" if measured else "-"])
    total = phase_total(report.phases)
    measured_total = f"{cov.totals.percent:.1f} %" if cov is not None and cov.status == "measured" else "-"
    rows.append([*phase_cells(total), f"{total.duration:.2f}s", measured_total])
    header = [*PHASE_COLUMNS, "time", "coverage"]
    return table(header, rows, right=set(range(1, len(header))))


def _gate_cells(g: GateResult) -> list[str]:
    measured = gate_measured(g.measured, g.threshold, g.comparison, g.unit)
    return [g.id, measured, gate_threshold(g.threshold, g.comparison, g.unit), g.status.upper()]


def gates_table(report: RunReport) -> list[Line]:
    if not report.gates:
        return [("no gates configured (set thresholds in [tool.iotops]; see docs/configuration.md)", "yellow")]
    lines = table(["gate", "measured", "threshold", "status"], [_gate_cells(g) for g in report.gates], {1, 2})
    out: list[Line] = [(lines[0], "bold")]
    out += [(text, _STATUS_STYLE[g.status]) for text, g in zip(lines[1:], report.gates, strict=True)]
    out += [(f"  {g.id}: {g.message}", _STATUS_STYLE[g.status]) for g in report.gates if g.status != "passed"]
    return out


def _evidence_table(report: RunReport) -> list[Line]:
    if not report.evidence:
        return []
    rows = [
        [
            e.name,
            e.kind,
            e.status.upper(),
            f"{e.command.duration:.1f}s" if e.command is not None else "",
            evidence_result(e),
        ]
        for e in report.evidence
    ]
    lines = table(["evidence", "kind", "status", "command", "result"], rows, {3})
    return [(lines[0], "bold")] + [
        (text, "red" if e.status == "error" else "") for text, e in zip(lines[1:], report.evidence, strict=True)
    ]


def _findings(report: RunReport) -> list[Line]:
    if not report.findings:
        return []
    ranked = open_by_severity(report.findings)
    counts = ", ".join(f"{n} {s}" for s, n in severity_counts(report.findings).items() if n) or "none"
    others = {st: sum(1 for f in report.findings if f.status == st) for st in ("ignored", "baseline", "suppressed")}
    extra = ", ".join(f"{n} {st}" for st, n in others.items() if n)
    out: list[Line] = [(f"findings open: {counts}" + (f" ({extra})" if extra else ""), "red" if ranked else "")]
    return out + [
        (f"  {f.severity:8} {f.tool} {f.rule} {finding_location(f)}: {f.message[:80]}", "") for f in ranked[:5]
    ]


def _ignores_and_diff(report: RunReport) -> list[Line]:
    out: list[Line] = [
        (
            f"ignore {i.id} ({'EXPIRED' if i.expired else 'active'} until {i.expires}, matched {i.matched}): "
            f"{i.reason}",
            "yellow" if i.expired else "",
        )
        for i in report.ignores
    ]
    d = report.diff
    if d is not None:
        shown = f"{d.percent:.2f} % ({d.covered}/{d.coverable} changed lines)" if d.percent is not None else d.status
        out.append(
            (
                f"diff coverage against {d.base}: {shown}" + (f" — {d.note}" if d.note else ""),
                "red" if d.status == "error" else "",
            )
        )
    return out


def evidence_lines(report: RunReport) -> list[Line]:
    """One row per evidence source, then open findings by severity, active ignores and diff coverage."""
    if not report.evidence and report.diff is None:
        return []
    return [*_evidence_table(report), *_findings(report), *_ignores_and_diff(report), ("", "")]


def summary_lines(report: RunReport) -> list[Line]:
    """Pyramid, coverage note, gates, verdict — the last line is the verdict, styled by its status."""
    lines: list[Line] = [(text, "bold" if i == 0 else "") for i, text in enumerate(pyramid_table(report))]
    cov = report.coverage
    if cov is not None and cov.status != "measured":
        lines.append((f"coverage {cov.status}: {cov.note}", "yellow" if cov.status == "off" else "red"))
    elif cov is not None and cov.totals.statements == 0:
        lines.append((f"coverage ({cov.measured_by}): measured no code ({cov.selection or 'no selection'})", "red"))
    elif cov is not None:
        branch = f", branch {cov.totals.branch_percent:.2f} %" if cov.totals.branch_percent is not None else ""
        how = [cov.measured_by, *([cov.engine] if cov.engine not in ("", "coveragepy") else [])]
        how += ["tracer around tests"] if cov.trace == "tests" else []
        lines.append(
            (
                f"coverage ({', '.join(how)}): line {cov.totals.percent:.2f} %{branch} over {cov.totals.files} file(s)",
                "",
            )
        )
        if cov.trace.startswith("always ("):  # trace = "tests" was asked for and could not be used: why
            lines.append((f"coverage: {cov.note}", "yellow"))
    if cov is not None:
        lines += [(f"iotops: coverage warning: {w}", "yellow") for w in cov.warnings]
    lines.append(("", ""))
    if report.deployments:  # (their renderers are imported only for a run that has some)
        from .deploy import deployment_lines

        lines += deployment_lines(report)
    if report.fleet_rollouts:
        from .fleet import fleet_lines

        lines += fleet_lines(report)
    lines += evidence_lines(report)
    lines += gates_table(report)
    lines.append(("", ""))
    style = "green" if report.verdict.status == "passed" else "red"
    lines.append((f"iotops verdict: {report.verdict.summary}", style + ",bold"))
    return lines
