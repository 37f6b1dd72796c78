"""coverage.py's JSON report (``coverage json``), format 2 and 3, streamed one file entry at a time."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import EvidenceError
from .base import LineData, Parsed, PathMap, coverage_file
from .jsonstream import JsonStream
from .read import as_dict, expect

if TYPE_CHECKING:
    from .config import EvidenceSource

__all__ = ["parse"]

_NOT_COVERAGE = "not a coverage.py JSON report (no 'files' object)"


def parse(path: Path, source: EvidenceSource, rootdir: Path) -> Parsed:
    parsed = Parsed(files=[], scanned_what="coverable lines")
    found = False
    with JsonStream(path, source.max_bytes) as stream:
        expect(stream.peek() == "{", path, _NOT_COVERAGE)
        for key in stream.members():
            if key == "files":
                expect(stream.peek() == "{", path, _NOT_COVERAGE)
                found = True
                paths = PathMap(rootdir, source.root)
                for name in stream.members():
                    _add(parsed, name, stream.value(), path, paths)
            elif key == "meta":
                parsed.tool_version = str(as_dict(stream.value()).get("version", ""))
            else:
                stream.skip()
        stream.end()
    expect(found, path, _NOT_COVERAGE)
    files = sorted(parsed.files or [], key=lambda f: f.path)
    parsed.files = files
    parsed.scanned = sum(f.statements for f in files)
    return parsed


def _add(parsed: Parsed, name: str, entry: Any, path: Path, paths: PathMap) -> None:
    lines = _lines(entry, path, name)
    rel = paths(name)
    summary = as_dict(entry.get("summary"))
    branches = summary.get("num_branches", 0)
    covered = summary.get("covered_branches", 0)
    if not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in (branches, covered)):
        raise EvidenceError(f"{path}: {name}: branch counts are not whole numbers")
    parsed.lines[rel] = lines
    parsed.files.append(coverage_file(rel, lines, branches, covered))  # type: ignore[union-attr]
    parsed.branch_data = parsed.branch_data or "num_branches" in summary


def _lines(entry: Any, path: Path, name: str) -> LineData:
    if not isinstance(entry, dict):
        raise EvidenceError(f"{path}: files[{name!r}] is not an object")
    executed, missing = entry.get("executed_lines"), entry.get("missing_lines")
    for key, value in (("executed_lines", executed), ("missing_lines", missing)):
        if not isinstance(value, list) or not set(map(type, value)) <= {int}:  # type(), so no bools
            raise EvidenceError(f"{path}: files[{name!r}].{key} is not a list of line numbers")
    try:
        return LineData(executed, missing)  # type: ignore[arg-type]
    except ValueError:
        raise EvidenceError(f"{path}: files[{name!r}] has a line number out of range") from None
