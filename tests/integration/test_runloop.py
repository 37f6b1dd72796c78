"""Phases are entered between tests: where pytest's own run loop runs them, by the phased ``session.items`` (no
hook call per test); anywhere else by the per-test hook. Both give the same run: the same phases, outcomes and
blocking, the test that was running when the run was interrupted, the tests that ran when ``-x`` stopped it."""

from __future__ import annotations

import pytest
from conftest import make_project, run_report

NO_COV = "--iotops-no-cov"

MODE = """
import pytest

def pytest_sessionfinish(session):
    per_test = session.config.pluginmanager.get_plugin("iotops-per-test") is not None
    session.config.rootpath.joinpath("mode.txt").write_text("per-test" if per_test else "phased")
"""

OWN_LOOP = """
@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session):
    # a plugin's own loop: by index, as xdist's worker does
    for i in range(len(session.items)):
        nxt = session.items[i + 1] if i + 1 < len(session.items) else None
        session.config.hook.pytest_runtest_protocol(item=session.items[i], nextitem=nxt)
        if session.shouldfail:
            raise session.Failed(session.shouldfail)
    return True
"""

FILES = {
    "tests/unit/test_u.py": "def test_u1():\n    pass\n\ndef test_u2():\n    assert 0\n\ndef test_u3():\n    pass\n",
    "tests/integration/test_i.py": "def test_i1():\n    pass\n\ndef test_i2():\n    pass\n\ndef test_i3():\n    pass\n",
    "tests/e2e/test_e.py": "def test_e1():\n    pass\n\ndef test_e2():\n    pass\n",
}

MODES = {
    "pytest's loop": ("", (), "phased"),
    "a plugin's loop": (OWN_LOOP, (), "per-test"),
    "no terminal reporter": ("", ("-p", "no:terminal"), "per-test"),
}


def _outcomes(report: dict[str, object]) -> list[tuple[str, str, str]]:
    return sorted((t["nodeid"], t["phase"], t["outcome"]) for t in report["tests"])  # type: ignore[attr-defined,index]


@pytest.mark.parametrize("mode", list(MODES))
def test_every_loop_enters_phases_and_blocks_alike(pytester: pytest.Pytester, mode: str) -> None:
    conftest, args, expected = MODES[mode]
    make_project(pytester, files={**FILES, "conftest.py": MODE + conftest})
    pytester.runpytest_subprocess("--iotops", NO_COV, "-p", "no:cacheprovider", "-p", "no:randomly", *args)
    assert (pytester.path / "mode.txt").read_text() == expected
    report = run_report(pytester.path)
    outcomes = _outcomes(report)
    blocked = [nodeid for nodeid, phase, outcome in outcomes if outcome == "blocked"]
    # every integration and e2e test is blocked, the first of each run and the others alike
    assert len(blocked) == 3 + 2 + 2  # the default layout's integration and e2e tests too
    assert all(phase != "unit" for nodeid, phase, outcome in outcomes if nodeid in blocked)
    assert ("tests/unit/test_u.py::test_u2", "unit", "failed") in outcomes
    phases = {p["name"]: p["status"] for p in report["phases"]}
    assert phases == {"unit": "failed", "integration": "blocked", "e2e": "blocked"}
    assert report["verdict"]["exit_code"] == 1


def test_iterating_the_items_during_the_run_is_a_plain_iteration(pytester: pytest.Pytester) -> None:
    """A test (or plugin) that iterates ``session.items`` while the tests run sees every item, and the phases
    are still entered where their runs start."""
    seen = (
        "def test_{name}(request):\n"
        "    items = request.session.items\n"
        "    assert [i for i in items] == items[:] and len(items) > 5 and request.node in items\n"
    )
    files = {**FILES, "tests/unit/test_u.py": "def test_u1():\n    pass\n"}
    files["tests/unit/test_seen.py"] = seen.format(name="sees_all")
    files["tests/e2e/test_seen_again.py"] = seen.format(name="sees_all_again")
    make_project(pytester, files=files)
    result = pytester.runpytest("--iotops", NO_COV, "-v", "-p", "no:randomly")
    result.stdout.fnmatch_lines(
        ["*- unit phase: *", "*test_sees_all PASSED*", "*- integration phase: *", "*- e2e phase: *", "*again PASSED*"]
    )
    assert result.ret == 0


def test_an_interrupt_names_the_test_that_was_running(pytester: pytest.Pytester) -> None:
    files = {
        "tests/unit/test_k.py": "def test_k1():\n    pass\n\n"
        "def test_k2():\n    raise KeyboardInterrupt\n\ndef test_k3():\n    pass\n",
    }
    make_project(pytester, files=files)
    pytester.runpytest_subprocess("--iotops", NO_COV, "-p", "no:randomly")
    tests = {t["nodeid"]: t for t in run_report(pytester.path)["tests"]}
    assert tests["tests/unit/test_k.py::test_k2"]["outcome"] == "failed"
    assert "interrupted" in tests["tests/unit/test_k.py::test_k2"]["message"]
    assert tests["tests/unit/test_k.py::test_k1"]["outcome"] == "passed"
    assert "tests/unit/test_k.py::test_k3" not in tests


@pytest.mark.parametrize("mode", list(MODES))
def test_exitfirst_stops_with_the_tests_that_ran(pytester: pytest.Pytester, mode: str) -> None:
    conftest, args, expected = MODES[mode]
    make_project(pytester, files={**FILES, "conftest.py": MODE + conftest})
    result = pytester.runpytest_subprocess("--iotops", NO_COV, "-x", "-p", "no:randomly", *args)
    assert (pytester.path / "mode.txt").read_text() == expected
    assert result.ret == 1
    report = run_report(pytester.path)
    ran = [t["nodeid"] for t in report["tests"] if t["outcome"] != "blocked"]
    assert "tests/unit/test_u.py::test_u2" in ran
    assert "tests/unit/test_u.py::test_u3" not in ran
    assert report["verdict"]["exit_code"] == 1
