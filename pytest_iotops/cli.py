"""The ``iotops`` command: the same engine as the pytest plugin, without pytest.

Exit codes: 0 success, 2 usage errors (argparse), 3 unreadable input; rendering never changes a verdict.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__

if TYPE_CHECKING:
    from .render.formats import ReportFormat

__all__ = ["main"]

EXIT_INPUT = 3

_EPILOG = """examples:
  iotops gate                                    # evidence and diff gates of ./pyproject.toml, no pytest
  iotops gate --diff-base origin/main --format html
  iotops report iotops-reports/run-report.json --format html -o report.html
  iotops report iotops-reports/run-report.json --format md          # Markdown to stdout
  iotops explain iotops-reports/run-report.json
  iotops baseline                                # accept today's findings into the baseline file

exit codes: 0 passed, 1 external tests failed, 3 unreadable input, 4 configuration error,
            6 a gate failed, 7 a gate could not be evaluated (2: wrong command line)
"""
EXIT_CONFIG = 4


@functools.cache
def _known_formats() -> dict[str, ReportFormat]:
    """Every report format: the built-in ones and those installed plugins define (the ``iotops`` entry points),
    looked up once per command."""
    from .registry import plugin_manager, report_formats

    return report_formats(plugin_manager())


def _formats() -> list[str]:
    return list(_known_formats())


def _parser() -> argparse.ArgumentParser:
    formats = _formats()
    extra = [f for f in formats if f != "json"]
    parser = argparse.ArgumentParser(
        prog="iotops",
        description="pytest-iotops command line. Run the pipeline itself with `pytest --iotops`.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"iotops {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    report = commands.add_parser(
        "report",
        help=f"re-render a run report (JSON) as {', '.join(formats)}",
        description="Re-render a run report without pytest: every format is a pure function of the JSON.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("run_report", metavar="RUN.json", help="a run report written by pytest --iotops")
    report.add_argument("--format", "-f", required=True, choices=formats)
    report.add_argument("--output", "-o", default="-", metavar="PATH", help="file to write (default: stdout)")

    def config_args(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--config", metavar="PYPROJECT", help="pyproject.toml with [tool.iotops] (default: ./)")
        sub.add_argument("--rootdir", metavar="DIR", help="project root (default: the config file's directory)")
        sub.add_argument("--reports-dir", metavar="DIR", help="where reports are written (default: reports_dir)")

    gate = commands.add_parser(
        "gate",
        help="evaluate the evidence and diff gates without running pytest (Rust-only or non-Python repos)",
        description="Run the configured evidence commands, read their outputs, measure diff coverage, evaluate "
        "the gates, write the reports and exit with the documented code. Python coverage and the pyramid need "
        "pytest --iotops.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    config_args(gate)
    gate.add_argument("--diff-base", metavar="REF", help="git ref for diff coverage (default: config or CI)")
    gate.add_argument(
        "--format",
        action="append",
        choices=extra,
        help="report formats besides JSON (repeatable; default: the config's)",
    )
    explain = commands.add_parser(
        "explain",
        help="the verdict and every gate decision in plain words",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    explain.add_argument("run_report", metavar="RUN.json")
    baseline = commands.add_parser(
        "baseline",
        help="write the findings baseline from the evidence sources' current findings",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    config_args(baseline)
    merge = commands.add_parser(
        "merge",
        help="combine the partial reports of a sharded run, then evaluate the gates once",
        description="Combine partial run reports written with pytest --iotops --iotops-shard K/N: tests joined, "
        "coverage data combined, findings collected once, gates evaluated once, every report written. Refuses "
        "to give a verdict while a shard is missing or given twice.",
        epilog="example:\n  iotops merge shard-*/run-report.json --expect 4 --format html",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _sending_commands(commands)
    merge.add_argument("parts", nargs="+", metavar="PART.json")
    merge.add_argument("--expect", type=int, required=True, metavar="N", help="how many shards the run had")
    config_args(merge)
    merge.add_argument(
        "--format",
        action="append",
        choices=extra,
        help="report formats besides JSON (repeatable; default: the config's)",
    )
    from .history.cli import add_commands

    add_commands(commands)
    return parser


def _sending_commands(commands: Any) -> None:
    """``push`` and ``otlp``: a run report's figures or spans to a monitoring system."""
    for name, help_text, description, example, (option, what) in (
        (
            "push",
            "push a run report's metrics (OpenMetrics figures) to a Prometheus Pushgateway",
            "PUT the run's figures to <url>/metrics/job/<job>[/<label>/<value>...], replacing that group: tests "
            "per phase and outcome, durations, coverage, gates, findings, deployments.",
            "iotops push iotops-reports/run-report.json --url http://127.0.0.1:9091 --label branch=main",
            ("--url", "the Pushgateway's base URL"),
        ),
        (
            "otlp",
            "send a run report's spans (OTLP/JSON) to an OpenTelemetry collector's OTLP/HTTP endpoint",
            "POST the run as traces to <endpoint>/v1/traces: the pipeline run, its stages, deployments and canary "
            "steps (the otlp report format's content).",
            "iotops otlp iotops-reports/run-report.json --endpoint http://127.0.0.1:4318",
            ("--endpoint", "the collector's OTLP/HTTP base URL"),
        ),
    ):
        sub = commands.add_parser(
            name,
            help=help_text,
            description=description,
            epilog=f"example:\n  {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.add_argument("run_report", metavar="RUN.json")
        sub.add_argument(option, required=True, help=what)
        if name == "push":
            sub.add_argument("--job", default="iotops", help="the job label of the group (default: iotops)")
            sub.add_argument("--label", action="append", default=[], metavar="NAME=VALUE", help="a grouping label")


def main(argv: Sequence[str] | None = None) -> int:
    from .history.cli import HANDLERS as HISTORY

    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    from .errors import ConfigError, IotopsError

    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "report": _report,
        "explain": _explain,
        "gate": lambda a: _gate(a, baseline=False),
        "baseline": lambda a: _gate(a, baseline=True),
        "merge": _merge,
        "push": _push,
        "otlp": _otlp,
        **HISTORY,
    }
    try:
        return int(handlers[args.command](args))
    except ConfigError as exc:
        print(f"iotops: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except IotopsError as exc:
        print(f"iotops: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except OSError as exc:
        print(f"iotops: error: {exc.filename or ''}: {exc.strerror}", file=sys.stderr)
        return EXIT_INPUT


def _merge(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from .merge import merge_parts
    from .render.terminal import summary_lines
    from .standalone import load_cli_settings

    settings, root = load_cli_settings(args.config, args.rootdir, require_table=False)
    if args.format:
        settings = replace(settings, formats=tuple(args.format))
    if args.reports_dir:
        settings = replace(settings, reports_dir=args.reports_dir)
    pipeline = merge_parts([Path(p) for p in args.parts], args.expect, settings, root)
    assert pipeline.report is not None
    for text, _style in summary_lines(pipeline.report):
        print(text)
    for fmt, path in pipeline.outputs.items():
        print(f"iotops {fmt} report: {path}")
    return pipeline.report.verdict.exit_code


def _push(args: argparse.Namespace) -> int:
    from .errors import ConfigError
    from .model import load_report
    from .monitoring.push import push

    labels = {}
    for item in args.label:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier():
            raise ConfigError(f"--label {item!r}: expected NAME=VALUE with a label name")
        labels[name] = value
    url = push(load_report(Path(args.run_report)), args.url, args.job, labels)
    print(f"iotops: pushed to {url}")
    return 0


def _otlp(args: argparse.Namespace) -> int:
    from .model import load_report
    from .monitoring.push import export_traces

    print(f"iotops: sent to {export_traces(load_report(Path(args.run_report)), args.endpoint)}")
    return 0


def _explain(args: argparse.Namespace) -> int:
    from .model import load_report
    from .render.explain import explain

    sys.stdout.write(explain(load_report(Path(args.run_report))))
    return 0


def _report(args: argparse.Namespace) -> int:
    from .model import load_report
    from .registry import plugin_manager, report_formats
    from .render import render
    from .render.output import write_output

    report = load_report(Path(args.run_report))
    written = write_output(args.output, render(report, args.format, report_formats(plugin_manager())))
    if written is not None:
        print(f"iotops: wrote {written}", file=sys.stderr)
    return 0


def _gate(args: argparse.Namespace, baseline: bool) -> int:
    from dataclasses import replace

    from .errors import ConfigError
    from .render.terminal import evidence_lines, gates_table
    from .standalone import load_cli_settings, run_gates

    settings, root = load_cli_settings(args.config, args.rootdir, getattr(args, "diff_base", None))
    if getattr(args, "format", None):
        settings = replace(settings, formats=tuple(args.format))
    if args.reports_dir:
        settings = replace(settings, reports_dir=args.reports_dir)
    if baseline and not settings.baseline:
        raise ConfigError('no baseline file is configured: set baseline = "iotops-baseline.json" in [tool.iotops]')
    if not settings.evidence and not baseline and settings.diff.fail_under is None:
        raise ConfigError(
            f"{settings.config_file}: nothing to gate: no [[tool.iotops.evidence]] and no [tool.iotops.diff] fail_under"
        )
    pipeline = run_gates(settings, root, list(sys.argv[1:]), update_baseline=baseline)
    report = pipeline.report
    assert report is not None
    for text, _style in [*evidence_lines(report), *gates_table(report)]:
        print(text)
    print(f"\niotops verdict: {report.verdict.summary}")
    for fmt, path in pipeline.outputs.items():
        print(f"iotops {fmt} report: {path}")
    if baseline and pipeline.baseline_written is not None:
        print(f"iotops: baseline written: {pipeline.baseline_written}")
    return report.verdict.exit_code  # always the printed verdict's code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
