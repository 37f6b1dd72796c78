"""Inline SVG charts for the HTML report: drawn here as plain markup, every bar labelled with its number and
name so the charts read without colour. All text passes through ``escape``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from ..model import Deployment, DeployMetric, DeployStep

__all__ = ["bar_chart", "deploy_timeline", "metric_charts"]


def bar_chart(title: str, rows: Sequence[tuple[str, float, str, str]], unit: str = "", width: int = 520) -> str:
    """Horizontal bars: rows of (label, value, css class, annotation)."""
    label_w, row_h, top = 150, 22, 26
    biggest = max((value for _, value, _, _ in rows), default=0.0) or 1.0
    bar_space = width - label_w - 120
    height = top + row_h * len(rows) + 8
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<title>{escape(title)}</title><text x="0" y="16" font-weight="600">{escape(title)}</text>',
    ]
    for i, (label, value, css, note) in enumerate(rows):
        y = top + i * row_h
        w = max(1.0, bar_space * value / biggest) if value else 0.0
        shown = note if note else f"{value:g}{unit}"
        parts.append(f'<text x="0" y="{y + 14}">{escape(label[:24])}</text>')
        parts.append(f'<rect class="{escape(css)}" x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}"/>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 14}">{escape(shown)}</text>')
    parts.append("</svg>")
    return "".join(parts)


_VERDICT_CSS = {"pass": "bar-ok", "marginal": "bar-skip", "inconclusive": "bar-skip", "error": "bar-skip"}


def deploy_timeline(d: Deployment, width: int = 640) -> str:
    """The candidate's traffic weight over time: one block per step, coloured and labelled with its verdict;
    the decisive events as labelled marks. Blue-green shows its switch to 100 %."""
    left, top, plot_h, bottom = 44, 26, 120, 34
    duration = max(d.duration, max((s.ended for s in d.steps), default=0.0), 0.001)
    plot_w = width - left - 10
    height = top + plot_h + bottom

    def x(t: float) -> float:
        return left + plot_w * min(max(t, 0.0), duration) / duration

    def y(weight: float) -> float:
        return top + plot_h - plot_h * weight / 100

    title = f"{d.candidate}'s share of traffic over {duration:.1f} s ({d.strategy} on {d.target})"
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<title>{escape(title)}</title><text x="0" y="16" font-weight="600">{escape(title)}</text>',
    ]
    for weight in (0, 50, 100):
        parts.append(f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{y(weight):.1f}" y2="{y(weight):.1f}"/>')
        parts.append(f'<text x="0" y="{y(weight) + 4:.1f}">{weight} %</text>')
    blocks = [
        (s.started, s.ended, s.weight, _VERDICT_CSS.get(s.verdict, "bar-bad"), f"{s.weight} % {s.verdict}")
        for s in d.steps
    ]
    switched = next((e.t for e in d.events if e.event == "switched"), None)
    if d.strategy == "blue-green" and switched is not None:
        blocks.append((switched, duration, 100, "bar-ok", "100 % switched"))
    for start, end, weight, css, label in blocks:
        h = max(plot_h * weight / 100, 2.0)
        parts.append(
            f'<rect class="{css}" x="{x(start):.1f}" y="{top + plot_h - h:.1f}" '
            f'width="{max(x(end) - x(start), 1.0):.1f}" height="{h:.1f}"><title>{escape(label)}</title></rect>'
        )
        label_y = top + plot_h - h + 13 if h > 18 else top + plot_h - h - 3  # inside a tall block, else above
        parts.append(f'<text x="{x(start) + 2:.1f}" y="{label_y:.1f}">{escape(label)}</text>')
    marks = [e for e in d.events if e.event in ("aborted", "promoted", "switched", "retired")]
    for i, e in enumerate(marks):
        parts.append(f'<line class="mark" x1="{x(e.t):.1f}" x2="{x(e.t):.1f}" y1="{top}" y2="{top + plot_h}"/>')
        anchor = "end" if x(e.t) > left + plot_w * 0.8 else "start"
        parts.append(
            f'<text x="{x(e.t):.1f}" y="{top + plot_h + 14 + 12 * (i % 2)}" text-anchor="{anchor}">'
            f"{escape(e.event)} {e.t:.1f}s</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _finite(x: float | None) -> float | None:
    return None if x is None or math.isnan(x) or math.isinf(x) else x


def _number(x: float | None) -> str:
    return "no data" if _finite(x) is None else f"{x:.4g}"


def _pair(step: DeployStep, m: DeployMetric, x0: float, bar: float, base_y: float, scale: float, who: str) -> str:
    """One step of one metric: the canary's bar (coloured by its verdict) beside the baseline's, each labelled."""
    parts = []
    for j, (value, css, name) in enumerate(
        ((m.value, _VERDICT_CSS.get(m.verdict, "bar-bad"), who), (m.baseline, "bar-base", "baseline"))
    ):
        finite = _finite(value)
        h = 0.0 if finite is None else max(scale * abs(finite), 1.0)
        x = x0 + j * bar
        tip = escape(f"step {step.index}: {name} {_number(value)}")
        parts.append(
            f'<rect class="{css}" x="{x:.1f}" y="{base_y - h:.1f}" width="{bar - 2:.1f}" height="{h:.1f}">'
            f"<title>{tip}</title></rect>"
            f'<text x="{x:.1f}" y="{base_y - h - 3:.1f}">{escape(_number(value))}</text>'
        )
    parts.append(
        f'<text x="{x0:.1f}" y="{base_y + 14}">{escape(f"{step.index} · {step.weight} %")}</text>'
        f'<text x="{x0:.1f}" y="{base_y + 28}">{escape(m.verdict)}</text>'
    )
    return "".join(parts)


def metric_charts(d: Deployment, width: int = 640) -> list[str]:
    """Per metric judged in the steps (the router's and the monitoring signals), the canary's value beside the
    baseline's in each step, with the step's verdict on that metric: the numbers behind each decision, drawn."""
    left, top, plot_h, bottom = 44, 26, 90, 40
    charts = []
    for name in dict.fromkeys(m.name for s in d.steps for m in s.metrics):
        judged = [(s, m) for s in d.steps for m in s.metrics if m.name == name]
        values = [abs(x) for _, m in judged for x in (_finite(m.value), _finite(m.baseline)) if x is not None]
        scale = plot_h / (max(values, default=0.0) or 1.0)
        slot = (width - left - 10) / max(len(judged), 1)
        bar = min(28.0, slot / 3)
        height = top + plot_h + bottom
        title = f"{name}: {d.candidate} (coloured by verdict) vs baseline (grey) per step"
        parts = [
            f'<svg class="metric-chart" role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
            f'<title>{escape(title)}</title><text x="0" y="16" font-weight="600">{escape(title)}</text>',
            f'<line class="grid" x1="{left}" x2="{width - 10}" y1="{top + plot_h}" y2="{top + plot_h}"/>',
        ]
        parts += [
            _pair(step, m, left + i * slot + (slot - 2 * bar) / 2, bar, top + plot_h, scale, d.candidate)
            for i, (step, m) in enumerate(judged)
        ]
        parts.append("</svg>")
        charts.append("".join(parts))
    return charts
