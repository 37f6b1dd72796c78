"""Logs as a metric provider: each version's output (the file its process writes to) read as structured
records — JSON lines, or lines a regular expression with named groups ``level`` and ``message`` reads — and
counted by level, so a ratio signal can compare the canary's share of error lines with the stable version's by
the same exact tests as its error rate. The reason of a failing signal shows the canary's last lines at that
level."""

from __future__ import annotations

import json
import re
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from typing import Any, ClassVar

from ..values import Value, record
from .promql import MonitoringError, Vector
from .providers import MetricProvider

__all__ = ["LogsProvider", "parse_query", "read_record"]

_QUERY = re.compile(r"^\s*version=(?P<version>\S+)(?:\s+level=(?P<level>[A-Za-z0-9_|-]+))?\s*$")
#: the lines read per version kept to show in a reason
KEEP = 5


def parse_query(query: str) -> tuple[str, frozenset[str] | None]:
    """``version=<name>`` (every record) or ``version=<name> level=error|critical`` (records at those levels)."""
    m = _QUERY.match(query)
    if m is None:
        raise MonitoringError(f"logs query {query!r}: expected 'version=<name>' or 'version=<name> level=<a|b>'")
    level = m.group("level")
    return m.group("version"), (frozenset(x.lower() for x in level.split("|")) if level else None)


def read_record(line: str, pattern: re.Pattern[str] | None, level_key: str, message_key: str) -> tuple[str, str]:
    """(level, message) of one line; a line the format does not read is level ``unparsed``, never dropped."""
    if pattern is not None:
        m = pattern.search(line)
        if m is None:
            return "unparsed", line
        groups = m.groupdict()
        return (groups.get("level") or "unparsed").lower(), groups.get("message") or line
    try:
        record: Any = json.loads(line)
    except ValueError:
        return "unparsed", line
    if not isinstance(record, dict):
        return "unparsed", line
    return str(record.get(level_key, "unparsed")).lower(), str(record.get(message_key, line))


@record
class _Follow(Value):
    path: Path
    offset: int = 0
    partial: bytes = b""
    levels: Counter[str] = field(default_factory=Counter)
    last: dict[str, deque[str]] = field(default_factory=dict)


class LogsProvider(MetricProvider):
    name = "logs"
    kinds = frozenset({"ratio"})
    keys: ClassVar[Mapping[str, str]] = {
        "format": "json (default) or regex",
        "pattern": "regex with named groups level and message",
        "level_key": "JSON key of the level (default level)",
        "message_key": "JSON key of the message (default msg)",
    }

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        kind = self.options.get("format", "json")
        if kind not in ("json", "regex"):
            raise MonitoringError(f"deploy.monitoring.logs.format = {kind!r}: expected json or regex")
        self.pattern: re.Pattern[str] | None = None
        if kind == "regex":
            try:
                self.pattern = re.compile(str(self.options.get("pattern", "")))
            except re.error as exc:
                raise MonitoringError(f"deploy.monitoring.logs.pattern: not a regular expression: {exc}") from None
            if "level" not in self.pattern.groupindex:
                raise MonitoringError("deploy.monitoring.logs.pattern needs a named group (?P<level>...)")
        self.level_key = str(self.options.get("level_key", "level"))
        self.message_key = str(self.options.get("message_key", "msg"))
        self._follows: dict[str, _Follow] = {}

    def follow(self, logs: Mapping[str, Path]) -> None:
        for version, path in logs.items():
            current = self._follows.get(version)
            if current is None or current.path != path:  # a new process: its counts start again (a reset)
                self._follows[version] = _Follow(path)

    def _catch_up(self, f: _Follow) -> None:
        try:
            with f.path.open("rb") as handle:
                handle.seek(f.offset)
                data = handle.read()
        except FileNotFoundError:  # the process was stopped and its log removed: its counts stay
            return
        f.offset += len(data)
        *lines, f.partial = (f.partial + data).split(b"\n")
        for raw in lines:
            text = raw.decode("utf-8", "replace").strip()
            if not text:
                continue
            level, message = read_record(text, self.pattern, self.level_key, self.message_key)
            f.levels[level] += 1
            f.last.setdefault(level, deque(maxlen=KEEP)).append(message[:300])

    def read(self, query: str) -> Vector:
        version, levels = parse_query(query)
        f = self._follows.get(version)
        if f is None:
            return []
        self._catch_up(f)
        count = sum(n for level, n in f.levels.items() if levels is None or level in levels)
        return [({}, float(count))]

    def last_lines(self, version: str, levels: frozenset[str]) -> list[str]:
        f = self._follows.get(version)
        return [line for level in sorted(levels) for line in (f.last.get(level, ()) if f else ())][-KEEP:]
