"""The ``iotops`` command: the same engine as the pytest plugin, without pytest.

Exit codes: 0 success, 2 usage errors (argparse), 3 unreadable input; rendering never changes a verdict.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__

__all__ = ["main"]

EXIT_INPUT = 3

_EPILOG = """examples:
  iotops report iotops-reports/run-report.json --format html -o report.html
  iotops report iotops-reports/run-report.json --format md          # Markdown to stdout
  iotops report run-report.json --format sarif -o findings.sarif
"""


def _parser() -> argparse.ArgumentParser:
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
        help="re-render a run report (JSON) as html, junit, sarif, md or json",
        description="Re-render a run report without pytest: every format is a pure function of the JSON.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("run_report", metavar="RUN.json", help="a run report written by pytest --iotops")
    report.add_argument("--format", "-f", required=True, choices=["html", "junit", "sarif", "md", "json"])
    report.add_argument("--output", "-o", default="-", metavar="PATH", help="file to write (default: stdout)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    from .errors import IotopsError
    from .model import load_report
    from .render import render
    from .render.output import write_output

    try:
        report = load_report(Path(args.run_report))
        written = write_output(args.output, render(report, args.format))
    except IotopsError as exc:
        print(f"iotops: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except OSError as exc:
        print(f"iotops: error: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return EXIT_INPUT
    if written is not None:
        print(f"iotops: wrote {written}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
