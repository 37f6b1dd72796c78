"""SlipCover as the collector: the same figures as coverage.py's tracer on code written to hit every construct
where the two could part (branch exits, loops, match, closures made before a phase boundary, decorators,
multi-line statements, exclusions), serial and under xdist; and every refusal named."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import coverage
import pytest
from conftest import make_project, run_report, write_files
from engine_constructs import constructs_files, figures

from pytest_iotops.covengine import SLIPCOVER_BRANCHES_FROM

if importlib.util.find_spec("slipcover") is None and os.environ.get("CI") == "true":
    raise RuntimeError("slipcover is a test dependency (pyproject.toml [test]) and must be installed in CI")
pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("slipcover") is None, reason="slipcover not installed"),
    pytest.mark.skipif(sys.version_info >= (3, 12), reason="the SlipCover collector is 3.10/3.11's (refused later)"),
]


#: the tests that measure branches with SlipCover: refused under a coverage.py older than SLIPCOVER_BRANCHES_FROM
#: (test_slipcover_refuses_branches_under_an_older_coverage_py), as when a project pins one
branches = pytest.mark.skipif(
    coverage.version_info < SLIPCOVER_BRANCHES_FROM,
    reason=f"SlipCover's branches refused under coverage {coverage.__version__}",
)


def _project(pytester: pytest.Pytester, branch: bool = True, extra: str = "") -> Path:
    root = make_project(
        pytester,
        f"""
        [tool.iotops.coverage]
        source = ["app"]
        branch = {"true" if branch else "false"}
        {extra}
        """,
        files=constructs_files(),
    )
    return root


def _measure(pytester: pytest.Pytester, root: Path, engine: str, *args: str) -> dict[str, Any]:
    reports = f"reports-{engine}-{len(args)}"
    result = pytester.runpytest_subprocess(
        "--iotops", "--iotops-cov-engine", engine, "--iotops-reports-dir", reports, "-p", "no:cacheprovider", *args
    )
    assert result.ret == 0, result.stdout.str()[-3000:]
    coverage: dict[str, Any] = run_report(root, reports)["coverage"]
    return coverage


@pytest.mark.parametrize("branch", [pytest.param(True, marks=branches), False], ids=["branch", "lines"])
def test_slipcover_figures_equal_coveragepy(pytester: pytest.Pytester, branch: bool) -> None:
    root = _project(pytester, branch)
    reference = _measure(pytester, root, "coveragepy")
    fast = _measure(pytester, root, "slipcover")
    assert (reference["engine"], fast["engine"]) == ("coveragepy", "slipcover")
    assert figures(fast) == figures(reference)
    # the constructs really were partly covered: the comparison is not between two empty reports
    totals = reference["totals"]
    assert 0 < totals["covered_lines"] < totals["statements"]
    if branch:
        assert 0 < totals["covered_branches"] < totals["branches"]
    phases = {phase: covered for phase, covered, _ in figures(reference)[2]}
    assert phases["unit"] < phases["integration"] or phases["integration"] < phases["unit"]


@branches
def test_slipcover_under_xdist_equals_coveragepy(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    root = _project(pytester)
    reference = _measure(pytester, root, "coveragepy", "-n", "2")
    fast = _measure(pytester, root, "slipcover", "-n", "2")
    assert figures(fast) == figures(reference)
    serial = _measure(pytester, root, "slipcover")
    assert figures(serial)[:2] == figures(fast)[:2]


EARLY = '''
class Relay:
    def __init__(self):
        """A docstring and nothing else: the whole body is on one line."""

    def pick(self, x):
        if x:
            return "yes"
        return "no"


def one_liner(): return 1
'''


CUSTOM_LOADER = '''
import importlib.abc, importlib.util, pathlib, sys


class PlainSourceLoader(importlib.abc.SourceLoader):
    """A loader with source but no get_resource_reader (as some frameworks' own import hooks have)."""

    def __init__(self, path):
        self.path = path

    def get_filename(self, fullname):
        return self.path

    def get_data(self, path):
        return pathlib.Path(path).read_bytes()


class Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != "app.hooked":
            return None
        # a file PathFinder cannot find under this name: only this hook loads it
        origin = str(pathlib.Path(__file__).parent / "app" / "hooked_impl.py")
        return importlib.util.spec_from_loader(fullname, PlainSourceLoader(origin), origin=origin)


sys.meta_path.append(Finder())
'''


@branches
def test_a_module_from_a_foreign_import_hook(pytester: pytest.Pytester) -> None:
    """A selected module loaded by another import hook whose loader has no ``get_resource_reader``: SlipCover's
    loader failed to wrap it (s3transfer's suite in process); ours measures it like coverage.py does."""
    root = _project(pytester)
    write_files(
        root,
        {
            "hookinstall.py": CUSTOM_LOADER,
            "app/hooked_impl.py": "def f(x):\n    if x:\n        return 1\n    return 2\n",
            "tests/unit/test_hooked.py": "from app.hooked import f\n\ndef test_f():\n    assert f(1) == 1\n",
        },
    )
    reference = _measure(pytester, root, "coveragepy", "-p", "hookinstall")
    fast = _measure(pytester, root, "slipcover", "-p", "hookinstall")
    assert figures(fast) == figures(reference)
    hooked = next(f for f in fast["files"] if f["path"] == "app/hooked_impl.py")
    assert hooked["missing"] == "4"


@branches
def test_code_imported_before_measuring_starts(pytester: pytest.Pytester) -> None:
    """A ``-p`` plugin imports part of the project before coverage starts (as pytest imports pluggy): coverage.py
    sees its functions run; SlipCover's probes are put into them afterwards, branches included."""
    root = _project(pytester)
    write_files(
        root,
        {
            "app/early.py": EARLY,
            "preload.py": "import app.early\n",
            "tests/integration/test_early.py": """
            from app.early import Relay, one_liner

            def test_early():
                assert Relay().pick(1) == "yes"
                assert one_liner() == 1
            """,
        },
    )
    reference = _measure(pytester, root, "coveragepy", "-p", "preload")
    fast = _measure(pytester, root, "slipcover", "-p", "preload")
    assert figures(fast) == figures(reference)
    early = next(f for f in reference["files"] if f["path"] == "app/early.py")
    # after the start: pick(1) took one of its two branches; one_liner() returned (a def line coverage.py
    # counts as a branch: on to the next statement, or the body's return)
    assert early["covered_branches"] == 2


@branches
def test_static_context_and_unimported_files(pytester: pytest.Pytester) -> None:
    """A project's ``[run] context`` labels both engines' phases alike, ``relative_files`` names files alike; a
    selected file nothing imports is 0 %."""
    root = _project(pytester)
    rc = "[run]\ncontext = ci\nrelative_files = true\n"
    write_files(root, {".coveragerc": rc, "app/unused.py": "def f():\n    return 1\n"})
    reference = _measure(pytester, root, "coveragepy")
    fast = _measure(pytester, root, "slipcover")
    assert figures(fast) == figures(reference)
    unused = next(f for f in fast["files"] if f["path"] == "app/unused.py")
    assert unused["covered_lines"] == 0
    assert unused["statements"] == 2


@branches
def test_pytest_is_left_as_found(pytester: pytest.Pytester) -> None:
    """SlipCover patches pytest's assertion rewriter and importlib; both are put back when measuring stops."""
    root = _project(pytester)
    write_files(
        root,
        {
            "restorecheck.py": """
            import importlib.util, json, os
            from _pytest.assertion import rewrite

            ORIGINAL = (importlib.util.spec_from_file_location, rewrite.rewrite_asserts, rewrite._read_pyc,
                        rewrite._write_pyc, rewrite.AssertionRewritingHook.exec_module.__code__)

            def pytest_unconfigure(config):
                now = (importlib.util.spec_from_file_location, rewrite.rewrite_asserts, rewrite._read_pyc,
                       rewrite._write_pyc, rewrite.AssertionRewritingHook.exec_module.__code__)
                same = [a is b for a, b in zip(ORIGINAL, now)]
                leftover = hasattr(rewrite, "_Slipcover_exec_wrapper")
                with open(os.environ["RESTORED_FILE"], "w") as out:
                    json.dump({"same": same, "leftover": leftover}, out)
            """
        },
    )
    marker = root / "restored.json"
    pytester._monkeypatch.setenv("RESTORED_FILE", str(marker))
    _measure(pytester, root, "slipcover", "-p", "restorecheck")  # loaded before measuring starts
    import json

    seen = json.loads(marker.read_text())
    assert seen == {"same": [True] * 5, "leftover": False}


@pytest.mark.skipif(
    coverage.version_info >= SLIPCOVER_BRANCHES_FROM, reason="SlipCover's branches equal this coverage's"
)
def test_slipcover_refuses_branches_under_an_older_coverage_py(pytester: pytest.Pytester) -> None:
    _project(pytester)
    result = pytester.runpytest_subprocess("--iotops", "--iotops-cov-engine", "slipcover", "-p", "no:cacheprovider")
    assert result.ret == 4
    assert f"this coverage.py ({coverage.__version__}) analyses branches differently" in result.stderr.str()


def test_engine_refusals_are_named(pytester: pytest.Pytester) -> None:
    root = _project(pytester, branch=False)
    if sys.version_info < (3, 12):
        result = pytester.runpytest_subprocess("--iotops", "--iotops-cov-engine", "sysmon", "-p", "no:cacheprovider")
        assert result.ret == 4
        result.stderr.fnmatch_lines(["*engine = 'sysmon': sys.monitoring needs Python 3.12+*"])
    write_files(root, {".coveragerc": "[run]\ndynamic_context = test_function\n"})
    result = pytester.runpytest_subprocess("--iotops", "--iotops-cov-engine", "slipcover", "-p", "no:cacheprovider")
    assert result.ret == 4
    assert "engine = 'slipcover': coverage.py's [run] dynamic_context is set" in result.stderr.str()
    if coverage.version_info >= (7, 10):  # [run] patch is 7.10's
        write_files(root, {".coveragerc": "[run]\npatch = subprocess\n"})
        result = pytester.runpytest_subprocess("--iotops", "--iotops-cov-engine", "slipcover", "-p", "no:cacheprovider")
        assert result.ret == 4
        assert "[run] patch = subprocess: SlipCover measures this process only" in result.stderr.str()
    result = pytester.runpytest_subprocess("--iotops", "--iotops-cov-engine", "fast", "-p", "no:cacheprovider")
    assert result.ret == 4
    assert "coveragepy, sysmon, slipcover, auto" in result.stdout.str() + result.stderr.str()


def test_auto_says_what_it_chose_and_why(pytester: pytest.Pytester) -> None:
    root = _project(pytester)
    result = pytester.runpytest_subprocess("--iotops", "--iotops-cov-engine", "auto", "-p", "no:cacheprovider")
    assert result.ret == 0, result.stdout.str()[-2000:]
    expected = "sysmon" if sys.version_info >= (3, 14) else "slipcover"
    if expected == "slipcover" and coverage.version_info < SLIPCOVER_BRANCHES_FROM:
        result.stdout.fnmatch_lines(["iotops: coverage by iotops (coveragepy, auto: this coverage.py (*) analyses*"])
        return
    result.stdout.fnmatch_lines([f"iotops: coverage by iotops ({expected}, auto: *"])
    assert run_report(root)["coverage"]["engine"] == expected
    result.stdout.fnmatch_lines([f"coverage (iotops, {expected}): line *"])
    html = (root / "iotops-reports" / "run-report.html").read_text()
    assert f"(collected by {expected}, figures by coverage.py)" in html
    # per-test contexts: SlipCover cannot follow them, so auto keeps coverage.py's tracer and says why
    write_files(root, {".coveragerc": "[run]\ndynamic_context = test_function\n"})
    result = pytester.runpytest_subprocess("--iotops", "--iotops-cov-engine", "auto", "-p", "no:cacheprovider")
    if sys.version_info < (3, 12):
        assert (
            "iotops: coverage by iotops (coveragepy, auto: coverage.py's [run] dynamic_context" in result.stdout.str()
        )
