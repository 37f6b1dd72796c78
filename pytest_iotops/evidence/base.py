"""What every parser returns, and the helpers they share: severity scales, fingerprints, path mapping."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from ..model import FileCoverage, Finding, Severity, TestResult
from ..severity import severity_at_least
from ..values import Value, record

__all__ = [
    "LineData",
    "Parsed",
    "PathMap",
    "assign_fingerprints",
    "coverage_file",
    "repo_path",
    "severity_at_least",
    "severity_from_score",
]


class LineData:
    """Coverable lines of one file as two bitmaps (seen, hit): what diff coverage needs, kept in memory only.

    Bitmaps rather than sets: a 200 MB Cobertura file has millions of lines, which as Python sets would take
    hundreds of MB; as bits they take a few. A line hit by any report or class counts as executed.
    """

    __slots__ = ("_hit", "_seen")
    __hash__ = None  # type: ignore[assignment]  # mutable
    #: no source file has more lines; a bigger number is a broken or hostile report, not a bigger bitmap
    MAX_LINE = 10_000_000

    def __init__(self, executed: Iterable[int] = (), missing: Iterable[int] = ()) -> None:
        self._hit = bytearray()
        self._seen = bytearray()
        executed, missing = list(executed), list(missing)
        top = max(max(executed, default=0), max(missing, default=0))
        if min(min(executed, default=0), min(missing, default=0)) < 0 or top > self.MAX_LINE:
            raise ValueError(f"a line number is out of range 0..{self.MAX_LINE}")
        if executed or missing:
            self._seen = bytearray(top // 8 + 1)
            self._hit = bytearray(top // 8 + 1)
        seen, hit = self._seen, self._hit
        for line in missing:  # inlined add(): a coverage report has millions of lines
            seen[line >> 3] |= 1 << (line & 7)
        for line in executed:
            seen[line >> 3] |= 1 << (line & 7)
            hit[line >> 3] |= 1 << (line & 7)

    def add(self, line: int, hit: bool) -> None:
        if not 0 <= line <= self.MAX_LINE:
            raise ValueError(f"line number {line} out of range 0..{self.MAX_LINE}")
        byte, bit = divmod(line, 8)
        if byte >= len(self._seen):
            grow = max(byte + 1 - len(self._seen), len(self._seen))
            self._seen.extend(bytes(grow))
            self._hit.extend(bytes(grow))
        mask = 1 << bit
        self._seen[byte] |= mask
        if hit:
            self._hit[byte] |= mask

    def _has(self, bits: bytearray, line: int) -> bool:
        byte, bit = divmod(line, 8)
        return 0 <= byte < len(bits) and bool(bits[byte] >> bit & 1)

    def is_coverable(self, line: int) -> bool:
        return self._has(self._seen, line)

    def is_executed(self, line: int) -> bool:
        return self._has(self._hit, line)

    @staticmethod
    def _lines(bits: bytes | bytearray) -> set[int]:
        return {i * 8 + b for i, byte in enumerate(bits) if byte for b in range(8) if byte >> b & 1}

    @property
    def executed(self) -> set[int]:
        return self._lines(self._hit)

    @property
    def missing(self) -> set[int]:
        return self._lines(bytes(s & ~h & 0xFF for s, h in zip(self._seen, self._hit, strict=True)))

    def missing_ranges(self) -> str:
        """The missing lines as ranges (``"3-7,12"``), found on the bitmaps: a file of millions of lines never
        becomes millions of Python integers."""
        size = len(self._seen)
        bits = int.from_bytes(self._seen, "little") & ~int.from_bytes(self._hit, "little")
        starts = _set_bits((bits & ~(bits << 1)).to_bytes(size + 1, "little"))
        ends = _set_bits((bits & ~(bits >> 1)).to_bytes(size + 1, "little"))
        return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in zip(starts, ends, strict=True))

    @property
    def statements(self) -> int:
        return int.from_bytes(self._seen, "little").bit_count()

    @property
    def covered(self) -> int:
        return int.from_bytes(self._hit, "little").bit_count()

    def merged(self, other: LineData) -> LineData:
        out = LineData()
        size = max(len(self._seen), len(other._seen))
        for mine, theirs, target in ((self._seen, other._seen, "_seen"), (self._hit, other._hit, "_hit")):
            a, b = mine.ljust(size, b"\0"), theirs.ljust(size, b"\0")
            setattr(out, target, bytearray(x | y for x, y in zip(a, b, strict=True)))
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LineData) and (self.executed, self.missing) == (other.executed, other.missing)

    def __repr__(self) -> str:
        return f"LineData(executed={sorted(self.executed)}, missing={sorted(self.missing)})"


def _set_bits(bits: bytes) -> list[int]:
    """Positions of the set bits, visiting only the non-zero bytes (found by the regex engine, in C)."""
    return [
        (match.start() + offset) * 8 + i
        for match in _NONZERO.finditer(bits)
        for offset, byte in enumerate(match.group())
        for i in _BITS[byte]
    ]


_NONZERO = re.compile(rb"[^\x00]+")
_BITS = [tuple(i for i in range(8) if byte >> i & 1) for byte in range(256)]


@record
class Parsed(Value):
    """What a parser read from one tool output: coverage, line data, findings or tests."""

    files: list[FileCoverage] | None = None
    lines: dict[str, LineData] = field(default_factory=dict)
    branch_data: bool = False
    findings: list[Finding] = field(default_factory=list)
    tests: list[TestResult] = field(default_factory=list)
    tool_version: str = ""
    notes: list[str] = field(default_factory=list)
    #: how many things the tool says it examined (lines, test cases, dependencies, runs with results), and what
    #: they are; 0 means it saw nothing, which is an error whatever the thresholds (see ``evidence.run``)
    scanned: int | None = None
    scanned_what: str = ""


def severity_from_score(score: float) -> Severity:
    """CVSS qualitative rating scale (the same bands for v3 and v4)."""
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low" if score > 0 else "info"


def _norm(message: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\d+", "#", message)).strip().lower()[:500]


def assign_fingerprints(findings: list[Finding]) -> None:
    """Same finding, same fingerprint, across runs: no line or column in it, so moving code changes nothing;
    identical findings in one file are told apart by their order."""
    seen: Counter[str] = Counter()
    for f in findings:
        where = f.path or f"{f.package}@{f.version}"
        key = "\x1f".join([f.tool, f.rule, where, _norm(f.message)])
        seen[key] += 1
        f.fingerprint = hashlib.sha256(f"{key}\x1f{seen[key]}".encode()).hexdigest()[:20]


class PathMap:
    """A tool's file names as paths relative to the rootdir, with ``/``; each name is worked out once per report
    (a SARIF log names the same file in thousands of results, and resolving a path touches the disk).

    ``candidates`` are directories the tool says its names are relative to (Cobertura ``<source>``); the first
    under which the file exists wins, else the file is taken as relative to the source's ``root``.
    """

    def __init__(self, rootdir: Path, root: str = ".", candidates: tuple[str, ...] = ()) -> None:
        self.rootdir = rootdir.resolve()
        self.base = (rootdir / root).resolve()
        self.dirs = [Path(c.replace("\\", "/")) for c in candidates if c]
        self._seen: dict[str, str] = {}

    #: names remembered; a report naming more distinct files starts over rather than grow without bound
    REMEMBER = 50_000

    def __call__(self, raw: str) -> str:
        known = self._seen.get(raw)
        if known is None:
            if len(self._seen) >= self.REMEMBER:
                self._seen.clear()
            known = self._seen[raw] = self._map(raw)
        return known

    def _map(self, raw: str) -> str:
        name = _uri_path(raw).replace("\\", "/")
        options = [(d if d.is_absolute() else self.base / d) / name for d in self.dirs]
        options.append(Path(name) if Path(name).is_absolute() else self.base / name)
        chosen = next((p for p in options if p.is_absolute() and p.exists()), None)
        if chosen is None:
            chosen = next((p for p in options if p.is_absolute() and _under(p, self.rootdir)), options[-1])
        if chosen.is_absolute() and _under(chosen, self.rootdir):
            return PurePosixPath(*chosen.resolve().relative_to(self.rootdir).parts).as_posix()
        return PurePosixPath(name).as_posix()


def repo_path(raw: str, rootdir: Path, root: str = ".", candidates: tuple[str, ...] = ()) -> str:
    """One name mapped as :class:`PathMap` does (use a ``PathMap`` for many)."""
    return PathMap(rootdir, root, candidates)(raw)


def _uri_path(raw: str) -> str:
    """A ``file:`` URI (``file:///a``, ``file:/a``, ``file://host/a``, ``file:///C:/a``) as a path; else ``raw``."""
    if not raw.lower().startswith("file:"):
        return unquote(raw)
    path = unquote(urlsplit(raw).path)
    return path[1:] if re.match(r"^/[A-Za-z]:[/\\]", path) else path


def _under(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return False
    return True


def coverage_file(path: str, data: LineData, branches: int = 0, covered_branches: int = 0) -> FileCoverage:
    statements = data.statements
    covered = data.covered
    return FileCoverage(
        path=path,
        statements=statements,
        covered_lines=covered,
        missing=data.missing_ranges(),
        branches=branches,
        covered_branches=covered_branches,
        percent=100.0 * covered / statements if statements else 100.0,
        branch_percent=(100.0 * covered_branches / branches if branches else 100.0) if branches else None,
    )
