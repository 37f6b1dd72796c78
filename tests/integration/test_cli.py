"""The iotops command: same configuration, gates and reports as the plugin, without pytest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import DATA, run_iotops

SAMPLES = DATA / "samples"
RICH = DATA / "report-rich.json"

PYPROJECT = """
[tool.iotops]
baseline = "iotops-baseline.json"

[[tool.iotops.evidence]]
kind = "clippy"
path = "clippy.json"
max_warnings = 10

[[tool.iotops.evidence]]
kind = "bandit"
path = "bandit.json"
max_findings = 0
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    shutil.copy(SAMPLES / "clippy" / "messages.json", tmp_path / "clippy.json")
    shutil.copy(SAMPLES / "bandit" / "report-severity-medium-plus.json", tmp_path / "bandit.json")
    return tmp_path


def test_gate_without_pytest_and_its_exit_codes(repo: Path) -> None:
    done = run_iotops(repo, "gate")
    assert done.returncode == 7, done.stdout + done.stderr  # no baseline file yet: an error gate
    assert "evidence.baseline" in done.stdout
    assert run_iotops(repo, "baseline").returncode == 0
    assert len(json.loads((repo / "iotops-baseline.json").read_text())["findings"]) == 14
    done = run_iotops(repo, "gate")
    assert done.returncode == 0, done.stdout
    assert "iotops verdict: PASSED" in done.stdout
    report = json.loads((repo / "iotops-reports" / "gate-report.json").read_text())
    assert [g["id"] for g in report["gates"]] == ["evidence.clippy.warnings", "evidence.bandit.findings"]
    assert report["tests"] == []
    (repo / "clippy.json").write_text("not json")
    done = run_iotops(repo, "gate", "--format", "md")
    assert done.returncode == 7
    assert {p.name for p in (repo / "iotops-reports").iterdir()} >= {"gate-report.json", "gate-summary.md"}
    assert not (repo / "iotops-reports" / "run-report.json").exists()  # a pytest run's report is never overwritten


def test_gate_fails_closed_on_missing_configuration(repo: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run_iotops(empty, "gate")
    assert done.returncode == 4
    assert f"no pyproject.toml in {empty}" in done.stderr
    done = run_iotops(repo, "gate", "--rootdir", str(tmp_path / "does" / "not" / "exist"))
    assert (done.returncode, "no such directory" in done.stderr) == (4, True)
    assert not (tmp_path / "does").exists()
    (empty / "pyproject.toml").write_text('[project]\nname = "x"\n')
    done = run_iotops(empty, "gate")
    assert (done.returncode, "no [tool.iotops] table" in done.stderr) == (4, True)
    (empty / "pyproject.toml").write_text("[tool.iotops]\nformats = []\n")
    done = run_iotops(empty, "gate")
    assert (done.returncode, "nothing to gate" in done.stderr) == (4, True)


def test_gate_reports_dir_and_the_exit_code_is_the_printed_verdict(repo: Path) -> None:
    (repo / "clippy.json").write_text("not json")
    for command in ("gate", "baseline"):
        done = run_iotops(repo, command, "--reports-dir", "elsewhere")
        assert "iotops verdict: FAILED (exit 7)" in done.stdout, done.stdout
        assert done.returncode == 7, command
    assert (repo / "elsewhere" / "gate-report.json").is_file()
    assert not (repo / "iotops-reports").exists()


def test_gate_failed_threshold_is_6(repo: Path) -> None:
    (repo / "pyproject.toml").write_text(
        PYPROJECT.replace("max_warnings = 10", "max_warnings = 2").replace('baseline = "iotops-baseline.json"', "")
    )
    (repo / "bandit.json").write_text(json.dumps({"results": [], "errors": []}))
    done = run_iotops(repo, "gate")
    assert done.returncode == 6
    assert "evidence.clippy.warnings: clippy warnings 8 warnings > 2 warnings" in done.stdout


def test_usage_and_config_errors_have_no_traceback(repo: Path, tmp_path: Path) -> None:
    (repo / "pyproject.toml").write_text("[tool.iotops]\nspeed = 1\n")
    done = run_iotops(repo, "gate")
    assert done.returncode == 4
    assert "unknown key 'speed'" in done.stderr
    assert "Traceback" not in done.stderr
    done = run_iotops(repo, "gate", "--config", str(tmp_path / "missing.toml"))
    assert done.returncode == 4
    assert "configuration file not found" in done.stderr
    assert run_iotops(repo, "frobnicate").returncode == 2
    help_text = run_iotops(repo, "gate", "--help").stdout
    assert "examples:" in help_text
    assert "exit codes:" in help_text


def test_explain_in_plain_words(tmp_path: Path) -> None:
    done = run_iotops(tmp_path, "explain", str(RICH))
    assert done.returncode == 0
    text = done.stdout
    assert text.startswith("The run FAILED with exit code 1.")
    assert "- evidence.bandit.findings FAILED: measured 3 findings, at most 0 findings required." in text
    assert "- evidence.pip-audit could not be evaluated (ERROR)." in text
    assert "- RUSTSEC-2023-0071 until 2027-03-01: rsa only verifies signatures" in text
    assert "Deployments (2 deployments: 1 promoted, 1 rolled back):" in text
    assert (
        "blue-green from v1 to v2 on the local target was promoted (v2 serves all traffic); v2 serves all traffic; "
        "the candidate held at most 100 % of it." in text
    )
    assert "was rolled back at 10 % (step 1 at 10 %: error rate 25.00% > limit 5.00%" in text


def test_each_evidence_command_reports_progress(repo: Path) -> None:
    """A line when a command starts and one when each source is read, so a long tool run does not look hung."""
    text = (repo / "pyproject.toml").read_text()
    command = 'command = ["python3", "-c", "import os, time; time.sleep(0.2); os.utime(\'clippy.json\')"]\n'
    (repo / "pyproject.toml").write_text(text.replace('path = "clippy.json"\n', 'path = "clippy.json"\n' + command))
    done = run_iotops(repo, "gate")
    lines = done.stderr.splitlines()
    started = next(i for i, line in enumerate(lines) if line.startswith("iotops: evidence clippy: running python3"))
    assert lines[started + 1].startswith("iotops: evidence clippy: read (")
    assert any(line.startswith("iotops: evidence bandit: read (") for line in lines)


def test_flaky_junit_tests_are_counted_and_gated(tmp_path: Path) -> None:
    """A test that passed only after a rerun is flaky: shown, and gate-able with max_flaky."""
    (tmp_path / "junit.xml").write_text(
        '<testsuite name="s" failures="1"><testcase name="steady"/>'
        '<testcase name="wobbly"><flakyFailure message="first try"/></testcase></testsuite>'
    )
    config = '[[tool.iotops.evidence]]\nkind = "junit"\npath = "junit.xml"\nmax_flaky = {}\n'
    (tmp_path / "pyproject.toml").write_text(config.format(0))
    done = run_iotops(tmp_path, "gate")
    assert done.returncode == 6, done.stdout + done.stderr
    assert "evidence.junit.flaky: junit flaky tests 1 tests > 0 tests (wobbly)" in done.stdout
    report = json.loads((tmp_path / "iotops-reports" / "gate-report.json").read_text())
    assert [t["nodeid"] for t in report["tests"] if t["flaky"]] == ["wobbly"]
    (tmp_path / "pyproject.toml").write_text(config.format(1))
    assert run_iotops(tmp_path, "gate").returncode == 0
