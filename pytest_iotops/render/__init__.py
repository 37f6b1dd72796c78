"""Renderers: each is a pure function of the run report; :func:`write_reports` writes the chosen set."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from ..model import RunReport
from .output import write_output

__all__ = ["FILE_NAMES", "FORMATS", "file_name", "render", "write_reports"]

FILE_NAMES = {
    "json": "run-report.json",
    "html": "run-report.html",
    "junit": "junit.xml",
    "sarif": "findings.sarif",
    "md": "summary.md",
}
FORMATS = tuple(FILE_NAMES)


def _renderer(fmt: str) -> Callable[[RunReport], str]:
    if fmt == "json":
        return lambda report: report.to_json()
    if fmt == "html":
        from .html import render_html

        return render_html
    if fmt == "junit":
        from .junit import render_junit

        return render_junit
    if fmt == "sarif":
        from .sarif import render_sarif

        return render_sarif
    if fmt == "md":
        from .markdown import render_markdown

        return render_markdown
    raise ValueError(f"unknown report format {fmt!r}; known: {', '.join(FORMATS)}")


def render(report: RunReport, fmt: str) -> str:
    return _renderer(fmt)(report)


def file_name(fmt: str, stem: str = "run") -> str:
    """``run-report.json``, ``junit.xml``…; another stem (``iotops gate``): ``gate-report.json``, ``gate-junit.xml``."""
    name = FILE_NAMES[fmt]
    if stem == "run":
        return name
    return name.replace("run-report", f"{stem}-report") if name.startswith("run-report") else f"{stem}-{name}"


def write_reports(
    report: RunReport, directory: Path, formats: Sequence[str], stem: str = "run"
) -> tuple[dict[str, Path], list[str]]:
    """Write JSON (always, first) and the other formats; returns written paths and problems (never raises)."""
    written: dict[str, Path] = {}
    problems: list[str] = []
    for fmt in ["json", *[f for f in formats if f != "json"]]:
        target = directory / file_name(fmt, stem)
        try:
            path = write_output(target, render(report, fmt))
        except OSError as exc:
            problems.append(f"{fmt} report not written to {target}: {exc}")
            if fmt == "json":
                break
            continue
        except Exception as exc:
            problems.append(f"{fmt} report could not be rendered: {type(exc).__name__}: {exc}")
            continue
        if path is not None:
            written[fmt] = path
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary and "md" in formats:
        try:
            with open(summary, "a", encoding="utf-8") as fh:
                fh.write(render(report, "md"))
        except OSError as exc:
            problems.append(f"GITHUB_STEP_SUMMARY ({summary}) not written: {exc}")
    return written, problems
