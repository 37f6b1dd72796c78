"""Settings in layers — defaults, ``[tool.iotops]`` in pyproject.toml, ``IOTOPS_*`` environment, command line.

One table (``OPTIONS``) drives parsing, validation, the environment names and the record of where each
effective value came from, so a new option is one row, and an unknown key or a wrong type always fails
with the file, the key, the value and what was expected.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError
from .evidence.config import DiffSettings, EvidenceSource, Ignore, parse_diff, parse_evidence, parse_ignores
from .evidence.kinds import EvidenceKind
from .history.config import HistorySettings, parse_history
from .options import DEFAULT_PHASES, OPTIONS, Option
from .pyproject import find_pyproject, read_table, read_toml
from .tables import ConfigTable
from .validate import Invalid, boolean, names, percent, str_list
from .values import FrozenValue, record

if TYPE_CHECKING:
    from .deploy.config import DeploySettings

__all__ = [
    "DEFAULT_PATHS",
    "DEFAULT_PHASES",
    "OPTIONS",
    "CoverageSettings",
    "Option",
    "PyramidSettings",
    "Settings",
    "convention_paths",
    "find_pyproject",
    "load_settings",
    "read_table",
    "read_toml",
]


def convention_paths(phases: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """The default path rule of every phase: ``tests/<phase>/**``."""
    return {p: (f"tests/{p}/**",) for p in phases}


DEFAULT_PATHS = convention_paths(DEFAULT_PHASES)
_SECTIONS = ("coverage", "pyramid")
_STRUCTURED = ("evidence", "ignore", "diff", "deploy", "history")
#: CI variables naming the branch a pull/merge request targets; the diff base is origin/<that branch>
_CI_BASE = (
    "GITHUB_BASE_REF",
    "CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
    "CHANGE_TARGET",
    "BITBUCKET_PR_DESTINATION_BRANCH",
)


_BY_KEY = {o.key: o for o in OPTIONS}


@record(frozen=True)
class CoverageSettings(FrozenValue):
    """``[tool.iotops.coverage]``: what is measured, by which engine, and the floors the coverage gates apply."""

    enabled: bool = True
    source: tuple[str, ...] = ()
    branch: bool = True
    omit: tuple[str, ...] = ()
    engine: str = "coveragepy"
    trace: str = "always"
    fail_under: float | None = None
    branch_fail_under: float | None = None
    file_fail_under: float | None = None
    phase_fail_under: Mapping[str, float] = field(default_factory=dict)


@record(frozen=True)
class PyramidSettings(FrozenValue):
    """``[tool.iotops.pyramid]``: the bounds on each phase's share of the tests and of the test time."""

    min_share: Mapping[str, float] = field(default_factory=dict)
    max_share: Mapping[str, float] = field(default_factory=dict)
    min_time_share: Mapping[str, float] = field(default_factory=dict)
    max_time_share: Mapping[str, float] = field(default_factory=dict)

    @property
    def configured(self) -> bool:
        return any((self.min_share, self.max_share, self.min_time_share, self.max_time_share))


@record(frozen=True)
class Settings(FrozenValue):
    """The effective configuration of a run, every layer applied (see :func:`load_settings`)."""

    enabled: bool = False
    phases: tuple[str, ...] = DEFAULT_PHASES
    default_phase: str = "unit"
    paths: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_PATHS))
    marker_aliases: Mapping[str, str] = field(default_factory=dict)
    block_on_failure: bool = True
    reports_dir: str = "iotops-reports"
    coverage: CoverageSettings = field(default_factory=CoverageSettings)
    pyramid: PyramidSettings = field(default_factory=PyramidSettings)
    formats: tuple[str, ...] = ("html", "md")
    shard: tuple[int, int] | None = None
    durations: str | None = None
    longest_first: bool = False
    baseline: str | None = None
    update_baseline: bool = False
    evidence: tuple[EvidenceSource, ...] = ()
    ignores: tuple[Ignore, ...] = ()
    diff: DiffSettings = field(default_factory=DiffSettings)
    #: ``[tool.iotops.deploy]`` as parsed; None when the table is absent (read it through :attr:`deploy`)
    deploy_table: DeploySettings | None = None
    history: HistorySettings = field(default_factory=HistorySettings)
    #: dotted key -> where its effective value came from ("default", a file, "env X", "--option")
    sources: Mapping[str, str] = field(default_factory=dict)
    config_file: str | None = None
    #: whether ``config_file`` has a ``[tool.iotops]`` table at all (the header says where settings came from)
    has_table: bool = False
    #: ``[tool.iotops.<name>]`` tables owned by plugins (``iotops_config_tables``), as their parsers returned them
    plugin_tables: Mapping[str, Any] = field(default_factory=dict)

    def source_of(self, key: str) -> str:
        return self.sources.get(key, "default")

    @property
    def deploy(self) -> DeploySettings:
        """The deployment settings: the table's, else the defaults, made when a deployment asks for them (a run
        that deploys nothing never imports the deployment configuration)."""
        if self.deploy_table is not None:
            return self.deploy_table
        from .deploy.config import DeploySettings

        return DeploySettings()


def _flatten(table: Mapping[str, Any], where: str, prefix: str = "", owned: Collection[str] = ()) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        dotted = prefix + key
        if not prefix and (key in _STRUCTURED or key in owned):
            continue  # parsed by their own schemas (a plugin's table by the plugin)
        if not prefix and key in _SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: [tool.iotops.{key}] must be a table, got {value!r}")
            flat.update(_flatten(value, where, dotted + "."))
        elif dotted in _BY_KEY:
            flat[dotted] = value
        else:
            known = ", ".join(o.key for o in OPTIONS if o.key.startswith(prefix))
            raise ConfigError(f"{where}: unknown key {dotted!r} in [tool.iotops]; known keys: {known}")
    return flat


def _check(option: Option, value: Any, where: str) -> Any:
    try:
        return option.check(value)
    except Invalid as exc:
        raise ConfigError(f"{where}: {option.key} = {value!r}: {exc}") from None


def _from_env(option: Option, raw: str) -> Any:
    """Environment strings: booleans as 1/0/true/false, numbers as numbers, lists comma-separated."""
    low = raw.strip().lower()
    if option.check is boolean and low in ("1", "true", "yes", "0", "false", "no"):
        return low in ("1", "true", "yes")
    if option.check is percent:
        try:
            return float(raw)
        except ValueError:
            return raw
    if option.check in (str_list, names):
        return [x.strip() for x in raw.split(",") if x.strip()]
    return raw


def load_settings(
    pyproject: Path | None,
    cli: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    kinds: Mapping[str, EvidenceKind] | None = None,
    tables: Mapping[str, ConfigTable] | None = None,
) -> Settings:
    """Merge the layers into one validated :class:`Settings` (pure apart from reading ``pyproject``);
    ``kinds``: the evidence kinds table (default: the built-in kinds); ``tables``: plugin-owned tables (default:
    the built-in ones, ``[tool.iotops.fleet]``)."""
    if tables is None:
        from .fleet.hooks import FLEET_TABLE

        tables = {FLEET_TABLE.name: FLEET_TABLE}
    values = {o.key: o.default for o in OPTIONS}
    sources: dict[str, str] = {}
    table = read_table(pyproject) if pyproject is not None else {}
    if pyproject is not None:
        where = str(pyproject)
        for key, raw in _flatten(table, where, owned=tables).items():
            values[key] = _check(_BY_KEY[key], raw, where)
            sources[key] = f"{pyproject.name} [tool.iotops]"
    env = os.environ if environ is None else environ
    for option in OPTIONS:
        if option.env in env and not isinstance(option.default, dict):
            values[option.key] = _check(option, _from_env(option, env[option.env]), f"env {option.env}")
            sources[option.key] = f"env {option.env}"
    for option in OPTIONS:
        given = (cli or {}).get(option.dest) if option.dest else None
        if given is not None:
            values[option.key] = _check(option, given, str(option.cli))
            sources[option.key] = str(option.cli)
    settings = replace(_build(values, sources, str(pyproject) if pyproject else None), has_table=bool(table))
    settings = _with_structured(settings, table, str(pyproject or "configuration"), cli or {}, env, kinds)
    settings = replace(settings, plugin_tables=_plugin_tables(table, str(pyproject or "configuration"), tables))
    _cross_check(settings)
    return settings


def _plugin_tables(table: Mapping[str, Any], where: str, tables: Mapping[str, ConfigTable]) -> dict[str, Any]:
    """Each plugin-owned table present, parsed by its plugin; a name the built-in configuration uses is refused."""
    clash = sorted(name for name in tables if name in _STRUCTURED or name in _SECTIONS or name in _BY_KEY)
    if clash:
        raise ConfigError(f"plugin configuration table(s) {clash} would shadow built-in [tool.iotops] keys")
    return {name: tables[name].parse(table[name], f"{where}: [tool.iotops.{name}]") for name in tables if name in table}


def _diff_base(cli: Mapping[str, Any], env: Mapping[str, str]) -> tuple[str | None, str]:
    if cli.get("iotops_diff_base"):
        return str(cli["iotops_diff_base"]), "--iotops-diff-base"
    if env.get("IOTOPS_DIFF_BASE"):
        return env["IOTOPS_DIFF_BASE"], "env IOTOPS_DIFF_BASE"
    for var in _CI_BASE:
        if env.get(var):
            return f"origin/{env[var]}", f"env {var}"
    return None, ""


def _with_structured(
    s: Settings,
    table: Mapping[str, Any],
    where: str,
    cli: Mapping[str, Any],
    env: Mapping[str, str],
    kinds: Mapping[str, EvidenceKind] | None,
) -> Settings:
    """Evidence sources, ignores and the diff table, each validated by its own schema."""
    base, origin = _diff_base(cli, env)
    diff = parse_diff(table.get("diff", {}), where, base, origin)
    return replace(
        s,
        evidence=parse_evidence(table["evidence"], where, s.phases, kinds) if "evidence" in table else (),
        ignores=parse_ignores(table["ignore"], where) if "ignore" in table else (),
        diff=diff,
        deploy_table=_deploy(table["deploy"], where) if "deploy" in table else None,
        history=parse_history(table.get("history", {}), where, env),
        sources={**s.sources, **{f"diff.{k}": v for k, v in diff.sources.items()}},
    )


def _deploy(raw: Any, where: str) -> DeploySettings:
    """``[tool.iotops.deploy]``, its parser imported only when the table is there."""
    from .deploy.config import parse_deploy

    return parse_deploy(raw, where)


def _build(values: dict[str, Any], sources: dict[str, str], config_file: str | None) -> Settings:
    def section(prefix: str) -> dict[str, Any]:
        return {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)}

    top = {k: v for k, v in values.items() if "." not in k}
    top["paths"] = {**convention_paths(top["phases"]), **top["paths"]}
    return Settings(
        **top,
        coverage=CoverageSettings(**section("coverage.")),
        pyramid=PyramidSettings(**section("pyramid.")),
        sources=sources,
        config_file=config_file,
    )


def _cross_check(s: Settings) -> None:
    where = s.config_file or "configuration"
    phases = set(s.phases)

    def need_phases(key: str, names: Any) -> None:
        bad = sorted(set(names) - phases)
        if bad:
            raise ConfigError(
                f"{where} ({s.source_of(key)}): {key} names unknown phase(s) {bad}; "
                f"configured phases are {list(s.phases)}"
            )

    need_phases("default_phase", [s.default_phase])
    need_phases("paths", s.paths)
    need_phases("marker_aliases", s.marker_aliases.values())
    need_phases("coverage.phase_fail_under", s.coverage.phase_fail_under)
    for key in ("min_share", "max_share", "min_time_share", "max_time_share"):
        need_phases(f"pyramid.{key}", getattr(s.pyramid, key))
    clash = sorted(set(s.marker_aliases) & phases)
    if clash:
        raise ConfigError(f"{where}: marker_aliases cannot redefine phase marker(s) {clash}")
