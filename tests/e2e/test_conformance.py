"""Two real projects from benchmarks/conformance.py, in the suite: their own tests, their own coverage settings.

pluggy selects code with ``[run] include`` and ``[paths]`` in .coveragerc and runs under ``filterwarnings =
error``; attrs measures two sibling packages through ``source_pkgs`` with ``[paths]`` and hypothesis. Both are
downloaded from PyPI (pinned sdists) into a cache reused between runs; a failed download skips locally and fails
in CI. Every mode runs in CI (IOTOPS_SOAK_FULL=1 too); locally attrs, the slowest (about two minutes for six
runs, the longest test of the suite), is compared serially only: plain, iotops and pytest-cov, with `coverage
run` added only if iotops and pytest-cov disagree (pluggy still runs every mode, ``-n 2`` included). The whole
harness (10 projects) is ``benchmarks/conformance.py``.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import sys
from types import ModuleType

import pytest
from conftest import ROOT, soak_full

pytestmark = pytest.mark.conformance


def _harness() -> ModuleType:
    path = ROOT / "benchmarks" / "conformance.py"
    spec = importlib.util.spec_from_file_location("iotops_conformance", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("name", "selection"),
    [
        ("pluggy", "include * (from .coveragerc [[]run[]])"),
        ("attrs", "source_pkgs attr, attrs (from pyproject.toml *)"),
    ],
)
def test_real_project_conforms(name: str, selection: str) -> None:
    harness = _harness()
    project = next(p for p in harness.PROJECTS if p.name == name)
    root = harness.cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    modes = None if soak_full() or name != "attrs" else harness.SERIAL_MODES
    result = harness.conform(project, root, modes=modes)
    if result.setup_error:
        message = f"{name} {project.version} could not be set up: {result.setup_error}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    table = "\n".join(harness.table([result]))
    assert not result.problems, table + "\n" + "\n".join(result.problems)
    plain = result.runs["plain"]
    assert len(plain.outcomes) > 100, table  # the project's suite really ran
    for mode in [m for m in ("iotops", "iotops-n2") if m in result.runs]:
        cov = result.runs[mode].report["coverage"]
        assert fnmatch.fnmatch(cov["selection"], selection), cov["selection"]
