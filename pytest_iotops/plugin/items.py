"""What the session plugin reads from pytest's items and reports: marker names and relative paths for
classification (each parent's markers worked out once), a failure's headline, and the deployments a test ran,
attached to its report as plain data so xdist carries them to the controller."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .. import fixtures, fleet_fixtures

__all__ = ["attach_rollouts", "headline", "message", "parent_markers", "relative_path"]


def message(report: pytest.TestReport) -> str:
    """A skip's reason, a failure's headline, an xfail's reason (a quarantine's among them)."""
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])
    if report.failed:
        return getattr(report, "iotops_headline", "") or report.head_line or ""
    return str(getattr(report, "wasxfail", ""))


def parent_markers(node: Any, seen: dict[Any, tuple[str, ...]]) -> tuple[str, ...]:
    """The names of the markers ``node`` and its parents carry, nearest first (``iter_markers``' order)."""
    if node is None:
        return ()
    names = seen.get(node)
    if names is None:
        names = seen[node] = (*(m.name for m in node.own_markers), *parent_markers(node.parent, seen))
    return names


def attach_rollouts(report: pytest.TestReport, stash: pytest.Stash) -> None:
    """The deployments and fleet rollouts the test ran so far, as plain data on this report (xdist carries it)."""
    from ..model import to_dict

    for key, attribute in ((fixtures.DEPLOYMENTS, "deployments"), (fleet_fixtures.FLEET_ROLLOUTS, "fleet")):
        records: list[Any] = stash.get(key, [])
        if records:
            setattr(report, f"iotops_{attribute}", [to_dict(r) for r in records])
            records.clear()


def headline(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    """``AssertionError: assert bool is None``: the exception's type and the first line of its message."""
    try:
        lines = str(excinfo.value).strip().splitlines()
    except Exception:  # an exception whose __str__ fails still has a type
        lines = []
    return f"{excinfo.typename}: {lines[0]}" if lines else excinfo.typename


def relative_path(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
