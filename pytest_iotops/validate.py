"""Small validators shared by every configuration table: each returns the clean value or raises
:class:`Invalid` with the "expected ..." half of an error message (the caller adds file, key and value)."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

__all__ = [
    "NAME",
    "Invalid",
    "Validator",
    "boolean",
    "choice",
    "count",
    "date",
    "int_list",
    "map_of",
    "name",
    "names",
    "non_negative",
    "percent",
    "positive",
    "shard",
    "str_list",
    "text",
]

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")

Validator = Callable[[Any], Any]


class Invalid(Exception):
    """A value of the wrong type or range; the message says what was expected."""


def boolean(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    raise Invalid("expected true or false")


def text(v: Any) -> str:
    if isinstance(v, str) and v.strip():
        return v
    raise Invalid("expected a non-empty string")


def _number(v: Any) -> bool:
    """A finite int or float (not a bool: ``true`` is no number, and NaN or infinity no limit)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and (isinstance(v, int) or math.isfinite(v))


def percent(v: Any) -> float:
    if _number(v) and 0 <= v <= 100:
        return float(v)
    raise Invalid("expected a number from 0 to 100")


def positive(v: Any) -> float:
    if _number(v) and v > 0:
        return float(v)
    raise Invalid("expected a number greater than 0")


def non_negative(v: Any) -> float:
    if _number(v) and v >= 0:
        return float(v)
    raise Invalid("expected a number, 0 or more")


def count(v: Any) -> int:
    if isinstance(v, int) and not isinstance(v, bool) and v >= 0:
        return v
    raise Invalid("expected a whole number, 0 or more")


def str_list(v: Any) -> tuple[str, ...]:
    if isinstance(v, list) and all(isinstance(x, str) and x for x in v):
        return tuple(v)
    raise Invalid("expected a list of non-empty strings")


def int_list(v: Any) -> tuple[int, ...]:
    if isinstance(v, list) and all(isinstance(x, int) and not isinstance(x, bool) for x in v):
        return tuple(v)
    raise Invalid("expected a list of whole numbers")


def names(v: Any) -> tuple[str, ...]:
    items = str_list(v)
    if not items or len(set(items)) != len(items) or not all(NAME.match(n) for n in items):
        raise Invalid('expected a non-empty list of distinct lower-case names like ["unit", "e2e"]')
    return items


def name(v: Any) -> str:
    if isinstance(v, str) and NAME.match(v):
        return v
    raise Invalid('expected a lower-case name like "unit"')


def slug(v: Any) -> str:
    if isinstance(v, str) and _SLUG.match(v):
        return v
    raise Invalid('expected a lower-case identifier like "rust-coverage"')


def choice(options: Iterable[str]) -> Validator:
    allowed = tuple(options)

    def check(v: Any) -> str:
        if v in allowed:
            return str(v)
        raise Invalid(f"expected one of {', '.join(allowed)}")

    return check


def date(v: Any) -> dt.date:
    """A TOML date (``2027-01-31``) or the same as a string."""
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            pass
    raise Invalid("expected a date like 2027-01-31")


def shard(v: Any) -> tuple[int, int]:
    """``K/N``: this run is slice K of N (1-based)."""
    if isinstance(v, str) and re.fullmatch(r"\d+/\d+", v.strip()):
        k, n = (int(x) for x in v.strip().split("/"))
        if 1 <= k <= n:
            return k, n
    raise Invalid("expected K/N with 1 <= K <= N, like 2/4")


def map_of(inner: Validator, what: str) -> Validator:
    def check(v: Any) -> dict[str, Any]:
        if not isinstance(v, dict):
            raise Invalid(f"expected a table of {what}")
        out = {}
        for k, x in v.items():
            try:
                out[str(k)] = inner(x)
            except Invalid as exc:
                raise Invalid(f"entry {k!r}: {exc}") from None
        return out

    return check
