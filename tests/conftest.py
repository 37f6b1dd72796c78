"""Shared helpers: a small real project laid out the way users lay theirs out."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import settings

# No property test has a deadline: a deadline is a wall-clock assertion, and under load (stress --cpu 4 beside the
# suite) an example that takes 30 ms idle took 1.97 s and failed test_stream_equals_json_loads on its 200 ms
# default. Each test's own settings still choose its examples.
settings.register_profile("iotops-suite", deadline=None)
settings.load_profile("iotops-suite")

T = TypeVar("T")
U = TypeVar("U")

#: the suite's own directories: tests/<level>/ files find their data and the checkout from here
TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
ROOT = TESTS.parent

APP = """
def add(a, b):
    return a + b


def div(a, b):
    if b == 0:
        raise ZeroDivisionError("b")
    return a / b


def grade(score):
    if score >= 90:
        return "A"
    if score >= 50:
        return "B"
    return "C"
"""

UNIT = """
import app


def test_add():
    assert app.add(1, 2) == 3


def test_grade_a():
    assert app.grade(95) == "A"
"""

INTEGRATION = """
import app


def test_div():
    assert app.div(4, 2) == 2
"""

E2E = """
import app


def test_grade_c():
    assert app.grade(10) == "C"
"""


def make_project(
    pytester: pytest.Pytester, iotops_toml: str = "", files: dict[str, str] | None = None, ini: str = ""
) -> Path:
    """app/ with unit, integration and e2e tests by path convention, plus ``[tool.iotops]`` text."""
    pytester.makepyprojecttoml(
        textwrap.dedent(
            """
            [project]
            name = "app"
            version = "0"

            [tool.pytest.ini_options]
            pythonpath = ["."]
            """
        )
        + textwrap.dedent(ini)
        + textwrap.dedent(iotops_toml)
    )
    layout = {
        "app/__init__.py": APP,
        "tests/unit/test_unit.py": UNIT,
        "tests/integration/test_integration.py": INTEGRATION,
        "tests/e2e/test_e2e.py": E2E,
    }
    layout.update(files or {})
    write_files(pytester.path, layout)
    return pytester.path


def write_files(root: Path, files: dict[str, str]) -> None:
    """``{relative path: text}`` under ``root``, parents created, text dedented."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def run_report(root: Path, reports_dir: str = "iotops-reports") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / reports_dir / "run-report.json").read_text(encoding="utf-8"))
    return data


def gate(report: dict[str, Any], gate_id: str) -> dict[str, Any]:
    matches = [g for g in report["gates"] if g["id"] == gate_id]
    assert matches, f"no gate {gate_id} in {[g['id'] for g in report['gates']]}"
    return matches[0]


def run_iotops(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The ``iotops`` command as a user runs it: a fresh process, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "pytest_iotops.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def require_binary(name: str) -> str:
    """A missing tool skips locally with the reason, but fails in CI (CI=true) where it must be installed."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")  # Debian's servers live there
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is required in CI but is not installed (see .ci/run)")
        pytest.skip(f"{name} is not installed")
    return found


def soak_seeds(local: int, ci: int, first: int = 0) -> range:
    """The seeds a soak test repeats over: few locally, the full count in full runs (CI=true or
    IOTOPS_SOAK_FULL=1), any count by IOTOPS_SOAK_SEEDS, so a developer's run stays short and CI still runs
    every repetition."""
    default = ci if soak_full() else local
    count = int(os.environ.get("IOTOPS_SOAK_SEEDS", str(default)))
    return range(first, first + count)


def soak_full() -> bool:
    """Whether the soak level runs everything: in CI (CI=true), or when IOTOPS_SOAK_FULL=1 asks for it."""
    return os.environ.get("CI") == "true" or os.environ.get("IOTOPS_SOAK_FULL") == "1"


def soak_grid(rows: Sequence[T], columns: Sequence[U]) -> list[tuple[U, T]]:
    """The (column, row) cells a soak test covers: every cell in full runs (CI, IOTOPS_SOAK_FULL=1); locally
    each row once, on a column that rotates with it, so every row and every column still runs (a scenario on
    one target each, each target with some scenarios) in a third of the time."""
    if soak_full():
        return [(column, row) for column in columns for row in rows]
    return [(columns[i % len(columns)], row) for i, row in enumerate(rows)]


#: the plugins generated projects run with; everything else installed on the machine stays out
INNER_PLUGINS = "pytest_iotops.plugin,xdist.plugin,xdist.looponfail,pytest_cov.plugin"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "autoload: run generated projects with every installed plugin, as users do")


@pytest.fixture(autouse=True)
def _isolated_plugins(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Generated projects load only our plugin, xdist and pytest-cov, so other installed plugins cannot interfere."""
    if request.node.get_closest_marker("autoload") is None:
        monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
        monkeypatch.setenv("PYTEST_PLUGINS", INNER_PLUGINS)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line for the hostile corpus (tests/integration/test_hostile_corpus.py): cases run, silent passes."""
    cases = [
        r
        for key in ("passed", "failed")
        for r in terminalreporter.stats.get(key, [])
        if getattr(r, "when", "") == "call" and "test_hostile_case[" in r.nodeid
    ]
    if cases:
        silent = sum(1 for r in cases if r.failed and "SILENT PASS" in str(r.longrepr))
        terminalreporter.write_line(f"hostile corpus: {len(cases)} cases, {silent} silent passes")
