"""LCOV tracefiles (cargo-llvm-cov, tarpaulin ``--out Lcov``, coverage.py, istanbul, gcov/lcov).

Only ``SF``, ``DA``, ``BRDA`` and ``end_of_record`` carry data; summary lines (``LF``, ``LH``, ``BRF``…) are
recounted, never trusted. A line that does not fit the format is an error naming its line number.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import EvidenceError
from .base import LineData, Parsed, coverage_file, repo_path
from .config import EvidenceSource
from .read import read_text

__all__ = ["parse"]

_KNOWN = {"TN", "SF", "DA", "BRDA", "LF", "LH", "BRF", "BRH", "FN", "FNDA", "FNF", "FNH", "VER", "FNL", "FNA"}


def parse(path: Path, source: EvidenceSource, rootdir: Path) -> Parsed:
    text = read_text(path, source.max_bytes)
    if text.lstrip().startswith(("<", "{", "[")):
        raise EvidenceError(f"{path}: expected an LCOV tracefile, but the file looks like XML or JSON")
    files: dict[str, tuple[LineData, dict[tuple[int, str, str], bool]]] = {}
    current: str | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line == "end_of_record":
            current = None
            continue
        key, sep, value = line.partition(":")
        if not sep or key not in _KNOWN:
            raise EvidenceError(f"{path}: line {number} is not LCOV: {raw[:80]!r}")
        if key == "SF":
            current = value
            files.setdefault(value, (LineData(), {}))
        elif key in ("DA", "BRDA"):
            if current is None:
                raise EvidenceError(f"{path}: line {number}: {key} outside a file record (no SF before it)")
            _record(files[current], key, value, path, number)
    if not files:
        raise EvidenceError(f"{path}: no file records (SF:) — not an LCOV tracefile")
    parsed = Parsed(files=[])
    for name, (data, brda) in sorted(files.items()):
        rel = repo_path(name, rootdir, source.root)
        parsed.lines[rel] = data
        parsed.files.append(coverage_file(rel, data, len(brda), sum(brda.values())))  # type: ignore[union-attr]
        parsed.branch_data = parsed.branch_data or bool(brda)
    return parsed


def _record(
    entry: tuple[LineData, dict[tuple[int, str, str], bool]], key: str, value: str, path: Path, number: int
) -> None:
    data, brda = entry
    parts = value.split(",")
    try:
        if key == "DA":
            line, hits = int(parts[0]), int(float(parts[1]))
            if line < 0:
                raise ValueError(line)
            data.add(line, hits > 0)
        else:
            line, block, branch, taken = int(parts[0]), parts[1], ",".join(parts[2:-1]), parts[-1]
            hit = taken not in ("-", "0") and int(taken) > 0
            brda[(line, block, branch)] = brda.get((line, block, branch), False) or hit
    except (IndexError, ValueError, OverflowError):
        raise EvidenceError(f"{path}: line {number}: malformed {key}:{value[:60]}") from None
