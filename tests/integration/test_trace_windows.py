"""``trace = "tests"``: coverage.py's tracer off for pytest's work between tests gives coverage.py's figures — on
the constructs project (serial and under xdist) and on code that runs only in the gaps a naive switch would
miss (a failure's report, finalizers, a frame freed after its test failed, another thread) — and keeps the
tracer on throughout, saying why, when measured code implements a hook that runs between tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import make_project, run_report, write_files
from engine_constructs import constructs_files, figures


def _measure(pytester: pytest.Pytester, trace: str, *args: str, ret: int = 0) -> dict[str, Any]:
    reports = f"reports-{trace}-{len(args)}"
    result = pytester.runpytest_subprocess(
        "--iotops", "--iotops-cov-trace", trace, "--iotops-reports-dir", reports, "-p", "no:cacheprovider", *args
    )
    assert result.ret == ret, result.stdout.str()[-3000:]
    coverage: dict[str, Any] = run_report(pytester.path, reports)["coverage"]
    # the summary says how the tracer ran: around tests, or throughout and why
    if coverage["trace"] == "tests":
        result.stdout.fnmatch_lines(["coverage (iotops, tracer around tests): line *"])
    elif coverage["trace"].startswith("always ("):
        result.stdout.fnmatch_lines(["coverage: coverage.py's tracer ran throughout, not around tests only: *"])
    return coverage


def _constructs(pytester: pytest.Pytester) -> Path:
    return make_project(pytester, '[tool.iotops.coverage]\nsource = ["app"]\n', files=constructs_files())


def test_the_constructs_project_measures_the_same(pytester: pytest.Pytester) -> None:
    _constructs(pytester)
    always, tests = _measure(pytester, "always"), _measure(pytester, "tests")
    assert (always["trace"], tests["trace"]) == ("always", "tests")
    assert figures(tests) == figures(always)
    assert 0 < always["totals"]["covered_branches"] < always["totals"]["branches"]


def test_the_constructs_project_under_xdist(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    _constructs(pytester)
    always, tests = _measure(pytester, "always", "-n", "2"), _measure(pytester, "tests", "-n", "2")
    assert tests["trace"] == "tests"  # every worker traced around its tests
    assert figures(tests) == figures(always)


GAPS = """
import threading
import weakref


class Shown:
    def __repr__(self):
        return "Shown()"  # only a failure's report (--showlocals) shows it


class Refused(Exception):
    def __str__(self):
        return "refused"  # only the failure's report formats it


class Cycle:
    def __init__(self):
        self.me = self

    def __del__(self):
        finalized.append("cycle")  # the garbage collector runs it, between tests (conftest.py)


finalized = []


def released():
    finalized.append("finalize")  # weakref.finalize, when a cycle is collected


def held():
    try:
        yield 1
    finally:
        finalized.append("closed")  # when the failed test's frame is freed, after its report


def spin(stop):
    n = 0
    while not stop.is_set():
        n += 1  # another thread, running while pytest reports
        stop.wait(0.001)
    return n


def work(x):
    if x > 1:
        return x * 2
    return x
"""

CONFTEST = """
import gc


def pytest_runtest_logreport(report):
    if report.when == "teardown":
        gc.collect()  # cycles are collected between tests, where trace = "tests" has the tracer off
"""

TESTS = """
import threading
import weakref

import pytest

from app import gaps


@pytest.fixture(scope="session")
def spinner():
    stop = threading.Event()
    thread = threading.Thread(target=gaps.spin, args=(stop,))
    thread.start()
    yield
    stop.set()
    thread.join()


def test_cycle(spinner):
    c = gaps.Cycle()
    weakref.finalize(c, gaps.released)
    assert gaps.work(2) == 4


def test_fails_with_locals():
    shown = gaps.Shown()
    gen = gaps.held()
    next(gen)
    raise gaps.Refused()


@pytest.mark.xfail(raises=gaps.Refused, strict=True)
def test_xfail():
    raise gaps.Refused()


def test_after():
    assert gaps.work(1) == 1
"""


def _gaps(pytester: pytest.Pytester, measured_conftest: bool = False) -> None:
    make_project(pytester, '[tool.iotops.coverage]\nsource = ["app"]\n')
    write_files(
        pytester.path,
        {"app/gaps.py": GAPS, "tests/unit/conftest.py": CONFTEST, "tests/unit/test_gaps.py": TESTS},
    )
    if measured_conftest:  # a conftest.py inside the measured package: its hook runs between tests
        write_files(pytester.path, {"app/conftest.py": CONFTEST})


def test_code_run_only_between_tests_is_measured(pytester: pytest.Pytester) -> None:
    _gaps(pytester)
    always = _measure(pytester, "always", "--showlocals", ret=1)
    tests = _measure(pytester, "tests", "--showlocals", ret=1)
    assert tests["trace"] == "tests"
    assert figures(tests) == figures(always)
    gaps = next(f for f in always["files"] if f["path"].endswith("gaps.py"))
    # each gap line ran: the comparison is not between two runs that both missed them
    assert gaps["missing"] == "", gaps


def test_a_measured_hook_between_tests_keeps_the_tracer_on(pytester: pytest.Pytester) -> None:
    _gaps(pytester, measured_conftest=True)
    tests = _measure(pytester, "tests", ret=1)
    assert tests["trace"].startswith("always ("), tests["trace"]
    assert "conftest.py" in tests["trace"]
    assert "pytest_runtest_logreport" in tests["note"]
    always = _measure(pytester, "always", ret=1)
    assert figures(tests) == figures(always)


def test_pytest_cov_is_left_as_it_runs(pytester: pytest.Pytester) -> None:
    pytest.importorskip("pytest_cov")
    _constructs(pytester)
    covered = _measure(pytester, "tests", "--cov=app", "--cov-report=")
    assert covered["measured_by"] == "pytest-cov"
    assert covered["trace"].startswith("always (pytest-cov")


OUTER_WRAPPER = """
import pytest


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item):
    seen = item.name  # runs before iotops's window opens: this conftest.py is registered after it
    return (yield)
"""


def test_a_measured_wrapper_outside_the_window_keeps_the_tracer_on(pytester: pytest.Pytester) -> None:
    _constructs(pytester)
    # a conftest.py's hooks apply to the tests under its directory: one test there
    here = "import app\n\n\ndef test_here():\n    assert app.__name__ == 'app'\n"
    write_files(pytester.path, {"app/conftest.py": OUTER_WRAPPER, "app/test_here.py": here})
    tests, always = _measure(pytester, "tests"), _measure(pytester, "always")
    assert "pytest_runtest_call (a wrapper outside iotops's window)" in tests["trace"], tests["trace"]
    assert figures(tests) == figures(always)
    conftest = next(f for f in always["files"] if f["path"].endswith("conftest.py"))
    assert conftest["missing"] == ""  # its lines ran, and were seen
