"""LCOV tracefiles (cargo-llvm-cov, tarpaulin ``--out Lcov``, coverage.py, istanbul, gcov/lcov).

Only ``SF``, ``DA``, ``BRDA`` and ``end_of_record`` carry data; summary lines (``LF``, ``LH``, ``BRF``…) are
recounted, never trusted. A line that does not fit the format is an error naming its line number.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EvidenceError
from ..model import FileCoverage
from .base import LineData, Parsed, PathMap, coverage_file
from .read import iter_text_lines

if TYPE_CHECKING:
    from .config import EvidenceSource

__all__ = ["parse"]

_KNOWN = {"TN", "SF", "DA", "BRDA", "LF", "LH", "BRF", "BRH", "FN", "FNDA", "FNF", "FNH", "VER", "FNL", "FNA"}


Branches = dict[tuple[int, str, str], bool]  # (line, block, branch) -> taken


class _File:
    """One file's lines (a bitmap) and branch counts. Branches are counted per record and the record's keys
    dropped, so memory follows the lines, not the BRDA entries; a file whose record repeats (concatenated
    tracefiles) has its branches recounted as a union in a second pass (:func:`_branch_union`)."""

    __slots__ = ("branches", "data", "records", "taken")

    def __init__(self) -> None:
        self.data = LineData()
        self.records = 0
        self.branches = 0
        self.taken = 0

    def close(self, brda: Branches) -> None:
        self.records += 1
        self.branches += len(brda)
        self.taken += sum(brda.values())


def parse(path: Path, source: EvidenceSource, rootdir: Path) -> Parsed:
    records = _records(path, source.max_bytes)
    repeated = {name for name, entry in records.items() if entry.records > 1}
    if repeated:
        for name, brda in _branch_union(path, repeated).items():
            records[name].branches, records[name].taken = len(brda), sum(brda.values())
    parsed = Parsed(files=[], scanned_what="coverable lines")
    covered: list[FileCoverage] = []
    paths = PathMap(rootdir, source.root)
    for name, entry in sorted(records.items()):
        rel = paths(name)
        parsed.lines[rel] = entry.data
        covered.append(coverage_file(rel, entry.data, entry.branches, entry.taken))
        parsed.branch_data = parsed.branch_data or bool(entry.branches)
    parsed.files = covered
    parsed.scanned = sum(f.statements for f in covered)
    return parsed


def _records(path: Path, max_bytes: int) -> dict[str, _File]:
    """Every ``SF`` record, each closed by ``end_of_record``, read as a stream: a record left open means the
    file was cut short (mid-line, mid-path or before its last ``end_of_record``), never a shorter valid report."""
    files: dict[str, _File] = {}
    current: _File | None = None
    brda: Branches = {}
    name = ""
    opened = 0  # line number of the SF: whose record is still open
    for number, raw, ended in iter_text_lines(path, max_bytes):
        line = raw.strip()
        if not line:
            continue
        if number == 1 and line.startswith(("<", "{", "[")):
            raise EvidenceError(f"{path}: expected an LCOV tracefile, but the file looks like XML or JSON")
        if line == "end_of_record":
            if current is not None:
                current.close(brda)
            current, brda = None, {}
            continue
        cut = "unreadable" if ended else "truncated"  # a bad last line without its newline is where it was cut
        key, sep, value = line.partition(":")
        if not sep or key not in _KNOWN:
            raise EvidenceError(f"{path}: line {number} is not LCOV: {raw[:80]!r}", cut)
        if key == "SF":
            if current is not None:
                message = f"{path}: line {number}: SF: before the record of line {opened} ended (no end_of_record)"
                raise EvidenceError(message, "truncated")
            name, opened = value, number
            current = files.setdefault(value, _File())
        elif key in ("DA", "BRDA"):
            if current is None:
                raise EvidenceError(f"{path}: line {number}: {key} outside a file record (no SF before it)")
            _data_line(current.data, brda, key, value, path, number, cut)
    if not files:
        raise EvidenceError(f"{path}: no file records (SF:) — not an LCOV tracefile", "saw-nothing")
    if current is not None:
        raise EvidenceError(
            f"{path}: the record opened at line {opened} (SF:{name[:80]}) has no end_of_record: the file is cut short",
            "truncated",
        )
    return files


def _data_line(data: LineData, brda: Branches, key: str, value: str, path: Path, number: int, cut: str) -> None:
    at, _, count = value.partition(",")
    if key == "DA" and len(at) < 8 and at.isdecimal() and count.isdecimal():  # "DA:12,3": the checks not needed
        data.add(int(at), count.strip("0") != "")
    else:
        _record(data, brda, key, value, path, number, cut)


def _branch_union(path: Path, names: set[str]) -> dict[str, Branches]:
    """The branches of files recorded more than once, as one set each (a branch taken in any record is taken);
    the file was checked by :func:`_records` already."""
    out: dict[str, Branches] = {name: {} for name in names}
    current: Branches | None = None
    for number, raw, _ in iter_text_lines(path, 0):
        line = raw.strip()
        if line.startswith("SF:"):
            current = out.get(line[3:])
        elif current is not None and line.startswith("BRDA:"):
            _record(LineData(), current, "BRDA", line[5:], path, number)
    return out


def _record(
    data: LineData, brda: Branches, key: str, value: str, path: Path, number: int, reason: str = "unreadable"
) -> None:
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
        raise EvidenceError(f"{path}: line {number}: malformed {key}:{value[:60]}", reason) from None
