"""SARIF 2.1.0 of every finding, one run per tool, for code-scanning uploads.

Findings that do not count (ignored, baseline, suppressed in source) are kept with a SARIF ``suppressions``
entry, so a code-scanning UI shows them as dismissed instead of losing them.
"""

from __future__ import annotations

import json
from typing import Any

from .. import __version__
from ..model import Finding, RunReport

__all__ = ["render_sarif"]

_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
_SCORE = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0", "info": "0.0"}


def _result(f: Finding, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": _LEVEL[f.severity],
        "message": {"text": f.message or f.rule},
        "partialFingerprints": {"iotopsFingerprint/v1": f.fingerprint},
        "properties": {"severity": f.severity, "status": f.status, "source": f.source},
    }
    if f.path:
        region = {"startLine": f.line} if f.line and f.line > 0 else {}
        if region and f.column and f.column > 0:
            region["startColumn"] = f.column
        physical: dict[str, Any] = {"artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"}}
        if region:
            physical["region"] = region
        result["locations"] = [{"physicalLocation": physical}]
    if f.package:
        result["properties"].update(package=f.package, version=f.version, fixVersions=f.fix_versions)
    if f.status != "open":
        kind = "inSource" if f.status == "suppressed" else "external"
        result["suppressions"] = [{"kind": kind, "status": "accepted", "justification": f.note or f.status}]
    return result


def render_sarif(report: RunReport) -> str:
    by_tool: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_tool.setdefault(finding.tool, []).append(finding)
    runs = []
    for tool, findings in sorted(by_tool.items()):
        rules: dict[str, int] = {}
        rule_list: list[dict[str, Any]] = []
        results = []
        for f in findings:
            if f.rule not in rules:
                rules[f.rule] = len(rule_list)
                rule_list.append(
                    {
                        "id": f.rule,
                        "shortDescription": {"text": f.message[:200] or f.rule},
                        "defaultConfiguration": {"level": _LEVEL[f.severity]},
                        "properties": {"security-severity": _SCORE[f.severity]},
                    }
                )
            results.append(_result(f, rules[f.rule]))
        runs.append(
            {
                "tool": {
                    "driver": {
                        "name": tool,
                        "rules": rule_list,
                        "properties": {"collectedBy": f"pytest-iotops {__version__}"},
                    }
                },
                "results": results,
                "originalUriBaseIds": {"%SRCROOT%": {"uri": "file://" + report.run.rootdir.rstrip("/") + "/"}},
            }
        )
    if not runs:
        runs.append({"tool": {"driver": {"name": "pytest-iotops", "version": __version__}}, "results": []})
    log = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": runs}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
