"""A serial run without the terminal reporter (``-p no:terminal``) gives the run report a run with it gives:
every outcome, message, failure text, phase count and blocked phase. (It ended in an INTERNALERROR: the
session plugin read ``--no-header``, an option the terminal reporter adds.)"""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import make_project, run_report

ADDRESS = re.compile(r"0x[0-9a-f]+")
UNIT = """
import pytest

@pytest.fixture
def broken_setup():
    raise ValueError("setup broke")

@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown broke")

def test_pass():
    pass

def test_fail():
    assert 1 + 1 == 3, "arithmetic"

def test_skip():
    pytest.skip("not here")

@pytest.mark.xfail(reason="known")
def test_xfail():
    assert False

@pytest.mark.xfail(reason="maybe fixed")
def test_xpass():
    pass

@pytest.mark.xfail(reason="must fail", strict=True)
def test_xpass_strict():
    pass

def test_setup_error(broken_setup):
    pass

def test_teardown_error(broken_teardown):
    pass

def test_fails_and_teardown_errors(broken_teardown):
    assert False, "call first"

def test_subtests(subtests):
    for i in range(3):
        with subtests.test(i=i):
            assert i != 1, f"subtest {i}"

@pytest.mark.parametrize("n", [1, 2, 3])
def test_param(n):
    assert n != 2
"""


def _folded(report: dict[str, Any]) -> dict[str, Any]:
    """What folding decides (durations, times and object addresses in failure texts aside)."""
    keep = ("nodeid", "phase", "outcome", "message", "worker", "origin", "attempts", "flaky")
    return {
        "tests": [{**{k: t[k] for k in keep}, "longrepr": ADDRESS.sub("0x?", t["longrepr"])} for t in report["tests"]],
        "phases": [{k: v for k, v in p.items() if k != "duration"} for p in report["phases"]],
        "verdict": report["verdict"],
    }


@pytest.mark.parametrize("passing_unit", [False, True])
def test_a_run_without_the_terminal_reporter_reports_as_one_with_it(
    pytester: pytest.Pytester, passing_unit: bool
) -> None:
    unit = "def test_pass():\n    pass\n" if passing_unit else UNIT
    make_project(pytester, files={"tests/unit/test_unit.py": unit})
    with_terminal = pytester.runpytest_subprocess("--iotops", "--iotops-no-cov", "-p", "no:cacheprovider")
    first = run_report(pytester.path)
    without = pytester.runpytest_subprocess(
        "--iotops", "--iotops-no-cov", "-p", "no:cacheprovider", "-p", "no:terminal"
    )
    second = run_report(pytester.path)
    assert with_terminal.ret == without.ret == (0 if passing_unit else 1)
    assert _folded(first) == _folded(second)
    tests = {t["nodeid"].split("::", 1)[1]: t for t in first["tests"]}
    phases = {p["name"]: p for p in first["phases"]}
    if passing_unit:
        assert {p["status"] for p in first["phases"]} == {"passed"}
        return
    assert (tests["test_fail"]["outcome"], tests["test_fail"]["message"]) == ("failed", "AssertionError: arithmetic")
    assert (tests["test_setup_error"]["outcome"], tests["test_setup_error"]["message"]) == (
        "error",
        "ValueError: setup broke",
    )
    assert tests["test_teardown_error"]["outcome"] == "error"
    assert tests["test_fails_and_teardown_errors"]["outcome"] == "error"  # the teardown error outranks
    assert tests["test_xpass_strict"]["outcome"] == "failed"
    assert (tests["test_xfail"]["outcome"], tests["test_xpass"]["outcome"]) == ("xfailed", "xpassed")
    assert tests["test_subtests"]["outcome"] == "failed"
    assert tests["test_param[2]"]["outcome"] == "failed"
    assert phases["unit"]["status"] == "failed"
    assert phases["integration"]["status"] == phases["e2e"]["status"] == "blocked"
    assert all(t["outcome"] == "blocked" for t in first["tests"] if t["phase"] != "unit")


def test_each_phase_has_its_window_in_the_order_the_phases_ran(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    assert pytester.runpytest_subprocess("--iotops", "--iotops-no-cov", "-p", "no:cacheprovider").ret == 0
    stages = [s for s in run_report(pytester.path)["stages"] if s["kind"] == "phase"]
    assert [s["name"] for s in stages] == ["phase:unit", "phase:integration", "phase:e2e"]
    starts = [s["started_at"] for s in stages]
    assert starts == sorted(starts)
    assert all(s["duration"] >= 0 for s in stages)
