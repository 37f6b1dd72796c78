"""Diff coverage: how much of the lines a change adds or modifies is covered, Python and Rust alike.

The changed lines come from ``git diff -U0 <merge-base>`` (committed, staged and unstaged changes). A changed
source file that no coverage data knows is an error, not a pass: that is how a path mismatch between the
coverage report and the repository shows up (diff-cover reports 100 % in that case).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from .errors import EvidenceError
from .evidence.base import LineData
from .model import DiffCoverage, DiffFile
from .phases import glob_to_regex

__all__ = ["changed_lines", "diff_coverage", "parse_unified_diff"]

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


def _git(cwd: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    except FileNotFoundError:
        raise EvidenceError("diff coverage needs git, which is not installed") from None
    except subprocess.TimeoutExpired:
        raise EvidenceError(f"git {' '.join(args)} timed out") from None
    if done.returncode != 0:
        raise EvidenceError(f"git {' '.join(args)} failed: {done.stderr.strip()[:500]}")
    return done.stdout


def parse_unified_diff(text: str) -> dict[str, set[int]]:
    """Added/modified line numbers per file (new side) from ``git diff -U0`` output."""
    changed: dict[str, set[int]] = {}
    current: set[int] | None = None
    for line in text.splitlines():
        if line.startswith("+++ "):
            target = line[4:]
            current = None if target == "/dev/null" else changed.setdefault(target.removeprefix("b/"), set())
        elif line.startswith("@@") and current is not None:
            match = _HUNK.match(line)
            if match:
                start, length = int(match.group(1)), int(match.group(2) or "1")
                current.update(range(start, start + length))
    return {path: lines for path, lines in changed.items() if lines}


def changed_lines(rootdir: Path, base: str) -> tuple[str, dict[str, set[int]]]:
    """(merge base, changed lines per path relative to the rootdir)."""
    merge_base = _git(rootdir, "merge-base", base, "HEAD").strip()
    text = _git(rootdir, "diff", "--no-color", "--no-ext-diff", "-U0", "--relative", merge_base, "--", ".")
    return merge_base, parse_unified_diff(text)


def _under(path: str, root: str) -> bool:
    return root in (".", "") or path == root or path.startswith(root.rstrip("/") + "/")


def _matches(path: str, globs: Sequence[str]) -> bool:
    return any(glob_to_regex(g).match(path) for g in globs)


def _by_path(data: Mapping[str, Mapping[str, LineData]]) -> dict[str, tuple[str, LineData]]:
    """Every measured file with the origin that measured it first; a file in two reports counts a line as
    covered if either covered it."""
    known: dict[str, tuple[str, LineData]] = {}
    for origin, per_file in data.items():
        for path, lines in per_file.items():
            known[path] = (known[path][0], known[path][1].merged(lines)) if path in known else (origin, lines)
    return known


def _status(base: str, unknown: Sequence[str], total: int) -> tuple[str, str]:
    if unknown:
        return "error", (
            f"{len(unknown)} changed source file(s) are in no coverage data: {', '.join(unknown[:5])}"
            + (" …" if len(unknown) > 5 else "")
            + " (a path mismatch between the coverage report and the repository? set the evidence 'root', "
            "or list such files in diff.exclude)"
        )
    if total == 0:
        return "no-source-lines", f"the diff against {base} changes no coverable source lines"
    return "measured", ""


def diff_coverage(
    base: str,
    merge_base: str,
    changed: Mapping[str, set[int]],
    data: Mapping[str, Mapping[str, LineData]],
    source_roots: Sequence[tuple[str, frozenset[str]]],
    include: Sequence[str],
    exclude: Sequence[str],
) -> DiffCoverage:
    """``data``: coverage line data by origin ("python", or an evidence source name), then by path.

    ``source_roots``: (directory, file suffixes) that a coverage source measures; a changed file with such a
    suffix under such a directory must be in the data.
    """
    known = _by_path(data)
    files: list[DiffFile] = []
    unknown: list[str] = []
    for path, changed_here in sorted(changed.items()):
        if not _matches(path, include) or _matches(path, exclude):
            continue
        if path not in known:
            if any(_under(path, root) and Path(path).suffix in suffixes for root, suffixes in source_roots):
                unknown.append(path)
            continue
        origin, cov = known[path]
        coverable = {n for n in changed_here if cov.is_coverable(n)}
        covered = {n for n in coverable if cov.is_executed(n)}
        if coverable:
            files.append(
                DiffFile(path, len(changed_here), len(coverable), len(covered), sorted(coverable - covered), origin)
            )
    total = sum(f.coverable for f in files)
    covered_total = sum(f.covered for f in files)
    status, note = _status(base, unknown, total)
    return DiffCoverage(
        status=status,  # type: ignore[arg-type]
        base=base,
        merge_base=merge_base,
        files=files,
        unknown_files=unknown,
        coverable=total,
        covered=covered_total,
        percent=100.0 * covered_total / total if total else None,
        note=note,
    )
