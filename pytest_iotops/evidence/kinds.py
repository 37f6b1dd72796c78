"""Evidence kinds as a table: each kind names its family (what its gate measures), the parser of its file, the
exit codes its tool uses for "ran, and found something", and the keys only it accepts. The built-in ten come
from :func:`iotops_evidence_kinds` here; an installed package adds its own through the same hook (one module
and an ``iotops`` entry point). Configuration, collection and gates all read the one table."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..errors import ConfigError
from ..hookspecs import hookimpl
from ..values import FrozenValue, record

if TYPE_CHECKING:
    from .base import Parsed
    from .config import EvidenceSource

__all__ = ["BUILTIN_KINDS", "EvidenceKind", "Family", "Parser", "builtin_kinds", "iotops_evidence_kinds"]

Family = Literal["coverage", "findings", "tests"]
#: (the file, its source's settings, the rootdir) -> what it holds
Parser = Callable[[Path, "EvidenceSource", Path], "Parsed"]


@record(frozen=True)
class EvidenceKind(FrozenValue):
    """A format ``[[tool.iotops.evidence]]`` can name: its family (what gates read from it) and its parser."""

    #: what ``kind = "..."`` names
    name: str
    #: coverage: gated on line/branch/file percentages; findings: on counts by severity; tests: failures are test
    #: failures (exit 1) in the pyramid
    family: Family
    parse: Parser
    #: a command exiting with one of these ran (many tools exit 1 when they found something)
    ok_exit_codes: tuple[int, ...] = (0,)
    #: keys of ``[[tool.iotops.evidence]]`` only this kind accepts (beyond its family's)
    keys: frozenset[str] = frozenset()
    #: a kind that can also run its tool in this process, on ``targets`` instead of a file (bandit)
    run_in_process: Callable[[EvidenceSource, Path], Parsed] | None = None

    def __post_init__(self) -> None:
        if self.family not in ("coverage", "findings", "tests"):
            raise ConfigError(f"evidence kind {self.name!r}: family {self.family!r} is not coverage/findings/tests")


def _parser(module: str, function: str = "parse") -> Parser:
    """A built-in parser, imported when first used: listing the kinds (``iotops report``) needs no XML library."""

    def parse(path: Path, source: EvidenceSource, rootdir: Path) -> Parsed:
        parsed: Parsed = getattr(importlib.import_module(f"pytest_iotops.evidence.{module}"), function)(
            path, source, rootdir
        )
        return parsed

    return parse


def _bandit_in_process(source: EvidenceSource, rootdir: Path) -> Parsed:
    from .bandit import run_in_process

    return run_in_process(source, rootdir)


BUILTIN_KINDS = (
    EvidenceKind("cobertura", "coverage", _parser("cobertura")),
    EvidenceKind("tarpaulin", "coverage", _parser("cobertura")),
    EvidenceKind("lcov", "coverage", _parser("lcov")),
    EvidenceKind("coveragepy-json", "coverage", _parser("coveragepy_json")),
    EvidenceKind("cargo-audit", "findings", _parser("cargo_audit"), (0, 1)),
    EvidenceKind("clippy", "findings", _parser("clippy"), (0, 101), frozenset({"max_warnings", "max_errors"})),
    EvidenceKind(
        "bandit", "findings", _parser("bandit", "parse_any"), (0, 1), frozenset({"targets"}), _bandit_in_process
    ),
    EvidenceKind("pip-audit", "findings", _parser("pip_audit"), (0, 1)),
    EvidenceKind("sarif", "findings", _parser("sarif"), (0, 1)),
    EvidenceKind("junit", "tests", _parser("junit"), (0, 1, 100)),
)


@hookimpl(trylast=True)
def iotops_evidence_kinds() -> list[EvidenceKind]:
    return list(BUILTIN_KINDS)


def builtin_kinds() -> dict[str, EvidenceKind]:
    return {k.name: k for k in BUILTIN_KINDS}
