"""SARIF 2.1.0 from any tool (semgrep, trivy, bandit, CodeQL, clippy-sarif …).

Level resolution follows the spec: the result's ``level``, else its rule's ``defaultConfiguration.level``
(found by ``ruleIndex``, else by ``ruleId``), else ``warning``. A rule's ``security-severity`` (a CVSS score,
as trivy and CodeQL write it) wins over the level. Suppressed results stay in the report marked
``suppressed`` (a ``rejected`` suppression does not count). A run that says it failed is an error.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import EvidenceError
from ..model import Finding, Severity
from .base import Parsed, repo_path, severity_from_score
from .config import EvidenceSource
from .read import as_dict, expect, read_json

__all__ = ["parse", "parse_data"]

_LEVEL: dict[str, Severity] = {"error": "high", "warning": "medium", "note": "low", "none": "info"}
_BRACKET = re.compile(r"^\[(CRITICAL|HIGH|MEDIUM|LOW|UNKNOWN)\]\s*", re.IGNORECASE)


def parse(path: Path, source: EvidenceSource, rootdir: Path) -> Parsed:
    return parse_data(read_json(path, source.max_bytes), path, source, rootdir)


def parse_data(data: Any, path: Path, source: EvidenceSource, rootdir: Path) -> Parsed:
    expect(isinstance(data, dict) and "runs" in data, path, "not a SARIF log (no 'runs')")
    version = data.get("version")
    expect(version in (None, "2.1.0"), path, f"SARIF version {version!r} is not supported (expected 2.1.0)")
    runs = data["runs"]
    expect(isinstance(runs, list), path, f"'runs' is {type(runs).__name__}, not a list")
    parsed = Parsed(scanned=0, scanned_what="runs with results")
    for r, run in enumerate(runs):
        expect(isinstance(run, dict), path, f"runs[{r}] is not an object")
        _check_invocations(run, path, r)
        driver = (run.get("tool") or {}).get("driver") or {}
        expect(isinstance(driver, dict), path, f"runs[{r}].tool.driver is not an object")
        tool = str(driver.get("name") or "sarif")
        parsed.tool_version = str(driver.get("semanticVersion") or driver.get("version") or parsed.tool_version)
        rules = [x for x in driver.get("rules") or [] if isinstance(x, dict)]
        by_id = {str(x.get("id")): x for x in rules}
        base_ids = as_dict(run.get("originalUriBaseIds"))
        results = run.get("results")
        if results is None:  # SARIF: absent results mean the tool could not produce them, not "no problems"
            raise EvidenceError(
                f"{path}: runs[{r}] has no 'results': the tool did not report what it found", "saw-nothing"
            )
        expect(isinstance(results, list), path, f"runs[{r}].results is not a list")
        parsed.scanned = (parsed.scanned or 0) + 1
        for i, result in enumerate(results):
            expect(isinstance(result, dict), path, f"runs[{r}].results[{i}] is not an object")
            finding = _result(result, tool, rules, by_id, base_ids, source, rootdir)
            if finding is not None:
                parsed.findings.append(finding)
    return parsed


def _check_invocations(run: dict[str, Any], path: Path, index: int) -> None:
    for inv in run.get("invocations") or []:
        if isinstance(inv, dict) and inv.get("executionSuccessful") is False:
            notes = [
                _notification_text(n)
                for key in ("toolExecutionNotifications", "toolConfigurationNotifications")
                for n in inv.get(key) or []
                if isinstance(n, dict)
            ]
            detail = "; ".join(x for x in notes if x)[:500] or "no notification text"
            raise EvidenceError(f"{path}: runs[{index}]: the tool reports its run failed: {detail}")


def _notification_text(note: dict[str, Any]) -> str:
    """A notification's own text, else its message id and arguments, else its exception's message."""
    message = as_dict(note.get("message"))
    if message.get("text"):
        return str(message["text"])
    exception = as_dict(note.get("exception"))
    parts = [str(message.get("id", "")), *map(str, message.get("arguments") or []), str(exception.get("message", ""))]
    return " ".join(p for p in parts if p)


def _score(raw: Any) -> float | None:
    """A CVSS score in (0, 10]; anything else ("0.0" for unknown, NaN, negative, text) is no score at all, so the
    level decides: a weak signal must not discount a finding."""
    try:
        score = float(raw)
    except (TypeError, ValueError):
        return None
    return score if 0.0 < score <= 10.0 else None


def _rule_of(result: dict[str, Any], rules: list[dict[str, Any]], by_id: dict[str, Any]) -> dict[str, Any]:
    index = result.get("ruleIndex")
    if isinstance(index, int) and 0 <= index < len(rules):
        return rules[index]
    rule = by_id.get(str(result.get("ruleId")))
    return rule if isinstance(rule, dict) else {}


def _severity(result: dict[str, Any], rule: dict[str, Any], rule_id: str) -> tuple[Severity, str]:
    props = as_dict(rule.get("properties"))
    score = _score(props.get("security-severity"))
    if score is not None:
        return severity_from_score(score), f"security-severity {score:g}"
    bracket = _BRACKET.match(rule_id)
    if bracket and bracket.group(1).lower() != "unknown":
        return bracket.group(1).lower(), "severity from the rule id"  # type: ignore[return-value]
    level = result.get("level")
    if level is None:
        config = as_dict(rule.get("defaultConfiguration"))
        level = config.get("level", "warning")
    return _LEVEL.get(str(level), "medium"), f"level {level}"


def _result(
    result: dict[str, Any],
    tool: str,
    rules: list[dict[str, Any]],
    by_id: dict[str, Any],
    base_ids: dict[str, Any],
    source: EvidenceSource,
    rootdir: Path,
) -> Finding | None:
    if result.get("kind") in ("pass", "notApplicable"):
        return None
    rule = _rule_of(result, rules, by_id)
    rule_id = str(result.get("ruleId") or rule.get("id") or "unknown")
    severity, why = _severity(result, rule, rule_id)
    if result.get("kind") == "informational":
        severity = "info"
    message = as_dict(result.get("message"))
    path, line, column = _location(result, base_ids, source, rootdir)
    suppressions = [s for s in result.get("suppressions") or [] if isinstance(s, dict)]
    # only an accepted suppression hides a result (absent status means accepted); underReview does not
    active = [s for s in suppressions if s.get("status", "accepted") == "accepted"]
    return Finding(
        tool=tool,
        rule=_BRACKET.sub("", rule_id),
        severity=severity,
        message=str(message.get("text") or rule.get("name") or rule_id)[:1000],
        path=path,
        line=line,
        column=column,
        status="suppressed" if active else "open",
        note=f"suppressed ({active[0].get('kind', 'unknown')})" if active else why,
        level=str(result.get("level", "")),
    )


def _location(
    result: dict[str, Any], base_ids: dict[str, Any], source: EvidenceSource, rootdir: Path
) -> tuple[str | None, int | None, int | None]:
    for loc in result.get("locations") or []:
        physical = loc.get("physicalLocation") if isinstance(loc, dict) else None
        if not isinstance(physical, dict):
            continue
        artifact = as_dict(physical.get("artifactLocation"))
        uri = artifact.get("uri")
        if not isinstance(uri, str):
            continue
        base = base_ids.get(str(artifact.get("uriBaseId"))) if artifact.get("uriBaseId") else None
        if isinstance(base, dict) and isinstance(base.get("uri"), str) and base["uri"].startswith("file:"):
            uri = base["uri"].removesuffix("/") + "/" + uri.removeprefix("/")
        region = as_dict(physical.get("region"))
        line = region.get("startLine") if isinstance(region.get("startLine"), int) else None
        column = region.get("startColumn") if isinstance(region.get("startColumn"), int) else None
        return repo_path(uri, rootdir, source.root), line, column
    return None, None, None
