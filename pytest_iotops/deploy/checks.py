"""Response checks: what a version must answer, not only that it answered. A version that returns 200 with a
corrupt body passes every status-based measurement; a check on the status, a JSON path, a regular expression
over the body or a header catches it. Checks apply to the load's responses (a failure is an error of the
version that answered, named by the target's ``X-Iotops-Version`` header) and to the canary's health probes.

``[[tool.iotops.deploy.checks]]`` tables, validated here so a bad pattern or path is a configuration error
naming its key before anything starts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import field
from typing import Any

from .. import validate as v
from ..errors import ConfigError
from ..evidence.config import check_table
from ..values import FrozenValue, record

__all__ = ["VERSION_HEADER", "ResponseCheck", "failures", "json_path", "parse_checks"]

#: every target names the version that answered in this response header
VERSION_HEADER = "X-Iotops-Version"
_MISSING = object()
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\[\"((?:[^\"\\]|\\.)*)\"\]|\['([^']*)'\]")


def json_path(path: str) -> tuple[str | int, ...]:
    """``$.a.b[0]["c d"]`` as its steps; a path outside this subset of JSONPath raises :class:`v.Invalid`."""
    if not path.startswith("$"):
        raise v.Invalid("expected a JSON path starting with $, e.g. $.reading.celsius or $.items[0]")
    steps: list[str | int] = []
    at = 1
    while at < len(path):
        m = _STEP.match(path, at)
        if m is None:
            raise v.Invalid(f'cannot read the JSON path from {path[at:]!r} on (supported: .name, [index], ["key"])')
        name, index, quoted, single = m.groups()
        if index is not None:
            steps.append(int(index))
        elif quoted is not None:
            steps.append(json.loads(f'"{quoted}"'))
        else:
            steps.append(name if name is not None else single)
        at = m.end()
    return tuple(steps)


def _read_json(body: bytes) -> tuple[Any, str]:
    """The document, or why there is none: never an exception, so the request is counted whatever came back."""
    try:
        return json.loads(body), ""
    except (ValueError, UnicodeDecodeError):
        return None, f"body is not JSON ({len(body)} bytes)"
    except RecursionError:  # a hostile or broken body: [[[[...]]]] deeper than the parser goes
        return None, f"body is JSON nested too deep to read ({len(body)} bytes)"


def _follow(document: Any, steps: Sequence[str | int]) -> Any:
    for step in steps:
        found = isinstance(document, list) and isinstance(step, int) and step < len(document)
        if not (found or (isinstance(document, dict) and isinstance(step, str) and step in document)):
            return _MISSING
        document = document[step]
    return document


def json_path_value(document: Any, path: str) -> Any:
    """The value at ``path`` (see :func:`json_path`); KeyError naming the path when there is none."""
    found = _follow(document, json_path(path))
    if found is _MISSING:
        raise KeyError(f"nothing at {path}")
    return found


@record(frozen=True)
class ResponseCheck(FrozenValue):
    #: the request path it applies to: exact, or a prefix when it ends in ``*`` (``*`` alone: every path)
    path: str = "*"
    #: the statuses allowed (empty: any status below 500)
    status: tuple[int, ...] = ()
    json_path: str | None = None
    #: the value the JSON path must have (absent: it must exist)
    equals: Any = field(default=_MISSING, compare=False)
    body_regex: str | None = None
    #: header name -> regular expression its value must match (searched, like the body's)
    headers: Mapping[str, str] = field(default_factory=dict)

    def applies(self, path: str) -> bool:
        path = path.split("?", 1)[0]
        return path.startswith(self.path[:-1]) if self.path.endswith("*") else path == self.path

    def failure(self, status: int, headers: Mapping[str, str], body: bytes) -> str | None:
        """Why the response fails this check, in words; None when it passes."""
        return self._status(status) or self._headers(headers) or self._body(body) or None

    def _status(self, status: int) -> str:
        if self.status and status not in self.status:
            return f"status {status}, expected {' or '.join(map(str, self.status))}"
        return f"status {status}" if not self.status and status >= 500 else ""

    def _headers(self, headers: Mapping[str, str]) -> str:
        lowered = {k.lower(): value for k, value in headers.items()}
        for name, pattern in self.headers.items():
            value = lowered.get(name.lower())
            if value is None:
                return f"no {name} header"
            if not re.search(pattern, value):
                return f"header {name}: {value[:80]!r} does not match {pattern!r}"
        return ""

    def _body(self, body: bytes) -> str:
        if self.body_regex is not None and not re.search(self.body_regex.encode(), body):
            return f"body does not match {self.body_regex!r}"
        if self.json_path is None:
            return ""
        document, unreadable = _read_json(body)
        if unreadable:
            return unreadable
        found = _follow(document, json_path(self.json_path))
        if found is _MISSING:
            return f"no {self.json_path} in the body"
        if self.equals is not _MISSING and found != self.equals:
            return f"{self.json_path} = {json.dumps(found)[:80]}, expected {json.dumps(self.equals)[:80]}"
        return ""


def failures(checks: Sequence[ResponseCheck], path: str, status: int, headers: Mapping[str, str], body: bytes) -> str:
    """The first failing check's reason for a response to ``path``; empty when every check that applies passes."""
    for check in checks:
        if check.applies(path):
            reason = check.failure(status, headers, body)
            if reason is not None:
                return f"{path}: {reason}"
    return ""


def _statuses(value: Any) -> tuple[int, ...]:
    values = value if isinstance(value, list) else [value]
    if values and all(isinstance(x, int) and not isinstance(x, bool) and 100 <= x <= 599 for x in values):
        return tuple(values)
    raise v.Invalid("expected an HTTP status (100-599) or a list of them")


def _path(value: Any) -> str:
    if isinstance(value, str) and (value.startswith("/") or value == "*"):
        return value
    raise v.Invalid('expected a request path starting with / (a trailing * makes it a prefix), or "*"')


def _regex(value: Any) -> str:
    text = v.text(value)
    try:
        re.compile(text)
    except re.error as exc:
        raise v.Invalid(f"not a regular expression: {exc}") from None
    return text


def _json_path(value: Any) -> str:
    json_path(v.text(value))
    return str(value)


def _any(value: Any) -> Any:
    return value


_KEYS: dict[str, v.Validator] = {
    "path": _path,
    "status": _statuses,
    "json_path": _json_path,
    "equals": _any,
    "body_regex": _regex,
    "headers": v.map_of(_regex, "header = regular expression"),
}


def parse_checks(raw: Any, where: str) -> tuple[ResponseCheck, ...]:
    if not isinstance(raw, list) or not all(isinstance(entry, Mapping) for entry in raw):
        raise ConfigError(f"{where}: deploy.checks must be an array of tables ([[tool.iotops.deploy.checks]])")
    checks = []
    for index, entry in enumerate(raw):
        at = f"deploy.checks #{index + 1}"
        values = check_table(entry, _KEYS, where, f"{at}: ")
        if not {"status", "json_path", "body_regex", "headers"} & set(values):
            raise ConfigError(f"{where}: {at}: give at least one of status, json_path, body_regex, headers")
        if "equals" in values and "json_path" not in values:
            raise ConfigError(f"{where}: {at}: equals needs a json_path")
        checks.append(ResponseCheck(**values))
    return tuple(checks)
