"""Coverage under the project's own coverage.py configuration: the figures equal coverage.py's, serial and -n 2.

Each test reproduces a way real projects broke the plugin (see benchmarks/conformance.py for the real projects):
a ``[paths]`` section, ``[run] include`` under ``filterwarnings = error``, ``source_pkgs``, pytest-cov's bare
``--cov``, warnings from the xdist controller, multi-line statements in phase figures, sibling packages in src/.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import make_project, run_report, write_files

MULTILINE = '''
def build(a, b):
    result = dict(
        a=a,
        b=b,
    )
    return (
        result["a"]
        + result["b"]
    )


def shout(words):
    text = " ".join(
        w.upper()
        for w in words
    )
    return f"""{
        text
    }!"""


def bare():
    (  # the statement starts here, but no bytecode is on this line: the tracer sees the next one only
        build(1, 2)
    )
    return 0


VALUE = [
    1,
    2,
]
'''

MULTILINE_TEST = """
import app.multi as m


def test_build():
    assert m.build(1, 2) == 3


def test_shout():
    assert m.shout(["a"]) == "A!"


def test_bare():
    assert m.bare() == 0
"""


def _coverage_py_totals(root: Path, *args: str) -> tuple[int, int]:
    """coverage.py's own figures for the same selection: ``coverage run -m pytest`` then its JSON report."""
    import subprocess
    import sys

    env_free = ["-p", "no:iotops", "-p", "no:cacheprovider"]
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", *args, "-m", "pytest", "-q", *env_free],
        cwd=root,
        check=False,
        capture_output=True,
        timeout=300,
    )
    out = root / "cov.json"
    subprocess.run([sys.executable, "-m", "coverage", "json", "-o", str(out)], cwd=root, check=True, timeout=120)
    totals = json.loads(out.read_text())["totals"]
    return totals["num_statements"], totals["covered_lines"]


def _totals(report: dict[str, Any]) -> tuple[int, int]:
    t = report["coverage"]["totals"]
    return t["statements"], t["covered_lines"]


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("--iotops", "-p", "no:cacheprovider", *args)


PATHS_TOML = """
[tool.coverage.paths]
source = ["app", "*/site-packages/app"]
"""


def test_paths_section_keeps_every_line_serial_equals_xdist(pytester: pytest.Pytester) -> None:
    """coverage.py remaps data when [paths] is set: lines not yet flushed at the first report were lost."""
    root = make_project(pytester, PATHS_TOML)
    serial = _run(pytester)
    assert serial.ret == 0, serial.stdout.str()
    serial_report = run_report(root)
    distributed = _run(pytester, "-n", "2")
    assert distributed.ret == 0, distributed.stdout.str()
    assert _totals(serial_report) == _totals(run_report(root)) == (12, 10)
    phases = {p["phase"]: p["covered_lines"] for p in serial_report["coverage"]["phases"]}
    assert phases == {p["phase"]: p["covered_lines"] for p in run_report(root)["coverage"]["phases"]}
    assert phases["e2e"] > 0


def test_project_include_is_measured_and_its_warnings_never_crash(pytester: pytest.Pytester) -> None:
    """[run] include selects the code: nothing is forced on top, and filterwarnings=error cannot crash the run."""
    root = make_project(
        pytester,
        '[tool.coverage.run]\ninclude = ["app/*"]\n',
        files={"lib/__init__.py": "def unused():\n    return 1\n"},
        ini='filterwarnings = ["error"]\n',
    )
    result = _run(pytester)
    assert result.ret == 0, result.stdout.str()
    report = run_report(root)
    assert report["coverage"]["status"] == "measured"
    assert [f["path"] for f in report["coverage"]["files"]] == ["app/__init__.py"]
    assert "include" in report["coverage"]["selection"]
    assert "include-ignored" not in result.stdout.str()


def test_project_source_pkgs_is_what_is_measured(pytester: pytest.Pytester) -> None:
    root = make_project(
        pytester,
        '[tool.coverage.run]\nsource_pkgs = ["app"]\n',
        files={"lib/__init__.py": "def unused():\n    return 1\n"},
    )
    result = _run(pytester)
    assert result.ret == 0, result.stdout.str()
    report = run_report(root)
    assert [f["path"] for f in report["coverage"]["files"]] == ["app/__init__.py"]
    assert report["coverage"]["source"] == ["app"]
    assert "source_pkgs" in report["coverage"]["selection"]
    result.stdout.fnmatch_lines(
        ["iotops: coverage by iotops: source_pkgs app (from pyproject.toml [tool.coverage.run])"]
    )


def test_xdist_controller_does_not_warn_under_filterwarnings_error(pytester: pytest.Pytester) -> None:
    """The controller traced nothing and warned 'Module app was never imported': every coverage gate ended error."""
    root = make_project(
        pytester,
        '[tool.coverage.run]\nsource_pkgs = ["app"]\n\n[tool.iotops.coverage]\nfail_under = 50\n',
        ini='filterwarnings = ["error"]\n',
    )
    result = _run(pytester, "-n", "2")
    assert result.ret == 0, result.stdout.str()
    report = run_report(root)
    assert report["coverage"]["status"] == "measured", report["coverage"]["note"]
    assert _totals(report) == (12, 10)
    assert report["coverage"]["warnings"] == []
    assert "never imported" not in result.stdout.str()


def test_coverage_warnings_are_reported_not_raised(pytester: pytest.Pytester) -> None:
    """A package that is selected but never imported: coverage.py's warning lands in the report and the summary."""
    root = make_project(
        pytester,
        '[tool.coverage.run]\nsource_pkgs = ["app", "ghost_pkg"]\n',
        ini='filterwarnings = ["error"]\n',
    )
    result = _run(pytester)
    assert result.ret == 0, result.stdout.str()
    warnings = run_report(root)["coverage"]["warnings"]
    assert any("ghost_pkg was never imported" in w for w in warnings), warnings
    result.stdout.fnmatch_lines(["iotops: coverage warning: Module ghost_pkg was never imported*"])


@pytest.mark.parametrize("args", [["--cov"], ["--cov", "-n", "2"], ["--cov=app", "--cov"]], ids=str)
def test_pytest_cov_bare_option_is_borrowed(pytester: pytest.Pytester, args: list[str]) -> None:
    """pytest-cov rewrites a bare --cov's value before our hook reads it: it is found by its plugin instead."""
    root = make_project(pytester, '[tool.coverage.run]\nsource = ["app"]\n')
    result = _run(pytester, *args)
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in result.stdout.str()
    report = run_report(root)
    assert report["coverage"]["measured_by"] == "pytest-cov"
    assert _totals(report) == (12, 10)


def test_pytest_cov_empty_selection_fails_closed(pytester: pytest.Pytester) -> None:
    """``--cov=`` makes pytest-cov measure nothing: a coverage gate cannot pass on that."""
    root = make_project(pytester, "[tool.iotops.coverage]\nfail_under = 10\n")
    result = _run(pytester, "--cov=")
    assert result.ret == 7, result.stdout.str()
    report = run_report(root)
    assert report["coverage"]["measured_by"] == "pytest-cov"
    assert _totals(report) == (0, 0)
    result.stdout.fnmatch_lines(["coverage (pytest-cov): measured no code*"])


def test_pytest_cov_from_addopts_is_borrowed(pytester: pytest.Pytester) -> None:
    root = make_project(pytester, '[tool.coverage.run]\nsource = ["app"]\n', ini='addopts = ["--cov"]\n')
    result = _run(pytester)
    assert result.ret == 0, result.stdout.str()
    assert run_report(root)["coverage"]["measured_by"] == "pytest-cov"


def test_single_phase_figure_equals_total_with_multiline_statements(pytester: pytest.Pytester) -> None:
    root = make_project(
        pytester,
        '[tool.iotops]\nphases = ["unit"]\ndefault_phase = "unit"\n'
        "[tool.iotops.coverage]\nphase_fail_under = { unit = 100 }\n",
        files={
            "app/__init__.py": "",
            "app/multi.py": MULTILINE,
            "tests/unit/test_unit.py": MULTILINE_TEST,
            "tests/integration/test_integration.py": "",
            "tests/e2e/test_e2e.py": "",
        },
    )
    result = _run(pytester)
    assert result.ret == 0, result.stdout.str()
    cov = run_report(root)["coverage"]
    assert cov["totals"]["percent"] == 100.0
    assert [(p["phase"], p["covered_lines"]) for p in cov["phases"]] == [("unit", cov["totals"]["covered_lines"])]


def test_sibling_packages_in_src_are_all_measured(pytester: pytest.Pytester) -> None:
    """attrs ships src/attrs (thin re-exports) and src/attr (the code): both are the distribution's."""
    pytester.makepyprojecttoml(
        textwrap.dedent(
            """
            [project]
            name = "attrs"
            version = "0"

            [tool.pytest.ini_options]
            pythonpath = ["src"]
            """
        )
    )
    files = {
        "src/attr/__init__.py": "def make(x):\n    if x:\n        return x\n    return None\n",
        "src/attrs/__init__.py": "from attr import make\n",
        "tests/test_make.py": "from attrs import make\n\n\ndef test_make():\n    assert make(1) == 1\n",
    }
    write_files(pytester.path, files)
    result = _run(pytester, "-q")
    assert result.ret == 0, result.stdout.str()
    cov = run_report(pytester.path)["coverage"]
    assert sorted(f["path"] for f in cov["files"]) == ["src/attr/__init__.py", "src/attrs/__init__.py"]
    assert (cov["totals"]["statements"], cov["totals"]["covered_lines"]) == (5, 4)
    result.stdout.fnmatch_lines(["iotops: coverage by iotops: source src/attr, src/attrs (guessed:*"])


def test_figures_equal_coverage_run_on_the_same_selection(pytester: pytest.Pytester) -> None:
    """An independent reference: ``coverage run -m pytest`` with the project's configuration, no plugin."""
    root = make_project(
        pytester,
        PATHS_TOML + '[tool.coverage.run]\nsource_pkgs = ["app"]\nbranch = true\n',
        files={"app/multi.py": MULTILINE, "tests/unit/test_multi.py": MULTILINE_TEST},
    )
    result = _run(pytester)
    assert result.ret == 0, result.stdout.str()
    assert _totals(run_report(root)) == _coverage_py_totals(root)


def test_project_dynamic_context_turns_phase_figures_off_not_into_garbage(pytester: pytest.Pytester) -> None:
    """[run] dynamic_context = test_function labels lines by test: phase figures are unavailable, said so."""
    root = make_project(
        pytester,
        '[tool.coverage.run]\ndynamic_context = "test_function"\n\n'
        "[tool.iotops.coverage]\nfail_under = 50\nphase_fail_under = { unit = 10 }\n",
        ini='filterwarnings = ["error"]\n',
    )
    result = _run(pytester)
    assert result.ret == 7, result.stdout.str()
    report = run_report(root)
    assert _totals(report) == (12, 10)
    assert report["coverage"]["phase_attribution"] is False
    gates = {g["id"]: g for g in report["gates"]}
    assert gates["coverage.total"]["status"] == "passed"
    assert gates["coverage.phase.unit"]["status"] == "error"
    assert "per-test contexts" in gates["coverage.phase.unit"]["message"]


def test_broken_coverage_configuration_is_a_usage_error(pytester: pytest.Pytester) -> None:
    make_project(pytester, '[tool.coverage.run]\nbranch = "maybe"\n')
    result = _run(pytester)
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*coverage.py configuration: *branch couldn't convert to a boolean: 'maybe'*"])
    assert "Traceback" not in result.stderr.str()
