"""HTML pages of the history commands (``--html``): the runs, the DORA keys, the maturity score — one
self-contained, autoescaped page each, no script, drawn with the report's own charts and styles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import field
from typing import Any

from ..model import RunPoint
from ..render.charts import bar_chart
from ..values import Value, record
from .dora import BANDS_YEAR, DoraKeys
from .maturity import WEIGHTS, Maturity

__all__ = ["dora_page", "history_page", "maturity_page"]


@record
class Section(Value):
    title: str
    notes: list[str] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)


def _page(title: str, subtitle: str, sections: Sequence[Section], source: str) -> str:
    import jinja2

    from ..render.html import template_dirs

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dirs()), autoescape=True, undefined=jinja2.StrictUndefined
    )
    return env.get_template("history.html.j2").render(title=title, subtitle=subtitle, sections=sections, source=source)


def _num(x: float | None, fmt: str = "{:.1f}") -> str:
    return "-" if x is None else fmt.format(x)


def history_page(runs: Sequence[RunPoint], url: str) -> str:
    """The runs, newest first, and coverage and duration run by run, oldest first."""
    ordered = list(reversed(runs))
    label = [f"{r.started_at[:16]} {(r.commit or '')[:7]}" for r in ordered]
    coverage = [
        (lab, r.coverage or 0.0, "bar-plain", _num(r.coverage, "{:.1f} %"))
        for lab, r in zip(label, ordered, strict=True)
    ]
    tests = [
        (lab, float(r.tests), "bar-bad" if r.failed else "bar-ok", f"{r.tests} tests, {r.failed} failed")
        for lab, r in zip(label, ordered, strict=True)
    ]
    rows = [
        [
            r.started_at[:19],
            r.run_id[:12],
            r.branch or "-",
            (r.commit or "-")[:12],
            r.status,
            r.tests,
            r.failed,
            _num(r.coverage),
            f"{r.duration:.1f}",
        ]
        for r in runs
    ]
    section = Section(
        "Runs",
        charts=[bar_chart("Coverage, run by run", coverage), bar_chart("Tests and failures, run by run", tests)],
        headers=["started", "run", "branch", "commit", "status", "tests", "failed", "coverage %", "seconds"],
        rows=rows,
    )
    return _page("Run history", f"{len(runs)} runs, newest first", [section], url)


def dora_page(keys: Sequence[DoraKeys], url: str) -> str:
    """Each environment's four keys with their band and the records they came from."""
    sections = []
    for k in keys:
        rows = [
            ["deployment frequency", f"{k.deployments_per_day:.2f} per day", k.bands["deployments_per_day"]],
            ["lead time for changes", _num(k.lead_time_hours, "{:.2f} h"), k.bands["lead_time_hours"]],
            ["change failure rate", _num(k.change_failure_rate, "{:.1%}"), k.bands["change_failure_rate"]],
            ["time to restore", _num(k.time_to_restore_hours, "{:.2f} h"), k.bands["time_to_restore_hours"]],
        ]
        sections.append(
            Section(k.environment, notes=k.sources, headers=["key", "value", f"band (DORA {BANDS_YEAR})"], rows=rows)
        )
    return _page("DORA keys", "from the deployments and fleet rollouts in the history (docs/history.md)", sections, url)


def maturity_page(m: Maturity, branch: str, url: str) -> str:
    """The score, its formula, each input with its records, and the value stream with the costliest stage."""
    formula = "M = 100 x (" + " + ".join(f"{w:.2f} {k}" for k, w in WEIGHTS.items()) + ")"
    inputs = Section(
        f"Maturity of {branch}: {m.score:.1f} / 100",
        notes=[formula],
        headers=["input", "value", "weight", "from"],
        rows=[[k, f"{v:.2f}", f"{WEIGHTS[k]:.2f}", m.sources[k]] for k, v in m.inputs.items()],
    )
    stream = [(stage, seconds, "bar-plain", f"{seconds:.2f} s") for stage, seconds in m.value_stream.items()]
    value = Section(
        "Value stream (mean seconds per run)",
        notes=[f"the costliest stage: {m.costliest}"],
        charts=[bar_chart("Time per stage", stream)] if stream else [],
    )
    return _page("Maturity", f"branch {branch}", [inputs, value], url)
