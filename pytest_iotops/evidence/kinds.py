"""Evidence kinds as a table: each kind names its family (what its gate measures), the parser of its file, the
exit codes its tool uses for "ran, and found something", and the keys only it accepts. The built-in ten come
from :func:`iotops_evidence_kinds` here; an installed package adds its own through the same hook (one module
and an ``iotops`` entry point). Configuration, collection and gates all read the one table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..errors import ConfigError
from ..hookspecs import hookimpl
from . import bandit, cargo_audit, clippy, cobertura, coveragepy_json, junit, lcov, pip_audit, sarif
from .base import Parsed
from .read import read_json

if TYPE_CHECKING:
    from .config import EvidenceSource

__all__ = ["BUILTIN_KINDS", "EvidenceKind", "Family", "Parser", "builtin_kinds", "iotops_evidence_kinds"]

Family = Literal["coverage", "findings", "tests"]
#: (the file, its source's settings, the rootdir) -> what it holds
Parser = Callable[[Path, "EvidenceSource", Path], Parsed]


@dataclass(frozen=True)
class EvidenceKind:
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


def _bandit(path: Path, source: EvidenceSource, rootdir: Path) -> Parsed:
    data = read_json(path, source.max_bytes)
    if isinstance(data, dict) and "runs" in data:  # bandit -f sarif
        return sarif.parse_data(data, path, source, rootdir)
    return bandit.parse_data(data, path, source, rootdir)


BUILTIN_KINDS = (
    EvidenceKind("cobertura", "coverage", cobertura.parse),
    EvidenceKind("tarpaulin", "coverage", cobertura.parse),
    EvidenceKind("lcov", "coverage", lcov.parse),
    EvidenceKind("coveragepy-json", "coverage", coveragepy_json.parse),
    EvidenceKind("cargo-audit", "findings", cargo_audit.parse, (0, 1)),
    EvidenceKind("clippy", "findings", clippy.parse, (0, 101), frozenset({"max_warnings", "max_errors"})),
    EvidenceKind("bandit", "findings", _bandit, (0, 1), frozenset({"targets"}), bandit.run_in_process),
    EvidenceKind("pip-audit", "findings", pip_audit.parse, (0, 1)),
    EvidenceKind("sarif", "findings", sarif.parse, (0, 1)),
    EvidenceKind("junit", "tests", junit.parse, (0, 1, 100)),
)


@hookimpl(trylast=True)
def iotops_evidence_kinds() -> list[EvidenceKind]:
    return list(BUILTIN_KINDS)


def builtin_kinds() -> dict[str, EvidenceKind]:
    return {k.name: k for k in BUILTIN_KINDS}
