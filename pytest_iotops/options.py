"""The one table of scalar settings: each key's validator, default, help, environment variable and the
command-line flag that overrides it. Light on purpose: pytest reads it for ``--help`` in every run, with or
without ``--iotops`` (the configuration loader, :mod:`.config`, imports much more)."""

from __future__ import annotations

from typing import Any

from .validate import Validator, boolean, choice, map_of, name, names, percent, shard, str_list, text
from .values import FrozenValue, record

__all__ = ["COVERAGE_ENGINES", "COVERAGE_TRACES", "DEFAULT_PHASES", "OPTIONS", "Option"]

DEFAULT_PHASES = ("unit", "integration", "e2e")
COVERAGE_ENGINES = ("coveragepy", "sysmon", "slipcover", "auto")
#: when coverage.py's tracer runs (:mod:`pytest_iotops.covwindow`)
COVERAGE_TRACES = ("always", "tests")


@record(frozen=True)
class Option(FrozenValue):
    """One configuration key: its dotted name, validator, default and command-line destination."""

    key: str
    check: Validator
    default: Any
    help: str
    cli: str | None = None  # the command-line flag that overrides it
    #: for the flag: its own help (default: ``help``) and the placeholder of its value
    cli_help: str = ""
    metavar: str | None = None

    @property
    def dest(self) -> str | None:
        return self.cli.lstrip("-").replace("-", "_") if self.cli else None

    @property
    def env(self) -> str:
        return "IOTOPS_" + self.key.upper().replace(".", "_")


OPTIONS: tuple[Option, ...] = (
    Option(
        "enabled",
        boolean,
        False,
        "turn the plugin on without --iotops",
        "--iotops",
        "run the test session as a gated pipeline (phases, coverage, gates, run report)",
    ),
    Option("phases", names, DEFAULT_PHASES, "phase names in pyramid (run) order"),
    Option("default_phase", name, "unit", "phase of a test with no marker and no matching path"),
    Option("paths", map_of(str_list, "phase = [globs]"), {}, "path globs per phase (default tests/<phase>/**)"),
    Option("marker_aliases", map_of(name, "marker = phase"), {}, "extra markers that mean a phase"),
    Option(
        "block_on_failure",
        boolean,
        True,
        "skip later phases after a failed phase",
        "--iotops-no-block",
        "run later phases even when an earlier phase failed",
    ),
    Option(
        "reports_dir",
        text,
        "iotops-reports",
        "where the run report is written",
        "--iotops-reports-dir",
        "directory for the run report (default: iotops-reports)",
        "DIR",
    ),
    Option(
        "formats",
        str_list,
        ("html", "md"),
        "report formats besides JSON (also junit, sarif, and formats plugins add)",
        "--iotops-format",
        "report formats besides JSON: html, junit, sarif, md or a plugin's (repeatable; default: html and md)",
        "FORMAT",
    ),
    Option(
        "shard",
        shard,
        None,
        "run slice K/N of the tests (merge the parts with iotops merge)",
        "--iotops-shard",
        "run slice K of N of the tests and write a partial report (combine with: iotops merge)",
        "K/N",
    ),
    Option(
        "durations",
        text,
        None,
        "a previous run report whose durations balance the shards",
        "--iotops-durations",
        "a previous run report whose test durations balance the shards (default: the last one)",
        "RUN.json",
    ),
    Option(
        "longest_first",
        boolean,
        False,
        "under xdist, hand out each phase's tests longest first (durations as for shards), so the phase ends sooner",
    ),
    Option("baseline", text, None, "findings baseline file: only findings not in it count"),
    Option(
        "update_baseline",
        boolean,
        False,
        "write the baseline from this run's findings",
        "--iotops-update-baseline",
        "write the findings baseline file from this run's findings",
    ),
    Option(
        "coverage.enabled",
        boolean,
        True,
        "measure coverage with coverage.py",
        "--iotops-no-cov",
        "do not measure coverage (coverage gates end 'skipped')",
    ),
    Option(
        "coverage.source",
        str_list,
        (),
        "packages or directories to measure",
        "--iotops-cov-source",
        "package or directory to measure (repeatable); default: detected",
        "PATH",
    ),
    Option("coverage.branch", boolean, True, "measure branch coverage"),
    Option("coverage.omit", str_list, (), "file globs to leave out of measurement"),
    Option(
        "coverage.engine",
        choice(COVERAGE_ENGINES),
        "coveragepy",
        "what collects coverage: coveragepy, sysmon (Python 3.12+), slipcover or auto (the fastest that fits)",
        "--iotops-cov-engine",
        "coverage collector: coveragepy, sysmon, slipcover or auto (figures always come from coverage.py)",
        "ENGINE",
    ),
    Option(
        "coverage.trace",
        choice(COVERAGE_TRACES),
        "always",
        "when coverage.py's tracer runs: always, or tests (off for pytest's own work between tests; same figures)",
        "--iotops-cov-trace",
        "always, or tests: coverage.py's tracer off for pytest's work between tests (figures unchanged)",
        "WHEN",
    ),
    Option(
        "coverage.fail_under",
        percent,
        None,
        "minimum total line coverage %",
        "--iotops-cov-fail-under",
        "minimum total line coverage (overrides coverage.fail_under)",
        "PERCENT",
    ),
    Option("coverage.branch_fail_under", percent, None, "minimum total branch coverage %"),
    Option("coverage.file_fail_under", percent, None, "minimum line coverage % of every file"),
    Option("coverage.phase_fail_under", map_of(percent, "phase = percent"), {}, "minimum % per phase"),
    Option("pyramid.min_share", map_of(percent, "phase = percent"), {}, "minimum % of tests per phase"),
    Option("pyramid.max_share", map_of(percent, "phase = percent"), {}, "maximum % of tests per phase"),
    Option("pyramid.min_time_share", map_of(percent, "phase = percent"), {}, "minimum % of test time"),
    Option("pyramid.max_time_share", map_of(percent, "phase = percent"), {}, "maximum % of test time"),
)
