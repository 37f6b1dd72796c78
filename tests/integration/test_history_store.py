"""The run history on SQLite: concurrent writers lose nothing, a newer store is refused, retention, a project's
runs stored by pytest --iotops (and the line that says so), the CLI on real reports, and a store that cannot
be written changing no verdict."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, make_project, run_report
from history_data import PER_WRITER, WRITERS, report, write_concurrently

from pytest_iotops.cli import main as cli
from pytest_iotops.history.flaky import FlakyRule
from pytest_iotops.history.queries import flaky_tests, records_by_test, runs
from pytest_iotops.history.store import HistoryError
from pytest_iotops.history.stores import open_store


def test_a_store_opened_while_another_writer_creates_the_file_waits_for_it(tmp_path: Path) -> None:
    """Switching a new file to WAL while another connection writes to it: SQLite answers "database is locked"
    at once, without its busy timeout (the stress run lost a concurrent-writers test to it). The store waits."""
    import threading

    path = tmp_path / "history.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE elsewhere (x)")
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO elsewhere VALUES (1)")
    release = threading.Timer(0.5, lambda: other.execute("COMMIT"))
    release.start()
    try:
        store = open_store(f"sqlite:///{path}")
        run_id = store.write(report(0, {"tests/test_a.py::test_a": "passed"}))
    finally:
        release.join()
        other.close()
    assert store.query("SELECT run_id FROM runs") == [(run_id,)]
    assert store.query("PRAGMA journal_mode") == [("wal",)]


def test_eight_concurrent_writers_lose_no_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    ids = write_concurrently(url)
    store = open_store(url)
    assert len(set(ids)) == WRITERS * PER_WRITER
    stored = {r[0] for r in store.query("SELECT run_id FROM runs")}
    assert stored == set(ids)
    assert store.query("SELECT COUNT(*) FROM tests") == [(WRITERS * PER_WRITER * 40,)]
    assert store.query("SELECT COUNT(*) FROM iotops_schema") == [(1,)]  # migrated once, by one of them


def test_a_store_of_a_newer_schema_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    store = open_store(f"sqlite:///{path}")
    store.write(report(0, {"t": "passed"}))
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO iotops_schema VALUES (99, 'later')")
    with pytest.raises(HistoryError, match="schema 99, newer than this pytest-iotops knows"):
        store.write(report(1, {"t": "passed"}))
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM runs").fetchone() == (1,)


def test_retention_by_count_and_age_removes_runs_and_their_rows(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'h.db'}")
    for i in range(6):
        store.write(report(i, {"a": "passed", "b": "passed"}))
    assert store.prune(keep_runs=4) == 2
    assert [r.started_at[:13] for r in runs(store)] == [f"2026-11-01T0{h}" for h in (5, 4, 3, 2)]
    assert store.query("SELECT COUNT(*) FROM tests") == [(8,)]
    assert store.prune(keep_days=1) == 4  # the synthetic runs are a month old
    assert store.query("SELECT COUNT(*) FROM tests") == [(0,)]


def test_records_by_test_and_the_flaky_query(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'h.db'}")
    for i in range(12):
        store.write(report(i, {"steady": "passed", "shaky": "failed" if i % 3 == 0 else "passed"}, commit=f"c{i // 2}"))
    records = records_by_test(store, window=30)
    assert len(records["shaky"]) == 12
    assert [r.outcome for r in records["shaky"][:3]] == ["failed", "passed", "passed"]
    found = {h.nodeid: h for h in flaky_tests(store, FlakyRule())}
    assert found["shaky"].status == "flaky"
    assert any("passed and failed on commit c0" in e for e in found["shaky"].evidence)
    assert found["steady"].status == "stable"


def test_pytest_iotops_stores_each_run_and_says_where(pytester: pytest.Pytester) -> None:
    make_project(
        pytester,
        """
[tool.iotops]
formats = []
[tool.iotops.history]
url = "sqlite:///.iotops/history.db"
keep_runs = 1
""",
        files={"tests/unit/test_a.py": "def test_a():\n    assert True\n"},
    )
    for _ in range(2):
        result = pytester.runpytest_subprocess("--iotops", "--iotops-no-cov", "-p", "no:randomly")
        result.assert_outcomes(passed=5)
        result.stdout.fnmatch_lines(["iotops history: run * stored in sqlite:///.iotops/history.db*"])
    result.stdout.fnmatch_lines(["*1 old runs removed (retention)*"])
    store = open_store("sqlite:///.iotops/history.db", pytester.path)
    (row,) = runs(store)
    assert (row.status, row.tests, row.failed) == ("passed", 5, 0)


def test_a_store_that_cannot_be_written_changes_no_verdict(pytester: pytest.Pytester) -> None:
    make_project(
        pytester,
        """
[tool.iotops]
formats = []
[tool.iotops.history]
url = "sqlite:///blocked/history.db"
""",
        files={"tests/unit/test_a.py": "def test_a():\n    assert True\n", "blocked": "a file, not a directory"},
    )
    result = pytester.runpytest_subprocess("--iotops", "--iotops-no-cov", "-p", "no:randomly")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["iotops history: this run was NOT stored: sqlite:///blocked/history.db: *"])
    assert (pytester.path / "iotops-reports" / "run-report.json").is_file()  # nothing lost: import it later


def test_the_history_commands_on_a_real_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("IOTOPS_HISTORY_URL", raising=False)
    rich = str(DATA / "report-rich.json")
    assert cli(["history", "import", rich, rich]) == 0
    assert cli(["history", "--json"]) == 0
    out = capsys.readouterr().out
    listed = json.loads(out[out.index("[") :])
    assert [r["branch"] for r in listed] == ["feature/x", "feature/x"]
    assert cli(["flaky", "--all", "--json"]) == 0
    tests = {h["nodeid"]: h["status"] for h in json.loads(capsys.readouterr().out)}
    assert tests["fixture-project::basic::test_cwd"] == "new"
    assert cli(["dora", "--json"]) == 0
    (local,) = json.loads(capsys.readouterr().out)
    assert (local["environment"], local["successes"], local["failures"]) == ("local", 2, 2)
    assert cli(["maturity", "--branch", "feature/x", "--json"]) == 0
    mature = json.loads(capsys.readouterr().out)
    assert mature["inputs"]["automation"] == 0.8  # the rich report lacks only a diff coverage gate
    assert mature["costliest"] == "evidence"
    for command in (["history"], ["dora"], ["maturity", "--branch", "feature/x"]):
        assert cli([*command, "--html", f"{command[0]}.html"]) == 0
        page = (tmp_path / f"{command[0]}.html").read_text()
        assert "<script" not in page  # self-contained, nothing to run
        assert "default-src 'none'" in page
    assert "feature/x" in (tmp_path / "history.html").read_text()
    assert "change failure rate" in (tmp_path / "dora.html").read_text()
    assert "M = 100 x (0.30 automation" in (tmp_path / "maturity.html").read_text()
    capsys.readouterr()
    assert cli(["maturity", "--branch", "nope"]) == 4
    assert "no run of 'nope'" in capsys.readouterr().err
    assert cli(["history", "prune", "--keep-runs", "1"]) == 0
    assert "1 runs removed" in capsys.readouterr().out
    assert cli(["history", "prune"]) == 4  # nothing to prune by: a configuration error
    assert cli(["history", "--url", "mysql://nope"]) == 4
    assert "expected sqlite:///<path>" in capsys.readouterr().err


def test_the_compare_gate_holds_coverage_to_the_base_branchs_last_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fail-closed on the first run (no run of main yet); a feature branch with the same coverage passes; one
    that drops a test (and the lines it ran) fails; every figure in the run report's history view."""
    make_project(
        pytester,
        """
[tool.iotops]
formats = []
[tool.iotops.history]
url = "sqlite:///history.db"
max_coverage_drop = 0.5
""",
    )
    for var in ("GITHUB_HEAD_REF", "CI_COMMIT_REF_NAME", "GIT_BRANCH", "BUILD_SOURCEBRANCHNAME", "IOTOPS_HISTORY_URL"):
        monkeypatch.delenv(var, raising=False)

    lines: list[str] = []

    def run(branch: str, *args: str) -> tuple[int, dict[str, Any]]:
        monkeypatch.setenv("GITHUB_REF_NAME", branch)  # not a git checkout: the branch comes from CI
        result = pytester.runpytest_subprocess("--iotops", "-p", "no:randomly", *args)
        lines.extend(line for line in result.stdout.lines if line.startswith("iotops history:"))
        return result.ret, run_report(pytester.path)

    code, first = run("main")
    (gate,) = [g for g in first["gates"] if g["id"] == "history.coverage_drop"]
    assert (code, gate["status"]) == (7, "error")  # a gate that cannot be evaluated: exit 7
    assert "no run of the base branch 'main' in the history" in gate["message"]
    code, _ = run("main")
    assert code == 0  # main now has a run to compare with
    code, same = run("feature")
    (gate,) = [g for g in same["gates"] if g["id"] == "history.coverage_drop"]
    assert (code, gate["status"], gate["measured"]) == (0, "passed", 0.0), gate
    assert same["history"]["base_run"]["branch"] == "main"
    code, dropped = run("feature", "--deselect", "tests/e2e/test_e2e.py::test_grade_c")
    (gate,) = [g for g in dropped["gates"] if g["id"] == "history.coverage_drop"]
    assert (code, gate["status"]) == (6, "failed"), gate  # a gate whose threshold was not met: exit 6
    assert gate["measured"] < -0.5
    assert "coverage change against main@" in gate["message"]
    assert [r["branch"] for r in dropped["history"]["runs"]] == ["feature"]  # the branch's earlier run, as trend
    assert "since main@" not in lines[0]  # nothing to compare the first run with
    assert "% (+0.0 since main@" in lines[1]  # main's previous run
    assert "(+0.0 since main@" in lines[2]  # a feature branch against main's last run
    assert "(-" in lines[3]


QUARANTINED = """
import os

def test_shaky():
    assert os.environ.get("SHAKY") != "fail"

def test_solid():
    assert True
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]])
def test_a_quarantined_failure_is_reported_not_blocking_and_an_expired_entry_blocks_again(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: list[str]
) -> None:
    make_project(
        pytester,
        """
[tool.iotops]
formats = []
[[tool.iotops.history.quarantine]]
test = "tests/unit/test_q.py::test_shaky"
reason = "races the clock, issue 41"
until = 2999-12-31
[[tool.iotops.history.quarantine]]
test = "tests/unit/test_gone.py"
reason = "old"
until = 2020-01-01
""",
        files={"tests/unit/test_q.py": QUARANTINED},
    )
    monkeypatch.setenv("SHAKY", "fail")
    result = pytester.runpytest_subprocess("--iotops", "--iotops-no-cov", "-p", "no:randomly", *workers)
    assert result.ret == 0  # the failure is quarantined: later phases ran, the run passed
    result.assert_outcomes(passed=5, xfailed=1)
    report = run_report(pytester.path)
    (shaky,) = [t for t in report["tests"] if t["nodeid"].endswith("test_shaky")]
    assert shaky["outcome"] == "xfailed"
    assert "quarantined until 2999-12-31: races the clock, issue 41" in shaky["message"]
    assert {p["name"]: p["status"] for p in report["phases"]}["e2e"] == "passed"  # not blocked
    result.stdout.fnmatch_lines(["*the entry for tests/unit/test_gone.py expired on 2020-01-01*"])
    monkeypatch.setenv("SHAKY", "pass")
    result = pytester.runpytest_subprocess("--iotops", "--iotops-no-cov", "-p", "no:randomly", *workers)
    result.assert_outcomes(passed=5, xpassed=1)  # a quarantined test that passes is still seen passing
    assert result.ret == 0


def test_a_broken_store_or_report_is_a_named_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken.db").write_text("not a database")
    assert cli(["history", "--url", f"sqlite:///{tmp_path / 'broken.db'}"]) == 3
    assert "broken.db: cannot open the history: file is not a database" in capsys.readouterr().err
    (tmp_path / "other.json").write_text('{"a": 1}')
    assert cli(["history", "import", "other.json"]) == 3
    assert "other.json: schema_version None is not readable" in capsys.readouterr().err
    assert cli(["history", "--url", "postgresql://nobody@127.0.0.1:1/x"]) == 3
    assert "cannot open the history: connection failed" in capsys.readouterr().err


def test_earlier_values_of_a_signal_come_from_promoted_deployments_newest_first(tmp_path: Path) -> None:
    from datetime import timedelta

    from history_data import START

    from pytest_iotops.history.lookup import signal_lookup
    from pytest_iotops.model import Deployment, DeployMetric, DeployStep

    def deployment(outcome: str, values: list[float], hours: int) -> Deployment:
        steps = [
            DeployStep(
                i, 50, 0.0, 1.0, "pass", 100.0, "", "continue", metrics=[DeployMetric("p90", "pass", v, None, "", "")]
            )
            for i, v in enumerate(values, start=1)
        ]
        return Deployment("t", "canary", "local", "v1", "v2", outcome, "v2", "", 3.0, 100, steps=steps,  # type: ignore[arg-type]
                          started_at=(START + timedelta(hours=hours)).isoformat())  # fmt: skip

    url = f"sqlite:///{tmp_path / 'h.db'}"
    store = open_store(url)
    store.write(report(0, {"a": "passed"}, deployments=[deployment("promoted", [90.0, 100.0], 0)]))
    store.write(report(1, {"a": "passed"}, deployments=[deployment("rolled_back", [500.0], 1)]))
    store.write(report(2, {"a": "passed"}, deployments=[deployment("promoted", [110.0, 120.0], 2)]))
    lookup = signal_lookup(url, tmp_path)
    assert lookup(["p90", "other"], 3, True) == {"p90": [120.0, 100.0], "other": []}  # each one's last step
    assert lookup(["p90"], 2, False) == {"p90": [120.0, 500.0]}  # rolled back ones too when all count
    from pytest_iotops.monitoring.promql import MonitoringError

    (tmp_path / "bad.db").write_text("no")
    with pytest.raises(MonitoringError, match="earlier runs of p90 could not be read"):
        signal_lookup(f"sqlite:///{tmp_path / 'bad.db'}", tmp_path)(["p90"], 1, True)
