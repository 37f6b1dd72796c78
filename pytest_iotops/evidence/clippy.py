"""``cargo clippy --message-format=json``: JSON Lines mixing build messages with rustc/clippy diagnostics.

Only ``compiler-message`` lines with a code or a primary span are findings (older toolchains add summary
messages such as "2 warnings emitted" that would double count). Cached re-runs replay the same diagnostics,
so duplicates are dropped. The effective level (``-D warnings`` turns warnings into errors) is kept.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import EvidenceError
from ..model import Finding, Severity
from .base import Parsed, repo_path
from .read import read_json_lines

if TYPE_CHECKING:
    from .config import EvidenceSource

__all__ = ["parse"]

_SEVERITY: dict[str, Severity] = {"error": "high", "error: internal compiler error": "critical", "warning": "medium"}
#: rustc's messages that only count what it already reported; anything else without code and span is a finding
#: (an internal compiler error has neither, and must never be dropped)
_SUMMARY = re.compile(
    r"^(\d+ (warning|error)s? emitted|aborting due to|could not compile|"
    r"(warning|error): .* generated \d+ (warning|error)s?|.* generated \d+ (warning|error)s?)",
    re.IGNORECASE,
)


def parse(path: Path, source: EvidenceSource, rootdir: Path) -> Parsed:
    parsed = Parsed()
    seen: set[tuple[Any, ...]] = set()
    cargo_lines = 0
    build_failed = False
    for number, item in read_json_lines(path, source.max_bytes):
        if not isinstance(item, dict) or "reason" not in item:
            raise EvidenceError(f"{path}: line {number} is not a cargo JSON message (no 'reason')")
        cargo_lines += 1
        if item["reason"] == "build-finished" and item.get("success") is False:
            build_failed = True
            parsed.notes.append("the build did not finish (errors stop cargo before every crate is checked)")
        if item["reason"] != "compiler-message":
            continue
        finding = _diagnostic(item.get("message"), path, number, source, rootdir)
        if finding is None:
            continue
        key = (item.get("package_id"), finding.rule, finding.path, finding.line, finding.column, finding.message)
        if key not in seen:
            seen.add(key)
            parsed.findings.append(finding)
    if cargo_lines == 0:
        raise EvidenceError(f"{path}: no cargo JSON messages", "saw-nothing")
    if build_failed and not any(f.level.startswith("error") for f in parsed.findings):
        raise EvidenceError(
            f"{path}: cargo says the build failed (build-finished success=false) but reported no error: "
            "the failure is not in this output (a crash, a dependency or a build script?)",
            "contradiction",
        )
    return parsed


def _diagnostic(message: Any, path: Path, number: int, source: EvidenceSource, rootdir: Path) -> Finding | None:
    if not isinstance(message, dict):
        raise EvidenceError(f"{path}: line {number}: compiler-message without a 'message' object")
    code = message.get("code") if isinstance(message.get("code"), dict) else None
    primary = _primary_span(message)
    raw_level = str(message.get("level", "warning"))
    # summaries ("N warnings emitted", "aborting due to ...") and notes repeat what is counted; an error without
    # code or span (an internal compiler error, a linker failure) is a finding and is kept
    summary = not raw_level.startswith("error") or _SUMMARY.match(str(message.get("message", "")))
    if code is None and primary is None and summary:
        return None
    level = "error" if raw_level.startswith("error") else raw_level
    rule = _rule(code, raw_level, level)
    file_name = primary.get("file_name") if primary else None
    return Finding(
        tool="clippy" if rule.startswith("clippy::") else "rustc",
        rule=rule,
        severity=_SEVERITY.get(raw_level, "low"),
        message=str(message.get("message", "")),
        path=repo_path(str(file_name), rootdir, source.root) if file_name else None,
        line=primary.get("line_start") if primary else None,
        column=primary.get("column_start") if primary else None,
        level=level,
    )


def _primary_span(message: dict[str, Any]) -> dict[str, Any] | None:
    """The span rustc marks primary, else the first one: where the finding points."""
    spans = [s for s in message.get("spans") or [] if isinstance(s, dict)]
    return next((s for s in spans if s.get("is_primary")), spans[0] if spans else None)


def _rule(code: dict[str, Any] | None, raw_level: str, level: str) -> str:
    """The lint or error code; a diagnostic without one is named by its level (an ICE by its own name)."""
    if code and code.get("code"):
        return str(code.get("code"))
    return "rustc-ice" if raw_level == "error: internal compiler error" else f"rustc-{level}"
