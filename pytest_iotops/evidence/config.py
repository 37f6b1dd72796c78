"""``[[tool.iotops.evidence]]``, ``[[tool.iotops.ignore]]`` and ``[tool.iotops.diff]``: typed, validated entries.

Like the main table, every key is checked: a key that does not apply to the source's kind is an error that
says which kinds it applies to, so a misplaced threshold never silently gates nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import field
from typing import Any

from .. import validate as v
from ..errors import ConfigError
from ..severity import SEVERITIES
from ..values import FrozenValue, record
from .kinds import BUILTIN_KINDS, EvidenceKind, Parser, builtin_kinds

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

#: the built-in kinds by family (a plugin's kinds join them through the iotops_evidence_kinds hook)
COVERAGE_KINDS = tuple(k.name for k in BUILTIN_KINDS if k.family == "coverage")
FINDING_KINDS = tuple(k.name for k in BUILTIN_KINDS if k.family == "findings")
TEST_KINDS = tuple(k.name for k in BUILTIN_KINDS if k.family == "tests")
KINDS = tuple(k.name for k in BUILTIN_KINDS)


@record(frozen=True)
class EvidenceSource(FrozenValue):
    """One ``[[tool.iotops.evidence]]`` table: a tool's output (or the command that writes it) and how to read it."""

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
    #: the kind's entry of the kinds table (None: a built-in kind, looked up by name)
    spec: EvidenceKind | None = field(default=None, compare=False, repr=False)

    @property
    def kind_spec(self) -> EvidenceKind:
        return self.spec or builtin_kinds()[self.kind]

    @property
    def family(self) -> str:
        return self.kind_spec.family

    @property
    def parser(self) -> Parser:
        return self.kind_spec.parse


# key -> (validator, what it applies to: None for every kind, a family, or "kind" for keys a kind declares)
_EVIDENCE_KEYS: dict[str, tuple[v.Validator, str | None]] = {
    "name": (v.slug, None),
    "kind": (v.text, None),
    "path": (v.text, None),
    "command": (v.str_list, None),
    "capture_stdout": (v.boolean, None),
    "timeout": (v.positive, None),
    "cwd": (v.text, None),
    "ok_exit_codes": (v.int_list, None),
    "required": (v.boolean, None),
    "root": (v.text, None),
    "targets": (v.str_list, "kind"),
    "max_bytes": (v.count, None),
    "fail_under": (v.percent, "coverage"),
    "branch_fail_under": (v.percent, "coverage"),
    "file_fail_under": (v.percent, "coverage"),
    "max_findings": (v.count, "findings"),
    "min_severity": (v.choice(SEVERITIES), "findings"),
    "max_warnings": (v.count, "kind"),
    "max_errors": (v.count, "kind"),
    "phase": (v.name, "tests"),
    "max_flaky": (v.count, "tests"),
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


def parse_evidence(
    raw: Any, where: str, phases: tuple[str, ...], kinds: Mapping[str, EvidenceKind] | None = None
) -> tuple[EvidenceSource, ...]:
    """``kinds``: the evidence kinds table (default: the built-in kinds)."""
    kinds = kinds if kinds is not None else builtin_kinds()
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: evidence must be an array of tables ([[tool.iotops.evidence]])")
    sources: list[EvidenceSource] = []
    for index, entry in enumerate(raw):
        at = f"{where}: [[tool.iotops.evidence]] #{index + 1}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{at}: expected a table, got {entry!r}")
        if "kind" not in entry:
            raise ConfigError(f"{at}: 'kind' is required (one of {', '.join(kinds)})")
        if entry["kind"] not in kinds:
            raise ConfigError(f"{at}: kind = {entry['kind']!r}: expected one of {', '.join(kinds)}")
        kind = entry["kind"]
        spec = kinds[kind]
        values = _check_entry(entry, at, spec, kinds)
        values["spec"] = spec
        values.setdefault("name", kind if all(s.kind != kind for s in sources) else f"{kind}-{index + 1}")
        at = f"{where}: evidence {values['name']!r}"
        values.setdefault("ok_exit_codes", spec.ok_exit_codes)
        values.setdefault("root", values.get("cwd", "."))  # tools name files relative to where they ran
        if "path" not in values and not (spec.run_in_process is not None and values.get("targets")):
            raise ConfigError(f"{at}: 'path' is required (bandit may give 'targets' instead, run in process)")
        if values.get("capture_stdout") and not values.get("command"):
            raise ConfigError(f"{at}: capture_stdout needs a 'command' whose output is the evidence")
        if spec.family == "tests" and values.get("phase", phases[-1]) not in phases:
            raise ConfigError(f"{at}: phase {values['phase']!r} is not a configured phase {list(phases)}")
        if spec.family == "tests":
            values.setdefault("phase", phases[-1])
        if any(s.name == values["name"] for s in sources):
            raise ConfigError(f"{at}: two evidence sources share the name {values['name']!r}")
        sources.append(EvidenceSource(**values))
    return tuple(sources)


def _check_entry(
    entry: Mapping[str, Any], at: str, spec: EvidenceKind, kinds: Mapping[str, EvidenceKind]
) -> dict[str, Any]:
    values = check_table(entry, {key: check for key, (check, _) in _EVIDENCE_KEYS.items()}, at)
    for key in values:
        applies = _EVIDENCE_KEYS[key][1]
        if applies is None or (applies == "kind" and key in spec.keys) or applies == spec.family:
            continue
        owners = [k.name for k in kinds.values() if (key in k.keys if applies == "kind" else k.family == applies)]
        raise ConfigError(f"{at}: {key} applies to kind {', '.join(owners)}, not to {spec.name!r}")
    return values


@record(frozen=True)
class Ignore(FrozenValue):
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


def table_entries(
    raw: Any, where: str, table: str, keys: Mapping[str, v.Validator], needed: tuple[str, ...], why: str
) -> list[dict[str, Any]]:
    """An array of tables (``[[tool.iotops.<table>]]``), each checked key by key, ``needed`` keys required
    (``why`` says what an entry is without them)."""
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: {table} must be an array of tables ([[tool.iotops.{table}]])")
    out = []
    for index, entry in enumerate(raw):
        at = f"{where}: [[tool.iotops.{table}]] #{index + 1}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{at}: expected a table, got {entry!r}")
        for key in needed:
            if not entry.get(key):
                raise ConfigError(f"{at}: {key!r} is required: {why}")
        out.append(check_table(entry, keys, at))
    return out


def parse_ignores(raw: Any, where: str) -> tuple[Ignore, ...]:
    why = "an ignore needs an id, a reason and an expiry date"
    entries = table_entries(raw, where, "ignore", _IGNORE_KEYS, ("id", "reason", "expires"), why)
    return tuple(Ignore(**values) for values in entries)


@record(frozen=True)
class DiffSettings(FrozenValue):
    """``[tool.iotops.diff]``: the base diff coverage compares with, its floor, and which changed files count."""

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
