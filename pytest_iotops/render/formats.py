"""Report formats as a table: a name, the file it is written to, a label and a pure function of the run report.
The built-in ones come from :func:`iotops_report_formats` here; a plugin adds its own through the same hook
(one module and an ``iotops`` entry point), and config, CLI and writer all read the one table."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from ..errors import ConfigError
from ..hookspecs import hookimpl
from ..values import FrozenValue, record

if TYPE_CHECKING:
    from ..model import RunReport

__all__ = ["BUILTIN", "ReportFormat", "builtin_formats", "check_formats", "iotops_report_formats"]


@record(frozen=True)
class ReportFormat(FrozenValue):
    """A report format ``formats`` can name: its file name and the renderer that writes it from the run report."""

    #: what ``formats`` / ``--iotops-format`` / ``--format`` name it
    name: str
    #: written as this file in the reports directory (``run-report`` in it becomes ``gate-report`` for iotops gate)
    file_name: str
    render: Callable[[RunReport], str]
    #: for the terminal ("iotops HTML report: ..."); default "<name> report"
    label: str = ""


def _json(report: RunReport) -> str:
    return report.to_json()


def _html(report: RunReport) -> str:
    from .html import render_html

    return render_html(report)


def _junit(report: RunReport) -> str:
    from .junit import render_junit

    return render_junit(report)


def _sarif(report: RunReport) -> str:
    from .sarif import render_sarif

    return render_sarif(report)


def _markdown(report: RunReport) -> str:
    from .markdown import render_markdown

    return render_markdown(report)


def _openmetrics(report: RunReport) -> str:
    from .openmetrics import render_openmetrics

    return render_openmetrics(report)


def _otlp(report: RunReport) -> str:
    from .otlp import render_otlp

    return render_otlp(report)


BUILTIN = (
    ReportFormat("json", "run-report.json", _json, "run report"),
    ReportFormat("html", "run-report.html", _html, "HTML report"),
    ReportFormat("junit", "junit.xml", _junit, "junit report"),
    ReportFormat("sarif", "findings.sarif", _sarif, "sarif report"),
    ReportFormat("md", "summary.md", _markdown, "md report"),
    ReportFormat("openmetrics", "metrics.txt", _openmetrics, "OpenMetrics report"),
    ReportFormat("otlp", "traces.json", _otlp, "OTLP traces"),
)


@hookimpl(trylast=True)
def iotops_report_formats() -> list[ReportFormat]:
    return list(BUILTIN)


def builtin_formats() -> dict[str, ReportFormat]:
    return {f.name: f for f in BUILTIN}


def check_formats(names: Iterable[str], known: dict[str, ReportFormat], where: str) -> None:
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ConfigError(f"{where}: formats has unknown {unknown}; known: {', '.join(known)}")
