"""CI shards: deterministic, balanced slices; iotops merge gives the unsharded report, or no verdict at all."""

from __future__ import annotations

import json

import pytest
from conftest import make_project, run_iotops, run_report
from hypothesis import given
from hypothesis import strategies as st

from pytest_iotops.shards import select_shard

GATES = """
[tool.iotops.coverage]
fail_under = 80
phase_fail_under = { unit = 50 }

[tool.iotops.pyramid]
min_share = { unit = 40 }
"""

ids = st.lists(st.text(alphabet="abcdefgh:/_.", min_size=1, max_size=12), min_size=0, max_size=60, unique=True)


@given(ids, st.integers(1, 7), st.booleans())
def test_slices_partition_the_tests_deterministically(nodeids: list[str], total: int, timed: bool) -> None:
    durations = {n: (len(n) % 5) * 0.3 + 0.01 for n in nodeids[::2]} if timed else {}
    slices = [select_shard(nodeids, (k, total), durations)[0] for k in range(1, total + 1)]
    assert set().union(*slices) == set(nodeids)
    assert sum(len(s) for s in slices) == len(nodeids)
    assert slices == [select_shard(list(nodeids), (k, total), dict(durations))[0] for k in range(1, total + 1)]
    if not durations:
        sizes = [len(s) for s in slices]
        assert max(sizes) - min(sizes) <= 1


def test_duration_balancing_is_close_to_even() -> None:
    durations = {f"t{i}": float(i % 7 + 1) for i in range(40)}
    loads = [sum(durations[n] for n in select_shard(list(durations), (k, 3), durations)[0]) for k in (1, 2, 3)]
    assert max(loads) - min(loads) <= max(durations.values())
    assert select_shard(list(durations), (1, 3), durations)[1] == "durations"


def _summary(report: dict) -> dict:
    cov = report["coverage"]
    return {
        "phases": [
            (p["name"], p["tests"], p["passed"], p["failed"], p["status"], p["coverage_percent"])
            for p in report["phases"]
        ],
        "tests": sorted((t["nodeid"], t["phase"], t["outcome"]) for t in report["tests"]),
        "coverage": (
            cov["totals"],
            [(f["path"], f["covered_lines"], f["missing"]) for f in cov["files"]],
            cov["phases"],
        ),
        "gates": [(g["id"], g["status"], g["measured"]) for g in report["gates"]],
        "verdict": (report["verdict"]["status"], report["verdict"]["exit_code"]),
    }


@pytest.mark.parametrize("balance", ["count", "durations"])
def test_four_shards_merged_equal_one_unsharded_run(pytester: pytest.Pytester, balance: str) -> None:
    extra = "".join(f"\ndef test_more_{i}():\n    assert app.add({i}, 1) == {i + 1}\n" for i in range(9))
    make_project(pytester, GATES, files={"tests/unit/test_more.py": "import app\n" + extra})
    full = pytester.runpytest_subprocess("--iotops", "-p", "no:randomly")
    assert full.ret == 0, full.stdout.str()
    unsharded = run_report(pytester.path)
    (pytester.path / "previous.json").write_text(json.dumps(unsharded))
    for k in range(1, 5):
        args = ["--iotops", "-p", "no:randomly", "--iotops-shard", f"{k}/4", "--iotops-reports-dir", f"part{k}"]
        if balance == "durations":
            args += ["--iotops-durations", "previous.json"]
        part = pytester.runpytest_subprocess(*args)
        assert part.ret == 0, part.stdout.str()
        shard = run_report(pytester.path, f"part{k}")
        assert shard["run"]["shard"]["balanced_by"] == balance
        assert shard["gates"] == []
        assert shard["verdict"]["summary"].startswith(f"shard {k}/4: ")
    merged = run_iotops(
        pytester.path,
        "merge",
        *[f"part{k}/run-report.json" for k in range(1, 5)],
        "--expect",
        "4",
        "--reports-dir",
        "merged",
    )
    assert merged.returncode == 0, merged.stdout + merged.stderr
    report = run_report(pytester.path, "merged")
    assert report["run"]["merged_from"] == [f"part{k}/run-report.json" for k in range(1, 5)]
    assert _summary(report) == _summary(unsharded)


def test_merge_refuses_incomplete_or_inconsistent_parts(pytester: pytest.Pytester) -> None:
    make_project(pytester, GATES)
    for k in (1, 2):
        assert (
            pytester.runpytest_subprocess("--iotops", "--iotops-shard", f"{k}/3", "--iotops-reports-dir", f"p{k}").ret
            == 0
        )
    parts = ["p1/run-report.json", "p2/run-report.json"]
    done = run_iotops(pytester.path, "merge", *parts, "--expect", "3")
    assert done.returncode == 3
    assert "shard(s) 3/3 missing: no verdict from a partial run" in done.stderr
    done = run_iotops(pytester.path, "merge", parts[0], parts[0], "--expect", "3")
    assert "shard 1/3 given twice" in done.stderr
    done = run_iotops(pytester.path, "merge", *parts, "--expect", "2")
    assert "shard 1/3, but --expect 2" in done.stderr
    assert pytester.runpytest_subprocess("--iotops", "--iotops-reports-dir", "whole").ret == 0
    done = run_iotops(pytester.path, "merge", "whole/run-report.json", "--expect", "1")
    assert "not a partial report" in done.stderr
    assert not (pytester.path / "iotops-reports").exists() or not done.stdout


def test_shard_with_xdist_workers(pytester: pytest.Pytester) -> None:
    make_project(pytester, GATES)
    result = pytester.runpytest_subprocess("--iotops", "--iotops-shard", "1/2", "-n", "2")
    assert result.ret == 0, result.stdout.str()
    report = run_report(pytester.path)
    assert report["run"]["shard"]["tests"] == len(report["tests"]) == 2
    assert report["coverage_data"] == "coverage-shard-1-of-2.sqlite"
    assert (pytester.path / "iotops-reports" / "coverage-shard-1-of-2.sqlite").is_file()


def test_bad_shard_option_is_a_usage_error(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    result = pytester.runpytest("--iotops", "--iotops-shard", "5/4")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--iotops-shard: shard = '5/4': expected K/N with 1 <= K <= N, like 2/4"])


def test_merge_with_a_broken_coverage_configuration_is_exit_4(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    assert pytester.runpytest_subprocess("--iotops", "--iotops-shard", "1/1", "--iotops-reports-dir", "p1").ret == 0
    pyproject = pytester.path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.coverage.run]\nbranch = "maybe"\n')
    done = run_iotops(pytester.path, "merge", "p1/run-report.json", "--expect", "1")
    assert done.returncode == 4, done.stdout + done.stderr
    assert "coverage.py configuration: " in done.stderr
    assert "Traceback" not in done.stderr
