"""Each test's phase where markers sit at every level pytest allows (module ``pytestmark``, class, function,
one parameter), with aliases and path rules — most items inherit their phase from their parent and file, and the
plugin works that out once per parent; items with markers of their own are looked at one by one. And phase
conflicts: every conflicting test is named, in collection order, whether its own markers conflict or its
parents' do."""

from __future__ import annotations

import pytest
from conftest import make_project, run_report

NO_COV = "--iotops-no-cov"

MIXED = """
import pytest

def test_plain():
    pass

@pytest.mark.e2e
def test_own_marker():
    pass

@pytest.mark.smoke
def test_alias():
    pass

@pytest.mark.integration
class TestMarkedClass:
    def test_inherits(self):
        pass

    @pytest.mark.integration
    def test_same_phase_again(self):
        pass

    def test_inherits_too(self):
        pass

class TestPlainClass:
    def test_by_path(self):
        pass

    @pytest.mark.e2e
    def test_own_in_plain_class(self):
        pass

@pytest.mark.parametrize("n", [1, pytest.param(2, marks=pytest.mark.e2e), 3])
def test_param(n):
    pass
"""

MODULE_MARKED = """
import pytest

pytestmark = pytest.mark.e2e

def test_a():
    pass

class TestC:
    def test_b(self):
        pass
"""


def test_every_level_of_marker_and_the_path_rules(pytester: pytest.Pytester) -> None:
    make_project(
        pytester,
        '[tool.iotops]\nmarker_aliases = { smoke = "e2e" }\n',
        files={
            "tests/unit/test_mixed.py": MIXED,
            "tests/integration/test_module_marked.py": MODULE_MARKED,
            "tests/integration/test_by_path.py": "def test_x():\n    pass\n",
            "tests/other/test_default.py": "def test_y():\n    pass\n",
        },
    )
    result = pytester.runpytest("--iotops", NO_COV, "-p", "no:randomly")
    assert result.ret == 0, result.stdout.str()
    phase = {t["nodeid"]: t["phase"] for t in run_report(pytester.path)["tests"] if "/test_" in t["nodeid"]}
    mixed = "tests/unit/test_mixed.py::"
    expected = {
        f"{mixed}test_plain": "unit",
        f"{mixed}test_own_marker": "e2e",
        f"{mixed}test_alias": "e2e",
        f"{mixed}TestMarkedClass::test_inherits": "integration",
        f"{mixed}TestMarkedClass::test_same_phase_again": "integration",
        f"{mixed}TestMarkedClass::test_inherits_too": "integration",
        f"{mixed}TestPlainClass::test_by_path": "unit",
        f"{mixed}TestPlainClass::test_own_in_plain_class": "e2e",
        f"{mixed}test_param[1]": "unit",
        f"{mixed}test_param[2]": "e2e",
        f"{mixed}test_param[3]": "unit",
        "tests/integration/test_module_marked.py::test_a": "e2e",
        "tests/integration/test_module_marked.py::TestC::test_b": "e2e",
        "tests/integration/test_by_path.py::test_x": "integration",
        "tests/other/test_default.py::test_y": "unit",  # no rule matches: the default phase
    }
    assert {k: v for k, v in phase.items() if k in expected} == expected
    assert set(expected) <= set(phase)


CONFLICTS = """
import pytest

pytestmark = pytest.mark.unit

def test_fine():
    pass

@pytest.mark.integration
class TestTwelve:
{methods}

@pytest.mark.e2e
def test_own_conflict():
    pass
"""


def test_every_conflicting_test_is_named_in_collection_order(pytester: pytest.Pytester) -> None:
    methods = "".join(f"    def test_{i:02d}(self):\n        pass\n" for i in range(12))
    make_project(pytester, files={"tests/unit/test_conflicts.py": CONFLICTS.format(methods=methods)})
    result = pytester.runpytest("--iotops", NO_COV, "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    named = [line.split(": markers of different phases")[0].split("pytest-iotops: ")[-1] for line in err.splitlines()]
    named = [n for n in named if "::" in n]
    module = "tests/unit/test_conflicts.py::"
    assert named == [f"{module}TestTwelve::test_{i:02d}" for i in range(10)]  # the first ten, in order
    assert "... and 3 more" in err  # two more of the class, and the function's own
    assert "test_fine" not in err
