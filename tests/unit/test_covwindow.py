"""The tracer's switches of ``trace = "tests"`` (:mod:`pytest_iotops.covwindow`): which measured hooks keep the
tracer on, and — with a real coverage.py tracer in a fresh process — that windows opened and closed from
generator wrappers, as pluggy runs them, record exactly what ran inside them and nothing of what ran outside."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_iotops.covwindow import RUN_IN_WINDOWS, gap_reason


def test_a_measured_hook_that_runs_between_tests_is_named() -> None:
    measured = {"/p/app/conftest.py"}.__contains__
    hooks = [("pytest_runtest_setup", "/p/app/conftest.py"), ("pytest_runtest_logreport", "/p/app/conftest.py")]
    why = gap_reason(measured, hooks, ["/venv/_pytest/main.py"])
    assert why == "/p/app/conftest.py is measured and implements pytest_runtest_logreport, which runs between tests"


def test_hooks_run_inside_windows_and_unmeasured_files_leave_the_gaps_untraced() -> None:
    measured = {"/p/app/conftest.py"}.__contains__
    inside = [(name, "/p/app/conftest.py") for name in sorted(RUN_IN_WINDOWS)]
    outside = [("pytest_runtest_logreport", "/p/tests/conftest.py"), ("pytest_report_teststatus", "/venv/x.py")]
    assert gap_reason(measured, inside + outside, ["/venv/_pytest/main.py"]) == ""


def test_measured_pytest_or_iotops_keeps_the_tracer_on() -> None:
    why = gap_reason({"/src/_pytest/main.py"}.__contains__, [], ["/src/pluggy/_callers.py", "/src/_pytest/main.py"])
    assert why == "/src/_pytest/main.py is measured, and it runs between tests"


SCRIPT = """
import gc, json, sys
import coverage

cov = coverage.Coverage(data_file=None, config_file=False, branch=True, include=[sys.argv[1] + "/measured.py"])
cov.start()
sys.path.insert(0, sys.argv[1])
import measured, outside
from pytest_iotops.covwindow import TraceWindows

windows = TraceWindows(sys.gettrace())
switching = sys.argv[3] == "tests"


def wrapper(kind):  # as a pluggy wrapper: opens, yields to the hook, closes when resumed without an error
    if switching:
        windows.open()
    result = yield
    if switching:
        windows.close()
    return result


def call_hook(kind, fn):  # pluggy's _multicall, reduced: runs outside any window
    gen = wrapper(kind)
    next(gen)
    outside.busy(3)
    try:
        value = fn()
    except Exception as exc:
        try:
            gen.throw(exc)
        except Exception:
            return "raised"
    outside.busy(2)
    try:
        gen.send(value)
    except StopIteration as stop:
        return stop.value


if switching:
    windows.begin()
for i in range(int(sys.argv[2])):
    call_hook("setup", lambda: measured.inside(i))
    outside.busy(5)  # pytest's own work between tests: nothing of it may land in measured.py
    measured.between(i)  # measured code run untraced between tests (the gap trace = "tests" accepts)
    call_hook("call", lambda: measured.fails(i))
    outside.busy(4)
    gc.collect()  # outside a window: the finalizer still runs under the tracer
if switching:
    windows.end()
measured.after()
cov.stop()
data = cov.get_data()
path = data.measured_files().pop()
print(json.dumps({"lines": sorted(data.lines(path)), "arcs": sorted(data.arcs(path)), "opened": windows.opened}))
"""

MEASURED = """
class Cyclic:
    def __init__(self):
        self.me = self

    def __del__(self):
        pass  # line 7: only the garbage collector runs it


def inside(i):
    if i % 2:
        return Cyclic()
    return None


def between(i):
    return i  # line 17: runs only between windows


def fails(i):
    if i == 2:
        raise ValueError(i)
    return i


def after():
    return 0
"""

OUTSIDE = """
def busy(n):
    total = 0
    for i in range(n):
        if i % 2:
            total += i
        else:
            total -= 1
    return total
"""


def _run(tmp_path: Path, rounds: int, trace: str) -> dict[str, list[object]]:
    (tmp_path / "measured.py").write_text(textwrap.dedent(MEASURED), encoding="utf-8")
    (tmp_path / "outside.py").write_text(textwrap.dedent(OUTSIDE), encoding="utf-8")
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(SCRIPT), encoding="utf-8")
    out = subprocess.run(
        [sys.executable, str(script), str(tmp_path), str(rounds), trace], capture_output=True, text=True, check=True
    )
    result: dict[str, list[object]] = json.loads(out.stdout)
    return result


@pytest.mark.parametrize("rounds", [1, 4])
def test_windows_record_what_ran_inside_and_nothing_else(tmp_path: Path, rounds: int) -> None:
    found, always = _run(tmp_path, rounds, "tests"), _run(tmp_path, rounds, "always")
    lines = set(found["lines"])  # type: ignore[arg-type]
    assert 27 in lines  # after(): the tracer is on for good after the loop
    assert (7 in lines) == (rounds > 1)  # a Cyclic is made when i is odd; its finalizer is seen
    assert (22 in lines) == (rounds > 2)  # the raise, when i == 2
    # exactly what the tracer always on saw, but between(), which ran only outside windows: nothing of
    # outside.py, the wrappers or the loop landed in measured.py, and nothing inside a window was lost
    between = {(-16, 17), (17, -16)}
    assert between <= {tuple(a) for a in always["arcs"]}  # type: ignore[arg-type]
    assert {tuple(a) for a in found["arcs"]} == {tuple(a) for a in always["arcs"]} - between  # type: ignore[arg-type]
    assert set(always["lines"]) - lines == {17}  # type: ignore[arg-type]
    # a window per hook call, but the one after the raise: the tracer was still on (the failure's report)
    assert found["opened"] == 2 * rounds - (rounds > 2)


def _part(tmp_path: Path, name: str, sidecar: object) -> Path:
    """A worker's exported data (one measured line) and its sidecar of warnings and trace mode."""
    import coverage

    path = tmp_path / name
    data = coverage.CoverageData(basename=str(path))
    data.add_lines({str(tmp_path / f"{name}.py"): [1]})
    data.write()
    (tmp_path / f"{name}.warnings.json").write_text(json.dumps(sidecar), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("sidecars", "trace", "warnings"),
    [
        ([{"warnings": ["w1"], "trace": "tests"}, {"warnings": ["w1", "w2"], "trace": "tests"}], "tests", ["w1", "w2"]),
        ([{"warnings": [], "trace": "tests"}, {"warnings": [], "trace": "always (a.py)"}], "always (a.py)", []),
        # an older version's sidecar is the list of warnings alone: the combiner keeps its own trace mode
        ([["w1"], ["w2"]], "always", ["w1", "w2"]),
    ],
)
def test_workers_hand_their_trace_mode_to_the_combiner(
    tmp_path: Path, sidecars: list[object], trace: str, warnings: list[str]
) -> None:
    import coverage

    from pytest_iotops.coverage import CoverageMeter, import_data

    meter = CoverageMeter(coverage.Coverage(data_file=None, config_file=False), owned=True, measured_by="iotops")
    meter.trace = "always"
    import_data(meter, [_part(tmp_path, f"part{i}", s) for i, s in enumerate(sidecars)])
    assert meter.trace == trace
    assert meter.warnings == warnings
    assert len(meter.cov.get_data().measured_files()) == 2  # type: ignore[union-attr]
