"""The command-line options and the ini switch: one place for every ``--iotops-*`` flag."""

from __future__ import annotations

from typing import Any

import pytest

__all__ = ["cli_values", "pytest_addoption"]


def pytest_addoption(parser: pytest.Parser) -> None:
    """Every flag from the one options table (``config.OPTIONS``): a boolean key is a switch (``--iotops-no-*``
    turns it off), a list key repeats, a percentage is a number. ``--iotops-diff-base`` belongs to the diff
    table, which has no scalar option."""
    from ..options import OPTIONS
    from ..validate import boolean, percent, str_list

    group = parser.getgroup("iotops", "pytest-iotops: pyramid phases, quality gates, run report")
    for option in OPTIONS:
        if option.cli is None:
            continue
        kwargs: dict[str, Any] = {"default": None, "help": option.cli_help or option.help}
        if option.check is boolean:
            kwargs["action"] = "store_false" if "-no-" in option.cli else "store_true"
        else:
            kwargs["metavar"] = option.metavar
            if option.check is str_list:
                kwargs["action"] = "append"
            elif option.check is percent:
                kwargs["type"] = float
        group.addoption(option.cli, **kwargs)
    group.addoption(
        "--iotops-diff-base",
        default=None,
        metavar="REF",
        help="git ref to measure diff coverage against, e.g. origin/main (default: diff.base or CI)",
    )
    parser.addini("iotops", type="bool", default=False, help="turn pytest-iotops on, like --iotops")


def cli_values(namespace: Any) -> dict[str, Any]:
    """The options as the configuration layer reads them (``config.OPTIONS`` by ``dest``)."""
    from ..options import OPTIONS

    values = {o.dest: getattr(namespace, o.dest, None) for o in OPTIONS if o.dest}
    values["iotops_diff_base"] = getattr(namespace, "iotops_diff_base", None)
    return values
