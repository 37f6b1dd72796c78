"""Inline SVG charts for the HTML report: drawn here as plain markup, every bar labelled with its number and
name so the charts read without colour. All text passes through ``escape``."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["bar_chart"]


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
