"""End to end: evidence sources as pipeline stages and gates, ignores, baselines, diff coverage."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import DATA, gate, make_project, require_binary, run_report

from pytest_iotops.verdict import EXIT_GATE_ERROR, EXIT_GATE_FAILED

SAMPLES = DATA / "samples"
NO_COV = "--iotops-no-cov"


def _copy(pytester: pytest.Pytester, rel: str, name: str | None = None) -> str:
    target = pytester.path / "reports" / (name or Path(rel).name)
    target.parent.mkdir(exist_ok=True)
    shutil.copy(SAMPLES / rel, target)
    return f"reports/{target.name}"


def _evidence(**entry: object) -> str:
    def toml(value: object) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (list, tuple)):
            return "[" + ", ".join(toml(v) for v in value) + "]"
        if isinstance(value, (int, float)):
            return str(value)
        return json.dumps(str(value))

    return "\n[[tool.iotops.evidence]]\n" + "".join(f"{k} = {toml(v)}\n" for k, v in entry.items())


def test_evidence_gates_statuses_and_exit_codes(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    config = (
        _evidence(kind="tarpaulin", path=_copy(pytester, "tarpaulin/cobertura-multi-file.xml"), fail_under=90)
        + _evidence(kind="clippy", path=_copy(pytester, "clippy/messages.json"), max_warnings=10, max_errors=0)
        + _evidence(
            kind="sarif",
            name="semgrep",
            path=_copy(pytester, "sarif/semgrep-with-inline-suppression.sarif"),
            max_findings=3,
            min_severity="medium",
        )
    )
    make_project(pytester, config)
    result = pytester.runpytest("--iotops", NO_COV)
    assert result.ret == 0, result.stdout.str()
    report = run_report(pytester.path)
    assert {g["id"]: g["status"] for g in report["gates"]} == {
        "evidence.tarpaulin.total": "passed",
        "evidence.clippy.warnings": "passed",
        "evidence.clippy.errors": "passed",
        "evidence.semgrep.findings": "passed",  # 3 open at medium or worse; the 4th is suppressed in source
    }
    assert gate(report, "evidence.semgrep.findings")["measured"] == 3
    assert gate(report, "evidence.tarpaulin.total")["measured"] == pytest.approx(100 * 970 / 1023)
    assert [s["name"] for s in report["stages"] if s["kind"] == "evidence"] == [
        "evidence:tarpaulin",
        "evidence:clippy",
        "evidence:semgrep",
    ]
    result.stdout.fnmatch_lines(
        ["tarpaulin * tarpaulin * OK * line 94.82 % of 1023 lines in 11 files", "findings open: *(1 suppressed)"]
    )


def test_failed_and_unreadable_evidence(pytester: pytest.Pytester) -> None:
    config = _evidence(kind="clippy", path=_copy(pytester, "clippy/messages.json"), max_warnings=5)
    make_project(pytester, config)
    result = pytester.runpytest("--iotops", NO_COV)
    assert result.ret == EXIT_GATE_FAILED
    result.stdout.fnmatch_lines(["*evidence.clippy.warnings: clippy warnings 8 warnings > 5 warnings*"])
    (pytester.path / "reports" / "messages.json").write_text("<html>502</html>")
    result = pytester.runpytest("--iotops", NO_COV)
    assert result.ret == EXIT_GATE_ERROR
    result.stdout.fnmatch_lines(
        ["*evidence.clippy.warnings*ERROR*", "*expected JSON lines, but the file looks like XML*"]
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"kind": "sarif", "path": "reports/missing.sarif"}, "*reports/missing.sarif: file not found*"),
        (
            {"kind": "sarif", "path": "out.sarif", "command": ["no-such-tool-iotops", "--scan"]},
            "*command not found: 'no-such-tool-iotops'*",
        ),
        (
            {
                "kind": "sarif",
                "path": "out.sarif",
                "timeout": 1,
                "command": [sys.executable, "-c", "import time; time.sleep(60)"],
            },
            "*command timed out after 1s*",
        ),
        (
            {
                "kind": "sarif",
                "path": "out.sarif",
                "command": [sys.executable, "-c", "import sys; sys.stderr.write('scanner exploded'); sys.exit(3)"],
            },
            "*command exited 3*",
        ),
        (
            {"kind": "sarif", "path": "stale.sarif", "command": [sys.executable, "-c", "pass"]},
            "*stale.sarif: the command did not write this file*",
        ),
    ],
)
def test_evidence_errors_fail_closed(pytester: pytest.Pytester, entry: dict, message: str) -> None:
    stale = pytester.path / "stale.sarif"
    stale.write_text('{"version": "2.1.0", "runs": []}')
    os.utime(stale, (1_000_000, 1_000_000))
    make_project(pytester, _evidence(**entry))
    result = pytester.runpytest("--iotops", NO_COV)
    assert result.ret == EXIT_GATE_ERROR
    result.stdout.fnmatch_lines([message])
    evidence = run_report(pytester.path)["evidence"][0]
    assert evidence["status"] == "error"
    if "exited 3" in message:
        assert evidence["command"]["exit_code"] == 3
        assert "scanner exploded" in evidence["command"]["stderr_tail"]


def test_command_stage_runs_and_its_output_is_the_evidence(pytester: pytest.Pytester) -> None:
    script = textwrap.dedent(
        """
        import json, sys
        print(json.dumps({"reason": "compiler-message", "package_id": "p", "message": {
            "level": "warning", "message": "unneeded return", "code": {"code": "clippy::needless_return"},
            "spans": [{"file_name": "src/lib.rs", "line_start": 3, "column_start": 5, "is_primary": True}]}}))
        print(json.dumps({"reason": "build-finished", "success": True}))
        print("checking crate", file=sys.stderr)
        """
    )
    (pytester.path / "fake_clippy.py").write_text(script)
    make_project(
        pytester,
        _evidence(
            kind="clippy",
            path="reports/clippy.json",
            capture_stdout=True,
            command=[sys.executable, "fake_clippy.py"],
            max_warnings=0,
        ),
    )
    result = pytester.runpytest("--iotops", NO_COV)
    assert result.ret == EXIT_GATE_FAILED
    evidence = run_report(pytester.path)["evidence"][0]
    assert evidence["command"]["exit_code"] == 0
    assert "checking crate" in evidence["command"]["stderr_tail"]
    assert "needless_return" in evidence["command"]["stdout_tail"]
    finding = run_report(pytester.path)["findings"][0]
    assert (finding["rule"], finding["path"], finding["line"]) == ("clippy::needless_return", "src/lib.rs", 3)


def test_optional_evidence_absent_is_skipped(pytester: pytest.Pytester) -> None:
    make_project(pytester, _evidence(kind="lcov", path="reports/none.info", required=False, fail_under=80))
    result = pytester.runpytest("--iotops", NO_COV)
    assert result.ret == 0
    assert gate(run_report(pytester.path), "evidence.lcov.total")["status"] == "skipped"


def test_junit_tests_join_the_pyramid_and_fail_the_run(pytester: pytest.Pytester) -> None:
    make_project(
        pytester,
        _evidence(
            kind="junit",
            name="rust-tests",
            phase="integration",
            path=_copy(pytester, "junit/nextest-fixture-project.xml"),
        ),
    )
    result = pytester.runpytest("--iotops", NO_COV)
    assert result.ret == 1
    report = run_report(pytester.path)
    integration = next(p for p in report["phases"] if p["name"] == "integration")
    assert (integration["tests"], integration["failed"], integration["status"]) == (4, 1, "failed")
    assert {t["origin"] for t in report["tests"]} == {"pytest", "rust-tests"}
    result.stdout.fnmatch_lines(["iotops verdict: FAILED (exit 1): tests failed*"])


def test_ignores_with_reason_and_expiry(pytester: pytest.Pytester) -> None:
    path = _copy(pytester, "cargo-audit/warnings-unsound-yanked-ignored.json")
    ignores = textwrap.dedent(
        """
        [[tool.iotops.ignore]]
        id = "RUSTSEC-2026-0097"
        reason = "only reachable from a test helper"
        expires = 2999-01-01

        [[tool.iotops.ignore]]
        id = "RUSTSEC-2026-0190"
        reason = "was waiting for 1.2"
        expires = 2020-01-01
        """
    )
    make_project(pytester, _evidence(kind="cargo-audit", path=path, max_findings=1, min_severity="medium") + ignores)
    result = pytester.runpytest("--iotops", NO_COV)
    report = run_report(pytester.path)
    statuses = {f["rule"]: (f["status"], f["note"]) for f in report["findings"]}
    assert statuses["RUSTSEC-2026-0097"][0] == "ignored"
    assert statuses["RUSTSEC-2026-0190"] == ("open", "ignore expired on 2020-01-01 (was waiting for 1.2): counts again")
    assert [(i["id"], i["expired"], i["matched"]) for i in report["ignores"]] == [
        ("RUSTSEC-2026-0097", False, 3),
        ("RUSTSEC-2026-0190", True, 1),
    ]  # rand 0.8, 0.9 and 0.10
    assert gate(report, "evidence.cargo-audit.findings")["measured"] == 1
    assert result.ret == 0
    result.stdout.fnmatch_lines(["ignore RUSTSEC-2026-0190 (EXPIRED until 2020-01-01, matched 1)*"])


def test_an_ignore_without_reason_or_expiry_is_a_usage_error(pytester: pytest.Pytester) -> None:
    make_project(pytester, '[[tool.iotops.ignore]]\nid = "B602"\nreason = "legacy"\n')
    result = pytester.runpytest("--iotops", NO_COV)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*'expires' is required: an ignore needs an id, a reason and an expiry date*"])


def test_misplaced_threshold_is_a_usage_error(pytester: pytest.Pytester) -> None:
    make_project(pytester, _evidence(kind="clippy", path="x.json", fail_under=80))
    result = pytester.runpytest("--iotops", NO_COV)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*fail_under applies to kind cobertura, tarpaulin, lcov, coveragepy-json, not to 'clippy'*"]
    )


def test_baseline_ratchet(pytester: pytest.Pytester) -> None:
    path = _copy(pytester, "bandit/report-severity-medium-plus.json", "bandit.json")
    make_project(
        pytester,
        '[tool.iotops]\nbaseline = "iotops-baseline.json"\n' + _evidence(kind="bandit", path=path, max_findings=0),
    )
    missing = pytester.runpytest("--iotops", NO_COV)
    assert missing.ret == EXIT_GATE_ERROR
    missing.stdout.fnmatch_lines(["*baseline file not found (create it with --iotops-update-baseline)*"])
    assert pytester.runpytest("--iotops", NO_COV, "--iotops-update-baseline").ret == 0
    baseline = json.loads((pytester.path / "iotops-baseline.json").read_text())
    assert len(baseline["findings"]) == 6
    assert pytester.runpytest("--iotops", NO_COV).ret == 0  # known findings do not count
    report = json.loads((pytester.path / "reports" / "bandit.json").read_text())
    new = dict(report["results"][0], test_id="B999", issue_text="a new problem", line_number=99)
    report["results"].append(new)
    (pytester.path / "reports" / "bandit.json").write_text(json.dumps(report))
    result = pytester.runpytest("--iotops", NO_COV)
    assert result.ret == EXIT_GATE_FAILED
    findings = run_report(pytester.path)["findings"]
    assert [f["rule"] for f in findings if f["status"] == "open"] == ["B999"]


def test_bandit_runs_in_process_on_targets(pytester: pytest.Pytester) -> None:
    make_project(
        pytester,
        _evidence(kind="bandit", targets=["app"], max_findings=0, min_severity="low"),
        files={"app/shell.py": "import subprocess\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"},
    )
    result = pytester.runpytest("--iotops", NO_COV)
    assert result.ret == EXIT_GATE_FAILED
    rules = {f["rule"] for f in run_report(pytester.path)["findings"]}
    assert {"B404", "B602"} <= rules


def test_xdist_collects_evidence_once_on_the_controller(pytester: pytest.Pytester) -> None:
    sample = _copy(pytester, "clippy/messages.json", "sample.json")
    write = f"import shutil; shutil.copy({sample!r}, 'reports/clippy.json'); open('ran.txt', 'a').write('x')"
    make_project(
        pytester,
        _evidence(kind="clippy", path="reports/clippy.json", max_warnings=10, command=[sys.executable, "-c", write]),
    )
    result = pytester.runpytest_subprocess("--iotops", NO_COV, "-n", "2")
    assert result.ret == 0, result.stdout.str()
    assert (pytester.path / "ran.txt").read_text() == "x"


@pytest.mark.slow
def test_real_clippy_run_on_a_crate(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    require_binary("cargo")
    home = pwd.getpwuid(os.getuid()).pw_dir  # pytester points HOME at its tmp dir; rustup needs the real one
    monkeypatch.setenv("RUSTUP_HOME", os.environ.get("RUSTUP_HOME", f"{home}/.rustup"))
    monkeypatch.setenv("CARGO_HOME", os.environ.get("CARGO_HOME", f"{home}/.cargo"))
    crate = pytester.path / "crate"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text('[package]\nname = "errs"\nversion = "0.1.0"\nedition = "2021"\n')
    (crate / "src" / "lib.rs").write_text((SAMPLES / "clippy/fixture-src/errors-crate-lib.rs.txt").read_text())
    make_project(
        pytester,
        _evidence(
            kind="clippy",
            path="reports/clippy.json",
            capture_stdout=True,
            cwd="crate",
            command=["cargo", "clippy", "--offline", "--message-format=json"],
            max_errors=0,
            timeout=600,
        ),
    )
    result = pytester.runpytest("--iotops", NO_COV)
    assert result.ret == EXIT_GATE_FAILED, result.stdout.str()
    report = run_report(pytester.path)
    errors = {f["rule"] for f in report["findings"] if f["level"] == "error"}
    assert {"clippy::approx_constant", "clippy::never_loop"} <= errors
    assert all(f["path"] == "crate/src/lib.rs" for f in report["findings"])
