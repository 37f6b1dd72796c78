"""The self-contained HTML report: one file, no network, autoescaped, rendered from the run report alone.

Templates live in ``reports/templates/`` (packaged into the wheel as ``pytest_iotops/templates``). Tests are
embedded as JSON and drawn by a small inline script with paging, so 10,000 tests stay fast; the script only
uses ``textContent``, and the Content-Security-Policy allows only that script, by its SHA-256 hash (not a random
nonce: the same run report renders to the same bytes).
"""

from __future__ import annotations

import base64
import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any

from ..model import OUTCOMES, RunReport, to_dict
from .charts import bar_chart, deploy_timeline, metric_charts
from .deploy import outcome_words, summary_words
from .fleet import HEAT_COLOURS, fleet_rows, heatmap_svg, waves_svg
from .fleet import outcome_words as fleet_outcome
from .present import gate_measured, gate_threshold, severity_counts, severity_rank

__all__ = ["render_html", "template_dirs"]


def template_dirs() -> list[str]:
    """The wheel's packaged templates, else the source checkout's ``reports/templates`` (editable installs)."""
    dirs = []
    packaged = resources.files("pytest_iotops") / "templates"
    if packaged.is_dir():
        dirs.append(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "reports" / "templates"
    if checkout.is_dir():
        dirs.append(str(checkout))
    return dirs


def _json_for_script(value: Any) -> str:
    """JSON that cannot end its <script> element or start markup, whatever the test names contain."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for raw, safe in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, safe)
    return text


def _measured(g: dict[str, Any]) -> str:
    return gate_measured(g["measured"], g["threshold"], g["comparison"], g["unit"])


def _threshold(g: dict[str, Any]) -> str:
    return gate_threshold(g["threshold"], g["comparison"], g["unit"])


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} %"


def _charts(report: RunReport) -> dict[str, str]:
    css = {"passed": "bar-ok", "failed": "bar-bad", "blocked": "bar-skip", "empty": "bar-plain"}
    counts = [(p.name, float(p.tests), css[p.status], f"{p.tests} tests ({p.status})") for p in report.phases]
    times = [(p.name, round(p.duration, 3), "bar-plain", f"{p.duration:.2f} s") for p in report.phases]
    stages = [(s.name, round(s.duration, 3), "bar-plain", f"{s.duration:.2f} s") for s in report.stages]
    charts = {
        "pyramid_counts": bar_chart("Tests per phase", counts),
        "pyramid_time": bar_chart("Test time per phase", times),
        "stages": bar_chart("Stage durations (value stream)", stages) if stages else "",
        "phase_coverage": "",
        "findings": "",
    }
    if report.coverage is not None and report.coverage.phases:
        rows = [
            (c.phase, round(c.percent, 1), "bar-plain", f"{c.percent:.1f} % ({c.covered_lines}/{c.statements})")
            for c in report.coverage.phases
        ]
        charts["phase_coverage"] = bar_chart("Line coverage per phase (its tests alone)", rows)
    by_severity = severity_counts(report.findings)
    if any(by_severity.values()):
        rows = [
            (severity, float(n), "bar-bad" if severity in ("critical", "high") else "bar-skip", f"{n} open")
            for severity, n in by_severity.items()
            if n
        ]
        charts["findings"] = bar_chart("Open findings by severity", rows)
    charts.update(_trends(report))
    return charts


def _trends(report: RunReport) -> dict[str, str]:
    """The branch's earlier runs and this one, oldest first: coverage, tests and failures, duration."""
    view = report.history
    if view is None:
        return {"trend_coverage": "", "trend_tests": "", "trend_duration": ""}
    cov = report.coverage
    now = cov.totals.percent if cov is not None and cov.status == "measured" else None
    failed = sum(1 for t in report.tests if t.outcome in ("failed", "error"))
    points = [
        (f"{p.started_at[:16]} {(p.commit or '')[:7]}", p.coverage, p.tests, p.failed, p.duration) for p in view.runs
    ]
    points = [*reversed(points), ("this run", now, len(report.tests), failed, report.run.duration)]

    def rows(i: int, fmt: str) -> list[tuple[str, float, str, str]]:
        return [
            (p[0], float(p[i] or 0.0), "bar-plain", "no data" if p[i] is None else fmt.format(p[i])) for p in points
        ]

    tests = [(p[0], float(p[2]), "bar-bad" if p[3] else "bar-ok", f"{p[2]} tests, {p[3]} failed") for p in points]
    return {
        "trend_coverage": bar_chart(f"Coverage of {view.branch or 'this branch'}, run by run", rows(1, "{:.1f} %")),
        "trend_tests": bar_chart("Tests and failures, run by run", tests),
        "trend_duration": bar_chart("Run duration, run by run", rows(4, "{:.1f} s")),
    }


def _view(report: RunReport) -> dict[str, Any]:
    data = to_dict(report)
    tests = [[t.nodeid, t.origin, t.phase, t.outcome, t.duration, t.message, t.longrepr] for t in report.tests]
    coverage_sources = []
    if report.coverage is not None and report.coverage.status == "measured":
        coverage_sources.append(
            {"title": f"Python files ({report.coverage.measured_by})", "files": data["coverage"]["files"]}
        )
    for e in data["evidence"]:
        if e["files"]:
            coverage_sources.append({"title": f"{e['name']} ({e['kind']})", "files": e["files"]})
    findings = sorted(data["findings"], key=lambda f: (f["status"] != "open", severity_rank(f["severity"])))
    return {
        "report": data,
        "project": Path(report.run.rootdir).name,
        "title": f"{report.verdict.status.upper()} · {Path(report.run.rootdir).name} · pytest-iotops",
        "tests_json": _json_for_script(tests),
        "outcomes": OUTCOMES,
        "charts": _charts(report),
        "coverage_sources": coverage_sources,
        "findings": findings,
        "deployments": [
            {"d": dd, "outcome": outcome_words(d), "timeline": deploy_timeline(d), "metric_charts": metric_charts(d)}
            for d, dd in zip(report.deployments, data["deployments"], strict=True)
        ],
        "deploy_summary": summary_words(report),
        "fleet": [
            {
                "r": rd,
                "outcome": fleet_outcome(r),
                "waves": waves_svg(r),
                "heatmap": heatmap_svg(r),
                "rows": fleet_rows(r),
            }
            for r, rd in zip(report.fleet_rollouts, data["fleet_rollouts"], strict=True)
        ],
        "heat_legend": [(colour, words) for colour, words in HEAT_COLOURS.values()],
    }


def _bytecode_cache() -> Any:
    import jinja2

    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):  # no usable temporary directory: compile each time
        return None


def render_html(report: RunReport) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dirs()),
        # compiling the templates costs more than rendering 5,000 tests; Jinja's own per-user cache directory
        # (created 0700 and checked for ownership) keeps the compiled code, keyed by the template's checksum
        bytecode_cache=_bytecode_cache(),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(measured=_measured, threshold=_threshold, pct=_pct)
    script = env.get_template("report.js").render()
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    return env.get_template("report.html.j2").render(**_view(report), script=script, script_hash=f"sha256-{digest}")
