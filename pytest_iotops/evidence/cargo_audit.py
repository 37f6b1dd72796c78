"""``cargo audit --json``: vulnerabilities and warnings (unmaintained, unsound, yanked, notice).

cargo-audit gives no severity, only a CVSS vector that is often null; the score is computed from the vector
(the ``cvss`` library handles v3 and v4). A vulnerability without a vector counts as ``high`` and says so:
not knowing how bad it is must not make it pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from cvss import CVSS3, CVSS4

from ..errors import EvidenceError
from ..model import Finding, Severity
from .base import Parsed, severity_from_score
from .read import as_dict, expect, read_json

if TYPE_CHECKING:
    from .config import EvidenceSource

__all__ = ["cvss_severity", "parse"]

_WARNING_SEVERITY: dict[str, Severity] = {"unsound": "medium", "unmaintained": "low", "yanked": "low", "notice": "info"}
TOOL = "cargo-audit"


def cvss_severity(vector: Any) -> tuple[Severity, str]:
    """Severity from a CVSS vector string, with a note when it had to be assumed."""
    if not isinstance(vector, str) or not vector:
        return "high", "no CVSS vector: counted as high"
    try:
        score = CVSS4(vector).base_score if vector.startswith("CVSS:4") else CVSS3(vector).base_score
    except Exception as exc:
        return "high", f"unreadable CVSS vector {vector!r} ({type(exc).__name__}): counted as high"
    return severity_from_score(float(score)), f"CVSS {score}"


def parse(path: Path, source: EvidenceSource, rootdir: Path) -> Parsed:
    data = read_json(path, source.max_bytes)
    expect(
        isinstance(data, dict) and isinstance(data.get("vulnerabilities"), dict),
        path,
        "not a cargo-audit JSON report (no 'vulnerabilities' object)",
    )
    vulns = data["vulnerabilities"].get("list")
    expect(isinstance(vulns, list), path, "vulnerabilities.list is not a list")
    count = data["vulnerabilities"].get("count")
    if count is not None and count != len(vulns):
        raise EvidenceError(
            f"{path}: vulnerabilities.count is {count!r} but the list holds {len(vulns)}: the report contradicts "
            "itself (truncated or edited?)",
            "contradiction",
        )
    if data["vulnerabilities"].get("found") is False and vulns:
        raise EvidenceError(f"{path}: vulnerabilities.found is false but the list is not empty", "contradiction")
    parsed = Parsed()
    for index, vuln in enumerate(vulns):
        parsed.findings.append(_vulnerability(vuln, path, index))
    warnings = data.get("warnings", {})
    if isinstance(warnings, dict):  # {"unmaintained": [...], ...}; very old versions wrote a list
        entries = [w for items in warnings.values() if isinstance(items, list) for w in items]
    elif isinstance(warnings, list):
        entries = warnings
    else:
        raise EvidenceError(f"{path}: 'warnings' is neither an object nor a list")
    for entry in entries:
        parsed.findings.append(_warning(entry, path))
    lockfile = as_dict(data.get("lockfile"))
    dependencies = lockfile.get("dependency-count")
    if isinstance(dependencies, int) and not isinstance(dependencies, bool):
        parsed.scanned, parsed.scanned_what = dependencies, "dependencies in Cargo.lock"
    parsed.notes.append(f"{dependencies if dependencies is not None else '?'} dependencies audited")
    return parsed


def _obj(value: Any, path: Path, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise EvidenceError(f"{path}: {where} is not an object")
    return value


def _vulnerability(vuln: Any, path: Path, index: int) -> Finding:
    vuln = _obj(vuln, path, f"vulnerabilities.list[{index}]")
    advisory = _obj(vuln.get("advisory"), path, f"vulnerabilities.list[{index}].advisory")
    package = as_dict(vuln.get("package"))
    versions = as_dict(vuln.get("versions"))
    severity, why = cvss_severity(advisory.get("cvss"))
    if not isinstance(advisory.get("id"), str):
        raise EvidenceError(f"{path}: vulnerabilities.list[{index}].advisory.id is missing")
    return Finding(
        tool=TOOL,
        rule=advisory["id"],
        severity=severity,
        message=str(advisory.get("title") or advisory["id"]),
        path="Cargo.lock",
        package=package.get("name"),
        version=package.get("version"),
        fix_versions=[str(v) for v in versions.get("patched") or []],
        aliases=[str(a) for a in advisory.get("aliases") or []],
        note=why,
        level="vulnerability",
    )


def _warning(entry: Any, path: Path) -> Finding:
    entry = _obj(entry, path, "a warnings entry")
    kind = str(entry.get("kind", "warning"))
    package = as_dict(entry.get("package"))
    advisory = entry.get("advisory") if isinstance(entry.get("advisory"), dict) else None
    versions = as_dict(entry.get("versions"))
    name, version = package.get("name"), package.get("version")
    return Finding(
        tool=TOOL,
        rule=advisory["id"] if advisory and advisory.get("id") else f"{kind}:{name}",
        severity=_WARNING_SEVERITY.get(kind, "low"),
        message=str(advisory.get("title")) if advisory else f"{name} {version} is {kind}",
        path="Cargo.lock",
        package=name,
        version=version,
        fix_versions=[str(v) for v in versions.get("patched") or []],
        aliases=[str(a) for a in (advisory or {}).get("aliases") or []],
        level=kind,
    )
