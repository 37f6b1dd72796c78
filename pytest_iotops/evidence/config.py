"""``[[tool.iotops.evidence]]``, ``[[tool.iotops.ignore]]`` and ``[tool.iotops.diff]``: typed, validated entries.

Like the main table, every key is checked: a key that does not apply to the source's kind is an error that
says which kinds it applies to, so a misplaced threshold never silently gates nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import validate as v
from ..errors import ConfigError

__all__ = [
    "COVERAGE_KINDS",
    "FINDING_KINDS",
    "KINDS",
    "SEVERITIES",
    "TEST_KINDS",
    "DiffSettings",
    "EvidenceSource",
    "Ignore",
    "check_table",
    "parse_diff",
    "parse_evidence",
    "parse_ignores",
]

COVERAGE_KINDS = ("cobertura", "tarpaulin", "lcov", "coveragepy-json")
FINDING_KINDS = ("cargo-audit", "clippy", "bandit", "pip-audit", "sarif")
TEST_KINDS = ("junit",)
KINDS = COVERAGE_KINDS + FINDING_KINDS + TEST_KINDS
#: most severe first
SEVERITIES = ("critical", "high", "medium", "low", "info")

_OK_EXIT = {
    "cargo-audit": (0, 1),
    "clippy": (0, 101),
    "bandit": (0, 1),
    "pip-audit": (0, 1),
    "sarif": (0, 1),
    "junit": (0, 1, 100),
}


@dataclass(frozen=True)
class EvidenceSource:
    name: str
    kind: str
    path: str | None = None
    command: tuple[str, ...] = ()
    capture_stdout: bool = False
    timeout: float = 600.0
    cwd: str = "."
    ok_exit_codes: tuple[int, ...] = (0,)
    required: bool = True
    root: str = "."
    targets: tuple[str, ...] = ()
    max_bytes: int = 1024 * 1024 * 1024
    # coverage kinds
    fail_under: float | None = None
    branch_fail_under: float | None = None
    file_fail_under: float | None = None
    # finding kinds
    max_findings: int | None = None
    min_severity: str = "low"
    max_warnings: int | None = None
    max_errors: int | None = None
    # test kinds: failures count as test failures (exit 1), in the pyramid under ``phase``
    phase: str | None = None
    max_flaky: int | None = None

    @property
    def family(self) -> str:
        if self.kind in COVERAGE_KINDS:
            return "coverage"
        return "findings" if self.kind in FINDING_KINDS else "tests"


# key -> (validator, kinds it applies to or None for all)
_EVIDENCE_KEYS: dict[str, tuple[v.Validator, tuple[str, ...] | None]] = {
    "name": (v.slug, None),
    "kind": (v.choice(KINDS), None),
    "path": (v.text, None),
    "command": (v.str_list, None),
    "capture_stdout": (v.boolean, None),
    "timeout": (v.positive, None),
    "cwd": (v.text, None),
    "ok_exit_codes": (v.int_list, None),
    "required": (v.boolean, None),
    "root": (v.text, None),
    "targets": (v.str_list, ("bandit",)),
    "max_bytes": (v.count, None),
    "fail_under": (v.percent, COVERAGE_KINDS),
    "branch_fail_under": (v.percent, COVERAGE_KINDS),
    "file_fail_under": (v.percent, COVERAGE_KINDS),
    "max_findings": (v.count, FINDING_KINDS),
    "min_severity": (v.choice(SEVERITIES), FINDING_KINDS),
    "max_warnings": (v.count, ("clippy",)),
    "max_errors": (v.count, ("clippy",)),
    "phase": (v.name, TEST_KINDS),
    "max_flaky": (v.count, TEST_KINDS),
}


def check_table(
    entry: Mapping[str, Any], schema: Mapping[str, v.Validator], at: str, prefix: str = ""
) -> dict[str, Any]:
    """Validate every key of one table against ``schema``: unknown keys and bad values name key and value."""
    values: dict[str, Any] = {}
    for key, raw in entry.items():
        if key not in schema:
            raise ConfigError(f"{at}: unknown key '{prefix}{key}'; known keys: {', '.join(schema)}")
        try:
            values[key] = schema[key](raw)
        except v.Invalid as exc:
            raise ConfigError(f"{at}: {prefix}{key} = {raw!r}: {exc}") from None
    return values


def parse_evidence(raw: Any, where: str, phases: tuple[str, ...]) -> tuple[EvidenceSource, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: evidence must be an array of tables ([[tool.iotops.evidence]])")
    sources: list[EvidenceSource] = []
    for index, entry in enumerate(raw):
        at = f"{where}: [[tool.iotops.evidence]] #{index + 1}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{at}: expected a table, got {entry!r}")
        if "kind" not in entry:
            raise ConfigError(f"{at}: 'kind' is required (one of {', '.join(KINDS)})")
        values = _check_entry(entry, at, entry.get("kind"))
        kind = values["kind"]
        values.setdefault("name", kind if all(s.kind != kind for s in sources) else f"{kind}-{index + 1}")
        at = f"{where}: evidence {values['name']!r}"
        values.setdefault("ok_exit_codes", _OK_EXIT.get(kind, (0,)))
        values.setdefault("root", values.get("cwd", "."))  # tools name files relative to where they ran
        if "path" not in values and not (kind == "bandit" and values.get("targets")):
            raise ConfigError(f"{at}: 'path' is required (bandit may give 'targets' instead, run in process)")
        if values.get("capture_stdout") and not values.get("command"):
            raise ConfigError(f"{at}: capture_stdout needs a 'command' whose output is the evidence")
        if kind == "junit" and values.get("phase", phases[-1]) not in phases:
            raise ConfigError(f"{at}: phase {values['phase']!r} is not a configured phase {list(phases)}")
        if kind == "junit":
            values.setdefault("phase", phases[-1])
        if any(s.name == values["name"] for s in sources):
            raise ConfigError(f"{at}: two evidence sources share the name {values['name']!r}")
        sources.append(EvidenceSource(**values))
    return tuple(sources)


def _check_entry(entry: Mapping[str, Any], at: str, kind: Any) -> dict[str, Any]:
    values = check_table(entry, {key: check for key, (check, _) in _EVIDENCE_KEYS.items()}, at)
    for key in values:
        kinds = _EVIDENCE_KEYS[key][1]
        if kinds is not None and kind not in kinds:
            raise ConfigError(f"{at}: {key} applies to kind {', '.join(kinds)}, not to {kind!r}")
    return values


@dataclass(frozen=True)
class Ignore:
    """An accepted finding: who accepted it is in git, why and until when is here."""

    id: str
    reason: str
    expires: dt.date
    tool: str | None = None
    path: str | None = None

    def active(self, today: dt.date) -> bool:
        return today <= self.expires


_IGNORE_KEYS: dict[str, v.Validator] = {
    "id": v.text,
    "reason": v.text,
    "expires": v.date,
    "tool": v.text,
    "path": v.text,
}


def parse_ignores(raw: Any, where: str) -> tuple[Ignore, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: ignore must be an array of tables ([[tool.iotops.ignore]])")
    out = []
    for index, entry in enumerate(raw):
        at = f"{where}: [[tool.iotops.ignore]] #{index + 1}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{at}: expected a table, got {entry!r}")
        for needed in ("id", "reason", "expires"):
            if needed not in entry:
                raise ConfigError(f"{at}: {needed!r} is required: an ignore needs an id, a reason and an expiry date")
        values = check_table(entry, _IGNORE_KEYS, at)
        out.append(Ignore(**values))
    return tuple(out)


@dataclass(frozen=True)
class DiffSettings:
    base: str | None = None
    fail_under: float | None = None
    include: tuple[str, ...] = ("**/*.py", "**/*.rs")
    exclude: tuple[str, ...] = (
        "tests/**",
        "**/tests/**",
        "**/test_*.py",
        "**/*_test.py",
        "**/conftest.py",
        "benches/**",
        "**/benches/**",
    )
    sources: Mapping[str, str] = field(default_factory=dict)


_DIFF_KEYS: dict[str, v.Validator] = {
    "base": v.text,
    "fail_under": v.percent,
    "include": v.str_list,
    "exclude": v.str_list,
}


def parse_diff(raw: Any, where: str, base_override: str | None, base_origin: str) -> DiffSettings:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: [tool.iotops.diff] must be a table, got {raw!r}")
    values = check_table(raw, _DIFF_KEYS, where, "diff.")
    sources = dict.fromkeys(values, "pyproject.toml [tool.iotops.diff]")
    if base_override:
        values["base"] = base_override
        sources["base"] = base_origin
    return DiffSettings(**values, sources=sources)
