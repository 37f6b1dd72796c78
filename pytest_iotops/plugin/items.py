"""What the session plugin reads from pytest's items and reports: marker names and relative paths for
classification (each parent's markers worked out once), a failure's headline, and the deployments a test ran,
attached to its report as plain data so xdist carries them to the controller."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import compress
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .. import fixtures, fleet_fixtures

if TYPE_CHECKING:
    from ..phases import Classification

_OWN_MARKERS, _PARENT, _PATH = attrgetter("own_markers"), attrgetter("parent"), attrgetter("path")

__all__ = ["attach_rollouts", "classify_items", "headline", "message", "parent_markers", "relative_path"]


def message(report: pytest.TestReport) -> str:
    """A skip's reason, an xfail's reason (a quarantine's among them), a failure's first line of what pytest says
    crashed (the plugin replaces it by the exception's headline where it sees the exception: see
    :func:`headline`), else the test's name."""
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])
    if report.failed:
        crash = getattr(getattr(report.longrepr, "reprcrash", None), "message", None)
        lines = crash.strip().splitlines() if isinstance(crash, str) else []
        return lines[0] if lines else report.head_line or ""
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


def classify_items(
    items: Sequence[pytest.Item],
    root: Path,
    classify: Callable[[str, str, tuple[str, ...]], Classification],
    default: str,
) -> tuple[list[str], list[str]]:
    """Each item's phase, and the phase conflicts found (one message per item).

    Most items carry no marker of their own: their phase is their parent's and file's, worked out once per
    (parent, path) and handed out without a Python step per item. Items with markers of their own are
    classified one by one, each distinct (file, markers) once."""
    from ..phases import PhaseConflict

    keys = list(zip(map(id, map(_PARENT, items)), map(id, map(_PATH, items)), strict=True))
    first = dict(zip(reversed(keys), reversed(items), strict=True))  # each key's first item
    relpaths: dict[Path, str] = {}
    inherited: dict[Any, tuple[str, ...]] = {}
    known: dict[tuple[str, tuple[str, ...]], str] = {}

    def one(item: pytest.Item, own: tuple[str, ...]) -> str | None:
        relpath = relpaths.get(item.path)
        if relpath is None:
            relpath = relpaths[item.path] = relative_path(item.path, root)
        markers = (*own, *parent_markers(item.parent, inherited))
        phase = known.get((relpath, markers))
        if phase is None:
            try:
                phase = known[(relpath, markers)] = classify(item.nodeid, relpath, markers).phase
            except PhaseConflict as exc:
                conflicts[id(item)] = str(exc)
        return phase

    conflicts: dict[int, str] = {}
    by_key = {key: one(item, ()) for key, item in first.items()}
    phases: list[str | None] = list(map(by_key.__getitem__, keys))
    special = list(compress(range(len(items)), map(_OWN_MARKERS, items)))  # markers of their own
    if conflicts:  # inherited markers of two phases: every such item is named, in order
        conflicts.clear()
        special = sorted({*special, *(i for i, phase in enumerate(phases) if phase is None)})
    for i in special:
        item = items[i]
        phases[i] = one(item, tuple(m.name for m in item.own_markers))
    found = [conflicts[id(items[i])] for i in special if id(items[i]) in conflicts]
    return [phase or default for phase in phases], found
