"""``pip-audit -f json``. It needs a vulnerability service: offline it skips every dependency yet exits 0 and
says "No known vulnerabilities found". Here a report in which nothing was audited is an error, never a pass.

pip-audit gives no severity, so a known vulnerability counts as ``high``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import EvidenceError
from ..model import Finding
from .base import Parsed
from .read import expect, read_json

if TYPE_CHECKING:
    from .config import EvidenceSource

__all__ = ["parse"]


def parse(path: Path, source: EvidenceSource, rootdir: Path) -> Parsed:
    data = read_json(path, source.max_bytes)
    if isinstance(data, dict) and "bomFormat" in data:
        raise EvidenceError(f"{path}: this is a CycloneDX SBOM; pip-audit evidence needs its JSON format (-f json)")
    expect(
        isinstance(data, dict) and isinstance(data.get("dependencies"), list),
        path,
        "not a pip-audit JSON report (no 'dependencies' list)",
    )
    parsed = Parsed(scanned_what="dependencies")
    skipped: list[str] = []
    audited = 0
    for index, dep in enumerate(data["dependencies"]):
        if not isinstance(dep, dict) or not isinstance(dep.get("name"), str):
            raise EvidenceError(f"{path}: dependencies[{index}] has no name")
        if "skip_reason" in dep:
            skipped.append(f"{dep['name']}: {dep['skip_reason']}")
            continue
        audited += 1
        for vuln in dep.get("vulns") or []:
            parsed.findings.append(_finding(dep, vuln, path))
    if data["dependencies"] and audited == 0:
        raise EvidenceError(
            f"{path}: pip-audit audited none of {len(skipped)} dependencies (no network or no vulnerability "
            f"service?); first: {skipped[0]}",
            "saw-nothing",
        )
    parsed.scanned = len(data["dependencies"])
    if skipped:
        parsed.notes.append(f"{len(skipped)} dependencies not audited: " + "; ".join(skipped[:5]))
    parsed.notes.append(f"{audited} dependencies audited")
    return parsed


def _finding(dep: dict[str, Any], vuln: Any, path: Path) -> Finding:
    if not isinstance(vuln, dict) or not isinstance(vuln.get("id"), str):
        raise EvidenceError(f"{path}: {dep['name']}: a vulnerability has no id")
    description = str(vuln.get("description") or "").strip().splitlines()
    return Finding(
        tool="pip-audit",
        rule=vuln["id"],
        severity="high",
        message=description[0][:300] if description else f"{dep['name']} {dep.get('version')} is vulnerable",
        package=dep["name"],
        version=str(dep.get("version", "")),
        fix_versions=[str(v) for v in vuln.get("fix_versions") or []],
        aliases=[str(a) for a in vuln.get("aliases") or []],
        note="pip-audit reports no severity: counted as high",
        level="vulnerability",
    )
