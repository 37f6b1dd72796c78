"""coverage.py in process: one tracer per process, a dynamic context per phase, numbers from coverage's own reports.

Contexts switch once per phase, not per test: per-test contexts cost about 3x in tracing. A phase's coverage is
what that phase's tests executed plus what ran before any test (imports during collection), i.e. what running
that phase alone would measure (the figures: :mod:`pytest_iotops.covreport`). When pytest-cov measures
(``--cov``), its tracer is used and none is started.

coverage.py's warnings never reach the user's warning filters (under ``filterwarnings = error`` they would
crash the run or end coverage in error): every call into coverage.py runs under :func:`captured`, and the
messages are kept for the run report and the summary.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import typing
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import coverage
import coverage.exceptions

from .config import CoverageSettings
from .covengine import Engine, choose_engine
from .covsource import SELECTING_OPTIONS, config_origin, describe_selection, detect_source
from .errors import ConfigError, EvidenceError

if TYPE_CHECKING:
    from .slipcover_engine import SlipcoverCollector

__all__ = [
    "CoverageMeter",
    "captured",
    "describe_selection",
    "export_data",
    "import_data",
    "new_coverage",
    "option_list",
]

_URL = re.compile(r";? see https?://\S+$")


@contextmanager
def captured(into: list[str]) -> Iterator[None]:
    """Run coverage.py calls with its warnings recorded into ``into`` (once each); other warnings pass on."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        if issubclass(w.category, coverage.exceptions.CoverageWarning):
            message = _URL.sub("", str(w.message)).strip()
            if message not in into:
                into.append(message)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)


def _configured(
    settings: CoverageSettings, rootdir: Path, found: list[str], origin: str
) -> tuple[coverage.Coverage, str]:
    """A Coverage object with the project's configuration; a source only where the project selects nothing.
    Returns it and a description of what it measures and why (for the header and the report)."""
    cov = new_coverage(found)
    omit = option_list(cov, "run:omit") + list(settings.omit)
    if settings.source:
        cov.set_option("run:source", [_resolve(s, rootdir) for s in settings.source])
        description = f"source {', '.join(settings.source)} (from {origin})"
    elif any(cov.get_option(key) for key in SELECTING_OPTIONS):
        description = f"{describe_selection(cov)} ({config_origin(cov, rootdir)})"
    else:
        guess = detect_source(rootdir)
        cov.set_option("run:source", guess.paths)
        omit += guess.omit
        description = f"source {guess.description}"
    cov.set_option("run:branch", settings.branch)
    # an empty measurement is reported by the gates (fail closed), not by coverage.py's warning
    cov.set_option("run:disable_warnings", [*option_list(cov, "run:disable_warnings"), "no-data-collected"])
    cov.set_option("run:omit", omit)
    return cov, description


def new_coverage(found: list[str]) -> coverage.Coverage:
    """A Coverage object reading the project's configuration, data in memory; a broken configuration is a
    :class:`ConfigError` naming the option (plugin and CLI turn it into exit 4), its warnings go to ``found``."""
    with captured(found):
        try:
            return coverage.Coverage(data_file=None, config_file=True)
        except coverage.exceptions.ConfigError as exc:
            raise ConfigError(f"coverage.py configuration: {exc}") from None


class CoverageMeter:
    """The tracer of this process: started by us, or pytest-cov's borrowed with ``Coverage.current()``."""

    def __init__(self, cov: coverage.Coverage | None, owned: bool, measured_by: str, selection: str = "") -> None:
        self.cov = cov
        self.owned = owned
        self.measured_by = measured_by
        self.selection = selection
        self.context = ""
        self.engine = Engine("coveragepy")
        #: SlipCover's probes when that engine measures (coverage.py then only reports)
        self.collector: SlipcoverCollector | None = None
        #: coverage.py's warnings in this process (and, on the xdist controller, its workers'), in order
        self.warnings: list[str] = []
        #: when coverage.py's tracer ran: "always", "tests" (covwindow) or "always (why not tests)"; "" when no
        #: tracer of coverage.py's measured (SlipCover, sys.monitoring)
        self.trace = "always" if measured_by == "pytest-cov" else ""

    @classmethod
    def start(cls, settings: CoverageSettings, rootdir: Path, origin: str = "[tool.iotops.coverage]") -> CoverageMeter:
        """Start our own tracer; data stays in memory (workers export it, nothing litters the repo)."""
        found: list[str] = []
        cov, selection = _configured(settings, rootdir, found, origin)
        meter = cls(cov, owned=True, measured_by="iotops", selection=selection)
        meter.warnings = found
        meter.engine = choose_engine(settings.engine, cov)
        with captured(meter.warnings):
            if meter.engine.name == "slipcover":
                from .slipcover_engine import SlipcoverCollector

                meter.collector = SlipcoverCollector(cov, str(cov.get_option("run:context") or ""))
                meter.collector.start()
            else:
                cov.start()
                meter.trace = "always" if meter.engine.name == "coveragepy" else ""
        return meter

    @classmethod
    def borrow(cls) -> CoverageMeter:
        """pytest-cov measures: its tracer gets our phase contexts, its combined data is handed over at the end."""
        return cls(None, owned=False, measured_by="pytest-cov")

    def stop_tracing(self, settings: CoverageSettings, rootdir: Path, origin: str = "[tool.iotops.coverage]") -> None:
        """On the xdist controller: the workers measure. Stop this process's tracer and keep an idle Coverage,
        configured alike, to combine their data (tracing here only produced warnings about unimported code)."""
        if not self.owned or self.cov is None:
            return
        ignored: list[str] = []
        with captured(ignored):
            if self.collector is not None:
                self.collector.stop()
                self.collector = None
            else:
                self.cov.stop()
        self.cov, _ = _configured(settings, rootdir, ignored, origin)
        self.warnings = []

    def switch(self, phase: str) -> None:
        """Label what runs next with ``phase`` (called when the phase changes, not per test)."""
        if phase != self.context and self.collector is not None:
            static = self.collector.static
            self.collector.switch(f"{static}|{phase}" if static else phase)
            self.context = phase
        elif phase != self.context:
            # pytest-cov may replace its tracer between set-up and the first test (on xdist workers it does)
            cov = self.cov if self.owned else coverage.Coverage.current()
            if cov is not None:
                with captured(self.warnings):
                    cov.switch_context(phase)
                if self.engine.name == "sysmon":  # lines already seen were disabled: see them again, in this phase
                    sys.monitoring.restart_events()  # type: ignore[attr-defined, unused-ignore]
                self.context = phase

    def stop(self) -> None:
        """Stop measuring (again: a no-op); SlipCover's findings are handed to coverage.py's data here."""
        if self.owned and self.cov is not None:
            with captured(self.warnings):
                if self.collector is None:
                    self.cov.stop()
                elif self.collector.running:
                    self.collector.stop()
                    self.collector.write_into(self.cov.get_data())

    def export(self, path: Path) -> None:
        """Write this process's data and warnings (an xdist worker's or a shard's) for a combiner to read."""
        if self.cov is None:
            return
        with captured(self.warnings):
            export_data(self.cov, path)
        sidecar = {"warnings": self.warnings, "trace": self.trace}
        _warnings_file(path).write_text(json.dumps(sidecar), encoding="utf-8")


def _warnings_file(data: Path) -> Path:
    return data.with_name(data.name + ".warnings.json")


def _resolve(source: str, rootdir: Path) -> str:
    path = rootdir / source
    return str(path) if path.exists() else source  # a dotted package name stays as it is


def export_data(cov: coverage.Coverage, path: Path) -> None:
    """Write ``cov``'s data (flushing the collector first) to a data file a combiner can read."""
    out = coverage.CoverageData(basename=str(path))
    out.update(cov.get_data())
    out.write()


def import_data(meter: CoverageMeter, paths: Sequence[Path]) -> None:
    """Merge worker data (and their warnings) into the meter's data; a missing file is an error, not zero
    coverage."""
    if meter.cov is None:
        raise EvidenceError("coverage data cannot be combined: no coverage.py object")
    with captured(meter.warnings):
        data = meter.cov.get_data()
    traces: list[str] = []
    missing = [path for path in paths if not path.is_file()]
    if missing:
        raise EvidenceError(f"coverage data of an xdist worker is missing: {missing[0]}")
    # the parts are combined on disk first and land in the in-memory data in one update: coverage.py 7.10 to
    # 7.16 leave the part attached to an in-memory database after an update, and the next update fails
    with tempfile.TemporaryDirectory(prefix="iotops-combine-") as tmp:
        combined = coverage.CoverageData(basename=str(Path(tmp) / "combined"))
        for path in paths:
            part = coverage.CoverageData(basename=str(path))
            part.read()
            combined.update(part)
            _read_sidecar(meter, _warnings_file(path), traces)
        if paths:
            data.update(combined)
    # the tracer ran around tests only if it did in every part; otherwise the first part's reason why not
    if traces:
        meter.trace = next((t for t in traces if t != "tests"), "tests")


def _read_sidecar(meter: CoverageMeter, sidecar: Path, traces: list[str]) -> None:
    """A part's warnings (merged into the meter's, once each) and its trace mode (into ``traces``); a list is
    the sidecar of an older version: warnings only."""
    if not sidecar.is_file():
        return
    found = json.loads(sidecar.read_text(encoding="utf-8"))
    if isinstance(found, dict):
        if found.get("trace"):
            traces.append(str(found["trace"]))
        found = found.get("warnings", [])
    for message in found:
        if message not in meter.warnings:
            meter.warnings.append(str(message))


def option_list(cov: coverage.Coverage, key: str) -> list[str]:
    """A list option of coverage.py's configuration (None as empty)."""
    return list(typing.cast("list[str]", cov.get_option(key) or []))
