"""End to end: coverage measured in process, every gate status, exit codes, xdist and pytest-cov."""

from __future__ import annotations

import json
from datetime import datetime

import jsonschema
import pytest
from conftest import gate, make_project, run_report

from pytest_iotops.schema import SCHEMA_PATH, render
from pytest_iotops.verdict import EXIT_GATE_ERROR, EXIT_GATE_FAILED

# app/__init__.py has 12 statements; the suite runs 10 (div's raise and grade's "B" are never hit);
# unit tests alone run 6 (the three definitions at import, add, grade's first test and "A")
GATES = """
[tool.iotops.coverage]
fail_under = {total}
branch_fail_under = 50
file_fail_under = 50
phase_fail_under = {{ unit = {unit} }}

[tool.iotops.pyramid]
min_share = {{ unit = 50 }}
max_share = {{ e2e = 25 }}
"""


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("--iotops", *args)


def test_all_gates_pass_and_numbers_are_coverage_pys(pytester: pytest.Pytester) -> None:
    make_project(pytester, GATES.format(total=80, unit=50))
    result = _run(pytester)
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*= iotops pipeline =*",
            "phase*tests*passed*failed*error*skipped*blocked*time*coverage",
            "unit * 2 * 2 *",
            "total * 4 * 4 * 83.3 %",
            "coverage (iotops): line 83.33 %*over 1 file(s)",
            "coverage.total * 83.33 % * ≥ 80 % * PASSED",
            "iotops verdict: PASSED: tests passed, 6 gate(s) passed",
            "iotops run report: iotops-reports/run-report.json",
        ]
    )
    report = run_report(pytester.path)
    cov = report["coverage"]
    assert cov["measured_by"] == "iotops"
    assert (cov["totals"]["statements"], cov["totals"]["covered_lines"]) == (12, 10)
    assert cov["files"][0]["path"] == "app/__init__.py"
    assert cov["files"][0]["missing"] == "8,16"
    unit = next(p for p in cov["phases"] if p["phase"] == "unit")
    assert (unit["covered_lines"], unit["statements"]) == (6, 12)
    assert {g["id"]: g["status"] for g in report["gates"]} == {
        "coverage.total": "passed",
        "coverage.branch": "passed",
        "coverage.file": "passed",
        "coverage.phase.unit": "passed",
        "pyramid.min_share.unit": "passed",
        "pyramid.max_share.e2e": "passed",
    }
    jsonschema.validate(report, json.loads(SCHEMA_PATH.read_text()))


def test_failed_gate_has_its_own_exit_code(pytester: pytest.Pytester) -> None:
    make_project(pytester, GATES.format(total=85, unit=50))
    result = _run(pytester)
    assert result.ret == EXIT_GATE_FAILED
    result.stdout.fnmatch_lines(
        [
            "coverage.total * 83.33 % * ≥ 85 % * FAILED",
            "  coverage.total: total line coverage 83.33 % < 85 % (10/12 lines)",
            "iotops verdict: FAILED (exit 6): gate coverage.total failed*",
        ]
    )
    assert run_report(pytester.path)["verdict"] == {
        "status": "failed",
        "exit_code": 6,
        "reasons": ["gate coverage.total failed: total line coverage 83.33 % < 85 % (10/12 lines)"],
        "summary": "FAILED (exit 6): gate coverage.total failed: total line coverage 83.33 % < 85 % (10/12 lines)",
    }


def test_threshold_edges_print_what_they_decide(pytester: pytest.Pytester) -> None:
    """10/12 = 83.333...%: 83.33 passes, 83.34 fails; printed numbers must say the same."""
    make_project(pytester, "[tool.iotops.coverage]\nfail_under = 83.33\n")
    passed = _run(pytester)
    assert passed.ret == 0
    passed.stdout.fnmatch_lines(["coverage.total * 83.33 % * ≥ 83.33 % * PASSED"])
    failed = _run(pytester, "--iotops-cov-fail-under", "83.34")
    assert failed.ret == EXIT_GATE_FAILED
    failed.stdout.fnmatch_lines(["coverage.total * 83.33 % * ≥ 83.34 % * FAILED"])


def test_phase_gate_fails_when_unit_tests_alone_fall_short(pytester: pytest.Pytester) -> None:
    make_project(pytester, GATES.format(total=50, unit=60))
    result = _run(pytester)
    assert result.ret == EXIT_GATE_FAILED
    result.stdout.fnmatch_lines(["*coverage.phase.unit: unit phase line coverage 50.00 % < 60 % (6/12 lines)"])


def test_file_gate_names_the_files_below(pytester: pytest.Pytester) -> None:
    make_project(
        pytester,
        "[tool.iotops.coverage]\nfile_fail_under = 80\n",
        files={"app/unused.py": "def never():\n    x = 1\n    return x\n"},
    )
    result = _run(pytester)
    assert result.ret == EXIT_GATE_FAILED
    result.stdout.fnmatch_lines(
        ["*coverage.file: lowest file line coverage 0.00 % < 80 % (1 file(s) below: app/unused.py 0.0 %)"]
    )


def test_pyramid_shape_gate(pytester: pytest.Pytester) -> None:
    make_project(pytester, "[tool.iotops.pyramid]\nmin_share = { unit = 60 }\n")
    result = _run(pytester, "--iotops-no-cov")
    assert result.ret == EXIT_GATE_FAILED
    result.stdout.fnmatch_lines(["*pyramid.min_share.unit: unit share of tests 50.00 % < 60 % (2 of 4)"])


def test_gates_fail_closed_when_source_has_no_code(pytester: pytest.Pytester) -> None:
    make_project(pytester, '[tool.iotops.coverage]\nfail_under = 10\nsource = ["nothing_here"]\n')
    result = _run(pytester)
    assert result.ret == EXIT_GATE_ERROR
    assert gate(run_report(pytester.path), "coverage.total")["status"] == "error"
    result.stdout.fnmatch_lines(["*coverage.total: total line coverage: coverage measured no code in source*"])


def test_gates_are_skipped_only_when_turned_off_explicitly(pytester: pytest.Pytester) -> None:
    make_project(pytester, "[tool.iotops.coverage]\nfail_under = 99\n")
    result = _run(pytester, "--iotops-no-cov")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["coverage.total * - * ≥ 99 % * SKIPPED", "*total line coverage: turned off by --iotops-no-cov"]
    )


def test_test_failures_keep_exit_code_1_even_with_failed_gates(pytester: pytest.Pytester) -> None:
    make_project(
        pytester,
        "[tool.iotops.coverage]\nfail_under = 100\n",
        files={"tests/unit/test_broken.py": "def test_broken():\n    assert False\n"},
    )
    result = _run(pytester)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["iotops verdict: FAILED (exit 1): tests failed; gate coverage.total failed*"])


def test_phase_gate_of_a_blocked_phase_is_an_error(pytester: pytest.Pytester) -> None:
    make_project(
        pytester,
        "[tool.iotops.coverage]\nphase_fail_under = { e2e = 10 }\n",
        files={"tests/unit/test_broken.py": "def test_broken():\n    assert False\n"},
    )
    _run(pytester)
    assert "did not run (blocked" in gate(run_report(pytester.path), "coverage.phase.e2e")["message"]


def _summary(report: dict) -> tuple:
    phases = [(p["name"], p["tests"], p["passed"], p["failed"], p["status"]) for p in report["phases"]]
    cov = report["coverage"]
    files = [(f["path"], f["covered_lines"], f["missing"], f["covered_branches"]) for f in cov["files"]]
    by_phase = [(c["phase"], c["covered_lines"], c["statements"]) for c in cov["phases"]]
    gates = [(g["id"], g["status"], g["measured"]) for g in report["gates"]]
    outcomes = sorted((t["nodeid"], t["phase"], t["outcome"]) for t in report["tests"])
    return phases, cov["totals"], files, by_phase, gates, outcomes, report["verdict"]


@pytest.mark.parametrize("workers", ["2", "4"])
def test_xdist_gives_the_serial_numbers(pytester: pytest.Pytester, workers: str) -> None:
    make_project(pytester, GATES.format(total=80, unit=50))
    serial = _run(pytester)
    serial_report = _summary(run_report(pytester.path))
    parallel = _run(pytester, "-n", workers)
    assert serial.ret == parallel.ret == 0, parallel.stdout.str()
    parallel_report = run_report(pytester.path)
    assert parallel_report["run"]["workers"] == int(workers)
    assert len({t["worker"] for t in parallel_report["tests"]}) > 1
    assert _summary(parallel_report) == serial_report
    parallel.stdout.fnmatch_lines(["iotops verdict: PASSED*"])
    assert parallel.stdout.str().count("iotops verdict") == 1
    # the controller's collection stage is the workers' collection, over before the first phase starts (it
    # used to last the whole run)
    stages = {s["name"]: s for s in parallel_report["stages"]}
    collected = datetime.fromisoformat(stages["collect"]["started_at"]).timestamp() + stages["collect"]["duration"]
    assert collected <= datetime.fromisoformat(stages["phase:unit"]["started_at"]).timestamp() + 0.05, stages


def test_xdist_gate_failure_equals_serial(pytester: pytest.Pytester) -> None:
    make_project(pytester, GATES.format(total=85, unit=50))
    assert _run(pytester).ret == _run(pytester, "-n", "2").ret == EXIT_GATE_FAILED


def test_pytest_cov_measurement_is_used_not_duplicated(pytester: pytest.Pytester) -> None:
    make_project(pytester, GATES.format(total=80, unit=50))
    # loaded with -p before any plugin starts a tracer: counts every Coverage.start() in the process
    pytester.makepyfile(
        countstarts="""
        import coverage

        STARTS = []
        _start = coverage.Coverage.start

        def start(self):
            STARTS.append(self)
            return _start(self)

        coverage.Coverage.start = start

        def pytest_unconfigure(config):
            with open("starts.txt", "w") as fh:
                fh.write(str(len(STARTS)))
        """
    )
    result = _run(pytester, "-p", "countstarts", "--cov=app", "--cov-branch", "--cov-report=")
    assert result.ret == 0, result.stdout.str()
    assert (pytester.path / "starts.txt").read_text() == "1"
    result.stdout.fnmatch_lines(["iotops: coverage by pytest-cov", "coverage (pytest-cov): line 83.33 %*"])
    report = run_report(pytester.path)
    assert report["coverage"]["measured_by"] == "pytest-cov"
    unit = next(p for p in report["coverage"]["phases"] if p["phase"] == "unit")
    assert (unit["covered_lines"], unit["statements"]) == (6, 12)
    # and without pytest-cov, exactly one tracer too: ours
    assert _run(pytester, "-p", "countstarts").ret == 0
    assert (pytester.path / "starts.txt").read_text() == "1"


def test_pytest_cov_with_xdist(pytester: pytest.Pytester) -> None:
    make_project(pytester, GATES.format(total=80, unit=50))
    result = _run(pytester, "--cov=app", "--cov-branch", "--cov-report=", "-n", "2")
    assert result.ret == 0, result.stdout.str()
    cov = run_report(pytester.path)["coverage"]
    assert (cov["measured_by"], cov["totals"]["covered_lines"]) == ("pytest-cov", 10)
    unit = next(p for p in cov["phases"] if p["phase"] == "unit")
    assert (unit["covered_lines"], unit["statements"]) == (6, 12)


def test_committed_schema_matches_the_model() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render(), "run: python -m pytest_iotops.schema"


def test_run_metadata_stages_and_git(pytester: pytest.Pytester) -> None:
    make_project(pytester, "[tool.iotops.coverage]\nfail_under = 50\n")
    git = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    pytester.run("git", "init", "-q", "-b", "release-1")
    pytester.run("git", "add", "-A")
    pytester.run(*git, "commit", "-qm", "init")
    head = pytester.run("git", "rev-parse", "HEAD").outlines[0].strip()
    assert _run(pytester).ret == 0
    run = run_report(pytester.path)["run"]
    assert (run["git"]["commit"], run["git"]["branch"]) == (head, "release-1")
    assert "--iotops" in run["args"]
    stages = [s["name"] for s in run_report(pytester.path)["stages"]]
    assert stages[0] == "collect"
    assert stages[1:4] == ["phase:unit", "phase:integration", "phase:e2e"]
    assert stages[4:] == ["coverage", "gates"]


def test_unwritable_report_fails_the_run(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    (pytester.path / "blocker").write_text("a file where the reports directory should be")
    result = _run(pytester, "--iotops-reports-dir", "blocker/reports", "--iotops-no-cov")
    assert result.ret == EXIT_GATE_ERROR
    result.stdout.fnmatch_lines(["iotops verdict: FAILED (exit 7): json report not written to *blocker/reports*"])
