"""What counts of a tool's findings: allowlist entries with a reason and an expiry, and a committed baseline.

An ignore that has expired counts again (and says so on the finding); a baseline makes only new findings
count, the way "new code" gates work. Both are pure functions over the findings list.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from .errors import EvidenceError
from .evidence.config import Ignore
from .model import Finding, IgnoreRecord
from .phases import glob_to_regex

__all__ = ["BASELINE_FORMAT", "apply_baseline", "apply_ignores", "load_baseline", "write_baseline"]

BASELINE_FORMAT = 1


def _matches(ignore: Ignore, finding: Finding) -> bool:
    if ignore.id not in (finding.rule, finding.fingerprint, *finding.aliases):
        return False
    if ignore.tool is not None and ignore.tool not in (finding.tool, finding.source):
        return False
    return ignore.path is None or (finding.path is not None and bool(glob_to_regex(ignore.path).match(finding.path)))


def apply_ignores(findings: Sequence[Finding], ignores: Sequence[Ignore], today: dt.date) -> list[IgnoreRecord]:
    matched = [0] * len(ignores)
    for finding in findings:
        if finding.status != "open":
            continue
        for index, ignore in enumerate(ignores):
            if not _matches(ignore, finding):
                continue
            matched[index] += 1
            if ignore.active(today):
                finding.status = "ignored"
                finding.note = f"ignored until {ignore.expires.isoformat()}: {ignore.reason}"
                break
            finding.note = f"ignore expired on {ignore.expires.isoformat()} ({ignore.reason}): counts again"
    return [
        IgnoreRecord(
            id=i.id,
            reason=i.reason,
            expires=i.expires.isoformat(),
            expired=not i.active(today),
            matched=m,
            tool=i.tool,
            path=i.path,
        )
        for i, m in zip(ignores, matched, strict=True)
    ]


def apply_baseline(findings: Iterable[Finding], known: set[str]) -> int:
    """Mark open findings whose fingerprint is in the baseline; returns how many."""
    count = 0
    for finding in findings:
        if finding.status == "open" and finding.fingerprint in known:
            finding.status = "baseline"
            count += 1
    return count


def load_baseline(path: Path) -> set[str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EvidenceError(f"{path}: baseline file not found (create it with --iotops-update-baseline)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EvidenceError(f"{path}: unreadable baseline ({exc})") from None
    if not isinstance(data, dict) or data.get("iotops_baseline") != BASELINE_FORMAT:
        raise EvidenceError(f'{path}: not an iotops baseline (expected "iotops_baseline": {BASELINE_FORMAT})')
    entries = data.get("findings")
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("fingerprint"), str) for e in entries
    ):
        raise EvidenceError(f"{path}: 'findings' must be a list of objects with a fingerprint")
    return {e["fingerprint"] for e in entries}


def write_baseline(findings: Iterable[Finding]) -> str:
    """Every finding that counts now (open or already in the baseline), sorted so diffs of the file are small."""
    entries = sorted(
        (
            {
                "fingerprint": f.fingerprint,
                "tool": f.tool,
                "rule": f.rule,
                "path": f.path or f"{f.package}",
                "message": f.message[:200],
            }
            for f in findings
            if f.status in ("open", "baseline")
        ),
        key=lambda e: (e["tool"] or "", e["path"] or "", e["rule"] or "", e["fingerprint"] or ""),
    )
    return json.dumps({"iotops_baseline": BASELINE_FORMAT, "findings": entries}, indent=2) + "\n"
