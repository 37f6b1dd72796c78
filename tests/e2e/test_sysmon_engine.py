"""coverage.py's sys.monitoring core as the engine, on a real Python 3.12+ (the suite itself runs on the project's
Python; pyenv or PATH gives the newer one): the same figures as coverage.py's tracer on the constructs project,
per phase too (sys.monitoring reports a line once, so each phase switch restarts its events), serial and under
xdist; and the settings it cannot measure refused by name. The interpreter's venv (this checkout installed
editable, pytest, xdist and coverage.py at the versions the suite runs with) is cached between runs."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, make_project, write_files
from engine_constructs import constructs_files, figures

TOOLS = ("pytest", "pytest-xdist", "coverage")


def _newer_python() -> str | None:
    """A working Python 3.12 or newer: IOTOPS_TEST_PYTHON, then pyenv's versions, then PATH (a pyenv shim on
    PATH for a version not selected exits 127, so each candidate is asked its version)."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [os.environ.get("IOTOPS_TEST_PYTHON", "")]
    candidates += [str(p) for p in sorted(pyenv.glob("3.1[2-9]*/bin/python"))] if pyenv.is_dir() else []
    candidates += [shutil.which(name) or "" for name in ("python3.12", "python3.13", "python3.14")]
    for candidate in filter(None, candidates):
        asked = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info >= (3, 12))"],
            capture_output=True,
            text=True,
            check=False,
        )
        if asked.returncode == 0 and asked.stdout.strip() == "True":
            return candidate
    return None


@pytest.fixture(scope="module")
def python() -> str:
    """The venv's interpreter, built once per tool set and cached in ~/.cache."""
    base = _newer_python()
    if base is None:
        message = "no Python 3.12+ found (PATH, ~/.pyenv/versions or IOTOPS_TEST_PYTHON)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    pins = [f"{tool}=={metadata.version(tool)}" for tool in TOOLS]
    key = hashlib.sha256(
        "\n".join([base, *pins, (ROOT / "pyproject.toml").read_text(encoding="utf-8")]).encode()
    ).hexdigest()[:12]
    venv = Path.home() / ".cache" / f"pytest-iotops-sysmon-{key}"
    interpreter = venv / "bin" / "python"
    # xdist workers may each need it at once (its tests are dealt to different workers): one builds, the others
    # wait on the lock and find it ready (without it a second builder removed the first one's venv mid-build)
    lock = venv.with_name(venv.name + ".lock").open("w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        return _built(base, venv, interpreter, pins)
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()


def _built(base: str, venv: Path, interpreter: Path, pins: list[str]) -> str:
    if not (venv / "ready").exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([base, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
        install = [str(interpreter), "-m", "pip", "install", "-q", "-e", str(ROOT), *pins]
        done = subprocess.run(install, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            message = f"could not install into a {base} venv: {done.stderr[-1500:]}"
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
        (venv / "ready").write_text("\n".join(pins), encoding="utf-8")
    return str(interpreter)


def _project(pytester: pytest.Pytester, branch: bool = False) -> Path:
    files = constructs_files()
    return make_project(
        pytester,
        f"""
        [tool.iotops.coverage]
        source = ["app"]
        branch = {"true" if branch else "false"}
        """,
        files=files,
    )


def _run(python: str, root: Path, engine: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [python, "-m", "pytest", "-p", "no:cacheprovider", "--iotops", f"--iotops-cov-engine={engine}", *args]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD")}
    return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False)


def _coverage(python: str, root: Path, engine: str, *args: str) -> tuple[dict[str, Any], str]:
    reports = f"reports-{engine}-{len(args)}"
    done = _run(python, root, engine, f"--iotops-reports-dir={reports}", *args)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    report = json.loads((root / reports / "run-report.json").read_text(encoding="utf-8"))
    return report["coverage"], done.stdout


def test_sysmon_figures_equal_the_tracers_in_every_phase(pytester: pytest.Pytester, python: str) -> None:
    root = _project(pytester)
    reference, _ = _coverage(python, root, "coveragepy")
    fast, out = _coverage(python, root, "sysmon")
    assert (reference["engine"], fast["engine"]) == ("coveragepy", "sysmon")
    assert "coverage by iotops (sysmon)" in out
    assert figures(fast) == figures(reference)
    totals = reference["totals"]
    assert 0 < totals["covered_lines"] < totals["statements"]
    # the integration phase runs functions the unit phase ran first: without the restart at the phase switch
    # sys.monitoring would not report their lines again, and integration would be short of them
    phases = {p["phase"]: p["covered_lines"] for p in reference["phases"]}
    assert phases["integration"] > 0
    assert phases["unit"] > 0
    assert not [w for w in fast.get("warnings", []) if "context" in w], fast.get("warnings")


def test_sysmon_under_xdist_equals_the_tracer(pytester: pytest.Pytester, python: str) -> None:
    root = _project(pytester)
    reference, _ = _coverage(python, root, "coveragepy", "-n", "2")
    fast, _ = _coverage(python, root, "sysmon", "-n", "2")
    assert fast["engine"] == "sysmon"
    assert figures(fast) == figures(reference)


def test_auto_takes_sysmon_where_it_measures_the_settings(pytester: pytest.Pytester, python: str) -> None:
    root = _project(pytester)
    cov, out = _coverage(python, root, "auto")
    assert cov["engine"] == "sysmon"
    assert "coverage by iotops (sysmon, auto: coverage.py's sys.monitoring core)" in out


def test_settings_sysmon_cannot_measure_are_refused_by_name(pytester: pytest.Pytester, python: str) -> None:
    asked = [python, "-c", "import sys; print(sys.version_info[:2] >= (3, 14))"]
    root = _project(pytester, branch=True)
    if subprocess.run(asked, capture_output=True, text=True, check=True).stdout.strip() == "False":
        done = _run(python, root, "sysmon")
        assert done.returncode == 4, done.stdout[-2000:]
        assert "engine = 'sysmon': coverage.py measures branches with sys.monitoring from Python 3.14" in done.stderr
        # nor SlipCover, whose bytecode instrumentation is 3.10/3.11's: auto keeps coverage.py's tracer, says why
        done = _run(python, root, "slipcover")
        assert done.returncode == 4, done.stdout[-2000:]
        assert "engine = 'slipcover': iotops's SlipCover collector instruments Python 3.10/3.11 bytecode" in done.stderr
        cov, out = _coverage(python, root, "auto")
        assert cov["engine"] == "coveragepy"
        assert "coverage by iotops (coveragepy, auto: iotops's SlipCover collector instruments Python" in out
    root = _project(pytester, branch=False)
    for rc, named in (
        ("[run]\ndynamic_context = test_function\n", "[run] dynamic_context is set"),
        ("[run]\ntimid = true\n", "[run] timid is set"),
        ("[run]\nconcurrency = gevent\n", "[run] concurrency = gevent"),
    ):
        write_files(root, {".coveragerc": rc})
        done = _run(python, root, "sysmon")
        assert done.returncode == 4, done.stdout[-2000:]
        assert f"engine = 'sysmon': coverage.py's {named}" in done.stderr, done.stderr[-2000:]
