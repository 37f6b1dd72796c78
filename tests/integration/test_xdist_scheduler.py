"""Strict pyramid order and blocking across pytest-xdist workers, proven with timestamps from real workers."""

from __future__ import annotations

import itertools
import json

import pytest
from conftest import make_project, run_report

NO_COV = "--iotops-no-cov"

# every test appends (phase, start, end) as it runs, from whichever worker runs it
CONFTEST = """
import json, os, time
import pytest

@pytest.fixture(autouse=True)
def _timeline(request):
    start = time.time()
    yield
    phase = next((m.name for m in request.node.iter_markers() if m.name in ("unit", "integration", "system", "e2e")),
                 request.node.path.parent.name)
    with open(os.path.join(str(request.config.rootpath), "timeline.jsonl"), "a") as fh:
        fh.write(json.dumps([phase, start, time.time(), os.environ.get("PYTEST_XDIST_WORKER", "")]) + "\\n")
"""


def _tests(prefix: str, count: int, sleep: float, fail: int | None = None) -> str:
    lines = ["import time", ""]
    for i in range(count):
        check = "assert False" if i == fail else "pass"
        lines += [f"def test_{prefix}_{i}():", f"    time.sleep({sleep})", f"    {check}", ""]
    return "\n".join(lines)


def _project(pytester: pytest.Pytester, sizes: dict[str, int], fail: str | None = None, extra_toml: str = "") -> None:
    files = {}
    for phase, count in sizes.items():
        files[f"tests/{phase}/test_{phase}.py"] = _tests(
            phase, count, 0.05 if phase == "unit" else 0.02, fail=0 if phase == fail else None
        )
    make_project(pytester, extra_toml, files=files)
    # the default project has its own tests in these folders: drop them to keep counts exact
    for phase in ("unit", "integration", "e2e"):
        default = pytester.path / "tests" / phase / f"test_{phase}.py"
        if phase not in sizes and default.exists():
            default.unlink()
    pytester.makeconftest(CONFTEST)


def _timeline(pytester: pytest.Pytester) -> list[tuple[str, float, float, str]]:
    lines = (pytester.path / "timeline.jsonl").read_text().splitlines()
    return [tuple(json.loads(line)) for line in lines]  # type: ignore[misc]


def _assert_strict_order(timeline: list[tuple[str, float, float, str]], phases: list[str]) -> None:
    for earlier, later in itertools.pairwise(phases):
        ends = [end for phase, _, end, _ in timeline if phase == earlier]
        starts = [start for phase, start, _, _ in timeline if phase == later]
        if ends and starts:
            assert max(ends) <= min(starts), f"a {later} test started before every {earlier} test had finished"


@pytest.mark.parametrize("workers", ["2", "4"])
def test_no_test_starts_before_the_previous_phase_has_finished(pytester: pytest.Pytester, workers: str) -> None:
    _project(pytester, {"unit": 9, "integration": 5, "e2e": 3})
    result = pytester.runpytest_subprocess("--iotops", NO_COV, "-n", workers, "-p", "no:randomly")
    assert result.ret == 0, result.stdout.str()
    timeline = _timeline(pytester)
    assert len(timeline) == 17
    assert len({w for *_, w in timeline}) > 1  # really spread over workers
    _assert_strict_order(timeline, ["unit", "integration", "e2e"])


def test_tiny_phases_and_a_custom_phase_set(pytester: pytest.Pytester) -> None:
    """Phases with fewer tests than workers: the look-ahead must never let a later test run early."""
    toml = '[tool.iotops]\nphases = ["unit", "integration", "system", "e2e"]\n'
    _project(pytester, {"unit": 5, "integration": 1, "system": 1, "e2e": 2}, extra_toml=toml)
    result = pytester.runpytest_subprocess("--iotops", NO_COV, "-n", "4")
    assert result.ret == 0, result.stdout.str()
    _assert_strict_order(_timeline(pytester), ["unit", "integration", "system", "e2e"])


@pytest.mark.parametrize("workers", ["2", "4"])
def test_a_failed_phase_blocks_later_phases_on_every_worker(pytester: pytest.Pytester, workers: str) -> None:
    _project(pytester, {"unit": 8, "integration": 4, "e2e": 4}, fail="unit")
    serial = pytester.runpytest_subprocess("--iotops", NO_COV)
    serial_report = run_report(pytester.path)
    parallel = pytester.runpytest_subprocess("--iotops", NO_COV, "-n", workers, "-rs")
    assert serial.ret == parallel.ret == 1
    report = run_report(pytester.path)
    outcomes = sorted((t["nodeid"], t["outcome"]) for t in report["tests"])
    assert outcomes == sorted((t["nodeid"], t["outcome"]) for t in serial_report["tests"])
    assert {p["name"]: p["status"] for p in report["phases"]} == {
        "unit": "failed",
        "integration": "blocked",
        "e2e": "blocked",
    }
    assert report["verdict"] == serial_report["verdict"]
    parallel.stdout.fnmatch_lines(
        ["SKIPPED [[]4[]] tests/integration/test_integration.py*: blocked by failed unit phase"]
    )


@pytest.mark.parametrize("crash_at", [3, 7])
def test_a_worker_crash_fails_its_test_and_blocks_the_later_phases(pytester: pytest.Pytester, crash_at: int) -> None:
    """A unit test that kills its worker (``os._exit``), in the middle and at the end of the phase: xdist puts
    the tests the dead worker held back in the queue and starts another worker. The phase ends only when they
    have run; the crash is a failed test, the later phases are blocked, nothing hangs or is lost."""
    _project(pytester, {"unit": 8, "integration": 4, "e2e": 2})
    unit = pytester.path / "tests" / "unit" / "test_unit.py"
    unit.write_text(
        unit.read_text().replace(
            f"def test_unit_{crash_at}():\n    time.sleep(0.05)\n    pass",
            f"def test_unit_{crash_at}():\n    import os\n    os._exit(3)",
        )
    )
    assert "os._exit(3)" in unit.read_text()
    result = pytester.runpytest_subprocess("--iotops", NO_COV, "-n", "2", "-rs", timeout=120)
    assert result.ret == 1, result.stdout.str()
    report = run_report(pytester.path)
    outcomes = {t["nodeid"].rsplit("::", 1)[1]: t["outcome"] for t in report["tests"]}
    assert outcomes[f"test_unit_{crash_at}"] == "failed"
    assert sorted(n for n, o in outcomes.items() if n.startswith("test_unit") and o == "passed") == sorted(
        f"test_unit_{i}" for i in range(8) if i != crash_at
    )
    assert {p["name"]: p["status"] for p in report["phases"]} == {
        "unit": "failed",
        "integration": "blocked",
        "e2e": "blocked",
    }
    assert sorted(w for w in _timeline_phases(pytester)) == ["unit"] * 7  # no later test ran


def _timeline_phases(pytester: pytest.Pytester) -> list[str]:
    return [phase for phase, *_ in _timeline(pytester)]


def test_other_dist_modes_are_left_alone(pytester: pytest.Pytester) -> None:
    _project(pytester, {"unit": 2, "integration": 2})
    result = pytester.runpytest_subprocess("--iotops", NO_COV, "-n", "2", "--dist", "loadfile")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["iotops: --dist other than load: phases are ordered per worker*"])


#: a plugin that reorders the tests after every other plugin, pytest-iotops included (a wrapper's code after yield)
REORDER_LAST = """
import pytest

@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(items):
    yield
    items.reverse()
"""


@pytest.mark.parametrize("dist", ["load", "loadfile"])
def test_tests_reordered_after_iotops_are_an_error_not_wrong_phases(pytester: pytest.Pytester, dist: str) -> None:
    """The controller takes each test's phase from the workers' list of tests and phases: when a plugin reorders
    the tests after pytest-iotops wrote it, the list no longer matches xdist's, and the run stops naming the
    file and why instead of putting tests in wrong phases (or scheduling phases out of order)."""
    make_project(pytester, files={"conftest.py": REORDER_LAST})
    result = pytester.runpytest_subprocess("--iotops", NO_COV, "-n", "2", "--dist", dist)
    assert result.ret not in (0, 1), result.stdout.str()[-2000:]
    result.stdout.fnmatch_lines(["*phases.json lists the same tests in another order than xdist collected*"])


@pytest.mark.parametrize("selection", [["--deselect", "tests/unit/test_unit.py::test_add"], ["-k", "not test_add"]])
def test_deselected_tests_are_not_scheduled(pytester: pytest.Pytester, selection: list[str]) -> None:
    """Our ordering runs after every other plugin's selection (``--deselect``, ``-k``): the phase list the workers
    hand the scheduler must be the tests xdist runs, or the run ends in an internal error (found by the
    conformance harness on s3transfer, whose selection deselects two tests)."""
    root = make_project(pytester)
    result = pytester.runpytest_subprocess("--iotops", NO_COV, "-n", "2", *selection)
    assert result.ret == 0, result.stdout.str()[-2000:]
    report = run_report(root)
    assert len(report["tests"]) == 3
    assert "tests/unit/test_unit.py::test_add" not in {t["nodeid"] for t in report["tests"]}


@pytest.mark.parametrize("longest_first", [False, True])
def test_longest_first_hands_out_each_phase_by_the_last_durations(
    pytester: pytest.Pytester, longest_first: bool
) -> None:
    """With ``longest_first``, each phase's tests the previous run report timed start first, longest first, then
    the untimed ones in their order; the phases keep their order. Without it, the order is the collection's."""
    _project(
        pytester,
        {"unit": 4, "integration": 2},
        extra_toml=f"[tool.iotops]\nlongest_first = {str(longest_first).lower()}\n",
    )
    previous = pytester.path / "iotops-reports" / "run-report.json"
    assert pytester.runpytest("--iotops", NO_COV).ret == 0  # a first run writes the report the second reads
    data = json.loads(previous.read_text())
    timed = {"test_unit_2": 3.0, "test_unit_1": 1.0, "test_integration_1": 2.0}  # unit_0, unit_3 untimed
    data["tests"] = [t for t in data["tests"] if t["nodeid"].split("::")[1] in timed]
    for t in data["tests"]:
        t["duration"] = timed[t["nodeid"].split("::")[1]]
    previous.write_text(json.dumps(data))
    # one worker: the order xdist hands tests out is the order they run, and its verbose lines come in that order
    result = pytester.runpytest_subprocess("--iotops", NO_COV, "-n", "1", "-v", "-p", "no:randomly")
    assert result.ret == 0, result.stdout.str()
    order = [line.split("::")[1].split()[0] for line in result.outlines if "PASSED" in line and "::" in line]
    if longest_first:
        expected = [
            "test_unit_2",
            "test_unit_1",
            "test_unit_0",
            "test_unit_3",
            "test_integration_1",
            "test_integration_0",
        ]
    else:
        expected = [
            "test_unit_0",
            "test_unit_1",
            "test_unit_2",
            "test_unit_3",
            "test_integration_0",
            "test_integration_1",
        ]
    assert order == expected
