"""coverage.py in process: one tracer per process, a dynamic context per phase, numbers from coverage's own reports.

Contexts switch once per phase, not per test: per-test contexts cost about 3x in tracing. A phase's coverage is
what that phase's tests executed plus what ran before any test (imports during collection), i.e. what running
that phase alone would measure. When pytest-cov measures (``--cov``), its tracer is used and none is started.
"""

from __future__ import annotations

import json
import re
import tempfile
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import coverage
import coverage.exceptions

from .config import CoverageSettings, read_toml
from .errors import EvidenceError
from .evidence.base import LineData
from .model import CoverageReport, CoverageTotals, FileCoverage, PhaseCoverage

__all__ = [
    "CoverageMeter",
    "SourceGuess",
    "detect_source",
    "export_data",
    "import_data",
    "phase_of_label",
    "summarize",
]

_NOT_SOURCE_DIRS = {"tests", "test", "docs", "doc", "examples", "benchmarks", "build", "dist", "scripts"}
_TEST_FILES = ("*/tests/*", "*/test/*", "*/test_*.py", "*_test.py", "*/conftest.py")


@dataclass(frozen=True)
class SourceGuess:
    paths: list[str]
    description: str
    omit: tuple[str, ...] = ()


def detect_source(rootdir: Path) -> SourceGuess:
    """The project's own code, guessed as a user would: the package named in pyproject, else the only package."""
    pyproject = rootdir / "pyproject.toml"
    name = None
    if pyproject.is_file():
        try:
            project = _project_table(pyproject)
            name = project.get("name") if isinstance(project.get("name"), str) else None
        except Exception:
            name = None
    if name:
        module = re.sub(r"[-.]+", "_", name).lower()
        for base in (rootdir / "src", rootdir):
            for candidate in (base / module, base / f"{module}.py"):
                if candidate.exists():
                    return SourceGuess([str(candidate)], f"{candidate.relative_to(rootdir)} (from [project].name)")
    for base in (rootdir / "src", rootdir):
        if not base.is_dir():
            continue
        packages = sorted(
            p
            for p in base.iterdir()
            if p.is_dir()
            and (p / "__init__.py").is_file()
            and p.name not in _NOT_SOURCE_DIRS
            and not p.name.startswith((".", "_"))
        )
        if packages:
            return SourceGuess([str(p) for p in packages], ", ".join(str(p.relative_to(rootdir)) for p in packages))
    return SourceGuess([str(rootdir)], "the rootdir without test files (no package found)", _TEST_FILES)


def _project_table(pyproject: Path) -> dict[str, Any]:
    project = read_toml(pyproject).get("project", {})
    return project if isinstance(project, dict) else {}


class CoverageMeter:
    """The tracer of this process: started by us, or pytest-cov's borrowed with ``Coverage.current()``."""

    def __init__(self, cov: coverage.Coverage | None, owned: bool, measured_by: str) -> None:
        self.cov = cov
        self.owned = owned
        self.measured_by = measured_by
        self.context = ""

    @classmethod
    def start(cls, settings: CoverageSettings, rootdir: Path) -> CoverageMeter:
        """Start our own tracer; data stays in memory (workers export it, nothing litters the repo)."""
        cov = coverage.Coverage(data_file=None, config_file=True)
        omit = list(cov.get_option("run:omit") or []) + list(settings.omit)  # type: ignore[arg-type]
        if settings.source:
            cov.set_option("run:source", [_resolve(s, rootdir) for s in settings.source])
        elif not cov.get_option("run:source"):
            guess = detect_source(rootdir)
            cov.set_option("run:source", guess.paths)
            omit += guess.omit
        cov.set_option("run:branch", settings.branch)
        # an empty measurement is reported by the gates (fail closed); coverage's own warning would turn into
        # an error under filterwarnings=error, and an xdist controller legitimately measures nothing
        disabled = list(cov.get_option("run:disable_warnings") or [])  # type: ignore[arg-type]
        cov.set_option("run:disable_warnings", [*disabled, "no-data-collected"])
        cov.set_option("run:omit", omit)
        cov.start()
        return cls(cov, owned=True, measured_by="iotops")

    @classmethod
    def borrow(cls) -> CoverageMeter:
        """pytest-cov measures: its tracer gets our phase contexts, its combined data is handed over at the end."""
        return cls(None, owned=False, measured_by="pytest-cov")

    def switch(self, phase: str) -> None:
        """Label what runs next with ``phase`` (called when the phase changes, not per test)."""
        if phase != self.context:
            # pytest-cov may replace its tracer between set-up and the first test (on xdist workers it does)
            cov = self.cov if self.owned else coverage.Coverage.current()
            if cov is not None:
                cov.switch_context(phase)
                self.context = phase

    def stop(self) -> None:
        if self.owned and self.cov is not None:
            self.cov.stop()


def _resolve(source: str, rootdir: Path) -> str:
    path = rootdir / source
    return str(path) if path.exists() else source  # a dotted package name stays as it is


def export_data(cov: coverage.Coverage, path: Path) -> None:
    """Write this process's data (an xdist worker's) for the controller to combine."""
    out = coverage.CoverageData(basename=str(path))
    out.update(cov.get_data())
    out.write()


def import_data(cov: coverage.Coverage, paths: Sequence[Path]) -> None:
    """Merge worker data into the controller's in-memory data; a missing file is an error, not zero coverage."""
    data = cov.get_data()
    for path in paths:
        if not path.is_file():
            raise EvidenceError(f"coverage data of an xdist worker is missing: {path}")
        part = coverage.CoverageData(basename=str(path))
        part.read()
        data.update(part)


def phase_of_label(label: str, phases: Sequence[str]) -> str | None:
    """The phase a context label belongs to (``unit`` or ``static|unit``); None for labels before any phase."""
    for p in phases:
        if label == p or label.endswith("|" + p):
            return p
    return None


def summarize(
    meter: CoverageMeter,
    rootdir: Path,
    phases: Sequence[str],
    ran_phases: Iterable[str],
    attribution: bool,
) -> tuple[CoverageReport, dict[str, LineData]]:
    """Per-file, total and per-phase numbers from one coverage.py JSON report (with line contexts), and the
    executed/missing lines of each file (for diff coverage, kept out of the report)."""
    cov = meter.cov
    if cov is None:
        raise EvidenceError("coverage was not measured: no coverage.py tracer was running")
    with tempfile.TemporaryDirectory(prefix="iotops-cov-") as tmp:
        full = _json_report(cov, Path(tmp) / "coverage.json", show_contexts=attribution)
    branch = bool(cov.get_option("run:branch"))
    files = [_file(rootdir, name, entry, branch) for name, entry in sorted(full["files"].items())]
    lines = {
        f.path: LineData(set(entry.get("executed_lines", [])), set(entry.get("missing_lines", [])))
        for f, entry in zip(files, (e for _, e in sorted(full["files"].items())), strict=True)
    }
    t = full["totals"]
    totals = CoverageTotals(
        files=len(files),
        statements=t["num_statements"],
        covered_lines=t["covered_lines"],
        branches=t.get("num_branches", 0),
        covered_branches=t.get("covered_branches", 0),
        percent=_pct(t["covered_lines"], t["num_statements"]),
        branch_percent=_pct(t.get("covered_branches", 0), t.get("num_branches", 0)) if branch else None,
    )
    phase_cov = _phase_coverage(full, list(ran_phases), phases, totals.statements) if attribution else []
    source = [str(s) for s in typing.cast("list[str]", cov.get_option("run:source") or [])]
    report = CoverageReport(
        status="measured",
        measured_by="pytest-cov" if meter.measured_by == "pytest-cov" else "iotops",
        branch=branch,
        source=source,
        totals=totals,
        files=files,
        phases=phase_cov,
        phase_attribution=attribution,
        note="" if attribution else "phase attribution unavailable (per-test contexts are in use)",
    )
    return report, lines


def _phase_coverage(
    full: dict[str, Any], ran: list[str], phases: Sequence[str], statements: int
) -> list[PhaseCoverage]:
    """A line counts for a phase when that phase's tests ran it, or it ran before any phase (imports)."""
    covered = dict.fromkeys(ran, 0)
    label_phase: dict[str, str | None] = {}
    for entry in full["files"].values():
        contexts = entry.get("contexts", {})
        # "contexts" also has lines that are not statements (a multi-line statement's other lines): count only
        # executed statements, as the totals do
        for line in entry.get("executed_lines", []):
            labels = contexts.get(str(line), [])
            seen = set()
            for label in labels:
                if label not in label_phase:
                    label_phase[label] = phase_of_label(label, phases)
                seen.add(label_phase[label])
            for phase in ran:
                if None in seen or phase in seen:
                    covered[phase] += 1
    return [PhaseCoverage(p, statements, covered[p], _pct(covered[p], statements)) for p in ran]


def _json_report(cov: coverage.Coverage, out: Path, show_contexts: bool) -> dict[str, Any]:
    try:
        cov.json_report(outfile=str(out), show_contexts=show_contexts, ignore_errors=True)
    except coverage.exceptions.NoDataError:
        return {"files": {}, "totals": {"num_statements": 0, "covered_lines": 0}}
    except coverage.exceptions.CoverageException as exc:
        raise EvidenceError(f"coverage.py could not report: {exc}") from exc
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


def _pct(part: int, whole: int) -> float:
    """100 % when there is nothing to cover, as coverage.py reports it."""
    return 100.0 * part / whole if whole else 100.0


def _file(rootdir: Path, name: str, entry: dict[str, Any], branch: bool) -> FileCoverage:
    s = entry["summary"]
    path = Path(name)
    absolute = path if path.is_absolute() else (Path.cwd() / path)
    try:
        shown = absolute.resolve().relative_to(rootdir.resolve()).as_posix()
    except ValueError:
        shown = path.as_posix()
    return FileCoverage(
        path=shown,
        statements=s["num_statements"],
        covered_lines=s["covered_lines"],
        missing_lines=list(entry.get("missing_lines", [])),
        branches=s.get("num_branches", 0),
        covered_branches=s.get("covered_branches", 0),
        percent=_pct(s["covered_lines"], s["num_statements"]),
        branch_percent=_pct(s.get("covered_branches", 0), s.get("num_branches", 0)) if branch else None,
    )
