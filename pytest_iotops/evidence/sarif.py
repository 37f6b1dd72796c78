"""SARIF 2.1.0 from any tool (semgrep, trivy, bandit, CodeQL, clippy-sarif …).

Level resolution follows the spec: the result's ``level``, else its rule's ``defaultConfiguration.level``
(found by ``ruleIndex``, else by ``ruleId``), else ``warning``. A rule's ``security-severity`` (a CVSS score,
as trivy and CodeQL write it) wins over the level. Suppressed results stay in the report marked
``suppressed`` (a ``rejected`` suppression does not count). A run that says it failed is an error.
"""

from __future__ import annotations

import re
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import EvidenceError
from ..model import Finding, Severity
from ..values import Value, record
from .base import Parsed, PathMap, severity_from_score
from .jsonstream import JsonStream
from .read import as_dict, expect

if TYPE_CHECKING:
    from .config import EvidenceSource

__all__ = ["parse", "parse_data"]

_LEVEL: dict[str, Severity] = {"error": "high", "warning": "medium", "note": "low", "none": "info"}
_BRACKET = re.compile(r"^\[(CRITICAL|HIGH|MEDIUM|LOW|UNKNOWN)\]\s*", re.IGNORECASE)


#: run members a result's meaning depends on: rules (severity), base URIs (paths), invocations (did it fail)
_CONTEXT = ("tool", "originalUriBaseIds", "invocations")


@record
class _Run(Value):
    """What one run's results are read against, and what they gave."""

    index: int
    paths: PathMap
    tool: str = "sarif"
    version: str = ""
    rules: list[dict[str, Any]] = field(default_factory=list)
    by_id: dict[str, Any] = field(default_factory=dict)
    base_ids: dict[str, Any] = field(default_factory=dict)
    has_results: bool = False
    seen: set[str] = field(default_factory=set)
    #: a result named a ``uriBaseId`` the run has not defined (yet)
    unresolved: bool = False
    #: the results need context that came after them (rules, base URIs): read them in a second pass
    deferred: bool = False
    findings: list[Finding] = field(default_factory=list)

    def learn(self, key: str, value: Any, path: Path) -> None:
        self.seen.add(key)
        if key == "invocations":
            _check_invocations(value, path, self.index)
        elif key == "originalUriBaseIds":
            self.base_ids = as_dict(value)
        elif key == "tool":
            driver = as_dict(value).get("driver") or {}
            expect(isinstance(driver, dict), path, f"runs[{self.index}].tool.driver is not an object")
            self.tool = str(driver.get("name") or "sarif")
            self.version = str(driver.get("semanticVersion") or driver.get("version") or "")
            self.rules = [x for x in driver.get("rules") or [] if isinstance(x, dict)]
            self.by_id = {str(x.get("id")): x for x in self.rules}

    def read(self, i: int, result: Any, path: Path) -> None:
        expect(isinstance(result, dict), path, f"runs[{self.index}].results[{i}] is not an object")
        finding = _result(result, self)
        if finding is not None:
            self.findings.append(finding)


def parse(path: Path, source: EvidenceSource, rootdir: Path) -> Parsed:
    """Streamed: one result in memory at a time, and a second pass only for a run whose tool or base URIs
    come after its results."""
    runs: list[_Run] = []
    version: Any = None
    found = False
    paths = PathMap(rootdir, source.root)
    with JsonStream(path, source.max_bytes) as stream:
        expect(stream.peek() == "{", path, "not a SARIF log (no 'runs')")
        for key in stream.members():
            if key == "runs":
                expect(stream.peek() == "[", path, "'runs' is not a list")
                runs.extend(_stream_run(stream, _Run(r, paths), path) for r in stream.items())
                found = True
            elif key == "version":
                version = stream.value()
            else:
                stream.skip()
        stream.end()
    expect(found, path, "not a SARIF log (no 'runs')")
    _check_version(version, path)
    if any(run.deferred for run in runs):
        with JsonStream(path, source.max_bytes) as stream:
            for key in stream.members():
                if key != "runs":
                    stream.skip()
                    continue
                for r in stream.items():
                    if runs[r].deferred:
                        _second_pass(stream, runs[r], path)
                    else:
                        stream.skip()
    return _parsed(runs)


def _stream_run(stream: JsonStream, run: _Run, path: Path) -> _Run:
    """Read ``runs[run.index]``. Results are read as they come when their tool is known; they are deferred to
    a second pass when it is not yet, or when one needs a base URI not yet seen (trivy and semgrep write the
    tool or ``originalUriBaseIds`` after the results), and are then only stepped over now."""
    expect(stream.peek() == "{", path, f"runs[{run.index}] is not an object")
    for key in stream.members():
        if key == "results" and stream.peek() != "n":  # null results are absent results
            expect(stream.peek() == "[", path, f"runs[{run.index}].results is not a list")
            run.has_results = True
            run.deferred = "tool" not in run.seen
            for i in stream.items():
                if run.deferred:
                    stream.skip()
                    continue
                run.read(i, stream.value(), path)
                if run.unresolved and "originalUriBaseIds" not in run.seen:
                    run.deferred = True
                    run.findings.clear()
        elif key in _CONTEXT:
            run.learn(key, stream.value(), path)
        else:
            stream.skip()
    _check_results(run, path)
    return run


def _second_pass(stream: JsonStream, run: _Run, path: Path) -> None:
    """The results of a deferred run, now that everything they refer to is known."""
    for key in stream.members():
        if key == "results" and stream.peek() == "[":
            for i in stream.items():
                run.read(i, stream.value(), path)
        else:
            stream.skip()


def parse_data(data: Any, path: Path, source: EvidenceSource, rootdir: Path) -> Parsed:
    """A SARIF log already in memory (bandit's ``-f sarif`` output, read to tell it from bandit's own)."""
    expect(isinstance(data, dict) and "runs" in data, path, "not a SARIF log (no 'runs')")
    _check_version(data.get("version"), path)
    expect(isinstance(data["runs"], list), path, f"'runs' is {type(data['runs']).__name__}, not a list")
    runs = []
    paths = PathMap(rootdir, source.root)
    for r, raw in enumerate(data["runs"]):
        expect(isinstance(raw, dict), path, f"runs[{r}] is not an object")
        run = _Run(r, paths)
        for key in _CONTEXT:
            if key in raw:
                run.learn(key, raw[key], path)
        results = raw.get("results")
        if results is not None:
            expect(isinstance(results, list), path, f"runs[{r}].results is not a list")
            run.has_results = True
            for i, result in enumerate(results):
                run.read(i, result, path)
        _check_results(run, path)
        runs.append(run)
    return _parsed(runs)


def _check_version(version: Any, path: Path) -> None:
    expect(version in (None, "2.1.0"), path, f"SARIF version {version!r} is not supported (expected 2.1.0)")


def _check_results(run: _Run, path: Path) -> None:
    if not run.has_results:  # SARIF: absent results mean the tool could not produce them, not "no problems"
        raise EvidenceError(
            f"{path}: runs[{run.index}] has no 'results': the tool did not report what it found", "saw-nothing"
        )


def _parsed(runs: list[_Run]) -> Parsed:
    parsed = Parsed(scanned=len(runs), scanned_what="runs with results")
    for run in runs:
        parsed.tool_version = run.version or parsed.tool_version
        parsed.findings.extend(run.findings)
    return parsed


def _check_invocations(invocations: Any, path: Path, index: int) -> None:
    for inv in invocations if isinstance(invocations, list) else []:
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


def _result(result: dict[str, Any], run: _Run) -> Finding | None:
    if result.get("kind") in ("pass", "notApplicable"):
        return None
    rule = _rule_of(result, run.rules, run.by_id)
    rule_id = str(result.get("ruleId") or rule.get("id") or "unknown")
    severity, why = _severity(result, rule, rule_id)
    if result.get("kind") == "informational":
        severity = "info"
    message = as_dict(result.get("message"))
    path, line, column = _location(result, run)
    suppressions = [s for s in result.get("suppressions") or [] if isinstance(s, dict)]
    # only an accepted suppression hides a result (absent status means accepted); underReview does not
    active = [s for s in suppressions if s.get("status", "accepted") == "accepted"]
    return Finding(
        tool=run.tool,
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


def _location(result: dict[str, Any], run: _Run) -> tuple[str | None, int | None, int | None]:
    for loc in result.get("locations") or []:
        physical = loc.get("physicalLocation") if isinstance(loc, dict) else None
        if not isinstance(physical, dict):
            continue
        artifact = as_dict(physical.get("artifactLocation"))
        uri = artifact.get("uri")
        if not isinstance(uri, str):
            continue
        base = run.base_ids.get(str(artifact.get("uriBaseId"))) if artifact.get("uriBaseId") else None
        run.unresolved = run.unresolved or (base is None and bool(artifact.get("uriBaseId")))
        if isinstance(base, dict) and isinstance(base.get("uri"), str) and base["uri"].startswith("file:"):
            uri = base["uri"].removesuffix("/") + "/" + uri.removeprefix("/")
        region = as_dict(physical.get("region"))
        line = region.get("startLine") if isinstance(region.get("startLine"), int) else None
        column = region.get("startColumn") if isinstance(region.get("startColumn"), int) else None
        return run.paths(uri), line, column
    return None, None, None
