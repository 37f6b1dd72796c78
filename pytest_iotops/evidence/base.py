"""What every parser returns, and the helpers they share: severity scales, fingerprints, path mapping."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from ..model import FileCoverage, Finding, Severity, TestResult
from .config import SEVERITIES

__all__ = [
    "LineData",
    "Parsed",
    "assign_fingerprints",
    "coverage_file",
    "repo_path",
    "severity_at_least",
    "severity_from_score",
]


@dataclass
class LineData:
    """Coverable lines of one file: what diff coverage needs (kept in memory, not in the report)."""

    executed: set[int] = field(default_factory=set)
    missing: set[int] = field(default_factory=set)


@dataclass
class Parsed:
    files: list[FileCoverage] | None = None
    lines: dict[str, LineData] = field(default_factory=dict)
    branch_data: bool = False
    findings: list[Finding] = field(default_factory=list)
    tests: list[TestResult] = field(default_factory=list)
    tool_version: str = ""
    notes: list[str] = field(default_factory=list)


def severity_from_score(score: float) -> Severity:
    """CVSS qualitative rating scale (the same bands for v3 and v4)."""
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low" if score > 0 else "info"


def severity_at_least(severity: str, floor: str) -> bool:
    return SEVERITIES.index(severity) <= SEVERITIES.index(floor)


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


def repo_path(raw: str, rootdir: Path, root: str = ".", candidates: tuple[str, ...] = ()) -> str:
    """A tool's file name as a path relative to the rootdir, with ``/``.

    ``candidates`` are directories the tool says its names are relative to (Cobertura ``<source>``); the first
    under which the file exists wins, else the file is taken as relative to the source's ``root``.
    """
    name = unquote(raw.removeprefix("file://")).replace("\\", "/")
    base = (rootdir / root).resolve()
    rootdir = rootdir.resolve()
    dirs = [Path(c.replace("\\", "/")) for c in candidates if c]
    options = [(d if d.is_absolute() else base / d) / name for d in dirs]
    options.append(Path(name) if Path(name).is_absolute() else base / name)
    chosen = next((p for p in options if p.is_absolute() and p.exists()), None)
    if chosen is None:
        chosen = next((p for p in options if p.is_absolute() and _under(p, rootdir)), options[-1])
    if chosen.is_absolute() and _under(chosen, rootdir):
        return PurePosixPath(*chosen.resolve().relative_to(rootdir).parts).as_posix()
    return PurePosixPath(name).as_posix()


def _under(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return False
    return True


def coverage_file(path: str, data: LineData, branches: int = 0, covered_branches: int = 0) -> FileCoverage:
    statements = len(data.executed | data.missing)
    covered = len(data.executed)
    return FileCoverage(
        path=path,
        statements=statements,
        covered_lines=covered,
        missing_lines=sorted(data.missing - data.executed),
        branches=branches,
        covered_branches=covered_branches,
        percent=100.0 * covered / statements if statements else 100.0,
        branch_percent=(100.0 * covered_branches / branches if branches else 100.0) if branches else None,
    )
