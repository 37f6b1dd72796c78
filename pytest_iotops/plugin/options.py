"""The command-line options and the ini switch: one place for every ``--iotops-*`` flag."""

from __future__ import annotations

from typing import Any

import pytest

__all__ = ["cli_values", "pytest_addoption"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("iotops", "pytest-iotops: pyramid phases, quality gates, run report")
    group.addoption(
        "--iotops",
        action="store_true",
        default=None,
        help="run the test session as a gated pipeline (phases, coverage, gates, run report)",
    )
    group.addoption(
        "--iotops-no-cov",
        action="store_false",
        default=None,
        help="do not measure coverage (coverage gates end 'skipped')",
    )
    group.addoption(
        "--iotops-cov-source",
        action="append",
        default=None,
        metavar="PATH",
        help="package or directory to measure (repeatable); default: detected",
    )
    group.addoption(
        "--iotops-cov-fail-under",
        type=float,
        default=None,
        metavar="PERCENT",
        help="minimum total line coverage (overrides coverage.fail_under)",
    )
    group.addoption(
        "--iotops-no-block",
        action="store_false",
        default=None,
        help="run later phases even when an earlier phase failed",
    )
    group.addoption(
        "--iotops-reports-dir",
        default=None,
        metavar="DIR",
        help="directory for the run report (default: iotops-reports)",
    )
    group.addoption(
        "--iotops-format",
        action="append",
        default=None,
        metavar="FORMAT",
        help="report formats besides JSON: html, junit, sarif, md or a plugin's (repeatable; default: html and md)",
    )
    group.addoption(
        "--iotops-shard",
        default=None,
        metavar="K/N",
        help="run slice K of N of the tests and write a partial report (combine with: iotops merge)",
    )
    group.addoption(
        "--iotops-durations",
        default=None,
        metavar="RUN.json",
        help="a previous run report whose test durations balance the shards (default: the last one)",
    )
    group.addoption(
        "--iotops-diff-base",
        default=None,
        metavar="REF",
        help="git ref to measure diff coverage against, e.g. origin/main (default: diff.base or CI)",
    )
    group.addoption(
        "--iotops-update-baseline",
        action="store_true",
        default=None,
        help="write the findings baseline file from this run's findings",
    )
    parser.addini("iotops", type="bool", default=False, help="turn pytest-iotops on, like --iotops")


def cli_values(namespace: Any) -> dict[str, Any]:
    """The options as the configuration layer reads them (``config.OPTIONS`` by ``dest``)."""
    from ..config import OPTIONS

    values = {o.dest: getattr(namespace, o.dest, None) for o in OPTIONS if o.dest}
    values["iotops_diff_base"] = getattr(namespace, "iotops_diff_base", None)
    return values
