"""The coverage engine against coverage.py's own context filtering, as an independent reference."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import coverage
import pytest

from pytest_iotops.coverage import CoverageMeter, phase_of_label, summarize

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


def test_phase_of_label_with_static_contexts() -> None:
    phases = ("unit", "e2e")
    assert phase_of_label("unit", phases) == "unit"
    assert phase_of_label("nightly|e2e", phases) == "e2e"
    assert phase_of_label("", phases) is None
    assert phase_of_label("nightly", phases) is None
