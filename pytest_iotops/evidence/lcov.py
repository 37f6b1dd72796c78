"""LCOV tracefiles (cargo-llvm-cov, tarpaulin ``--out Lcov``, coverage.py, istanbul, gcov/lcov).

Only ``SF``, ``DA``, ``BRDA`` and ``end_of_record`` carry data; summary lines (``LF``, ``LH``, ``BRF``…) are
recounted, never trusted. A line that does not fit the format is an error naming its line number.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import EvidenceError
from ..model import FileCoverage
from .base import LineData, Parsed, coverage_file, repo_path
from .config import EvidenceSource
from .read import iter_text_lines

__all__ = ["parse"]

_KNOWN = {"TN", "SF", "DA", "BRDA", "LF", "LH", "BRF", "BRH", "FN", "FNDA", "FNF", "FNH", "VER", "FNL", "FNA"}


Records = dict[str, tuple[LineData, dict[tuple[int, str, str], bool]]]


def parse(path: Path, source: EvidenceSource, rootdir: Path) -> Parsed:
    records = _records(path, source.max_bytes)
    parsed = Parsed(files=[], scanned_what="coverable lines")
    covered: list[FileCoverage] = []
    for name, (data, brda) in sorted(records.items()):
        rel = repo_path(name, rootdir, source.root)
        parsed.lines[rel] = data
        covered.append(coverage_file(rel, data, len(brda), sum(brda.values())))
        parsed.branch_data = parsed.branch_data or bool(brda)
    parsed.files = covered
    parsed.scanned = sum(f.statements for f in covered)
    return parsed


def _records(path: Path, max_bytes: int) -> Records:
    """Every ``SF`` record, each closed by ``end_of_record``, read as a stream: a record left open means the
    file was cut short (mid-line, mid-path or before its last ``end_of_record``), never a shorter valid report."""
    files: Records = {}
    current: str | None = None
    opened = 0  # line number of the SF: whose record is still open
    for number, raw, ended in iter_text_lines(path, max_bytes):
        line = raw.strip()
        if not line:
            continue
        if number == 1 and line.startswith(("<", "{", "[")):
            raise EvidenceError(f"{path}: expected an LCOV tracefile, but the file looks like XML or JSON")
        if line == "end_of_record":
            current = None
            continue
        cut = "unreadable" if ended else "truncated"  # a bad last line without its newline is where it was cut
        key, sep, value = line.partition(":")
        if not sep or key not in _KNOWN:
            raise EvidenceError(f"{path}: line {number} is not LCOV: {raw[:80]!r}", cut)
        if key == "SF":
            if current is not None:
                message = f"{path}: line {number}: SF: before the record of line {opened} ended (no end_of_record)"
                raise EvidenceError(message, "truncated")
            current, opened = value, number
            files.setdefault(value, (LineData(), {}))
        elif key in ("DA", "BRDA"):
            if current is None:
                raise EvidenceError(f"{path}: line {number}: {key} outside a file record (no SF before it)")
            try:
                _record(files[current], key, value, path, number)
            except EvidenceError as exc:
                raise EvidenceError(str(exc), cut) from None
    if not files:
        raise EvidenceError(f"{path}: no file records (SF:) — not an LCOV tracefile", "saw-nothing")
    if current is not None:
        raise EvidenceError(
            f"{path}: the record opened at line {opened} (SF:{current[:80]}) has no end_of_record: the file is cut "
            "short",
            "truncated",
        )
    return files


def _record(
    entry: tuple[LineData, dict[tuple[int, str, str], bool]], key: str, value: str, path: Path, number: int
) -> None:
    data, brda = entry
    parts = value.split(",")
    try:
        if key == "DA":
            if len(parts) not in (2, 3):  # DA:<line>,<hits>[,<checksum>]
                raise ValueError(value)
            line, hits = int(parts[0]), int(float(parts[1]))
            if line < 0 or hits < 0:  # a negative count is a broken producer, not "not hit"
                raise ValueError(value)
            data.add(line, hits > 0)
        else:
            if len(parts) < 4:  # BRDA:<line>,<block>,<branch>,<taken>
                raise ValueError(value)
            line, block, branch, taken = int(parts[0]), parts[1], ",".join(parts[2:-1]), parts[-1]
            if taken != "-" and int(taken) < 0:
                raise ValueError(value)
            hit = taken not in ("-", "0") and int(taken) > 0
            brda[(line, block, branch)] = brda.get((line, block, branch), False) or hit
    except (IndexError, ValueError, OverflowError):
        raise EvidenceError(f"{path}: line {number}: malformed {key}:{value[:60]}") from None
