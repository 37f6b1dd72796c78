"""The coverage engine against coverage.py's own context filtering, as an independent reference."""

from __future__ import annotations

import importlib
import json
import sys
import tempfile
import uuid
from pathlib import Path

import coverage
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_iotops.coverage import CoverageMeter
from pytest_iotops.covreport import phase_lines, phase_of_label, summarize

PHASES = ("unit", "integration", "e2e")

MODULE = '''
def total(*values):
    return sum(
        values,
        0,
    )


def label(
    value,
    unit="C",
):
    if value > 30:
        return "hot"
    return f"{value} {unit}"


class Sensor:
    """A multi-line docstring
    that is not a statement."""

    def __init__(self, name):
        self.name = name

    def read(self):
        return {
            "name": self.name,
            "value": 1,
        }
'''


@pytest.fixture
def measured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    pkg = tmp_path / "phasepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    cov = coverage.Coverage(data_file=None, branch=True, source=[str(pkg)])
    cov.start()
    try:
        module = importlib.import_module("phasepkg")
        cov.switch_context("unit")
        module.total(1, 2)
        module.label(10)
        cov.switch_context("integration")
        module.Sensor("a").read()
        cov.switch_context("e2e")
        module.label(40)
    finally:
        cov.stop()
        sys.modules.pop("phasepkg", None)
    return cov, tmp_path


def test_phase_numbers_equal_coverage_py_context_reports(measured) -> None:
    cov, tmp_path = measured
    phases = ("unit", "integration", "e2e")
    report, lines = summarize(CoverageMeter(cov, True, "iotops"), tmp_path, phases, phases, True)
    for phase in phases:
        out = tmp_path / f"{phase}.json"
        cov.json_report(outfile=str(out), contexts=["^$", f"^{phase}$"])
        reference = json.loads(out.read_text())["totals"]
        ours = next(p for p in report.phases if p.phase == phase)
        assert (ours.covered_lines, ours.statements) == (reference["covered_lines"], reference["num_statements"])
    assert report.totals.statements == sum(len(d.executed | d.missing) for d in lines.values())


def test_figures_from_the_analysis_equal_coverage_py_s_json_reports(measured, monkeypatch: pytest.MonkeyPatch) -> None:
    """The figures are read from coverage.py's analysis, not its JSON reports (a tenth of the cost): file by file,
    line by line and phase by phase they are the JSON reports' (the fallback for a coverage.py without it)."""
    if coverage.version_info < (7, 13, 5):
        pytest.skip("coverage.py before 7.13.5 lists lines that are not statements among JSON's executed lines")
    cov, tmp_path = measured
    fast, fast_lines = summarize(CoverageMeter(cov, True, "iotops"), tmp_path, PHASES, PHASES, True)
    monkeypatch.delattr("coverage.report_core.get_analysis_to_report")
    slow, slow_lines = summarize(CoverageMeter(cov, True, "iotops"), tmp_path, PHASES, PHASES, True)
    assert fast == slow
    assert fast_lines == slow_lines
    assert fast.totals.branches > 0
    assert len({p.covered_lines for p in fast.phases}) >= 2  # phases with different figures compared


def test_phase_of_label_with_static_contexts() -> None:
    phases = ("unit", "e2e")
    assert phase_of_label("unit", phases) == "unit"
    assert phase_of_label("nightly|e2e", phases) == "e2e"
    assert phase_of_label("", phases) is None
    assert phase_of_label("nightly", phases) is None


CALLS = {
    "total": lambda m: m.total(1, 2),
    "label_cool": lambda m: m.label(10),
    "label_hot": lambda m: m.label(40),
    "sensor": lambda m: m.Sensor("a").read(),
}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(sorted(CALLS)), st.sampled_from(PHASES)), min_size=1, max_size=6))
def test_phase_statements_union_to_the_total(calls: list[tuple[str, str]]) -> None:
    """For every way of spreading calls over phases: each phase's executed statements are a subset of the total,
    together they are the total (by statement, multi-line statements included), and a phase that ran every
    call has the total's figure."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        name = f"phasepkg_{uuid.uuid4().hex}"
        (root / name).mkdir()
        (root / name / "__init__.py").write_text(MODULE)
        sys.path.insert(0, tmp)
        cov = coverage.Coverage(data_file=None, branch=True, source=[str(root / name)])
        cov.start()
        try:
            module = importlib.import_module(name)
            for call, phase in calls:
                cov.switch_context(phase)
                CALLS[call](module)
        finally:
            cov.stop()
            sys.path.remove(tmp)
            sys.modules.pop(name, None)
        ran = sorted({phase for _, phase in calls}, key=PHASES.index)
        report, lines = summarize(CoverageMeter(cov, True, "iotops"), root, PHASES, ran, True)
        by_phase = phase_lines(cov, ran, PHASES)
        ((_, total),) = lines.items()  # one measured file
        union: set[int] = set().union(*(executed for files in by_phase.values() for executed in files.values()))
        assert union == total.executed
        for phase in ran:
            counted = next(p for p in report.phases if p.phase == phase)
            assert counted.covered_lines == sum(len(v) for v in by_phase[phase].values()) <= report.totals.covered_lines
        if len(ran) == 1:
            assert report.phases[0].covered_lines == report.totals.covered_lines
