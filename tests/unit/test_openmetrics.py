"""The OpenMetrics output read back by prometheus_client's own OpenMetrics parser: every figure equals the run
report's, label values survive hostile test names, and the text is valid for the parser (which refuses a
missing ``# EOF``, a repeated family or a bad escape)."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest
from conftest import DATA
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from pytest_iotops.model import RunReport, load_report
from pytest_iotops.render.openmetrics import render_openmetrics

REPORTS = ["report-rich.json", "run-report-sample.json"]


def _samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return out


@pytest.mark.parametrize("name", REPORTS)
def test_every_figure_equals_the_run_reports(name: str) -> None:
    report = load_report(DATA / name)
    got = _samples(render_openmetrics(report))
    tests = {(lab["phase"], lab["outcome"]): v for lab, v in got["iotops_tests"]}
    for phase in report.phases:
        for outcome in ("passed", "failed", "errors", "skipped", "blocked", "xfailed", "xpassed"):
            assert tests[(phase.name, outcome)] == getattr(phase, outcome)
    assert got["iotops_verdict_passed"] == [
        ({"exit_code": str(report.verdict.exit_code)}, float(report.verdict.status == "passed"))
    ]
    assert got["iotops_run_duration_seconds"][0][1] == pytest.approx(report.run.duration)
    durations = {lab["phase"]: v for lab, v in got["iotops_phase_duration_seconds"]}
    assert durations == pytest.approx({p.name: p.duration for p in report.phases})
    assert report.coverage is not None
    coverage = {lab["scope"]: v for lab, v in got["iotops_coverage_ratio"]}
    assert coverage["lines"] == pytest.approx(report.coverage.totals.percent / 100)
    gates = {lab["gate"]: (lab["status"], v) for lab, v in got["iotops_gate_passed"]}
    assert gates == {g.id: (g.status, float(g.status == "passed")) for g in report.gates}
    findings = Counter({(lab["tool"], lab["severity"], lab["status"]): v for lab, v in got.get("iotops_findings", [])})
    assert findings == Counter((f.tool, f.severity, f.status) for f in report.findings)
    deployments = Counter(
        {(lab["strategy"], lab["target"], lab["outcome"]): v for lab, v in got.get("iotops_deployments", [])}
    )
    assert deployments == Counter((d.strategy, d.target, d.outcome) for d in report.deployments)
    steps = got.get("iotops_deployment_step_duration_seconds", [])
    assert len(steps) == sum(len(d.steps) for d in report.deployments)


def test_hostile_label_values_survive_the_round_trip() -> None:
    report = load_report(DATA / "report-rich.json")
    nasty = 'tests/test_x.py::test["quoted" \\ back\nnewline}'
    deployments = [dataclasses.replace(d, test=nasty) for d in report.deployments]
    text = render_openmetrics(dataclasses.replace(report, deployments=deployments))
    tests = {lab["test"] for lab, _ in _samples(text)["iotops_deployment_duration_seconds"]}
    assert tests == {nasty}


def test_an_empty_run_is_still_valid_openmetrics() -> None:
    report: RunReport = load_report(DATA / "run-report-sample.json")
    empty = dataclasses.replace(report, phases=[], stages=[], gates=[], coverage=None, findings=[], deployments=[])
    text = render_openmetrics(empty)
    assert text.endswith("# EOF\n")
    assert set(_samples(text)) == {"iotops_run_duration_seconds", "iotops_verdict_passed"}
