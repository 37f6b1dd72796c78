"""A serial run reads its reports from pytest's terminal reporter, which keeps every one, in batches (on entering
a phase and at the end) instead of taking each from a hook. Where that cannot be trusted it must not pass by
accident: a plugin that removes reports from the reporter's statistics ends the run with an internal error that
says so (exit 7), and a replaced terminal reporter makes the plugin take each report from the hook, with the same
run report as pytest's own reporter gives."""

from __future__ import annotations

import shutil

import pytest
from conftest import make_project, run_report

NO_COV = "--iotops-no-cov"

CLEARING = """
import pytest

CONFIG = []

def pytest_configure(config):
    CONFIG.append(config)

def pytest_runtest_logfinish(nodeid, location):
    if nodeid.endswith("{trigger}"):
        stats = CONFIG[0].pluginmanager.get_plugin("terminalreporter").stats
        for category in {categories}:
            stats.get(category, []).clear()
"""

TESTS = {
    "tests/unit/test_u.py": "def test_u1():\n    pass\n\ndef test_u2():\n    pass\n",
    "tests/integration/test_i.py": "def test_i1():\n    pass\n\ndef test_i2():\n    pass\n",
    "tests/e2e/test_e.py": "def test_e1():\n    pass\n",
}


def _run(pytester: pytest.Pytester, trigger: str, categories: list[str]) -> pytest.RunResult:
    conftest = CLEARING.format(trigger=trigger, categories=categories)
    make_project(pytester, files={**TESTS, "conftest.py": conftest})
    return pytester.runpytest_subprocess("--iotops", NO_COV, "-p", "no:cacheprovider", "-p", "no:randomly")


def test_reports_removed_after_they_were_read_are_an_internal_error(pytester: pytest.Pytester) -> None:
    # the unit phase's reports were read on entering integration; then the list they were in is emptied
    result = _run(pytester, "test_i1", ["passed"])
    assert result.ret == 7, result.stdout.str()
    result.stdout.fnmatch_lines(["*internal error, no verdict (exit 7)*'passed' reports went from * to *"])


def test_a_test_whose_reports_were_all_removed_is_an_internal_error(pytester: pytest.Pytester) -> None:
    # removed before anything read them: only the count of tests that ran can tell
    result = _run(pytester, "test_u1", ["", "passed"])
    assert result.ret == 7, result.stdout.str()
    result.stdout.fnmatch_lines(["*internal error*1 test ran but left no reports*tests/unit/test_u.py::test_u1"])


REPLACED = """
import pytest
from _pytest.terminal import TerminalReporter

class Quieter(TerminalReporter):
    '''keeps no statistics of passed tests (as a replacement reporter may)'''
    def pytest_runtest_logreport(self, report):
        if report.passed:
            self._tests_ran = True
            return
        super().pytest_runtest_logreport(report)

@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    standard = config.pluginmanager.get_plugin("terminalreporter")
    config.pluginmanager.unregister(standard)
    config.pluginmanager.register(Quieter(config), "terminalreporter")
"""


def test_a_replaced_terminal_reporter_is_not_read(pytester: pytest.Pytester) -> None:
    make_project(pytester, files={**TESTS, "tests/unit/test_f.py": "def test_f():\n    assert 0\n"})
    pytester.runpytest_subprocess("--iotops", NO_COV, "-p", "no:cacheprovider", "-p", "no:randomly")
    stock = run_report(pytester.path)
    pytester.makeconftest(REPLACED)
    shutil.rmtree(pytester.path / "iotops-reports")
    replaced = pytester.runpytest_subprocess("--iotops", NO_COV, "-p", "no:cacheprovider", "-p", "no:randomly")
    assert replaced.ret == 1
    assert "internal error" not in replaced.stdout.str()
    report = run_report(pytester.path)
    outcomes = {t["nodeid"]: t["outcome"] for t in report["tests"]}
    assert outcomes == {t["nodeid"]: t["outcome"] for t in stock["tests"]}
    by_phase = {(t["phase"], t["outcome"]) for t in report["tests"]}
    assert by_phase == {("unit", "passed"), ("unit", "failed"), ("integration", "blocked"), ("e2e", "blocked")}
    assert list(outcomes.values()).count("failed") == 1
    assert [(p["name"], p["status"]) for p in report["phases"]] == [
        ("unit", "failed"),
        ("integration", "blocked"),
        ("e2e", "blocked"),
    ]


MIXED = {
    "tests/unit/test_mixed.py": """
        import pytest

        @pytest.fixture
        def broken():
            raise RuntimeError("set-up")

        @pytest.fixture
        def leaky():
            yield
            raise RuntimeError("teardown")

        def test_pass():
            pass

        @pytest.mark.parametrize("n", range(6))
        def test_many(n):
            pass

        @pytest.mark.skip(reason="not today")
        def test_skip():
            pass

        def test_skip_inside():
            pytest.skip("inside")

        def test_error(broken):
            pass

        def test_teardown_error(leaky):
            pass

        @pytest.mark.xfail(reason="known")
        def test_xfail():
            assert False

        class Custom(Exception):
            pass

        def test_assert():
            assert 1 + 1 == 3

        def test_custom():
            raise Custom("first line\\nsecond line")
        """,
    "tests/integration/test_i.py": "import pytest\n\n@pytest.mark.parametrize('n', range(5))\ndef test_i(n):\n    pass",
    "tests/e2e/test_e.py": "import pytest\n\ndef test_e1():\n    pass\n\ndef test_e2():\n    pytest.skip('later')\n",
}


def _stage_windows(report: dict) -> dict[str, tuple[float, float]]:
    from datetime import datetime

    windows = {}
    for stage in report["stages"]:
        if stage["kind"] == "phase":
            start = datetime.fromisoformat(stage["started_at"]).timestamp()
            windows[stage["name"].removeprefix("phase:")] = (start, start + stage["duration"])
    return windows


#: every teardown report carries (empty) deployment records, as a deploying test's do: the controller folds such
#: reports one by one, not in the batch
CARRYING = """
import pytest

@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "teardown" and hasattr(item.config, "workerinput"):
        report.iotops_deployments = []
    return report
"""


@pytest.mark.parametrize("carrying", [False, True], ids=["batch", "one-by-one"])
def test_relayed_reports_fold_to_the_serial_outcomes(pytester: pytest.Pytester, carrying: bool) -> None:
    """The xdist controller folds the workers' plain passes in one batch (and reports carrying deployments one by
    one): each test's phase (from the workers' collection), outcome and message (the exception's headline, sent
    with each worker's output) as a serial run has them, every test that ran a call names its worker, and each
    phase's window ends before the next one starts (a passed teardown must not stretch another phase's window)."""
    make_project(pytester, files={**MIXED, **({"conftest.py": CARRYING} if carrying else {})})
    serial = pytester.runpytest("--iotops", NO_COV, "--iotops-no-block", "-p", "no:randomly")
    assert serial.ret == 1
    expected = {(t["nodeid"], t["phase"], t["outcome"], t["message"]) for t in run_report(pytester.path)["tests"]}
    relayed = pytester.runpytest("--iotops", NO_COV, "--iotops-no-block", "-n", "2")
    assert relayed.ret == 1
    report = run_report(pytester.path)
    assert {(t["nodeid"], t["phase"], t["outcome"], t["message"]) for t in report["tests"]} == expected
    assert len(expected) == 25  # (with make_project's own three files)
    messages = {t["nodeid"].rsplit("::", 1)[-1]: t["message"] for t in report["tests"]}
    assert messages["test_assert"] == "AssertionError: assert (1 + 1) == 3"  # the exception's headline, not
    assert messages["test_custom"] == "Custom: first line"  # pytest's crash line (sent by each worker at its end)
    ran_call = [t for t in report["tests"] if t["outcome"] in ("passed", "failed", "xfailed")]
    assert ran_call
    assert all(t["worker"].startswith("gw") for t in ran_call), ran_call
    windows = _stage_windows(report)
    assert list(windows) == ["unit", "integration", "e2e"]
    (_, unit_end), (integration_start, integration_end), (e2e_start, _) = windows.values()
    assert unit_end <= integration_start + 0.001, windows
    assert integration_end <= e2e_start + 0.001, windows


def test_a_crashed_workers_failures_keep_what_pytest_says_crashed(pytester: pytest.Pytester) -> None:
    """A worker sends its failures' headlines with its output at its end; one that dies sends none: its earlier
    failures keep the first line of pytest's crash description, not the test's name."""
    make_project(
        pytester,
        files={
            "tests/unit/test_crash.py": """
                import os

                def test_fails():
                    assert 1 + 1 == 3

                def test_dies():
                    os._exit(3)
                """
        },
    )
    result = pytester.runpytest("--iotops", NO_COV, "--iotops-no-block", "-n", "1", "-p", "no:randomly")
    assert result.ret == 1
    tests = {t["nodeid"].rsplit("::", 1)[-1]: t for t in run_report(pytester.path)["tests"]}
    assert tests["test_fails"]["outcome"] == "failed"
    assert tests["test_fails"]["message"] == "assert (1 + 1) == 3"
    assert tests["test_dies"]["outcome"] == "failed"
