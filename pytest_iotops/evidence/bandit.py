"""bandit: its JSON report, or bandit run in this process on ``targets`` when no report path is given.

Files bandit could not parse are findings too (rule ``scan-error``): a file that was not scanned must not
pass as clean. ``metrics`` are ignored (they disregard ``-l``/``-i`` filters); results are counted.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import EvidenceError
from ..model import Finding, Severity
from .base import Parsed, repo_path
from .read import as_dict, expect, read_json

if TYPE_CHECKING:
    from .config import EvidenceSource

__all__ = ["parse", "parse_data", "run_in_process"]

_SEVERITY: dict[str, Severity] = {"HIGH": "high", "MEDIUM": "medium", "LOW": "low"}


def parse(path: Path, source: EvidenceSource, rootdir: Path) -> Parsed:
    return parse_data(read_json(path, source.max_bytes), path, source, rootdir)


def parse_any(path: Path, source: EvidenceSource, rootdir: Path) -> Parsed:
    """bandit's JSON, or its SARIF (``bandit -f sarif``): the kind reads either."""
    data = read_json(path, source.max_bytes)
    if isinstance(data, dict) and "runs" in data:
        from . import sarif

        return sarif.parse_data(data, path, source, rootdir)
    return parse_data(data, path, source, rootdir)


def parse_data(data: Any, path: Path | str, source: EvidenceSource, rootdir: Path) -> Parsed:
    where = Path(path)
    expect(
        isinstance(data, dict) and isinstance(data.get("results"), list),
        where,
        "not a bandit JSON report (no 'results' list)",
    )
    parsed = Parsed()
    metrics = data.get("metrics")
    if isinstance(metrics, dict):  # one entry per scanned file, plus "_totals"
        parsed.scanned, parsed.scanned_what = len([k for k in metrics if k != "_totals"]), "files scanned"
    for index, result in enumerate(data["results"]):
        if not isinstance(result, dict) or not isinstance(result.get("test_id"), str):
            raise EvidenceError(f"{where}: results[{index}] has no test_id")
        cwe = as_dict(result.get("issue_cwe"))
        parsed.findings.append(
            Finding(
                tool="bandit",
                rule=result["test_id"],
                severity=_SEVERITY.get(str(result.get("issue_severity", "")).upper(), "low"),
                message=str(result.get("issue_text", "")),
                path=repo_path(str(result.get("filename", "")), rootdir, source.root),
                line=result.get("line_number") if isinstance(result.get("line_number"), int) else None,
                column=result.get("col_offset") if isinstance(result.get("col_offset"), int) else None,
                aliases=[f"CWE-{cwe['id']}"] if cwe.get("id") else [],
                level=f"confidence {str(result.get('issue_confidence', '')).lower()}",
            )
        )
    for error in data.get("errors") or []:
        if isinstance(error, dict):
            parsed.findings.append(
                Finding(
                    tool="bandit",
                    rule="scan-error",
                    severity="high",
                    message=f"bandit could not scan this file: {error.get('reason', 'unknown reason')}",
                    path=repo_path(str(error.get("filename", "")), rootdir, source.root),
                    level="error",
                )
            )
    return parsed


def run_in_process(source: EvidenceSource, rootdir: Path) -> Parsed:
    """Scan ``targets`` with bandit's own manager: no subprocess, no intermediate file."""
    try:
        with warnings.catch_warnings():  # bandit's plugin loading warns (stevedore deprecations) on import
            warnings.simplefilter("ignore")
            from bandit.core import config as bandit_config
            from bandit.core import manager
    except ImportError:
        raise EvidenceError(f"evidence {source.name!r}: bandit is not installed (pip install bandit)") from None
    base = rootdir / source.root
    targets = [str(base / t) for t in source.targets]
    missing = [t for t in targets if not Path(t).exists()]
    if missing:
        raise EvidenceError(f"evidence {source.name!r}: bandit target(s) not found: {', '.join(missing)}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mgr = manager.BanditManager(bandit_config.BanditConfig(), "file", quiet=True)
        mgr.discover_files(targets, True)
        mgr.run_tests()
    results = [issue.as_dict(with_code=False) for issue in mgr.get_issue_list()]
    errors = [{"filename": name, "reason": reason} for name, reason in mgr.skipped]
    parsed = parse_data(
        {"results": results, "errors": errors}, f"bandit in process on {source.targets}", source, rootdir
    )
    parsed.scanned, parsed.scanned_what = len(mgr.files_list) + len(mgr.skipped), "Python files found"
    return parsed
