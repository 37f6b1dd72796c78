"""The quarantine list: tests known to be flaky, each with a reason and an expiry date, applied at run time. A
quarantined test runs as usual, but a failure is reported as an expected failure (pytest's non-strict
``xfail`` with the reason), so it neither blocks later phases nor fails the run; a pass stays a pass. After its
date the entry no longer applies — the test's failures block again — and the run says so."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .. import validate as v
from ..evidence.config import table_entries
from ..values import FrozenValue, record

__all__ = ["Quarantined", "apply_quarantine", "expired_lines", "matching", "parse_quarantine", "split"]


@record(frozen=True)
class Quarantined(FrozenValue):
    """One ``[[tool.iotops.history.quarantine]]`` entry: tests whose failures do not fail the run, until a date."""

    #: a test's node id (every parametrization of it), or a file or class (every test under it)
    test: str
    reason: str
    until: dt.date

    def covers(self, nodeid: str) -> bool:
        return nodeid == self.test or nodeid.startswith((self.test + "::", self.test + "["))


_KEYS: dict[str, v.Validator] = {"test": v.text, "reason": v.text, "until": v.date}


def parse_quarantine(value: Any, where: str) -> tuple[Quarantined, ...]:
    """``[[tool.iotops.history.quarantine]]`` tables: test, reason and until are each required."""
    why = "a quarantine needs a test, a reason and an end date"
    entries = table_entries(value, where, "history.quarantine", _KEYS, ("test", "reason", "until"), why)
    return tuple(Quarantined(e["test"], e["reason"], e["until"]) for e in entries)


def split(entries: Iterable[Quarantined], today: dt.date) -> tuple[list[Quarantined], list[Quarantined]]:
    """(in force, expired): an entry is in force through its ``until`` day."""
    entries = list(entries)
    return [e for e in entries if e.until >= today], [e for e in entries if e.until < today]


def matching(nodeid: str, active: Iterable[Quarantined]) -> Quarantined | None:
    return next((e for e in active if e.covers(nodeid)), None)


def apply_quarantine(
    items: Sequence[Any], entries: Sequence[Quarantined], mark: Callable[[Any, str], None], today: dt.date | None = None
) -> list[str]:
    """Mark every collected item an entry in force covers (``mark(item, reason)``: the plugin adds pytest's
    non-strict xfail); the line the run shows about it (where the items were collected)."""
    active, _ = split(entries, today or dt.date.today())
    marked = 0
    for item in items:
        entry = matching(item.nodeid, active)
        if entry is not None:
            mark(item, f"quarantined until {entry.until.isoformat()}: {entry.reason}")
            marked += 1
    lines = (
        [f"iotops quarantine: {marked} tests quarantined (a failure is reported as xfailed, not blocking)"]
        if marked
        else []
    )
    return lines


def expired_lines(entries: Iterable[Quarantined], today: dt.date | None = None) -> list[str]:
    """What the run says about entries past their date (the controller says it under xdist too)."""
    return [
        f"iotops quarantine: the entry for {e.test} expired on {e.until.isoformat()}: its failures block again"
        for e in split(entries, today or dt.date.today())[1]
    ]
