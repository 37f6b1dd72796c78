"""Renderers: each is a pure function of the run report; :func:`write_reports` writes the chosen set."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .output import write_output

if TYPE_CHECKING:
    from ..model import RunReport
    from .formats import ReportFormat

__all__ = ["ReportFormat", "file_name", "render", "write_reports"]


def __getattr__(name: str) -> object:
    """``ReportFormat`` on demand: an xdist worker writes its phases with :mod:`.output` and no report, and
    does not load the formats."""
    if name == "ReportFormat":
        from .formats import ReportFormat

        return ReportFormat
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _known(known: Mapping[str, ReportFormat] | None) -> Mapping[str, ReportFormat]:
    if known is not None:
        return known
    from .formats import builtin_formats

    return builtin_formats()


def render(report: RunReport, fmt: str, known: Mapping[str, ReportFormat] | None = None) -> str:
    """``fmt`` rendered from the report; ``known``: the formats table (default: the built-in ones)."""
    formats = _known(known)
    if fmt not in formats:
        raise ValueError(f"unknown report format {fmt!r}; known: {', '.join(formats)}")
    return formats[fmt].render(report)


def file_name(fmt: str, stem: str = "run", known: Mapping[str, ReportFormat] | None = None) -> str:
    """``run-report.json``, ``junit.xml``…; another stem (``iotops gate``): ``gate-report.json``, ``gate-junit.xml``."""
    name = _known(known)[fmt].file_name
    if stem == "run":
        return name
    return name.replace("run-report", f"{stem}-report") if name.startswith("run-report") else f"{stem}-{name}"


def write_reports(
    report: RunReport,
    directory: Path,
    formats: Sequence[str],
    stem: str = "run",
    known: Mapping[str, ReportFormat] | None = None,
) -> tuple[dict[str, Path], list[str]]:
    """Write JSON (always, first) and the other formats; returns written paths and problems (never raises)."""
    from ..codec import converted_once

    with converted_once(report):
        written, problems = _write_all(report, directory, formats, stem, known)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary and "md" in formats:
        try:
            with open(summary, "a", encoding="utf-8") as fh:
                fh.write(render(report, "md"))
        except OSError as exc:
            problems.append(f"GITHUB_STEP_SUMMARY ({summary}) not written: {exc}")
    return written, problems


def _write_all(
    report: RunReport,
    directory: Path,
    formats: Sequence[str],
    stem: str,
    known: Mapping[str, ReportFormat] | None,
) -> tuple[dict[str, Path], list[str]]:
    written: dict[str, Path] = {}
    problems: list[str] = []
    for fmt in ["json", *[f for f in formats if f != "json"]]:
        target = directory / file_name(fmt, stem, known)
        try:
            path = write_output(target, render(report, fmt, known))
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
    return written, problems
