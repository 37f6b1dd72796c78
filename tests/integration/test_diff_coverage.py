"""Diff coverage: unified-diff parsing, the decision rules, and real git repositories end to end."""

from __future__ import annotations

import pytest
from conftest import gate, make_project, run_iotops, run_report

from pytest_iotops.diffcov import diff_coverage, parse_unified_diff
from pytest_iotops.evidence.base import LineData
from pytest_iotops.verdict import EXIT_GATE_ERROR, EXIT_GATE_FAILED

DIFF = """\
diff --git a/app/core.py b/app/core.py
index 1..2 100644
--- a/app/core.py
+++ b/app/core.py
@@ -3,0 +4,3 @@ def f():
+def g():
+    return 2
+
@@ -10 +13 @@ def h():
-    return 1
+    return 3
diff --git a/old.py b/old.py
deleted file mode 100644
--- a/old.py
+++ /dev/null
@@ -1,2 +0,0 @@
-x = 1
-y = 2
diff --git a/src/lib.rs b/src/lib.rs
--- a/src/lib.rs
+++ b/src/lib.rs
@@ -1 +1,0 @@
-// removed only
"""


def test_parse_unified_diff() -> None:
    assert parse_unified_diff(DIFF) == {"app/core.py": {4, 5, 6, 13}}


def _data() -> dict[str, dict[str, LineData]]:
    return {"python": {"app/core.py": LineData({4, 5}, {13}), "app/other.py": LineData({1}, set())}}


def test_measured_covered_and_uncovered_lines() -> None:
    result = diff_coverage(
        "origin/main", "abc", {"app/core.py": {4, 5, 6, 13}}, _data(), [("app", frozenset({".py"}))], ("**/*.py",), ()
    )
    assert (result.status, result.coverable, result.covered) == ("measured", 3, 2)
    assert result.files[0].uncovered_lines == [13]
    assert result.percent == pytest.approx(200 / 3)


def test_unknown_source_file_is_an_error_not_a_pass() -> None:
    """diff-cover's path-mismatch case: the report says src/..., the repo says firmware/src/...: not 100 %."""
    rust = {"tarpaulin": {"src/lib.rs": LineData({1, 2}, {3})}}
    result = diff_coverage(
        "origin/main", "abc", {"firmware/src/lib.rs": {3}}, rust, [(".", frozenset({".rs"}))], ("**/*.rs",), ()
    )
    assert result.status == "error"
    assert result.unknown_files == ["firmware/src/lib.rs"]
    assert "path mismatch" in result.note


def test_no_source_lines_and_excluded_files() -> None:
    changed = {"README.md": {1}, "tests/test_x.py": {1, 2}, "app/core.py": {1}}  # line 1: not coverable
    result = diff_coverage("main", "abc", changed, _data(), [("app", frozenset({".py"}))], ("**/*.py",), ("tests/**",))
    assert result.status == "no-source-lines"
    assert "changes no coverable source lines" in result.note


def _git(pytester: pytest.Pytester, *args: str) -> None:
    done = pytester.run("git", "-c", "user.email=t@example.invalid", "-c", "user.name=t", *args)
    assert done.ret == 0, done.stderr.str()


DIFF_TOML = """
[tool.iotops.diff]
fail_under = {threshold}
"""


def _repo_with_change(pytester: pytest.Pytester, threshold: float) -> None:
    make_project(pytester, DIFF_TOML.format(threshold=threshold))
    _git(pytester, "init", "-q", "-b", "main")
    _git(pytester, "add", "-A")
    _git(pytester, "commit", "-qm", "base")
    _git(pytester, "checkout", "-qb", "feature")
    app = pytester.path / "app" / "__init__.py"
    app.write_text(
        app.read_text() + "\n\ndef mul(a, b):\n    return a * b\n\n\ndef never(x):\n    y = x + 1\n    return y\n"
    )
    (pytester.path / "tests" / "unit" / "test_mul.py").write_text(
        "import app\n\ndef test_mul():\n    assert app.mul(2, 3) == 6\n"
    )


def test_diff_gate_end_to_end(pytester: pytest.Pytester) -> None:
    _repo_with_change(pytester, 80)
    result = pytester.runpytest_subprocess("--iotops", "--iotops-diff-base", "main")
    assert result.ret == EXIT_GATE_FAILED, result.stdout.str()
    report = run_report(pytester.path)
    diff = report["diff"]
    assert (diff["status"], diff["covered"], diff["coverable"]) == (
        "measured",
        3,
        5,
    )  # 2 defs (run at import) + mul body; never() body missed
    assert diff["files"][0]["path"] == "app/__init__.py"
    assert gate(report, "diff.coverage")["status"] == "failed"
    result.stdout.fnmatch_lines(
        [
            "diff coverage against main: 60.00 % (3/5 changed lines)*",
            "*diff.coverage: diff coverage against main 60.00 % < 80 % (3/5 changed lines)",
        ]
    )


def test_diff_base_from_config_and_ci_variables(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    _repo_with_change(pytester, 40)
    monkeypatch.setenv("GITHUB_BASE_REF", "main")  # origin/main does not exist here: a clear error
    result = pytester.runpytest_subprocess("--iotops")
    assert result.ret == EXIT_GATE_ERROR
    result.stdout.fnmatch_lines(["*diff.coverage: diff coverage: git merge-base origin/main HEAD failed*"])
    monkeypatch.setenv("IOTOPS_DIFF_BASE", "main")
    assert pytester.runpytest_subprocess("--iotops").ret == 0


def test_no_base_is_an_error_and_a_docs_only_diff_is_skipped(pytester: pytest.Pytester) -> None:
    make_project(pytester, DIFF_TOML.format(threshold=90))
    _git(pytester, "init", "-q", "-b", "main")
    _git(pytester, "add", "-A")
    _git(pytester, "commit", "-qm", "base")
    result = pytester.runpytest_subprocess("--iotops")
    assert result.ret == EXIT_GATE_ERROR
    result.stdout.fnmatch_lines(["*diff.coverage: diff coverage: no base to compare with*"])
    (pytester.path / "README.md").write_text("docs only\n")
    _git(pytester, "add", "README.md")
    result = pytester.runpytest_subprocess("--iotops", "--iotops-diff-base", "HEAD")
    assert result.ret == 0
    assert gate(run_report(pytester.path), "diff.coverage")["status"] == "skipped"


def test_rust_lcov_with_mismatched_paths_is_an_error(pytester: pytest.Pytester) -> None:
    evidence = '\n[[tool.iotops.evidence]]\nkind = "lcov"\npath = "lcov.info"\n'
    make_project(
        pytester,
        DIFF_TOML.format(threshold=50) + evidence,
        files={"firmware/src/lib.rs": "pub fn f() -> u8 {\n    1\n}\n"},
    )
    # the tool ran elsewhere and names the file src/lib.rs, without the firmware/ prefix
    (pytester.path / "lcov.info").write_text("SF:src/lib.rs\nDA:1,1\nDA:2,0\nend_of_record\n")
    _git(pytester, "init", "-q", "-b", "main")
    _git(pytester, "add", "-A")
    _git(pytester, "commit", "-qm", "base")
    lib = pytester.path / "firmware" / "src" / "lib.rs"
    lib.write_text(lib.read_text() + "pub fn g() -> u8 {\n    2\n}\n")
    result = pytester.runpytest_subprocess("--iotops", "--iotops-diff-base", "main")
    assert result.ret == EXIT_GATE_ERROR
    assert run_report(pytester.path)["diff"]["unknown_files"] == ["firmware/src/lib.rs"]
    # with the evidence root set, the same data is understood
    text = (
        (pytester.path / "pyproject.toml")
        .read_text()
        .replace('path = "lcov.info"', 'path = "lcov.info"\nroot = "firmware"')
    )
    (pytester.path / "pyproject.toml").write_text(text)
    (pytester.path / "lcov.info").write_text("SF:src/lib.rs\nDA:1,1\nDA:2,1\nDA:4,1\nDA:5,0\nend_of_record\n")
    result = pytester.runpytest_subprocess("--iotops", "--iotops-diff-base", "main")
    diff = run_report(pytester.path)["diff"]
    assert (diff["status"], diff["covered"], diff["coverable"]) == ("measured", 1, 2), result.stdout.str()


def test_gate_with_changed_python_and_no_python_coverage_is_an_error(pytester: pytest.Pytester) -> None:
    """iotops gate does not measure Python: untested changed Python lines must not pass as 'no source lines'."""
    _repo_with_change(pytester, 80)
    done = run_iotops(pytester.path, "gate", "--diff-base", "main")
    assert done.returncode == EXIT_GATE_ERROR, done.stdout + done.stderr
    assert "iotops verdict: FAILED (exit 7)" in done.stdout
    assert "changed Python file(s) have no coverage data (app/__init__.py" in done.stdout
    assert "pytest --iotops" in done.stdout
    # and pytest --iotops with coverage off says the same, never 'skipped'
    result = pytester.runpytest_subprocess("--iotops", "--iotops-no-cov", "--iotops-diff-base", "main")
    assert result.ret == EXIT_GATE_ERROR
    assert gate(run_report(pytester.path), "diff.coverage")["status"] == "error"
