"""What each version wrote during a step: its output file read from where the last step stopped, every line
counted by level, the last lines kept for the report (secrets are redacted with the rest of the report). A
line's level is a JSON record's ``level`` (or ``severity``, ``levelname``, ``lvl``), else a level word in
capitals (``ERROR``, ``WARN``, ...), else ``other``; nothing is dropped."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

from ..model import StepLog

__all__ = ["KEEP", "StepLogs", "level_of"]

#: lines kept per version and step, and characters per kept line
KEEP = 5
WIDTH = 300
#: bytes read per version and step at most: beyond, the oldest part of the step's output is counted as lines
#: only (a runaway logger must not stall the rollout)
READ_MAX = 4 << 20
_JSON_LEVEL = ("level", "severity", "levelname", "lvl")
_WORD = re.compile(r"\b(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|CRITICAL|FATAL|PANIC)\b")
_SAME = {"warn": "warning", "err": "error", "fatal": "critical", "panic": "critical"}


def level_of(line: str) -> str:
    if line.startswith("{"):
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict):
            level = next((str(record[k]) for k in _JSON_LEVEL if isinstance(record.get(k), str)), "")
            if level.strip():
                low = level.strip().lower()
                return _SAME.get(low, low)
    m = _WORD.search(line)
    if m is None:
        return "other"
    low = m.group(1).lower()
    return _SAME.get(low, low)


class StepLogs:
    """Per output file, the offset read up to; :meth:`take` gives what was appended since, per version."""

    def __init__(self) -> None:
        self.offsets: dict[Path, int] = {}
        #: a line still being written when a step ended: completed by the next read
        self.partial: dict[Path, bytes] = {}

    def take(self, logs: Mapping[str, Path]) -> list[StepLog]:
        return [self._one(version, Path(path)) for version, path in sorted(logs.items())]

    def _one(self, version: str, path: Path) -> StepLog:
        start = self.offsets.get(path, 0)
        skipped = 0
        try:
            with path.open("rb") as f:
                end = f.seek(0, 2)
                if end < start:  # the file was replaced (a restart): read it from the beginning
                    start, self.partial[path] = 0, b""
                if end - start > READ_MAX:
                    f.seek(start)
                    skipped = _count_lines(f, end - start - READ_MAX)
                    start = end - READ_MAX
                    self.partial[path] = b""
                f.seek(start)
                data = self.partial.pop(path, b"") + f.read(end - start)
        except OSError:
            return StepLog(version, 0, {}, [])
        self.offsets[path] = end
        body, _, rest = data.rpartition(b"\n")
        if rest:
            self.partial[path] = rest
        lines = body.decode("utf-8", "replace").splitlines() if body else []
        levels: dict[str, int] = {"other": skipped} if skipped else {}
        for line in lines:
            level = level_of(line)
            levels[level] = levels.get(level, 0) + 1
        last = [line[:WIDTH] for line in lines[-KEEP:]]
        return StepLog(version, len(lines) + skipped, dict(sorted(levels.items())), last)


def _count_lines(f: BinaryIO, size: int) -> int:
    """Newlines in the next ``size`` bytes of ``f``, read in chunks."""
    count, left = 0, size
    while left > 0:
        chunk = f.read(min(left, 1 << 20))
        if not chunk:
            break
        count += chunk.count(b"\n")
        left -= len(chunk)
    return count
