"""Conformance: real projects' own suites, plain, with --iotops (serial, -n 2), pytest-cov and coverage run.

Each project is downloaded as a source distribution (exact version pinned below), unpacked, and installed
(editable, as its developers work) with its pinned test dependencies in a virtualenv of its own, together with
this checkout of pytest-iotops, pytest-xdist and pytest-cov. Nothing of the project is configured for us: its
own coverage.py and pytest settings apply. The harness then checks, per project:

- every test's outcome is the same in all six runs (a small recorder plugin writes nodeid -> outcome, with
  xfailed/xpassed kept apart), and the iotops run report agrees with the recorder;
- exit codes agree (no gates are configured, so iotops must not change the exit code);
- iotops's total line and branch figures equal coverage.py's own (``coverage run -m pytest``) and pytest-cov's
  on the same selection (bare ``--cov`` where the project's configuration selects code, ``--cov=<pkgs>`` with
  the packages iotops guessed otherwise); where pytest-cov departs from ``coverage run`` and iotops does not,
  that is printed as a note, not counted against iotops;
- serial and ``-n 2`` iotops figures are equal to the line, apart from lines that pytest-cov itself covers
  differently serial and under ``-n 2`` (a suite whose coverage depends on test order), and ``-n 2`` iotops
  equals ``-n 2`` pytest-cov on the same terms;
- iotops recorded no coverage error.

It prints one table and exits 1 on any difference (2 when a project could not be set up).

    .venv/bin/python benchmarks/conformance.py                 # every project
    .venv/bin/python benchmarks/conformance.py pluggy attrs    # some
    IOTOPS_CONFORMANCE_CACHE=~/.cache/iotops-conformance ...   # where sdists and venvs are kept (reused)
    .venv/bin/python benchmarks/conformance.py --engines       # SlipCover's figures against coverage.py's
    python3.12 benchmarks/conformance.py --engines sysmon      # coverage.py's sys.monitoring core (lines)
    .venv/bin/python benchmarks/conformance.py --engines tests # coverage.py's tracer on around tests only
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_iotops.pyproject import read_toml

REPO = Path(__file__).resolve().parent.parent
#: the tools every project venv gets, pinned
TOOLS = ("pytest==9.2.0", "pytest-xdist==3.8.0", "pytest-cov==7.1.0", "coverage==7.17.5", "slipcover==1.1.0")


@dataclass(frozen=True)
class Project:
    name: str
    version: str
    #: pinned test dependencies of the project
    deps: tuple[str, ...]
    #: pytest-cov arguments for the same selection iotops measures
    cov: tuple[str, ...]
    #: what this project's set-up exercises
    exercises: str
    #: test selection (paths / -k / --deselect) where the full suite needs the network or is nondeterministic
    args: tuple[str, ...] = ()
    #: the tools this project's suite runs with (a project not yet ready for the newest pytest pins an older one)
    tools: tuple[str, ...] = TOOLS


PROJECTS = [
    Project(
        "attrs",
        "25.4.0",
        ("hypothesis==6.170.17", "pympler==1.1", "cloudpickle==3.1.3"),
        ("--cov",),
        "src/attr + src/attrs, source_pkgs, [paths], parallel, hypothesis, --import-mode=importlib",
        ("--hypothesis-seed=0",),
    ),
    Project(
        "pluggy",
        "1.6.0",
        ("pytest-benchmark==5.3.1",),
        ("--cov",),
        ".coveragerc include + [paths], filterwarnings=error (tox.ini), testing/",
    ),
    Project(
        "packaging",
        "25.0",
        ("pretend==1.0.9",),
        ("--cov=packaging",),
        "src layout, nothing selected (guessed), branch in pyproject",
    ),
    Project(
        "structlog",
        "25.5.0",
        ("time-machine==3.6.0", "pytest-asyncio==1.5.0", "simplejson==4.3.0"),
        ("--cov",),
        "source as a package name, [paths], parallel, report omit, asyncio",
    ),
    Project(
        "exceptiongroup",
        "1.3.0",
        (),
        ("--cov",),
        "source + relative_files",
    ),
    Project(
        "python-dateutil",
        "2.9.0.post0",
        ("six==1.17.0", "freezegun==1.5.5", "hypothesis==6.170.17"),
        ("--cov",),
        "[coverage:run] in tox.ini, filterwarnings=error in setup.cfg, xfails, hypothesis; pytest 8.4",
        ("--hypothesis-seed=0",),
        # its generator parametrizations are deprecated in pytest 9, an error under its filterwarnings=error
        tools=("pytest==8.4.2", *TOOLS[1:]),
    ),
    Project(
        "cachetools",
        "6.2.1",
        (),
        ("--cov=cachetools",),
        "unittest.TestCase suite, src layout, nothing selected",
    ),
    Project(
        "more-itertools",
        "10.8.0",
        (),
        ("--cov=more_itertools",),
        "flat layout, unittest-style with subTest",
    ),
    Project(
        "idna",
        "3.11",
        (),
        ("--cov=idna",),
        "flat layout, unittest-style",
    ),
    Project(
        "s3transfer",
        "0.14.0",
        ("botocore==1.40.61",),
        ("--cov=s3transfer",),
        "tests/unit + tests/functional (path phases), flat layout, threads; tests/integration needs AWS",
        (
            "tests/unit",
            "tests/functional",
            # these two race a worker thread: pytest-cov alone covers manager.py:750,755 in some runs only
            "--deselect",
            "tests/functional/test_manager.py::TestTransferManager::test_cntrl_c_in_context_manager_cancels_"
            "incomplete_transfers",
            "--deselect",
            "tests/functional/test_manager.py::TestTransferManager::test_error_in_context_manager_cancels_"
            "incomplete_transfers",
        ),
    ),
]

RECORDER = '''
"""Writes nodeid -> outcome for the conformance harness: the worst of a test's reports, xfail kept apart."""
import json, os

_RANK = {"passed": 0, "xpassed": 1, "skipped": 2, "xfailed": 3, "failed": 4, "error": 5}
_outcomes = {}


def pytest_runtest_logreport(report):
    if report.failed:
        outcome = "failed" if report.when == "call" else "error"
    elif hasattr(report, "wasxfail"):
        outcome = "xfailed" if report.skipped else "xpassed"
    else:
        outcome = report.outcome
    if _RANK[outcome] >= _RANK[_outcomes.get(report.nodeid, "passed")]:
        _outcomes[report.nodeid] = outcome


def pytest_configure(config):
    # hypothesis's per-example deadline (200 ms) turns a loaded machine into failures of whichever mode ran
    # slowest; every mode runs with the project's own profile minus the deadline (after its conftest loaded it)
    try:
        from hypothesis import settings
    except ImportError:
        return
    settings.register_profile("iotops-conformance", settings(settings.default, deadline=None))
    settings.load_profile("iotops-conformance")


def pytest_sessionfinish(session):
    path = os.environ.get("CONFORMANCE_OUTCOMES")
    if path and not hasattr(session.config, "workerinput"):
        with open(path, "w") as fh:
            json.dump(_outcomes, fh, sort_keys=True)
'''


@dataclass
class Run:
    mode: str
    exit_code: int
    seconds: float
    outcomes: dict[str, str]
    report: dict[str, Any] | None = None
    cov_json: dict[str, Any] | None = None
    tail: str = ""


@dataclass
class Result:
    project: Project
    runs: dict[str, Run] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    setup_error: str = ""
    #: lines pytest-cov itself covers differently serial and under -n 2 (the suite's own order dependence)
    noise: int = 0
    notes: list[str] = field(default_factory=list)


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "pytest-iotops-conformance"
    return Path(os.environ.get("IOTOPS_CONFORMANCE_CACHE", str(default))).expanduser()


def _sh(args: list[str], cwd: Path | None = None, timeout: float = 1800, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:6])}... exited {done.returncode}: {(done.stdout + done.stderr)[-2000:]}")
    return done.stdout


def prepare(project: Project, root: Path) -> tuple[Path, Path]:
    """The unpacked source tree and the venv's python, reused when already there (a stamp marks completion)."""
    base = root / f"{project.name}-{project.version}"
    source, venv = base / "src", base / "venv"
    stamp = base / "ready"
    python = venv / "bin" / "python"
    if stamp.is_file() and stamp.read_text() == _stamp(project) and _venv_python(venv) == platform.python_version():
        (venv / "conformance_recorder.py").write_text(RECORDER, encoding="utf-8")  # this checkout's recorder
        return source, python
    shutil.rmtree(base, ignore_errors=True)
    download = base / "download"
    download.mkdir(parents=True)
    spec = f"{project.name}=={project.version}"
    _sh([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", spec, "-d", str(download)])
    archive = next(download.glob("*.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(download, filter="data")
    unpacked = next(p for p in download.iterdir() if p.is_dir())
    unpacked.rename(source)
    _sh([sys.executable, "-m", "venv", str(venv)])
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    _sh([*pip, *project.tools, *project.deps, "-e", str(REPO)])
    _sh([*pip, "--no-deps", "-e", str(source)])
    (venv / "conformance_recorder.py").write_text(RECORDER, encoding="utf-8")
    stamp.write_text(_stamp(project))
    return source, python


def _venv_python(venv: Path) -> str:
    """The Python version a venv was made with (a venv of another interpreter is rebuilt: ``--engines sysmon``
    runs under 3.12+)."""
    try:
        cfg = (venv / "pyvenv.cfg").read_text(encoding="utf-8")
    except OSError:
        return ""
    found = re.search(r"^version(?:_info)?\s*=\s*([0-9.]+)", cfg, re.MULTILINE)
    return found.group(1) if found else ""


def _stamp(project: Project) -> str:
    # the checkout is part of it: a venv installed (editable) from another checkout would test that one's code;
    # so are the plugin's declared dependencies: a venv made before one was added lacks it (an editable install
    # brings new code, never a new dependency)
    declared = read_toml(REPO / "pyproject.toml")["project"]["dependencies"]
    return json.dumps([project.name, project.version, project.deps, project.tools, str(REPO), declared])


MODES: dict[str, tuple[str, ...]] = {
    "plain": (),
    "iotops": ("--iotops", "--iotops-format", "junit"),
    "iotops-n2": ("--iotops", "--iotops-format", "junit", "-n", "2"),
    "pytest-cov": ("--cov-branch", "--cov-report="),
    "pytest-cov-n2": ("--cov-branch", "--cov-report=", "-n", "2"),
    # coverage.py itself around the whole process: the reference when pytest-cov and iotops disagree
    "coverage-run": (),
    # the same iotops runs with another engine collecting (--engines compares them with the coverage.py runs)
    "iotops-slipcover": ("--iotops", "--iotops-format", "junit", "--iotops-cov-engine", "slipcover"),
    "iotops-slipcover-n2": ("--iotops", "--iotops-format", "junit", "--iotops-cov-engine", "slipcover", "-n", "2"),
    "iotops-sysmon": ("--iotops", "--iotops-format", "junit", "--iotops-cov-engine", "sysmon"),
    "iotops-sysmon-n2": ("--iotops", "--iotops-format", "junit", "--iotops-cov-engine", "sysmon", "-n", "2"),
    # coverage.py's tracer on around tests only (trace = "tests"), compared like an engine
    "iotops-tests": ("--iotops", "--iotops-format", "junit", "--iotops-cov-trace", "tests"),
    "iotops-tests-n2": ("--iotops", "--iotops-format", "junit", "--iotops-cov-trace", "tests", "-n", "2"),
}
#: the engines ``--engines`` compares with coverage.py's tracer
ENGINES = ("slipcover", "sysmon", "tests")
#: the modes of the default run, and of ``--engines``
DEFAULT_MODES = ("plain", "iotops", "iotops-n2", "pytest-cov", "pytest-cov-n2", "coverage-run")
#: the serial comparison alone (what the suite runs locally for its slowest project; CI runs every mode); the
#: `coverage run` reference is added when iotops and pytest-cov disagree, the only case it decides
SERIAL_MODES = ("plain", "iotops", "pytest-cov")


def engine_modes(engine: str) -> tuple[str, ...]:
    return ("plain", "iotops", f"iotops-{engine}", "iotops-n2", f"iotops-{engine}-n2")


def engine_env(engine: str) -> dict[str, str]:
    """sys.monitoring measures no branches before Python 3.14: sysmon is compared on lines, both engines with
    branch measurement off (the project's own ``branch`` setting is overridden for both alike)."""
    return {"IOTOPS_COVERAGE_BRANCH": "0"} if engine == "sysmon" and sys.version_info < (3, 14) else {}


def run_mode(
    project: Project, source: Path, python: Path, mode: str, work: Path, extra_env: dict[str, str] | None = None
) -> Run:
    outcomes_file = work / f"{mode}.outcomes.json"
    reports = work / f"{mode}-reports"
    shutil.rmtree(reports, ignore_errors=True)
    outcomes_file.unlink(missing_ok=True)
    # hypothesis replays examples saved by earlier runs: every run starts from the same (empty) database
    shutil.rmtree(source / ".hypothesis", ignore_errors=True)
    args = [str(python), "-m", "pytest", "-p", "conformance_recorder", "-p", "no:cacheprovider", "-q", "-rN"]
    args += list(MODES[mode]) + list(project.args)
    cov_json = work / f"{mode}.cov.json"
    data_file = work / ".coverage-run"
    if mode == "coverage-run":
        sources = [a.split("=", 1)[1] for a in project.cov if a.startswith("--cov=")]
        selection = [f"--source={','.join(sources)}"] if sources else []
        args[1:3] = ["-m", "coverage", "run", "--branch", f"--data-file={data_file}", *selection, "-m", "pytest"]
    if mode.startswith("iotops"):
        args += ["--iotops-reports-dir", str(reports)]
    if mode.startswith("pytest-cov"):
        args += [*project.cov, f"--cov-report=json:{cov_json}"]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "COV_CORE", "COVERAGE_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        CONFORMANCE_OUTCOMES=str(outcomes_file),
        PYTHONPATH=str(python.parent.parent),
        # bytecode cached beside the venv, not in the project's tree (a run without it compiles hypothesis,
        # pytest and the project in every process)
        PYTHONPYCACHEPREFIX=str(work.parent / "pycache"),
        # one hash seed for every process: xdist workers must collect the same parametrize ids (packaging's
        # come from set iteration) or xdist itself refuses to run
        PYTHONHASHSEED="0",
        CI="",
    )
    env.update(extra_env or {})
    start = time.perf_counter()
    done = subprocess.run(args, cwd=source, capture_output=True, text=True, timeout=3600, env=env, check=False)
    seconds = time.perf_counter() - start
    if mode == "coverage-run":
        subprocess.run(
            [str(python), "-m", "coverage", "combine", f"--data-file={data_file}", "-q"],
            cwd=source,
            capture_output=True,
            env=env,
            check=False,
            timeout=600,
        )  # parallel = true in a project's config leaves suffixed files
        subprocess.run(
            [str(python), "-m", "coverage", "json", f"--data-file={data_file}", "-o", str(cov_json), "-q"],
            cwd=source,
            capture_output=True,
            env=env,
            check=False,
            timeout=600,
        )
        data_file.unlink(missing_ok=True)
    outcomes = json.loads(outcomes_file.read_text()) if outcomes_file.is_file() else {}
    report_file = reports / "run-report.json"
    run = Run(mode, done.returncode, seconds, outcomes, tail=(done.stdout + done.stderr)[-3000:])
    if report_file.is_file():
        run.report = json.loads(report_file.read_text())
    if cov_json.is_file():
        run.cov_json = json.loads(cov_json.read_text())
    return run


def _totals(run: Run) -> tuple[int, int, int, int] | None:
    if run.report is not None and run.report.get("coverage"):
        t = run.report["coverage"]["totals"]
        return t["statements"], t["covered_lines"], t["branches"], t["covered_branches"]
    if run.cov_json is not None:
        t = run.cov_json["totals"]
        return t["num_statements"], t["covered_lines"], t.get("num_branches", 0), t.get("covered_branches", 0)
    return None


def _phases(run: Run) -> dict[str, int]:
    cov = (run.report or {}).get("coverage") or {}
    return {p["phase"]: p["covered_lines"] for p in cov.get("phases", [])}


def check(result: Result) -> None:
    runs, problems = result.runs, result.problems
    plain = runs["plain"]
    if not plain.outcomes:
        problems.append(f"plain run recorded no tests (exit {plain.exit_code}): {plain.tail[-400:]}")
    for mode, run in runs.items():
        if run.outcomes != plain.outcomes:
            diff = sorted(
                k for k in set(run.outcomes) | set(plain.outcomes) if run.outcomes.get(k) != plain.outcomes.get(k)
            )
            shown = ", ".join(f"{k}: {plain.outcomes.get(k)} -> {run.outcomes.get(k)}" for k in diff[:3])
            problems.append(f"{mode}: {len(diff)} outcome difference(s): {shown}; output: {run.tail[-800:]}")
        if run.exit_code != plain.exit_code:
            problems.append(f"{mode}: exit {run.exit_code} != plain {plain.exit_code}: {run.tail[-600:]}")
    for mode in [m for m in ("iotops", "iotops-n2") if m in runs]:
        report = runs[mode].report
        if report is None:
            problems.append(f"{mode}: no run report")
            continue
        recorded = {t["nodeid"]: t["outcome"] for t in report["tests"] if t.get("origin", "pytest") == "pytest"}
        expected = runs[mode].outcomes
        if recorded != expected:
            diff = sorted(k for k in set(recorded) | set(expected) if recorded.get(k) != expected.get(k))
            problems.append(f"{mode}: run report disagrees with pytest on {len(diff)} test(s), e.g. {diff[:2]}")
        cov = report.get("coverage") or {}
        if cov.get("status") != "measured":
            problems.append(f"{mode}: coverage {cov.get('status')}: {cov.get('note')}")
    # pytest-cov is the reference (it starts where iotops starts: `coverage run` also sees pytest's own start-up,
    # which measures more where pytest imports the project, as it imports pluggy); where pytest-cov departs from
    # `coverage run` and iotops agrees with `coverage run`, that is pytest-cov's departure, noted
    iotops, reference = _totals(runs["iotops"]), _totals(runs["pytest-cov"])
    own = _totals(runs["coverage-run"]) if "coverage-run" in runs else None
    departed: set[tuple[str, int]] = set()
    if iotops != reference:
        departed = _differing(_missing(runs["pytest-cov"]), _missing(runs["iotops"]))
        if iotops == own:
            result.notes.append(
                f"pytest-cov departs from `coverage run` on {len(departed)} line(s): {sorted(departed)[:3]}"
            )
        else:
            problems.append(f"iotops totals {iotops} != pytest-cov {reference} (statements, lines, branches, covered)")
    if "pytest-cov-n2" not in runs:  # a serial-only run (the suite's local conformance test)
        return
    # the project's own order dependence: lines that pytest-cov itself covers differently serial and under -n 2
    noise = _differing(_missing(runs["pytest-cov"]), _missing(runs["pytest-cov-n2"])) | departed
    result.noise = len(noise)
    for left, right in (("iotops", "iotops-n2"), ("iotops-n2", "pytest-cov-n2")):
        beyond = _differing(_missing(runs[left]), _missing(runs[right])) - noise
        if beyond:
            problems.append(f"{left} != {right} on {len(beyond)} line(s) beyond pytest-cov's own: {sorted(beyond)[:5]}")


def _expand(ranges: str) -> set[int]:
    """A run report's ``"3-7,12"`` as line numbers (the harness imports nothing from the package it checks)."""
    out: set[int] = set()
    for part in filter(None, ranges.split(",")):
        first, _, last = part.partition("-")
        out.update(range(int(first), int(last or first) + 1))
    return out


def _missing(run: Run) -> dict[str, set[int]]:
    """Missing lines per file (paths relative to the project), from a run report or coverage.py's JSON."""
    if run.report is not None and run.report.get("coverage"):
        return {f["path"]: _expand(f["missing"]) for f in run.report["coverage"]["files"]}
    files = (run.cov_json or {}).get("files", {})
    return {Path(name).as_posix(): set(entry["missing_lines"]) for name, entry in files.items()}


def _differing(a: dict[str, set[int]], b: dict[str, set[int]]) -> set[tuple[str, int]]:
    return {(path, line) for path in set(a) | set(b) for line in a.get(path, set()) ^ b.get(path, set())}


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.2f}" if whole else "-"


def table(results: list[Result]) -> list[str]:
    head = (
        "| project | tests | outcomes equal | exit plain/iotops/-n 2/cov | line % iotops / coverage run / pytest-cov"
        " | branch % (same) | serial = -n 2 | time iotops / plain, / pytest-cov | exercises |"
    )
    lines = [head, "|" + "---|" * 9]
    for r in results:
        p = r.project
        if r.setup_error:
            failed = f"| {p.name} {p.version} | set-up failed: {r.setup_error[:80]} |"
            lines.append(failed + " |" * 7 + f" {p.exercises} |")
            continue
        runs = r.runs
        plain = runs["plain"]
        equal = not any("outcome" in x or "disagrees" in x for x in r.problems)
        exits = "/".join(
            str(runs[m].exit_code) if m in runs else "-" for m in ("plain", "iotops", "iotops-n2", "pytest-cov")
        )
        figures = [_totals(runs[m]) if m in runs else None for m in ("iotops", "coverage-run", "pytest-cov")]
        line = " / ".join(_pct(t[1], t[0]) if t else "-" for t in figures)
        branch = " / ".join(_pct(t[3], t[2]) if t else "-" for t in figures)
        same = "NO" if any("iotops-n2" in x for x in r.problems) else "yes" if "iotops-n2" in runs else "not run"
        if same == "yes" and _totals(runs["iotops"]) != _totals(runs["iotops-n2"]):
            same = f"yes but {r.noise} order-dependent line(s), as for pytest-cov"
        ratio = runs["iotops"].seconds / plain.seconds if plain.seconds else 0.0
        versus_cov = runs["iotops"].seconds / runs["pytest-cov"].seconds if runs["pytest-cov"].seconds else 0.0
        lines.append(
            f"| {p.name} {p.version} | {len(plain.outcomes)} | {'yes' if equal else 'NO'} | {exits} | {line} | {branch}"
            f" | {same} | {ratio:.2f}, {versus_cov:.2f} | {p.exercises} |"
        )
    return lines


def _branches_missing(run: Run) -> dict[str, int]:
    cov = (run.report or {}).get("coverage") or {}
    return {f["path"]: f["branches"] - f["covered_branches"] for f in cov.get("files", [])}


def check_engines(result: Result, engine: str = "slipcover") -> None:
    """The other engine's runs against coverage.py's: totals, every file's missing lines and branch counts, the
    phases; serial against serial and -n 2 against -n 2 (order dependence stays each mode's own)."""
    runs, problems = result.runs, result.problems
    for mode in engine_modes(engine):
        if mode != "plain" and runs[mode].exit_code != runs["plain"].exit_code:
            problems.append(f"{mode}: exit {runs[mode].exit_code} != plain {runs['plain'].exit_code}")
    for left, right in (("iotops", f"iotops-{engine}"), ("iotops-n2", f"iotops-{engine}-n2")):
        a, b = runs[left], runs[right]
        if not _measured_by(b, engine):
            problems.append(f"{right}: {engine} did not measure: {b.tail[-400:]}")
            continue
        if _totals(a) != _totals(b):
            problems.append(f"{right} totals {_totals(b)} != {left} {_totals(a)}")
        lines = _differing(_missing(a), _missing(b))
        if lines:
            problems.append(f"{right} != {left} on {len(lines)} line(s): {sorted(lines)[:5]}")
        branches = {
            k
            for k in set(_branches_missing(a)) | set(_branches_missing(b))
            if _branches_missing(a).get(k) != _branches_missing(b).get(k)
        }
        if branches:
            problems.append(f"{right} != {left}: missing branches differ in {sorted(branches)[:5]}")
        if _phases(a) != _phases(b):
            problems.append(f"{right} phases {_phases(b)} != {left} {_phases(a)}")


def _measured_by(run: Run, engine: str) -> bool:
    """Whether ``engine`` measured ``run`` ("tests": coverage.py's tracer, on around tests only)."""
    coverage = (run.report or {}).get("coverage", {})
    return bool(coverage.get("trace") == "tests" if engine == "tests" else coverage.get("engine") == engine)


def engine_table(results: list[Result], engine: str = "slipcover") -> list[str]:
    head = (
        f"| project | tests | line % coverage.py / {engine} | branch % (same) | equal (serial, -n 2) | phases equal"
        f" | time plain / coverage.py / {engine} (s) | {engine} / coverage.py |"
    )
    lines = [head, "|" + "---|" * 8]
    for r in results:
        if r.setup_error:
            lines.append(f"| {r.project.name} {r.project.version} | set-up failed: {r.setup_error[:80]} |" + " |" * 6)
            continue
        runs = r.runs
        a, b = _totals(runs["iotops"]), _totals(runs[f"iotops-{engine}"])
        line = " / ".join(_pct(t[1], t[0]) if t else "-" for t in (a, b))
        branch = " / ".join(_pct(t[3], t[2]) if t else "-" for t in (a, b))
        equal = ", ".join(
            "NO" if any(m in x and "phases" not in x for x in r.problems) else "yes"
            for m in (f"iotops-{engine} ", f"iotops-{engine}-n2")
        )
        phases = "NO" if any("phases" in x for x in r.problems) else "yes"
        secs = [runs[m].seconds for m in ("plain", "iotops", f"iotops-{engine}")]
        ratio = secs[2] / secs[1] if secs[1] else 0.0
        lines.append(
            f"| {r.project.name} {r.project.version} | {len(runs['plain'].outcomes)} | {line} | {branch} | {equal}"
            f" | {phases} | {' / '.join(f'{x:.1f}' for x in secs)} | {ratio:.2f} |"
        )
    return lines


def conform(project: Project, root: Path, engines: str | None = None, modes: Sequence[str] | None = None) -> Result:
    """Every mode of ``modes`` (default: all of the comparison) on the project, then the checks between them;
    ``engines``: compare that engine with coverage.py's tracer instead."""
    result = Result(project)
    try:
        source, python = prepare(project, root)
    except (RuntimeError, subprocess.TimeoutExpired, OSError, StopIteration) as exc:
        result.setup_error = str(exc)
        return result
    work = root / f"{project.name}-{project.version}" / "runs"
    work.mkdir(exist_ok=True)
    env = engine_env(engines) if engines else {}
    for mode in modes or (engine_modes(engines) if engines else DEFAULT_MODES):
        result.runs[mode] = run_mode(project, source, python, mode, work, env)
    runs = result.runs
    if not engines and "coverage-run" not in runs and _totals(runs["iotops"]) != _totals(runs["pytest-cov"]):
        runs["coverage-run"] = run_mode(project, source, python, "coverage-run", work, env)
    if engines:
        check_engines(result, engines)
    else:
        check(result)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("projects", nargs="*", help="project names (default: all)")
    parser.add_argument(
        "--engines",
        nargs="?",
        const="slipcover",
        choices=ENGINES,
        help="compare this engine's figures with coverage.py's (default slipcover; sysmon needs Python 3.12+ and "
        "is compared on lines before 3.14)",
    )
    ns = parser.parse_args(argv)
    chosen = [p for p in PROJECTS if not ns.projects or p.name in ns.projects]
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    results = []
    for project in chosen:
        print(f"conformance: {project.name} {project.version} ...", file=sys.stderr, flush=True)
        results.append(conform(project, root, ns.engines))
    print("\n".join(engine_table(results, ns.engines) if ns.engines else table(results)))
    for r in results:
        for problem in ([r.setup_error] if r.setup_error else []) + r.problems:
            print(f"- {r.project.name}: {problem}")
        for note in r.notes:
            print(f"- {r.project.name} (note): {note}")
    if any(r.setup_error for r in results):
        return 2
    return 1 if any(r.problems for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
