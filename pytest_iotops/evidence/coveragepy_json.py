"""coverage.py's JSON report (``coverage json``), format 2 and 3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import EvidenceError
from .base import LineData, Parsed, coverage_file, repo_path
from .config import EvidenceSource
from .read import expect, read_json

__all__ = ["parse"]


def parse(path: Path, source: EvidenceSource, rootdir: Path) -> Parsed:
    data = read_json(path, source.max_bytes)
    expect(
        isinstance(data, dict) and isinstance(data.get("files"), dict),
        path,
        "not a coverage.py JSON report (no 'files' object)",
    )
    meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
    parsed = Parsed(files=[], tool_version=str(meta.get("version", "")))
    for name, entry in sorted(data["files"].items()):
        lines = _lines(entry, path, name)
        rel = repo_path(name, rootdir, source.root)
        summary = entry.get("summary", {}) if isinstance(entry.get("summary"), dict) else {}
        branches = summary.get("num_branches", 0)
        covered = summary.get("covered_branches", 0)
        if not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in (branches, covered)):
            raise EvidenceError(f"{path}: {name}: branch counts are not whole numbers")
        parsed.lines[rel] = lines
        parsed.files.append(coverage_file(rel, lines, branches, covered))  # type: ignore[union-attr]
        parsed.branch_data = parsed.branch_data or "num_branches" in summary
    parsed.scanned = sum(f.statements for f in parsed.files or [])
    parsed.scanned_what = "coverable lines"
    return parsed


def _lines(entry: Any, path: Path, name: str) -> LineData:
    if not isinstance(entry, dict):
        raise EvidenceError(f"{path}: files[{name!r}] is not an object")
    executed, missing = entry.get("executed_lines"), entry.get("missing_lines")
    for key, value in (("executed_lines", executed), ("missing_lines", missing)):
        if not isinstance(value, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in value):
            raise EvidenceError(f"{path}: files[{name!r}].{key} is not a list of line numbers")
    if any(not 0 <= n <= LineData.MAX_LINE for n in executed + missing):  # type: ignore[operator]
        raise EvidenceError(f"{path}: files[{name!r}] has a line number out of range")
    return LineData(executed, missing)  # type: ignore[arg-type]
