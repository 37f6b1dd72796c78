"""The coverage.py a project pins, not only the one this suite installs: iotops declares ``coverage>=7.5``, and
its figures lean on coverage.py's data and analysis, which changed inside that range. Each version below is
installed from PyPI into a cache directory and put first on the path of a pytest run of iotops's own coverage
tests (figures against coverage.py's own context reports, SlipCover against coverage.py, xdist combination).

* 7.5.0, the oldest allowed: executed lines that are not statements (a docstring's) counted in a phase's figure
  before 7.13.5; SlipCover's branch figures differ before 7.6.2 (refused there, by name); ``[run] patch`` and
  ``core`` do not exist (asking for them crashed the run).
* 7.16.0, the last before 7.17: an update of in-memory data leaves the other database attached, so combining a
  second xdist worker's data failed ("database other_db is already in use").
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import ROOT

COVERAGE_TESTS = ["tests/integration/test_coverage_engine.py", "tests/integration/test_slipcover_engine.py"]
VERSIONS = {
    "7.5.0": COVERAGE_TESTS,
    "7.16.0": [
        "tests/integration/test_coverage_engine.py",
        "tests/integration/test_slipcover_engine.py::test_slipcover_under_xdist_equals_coveragepy",
    ],
}


def _installed(version: str) -> Path:
    """coverage==``version`` in a directory of its own (cached; installed into a temporary one, then renamed)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "pytest-iotops" / "coverage-versions"
    target = cache / version
    if (target / "coverage" / "__init__.py").is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=cache))
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(tmp), f"coverage=={version}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if done.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        message = f"coverage=={version} could not be installed: {(done.stdout + done.stderr)[-1500:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    try:
        tmp.rename(target)
    except OSError:  # another run installed it meanwhile
        shutil.rmtree(tmp, ignore_errors=True)
    return target


@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_iotops_coverage_tests_pass_under_a_pinned_coverage_py(version: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(_installed(version)), os.environ.get("PYTHONPATH")])),
    }
    asked = subprocess.run(
        [sys.executable, "-c", "import coverage; print(coverage.__version__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert asked.stdout.strip() == version  # the pinned version is the one imported, workers included (same env)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *VERSIONS[version],
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            f"--basetemp={tmp_path / 'runs'}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-6000:]
    assert " passed" in out.splitlines()[-1], out[-2000:]
