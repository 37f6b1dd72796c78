"""Open registries: a third-party package adds a report format or an evidence kind with one module and an
``iotops`` entry point (no change to pytest-iotops); the format is then one like the built-in ones for
``formats``, ``--iotops-format`` and ``iotops report --format``, the kind for ``[[tool.iotops.evidence]]``
(its family's keys and gates, the fail-closed rule) under ``pytest --iotops`` and ``iotops gate``. A conftest
can add a format through ``pytest_iotops_register``. A name defined twice is refused, naming it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import make_project, run_report

from pytest_iotops.api import ReportFormat, hookimpl
from pytest_iotops.errors import ConfigError
from pytest_iotops.registry import plugin_manager, report_formats

NO_COV = "--iotops-no-cov"

CSV_PLUGIN = '''
"""A third party's report format: one CSV line per test."""
from pytest_iotops.api import ReportFormat, hookimpl


def _csv(report):
    return "nodeid,phase,outcome\\n" + "".join(f"{t.nodeid},{t.phase},{t.outcome}\\n" for t in report.tests)


@hookimpl
def iotops_report_formats():
    return [ReportFormat("csv", "tests.csv", _csv, "CSV of tests")]
'''


TODO_PLUGIN = '''
"""A third party's evidence kind: a JSON list of {"file", "line", "text"} TODO notes, as findings."""
import json

from pytest_iotops.api import EvidenceError, EvidenceKind, Finding, Parsed, hookimpl


def parse(path, source, rootdir):
    notes = json.loads(path.read_text())
    if not isinstance(notes, list):
        raise EvidenceError(f"{path}: expected a list of notes")
    findings = [Finding("todo", "todo", "low", n["text"], n["file"], n["line"]) for n in notes]
    return Parsed(findings=findings, scanned=len(notes) or 1, scanned_what="notes")


@hookimpl
def iotops_evidence_kinds():
    return [EvidenceKind("todo-list", "findings", parse)]
'''


def _install(site: Path, module: str, text: str) -> dict[str, str]:
    """A plugin module as an installed distribution with an ``iotops`` entry point, on PYTHONPATH."""
    site.mkdir(exist_ok=True)
    (site / f"{module}.py").write_text(text)
    info = site / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[iotops]\n{module} = {module}\n")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}


def test_an_installed_package_adds_a_report_format(pytester: pytest.Pytester, tmp_path: Path) -> None:
    env = _install(tmp_path / "site", "iotops_csv", CSV_PLUGIN)
    make_project(pytester, '[tool.iotops]\nformats = ["csv", "md"]\n')
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--iotops", NO_COV, "-p", "no:cacheprovider"],
        cwd=pytester.path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "iotops CSV of tests: iotops-reports/tests.csv" in done.stdout
    lines = (pytester.path / "iotops-reports" / "tests.csv").read_text().splitlines()
    assert lines[0] == "nodeid,phase,outcome"
    assert len(lines) - 1 == len(run_report(pytester.path)["tests"]) > 0
    # the CLI knows it too, from the same entry point
    again = tmp_path / "again.csv"
    report = pytester.path / "iotops-reports" / "run-report.json"
    cli = [sys.executable, "-m", "pytest_iotops.cli", "report", str(report), "--format", "csv", "-o", str(again)]
    assert subprocess.run(cli, env=env, capture_output=True, text=True, check=False).returncode == 0
    assert again.read_text().splitlines() == lines


def test_a_conftest_adds_a_report_format(pytester: pytest.Pytester) -> None:
    make_project(
        pytester,
        '[tool.iotops]\nformats = ["count"]\n',
        files={
            "conftest.py": textwrap.dedent(
                """
                from pytest_iotops.api import ReportFormat, hookimpl

                class Count:
                    @hookimpl
                    def iotops_report_formats(self):
                        return [ReportFormat("count", "count.txt", lambda r: f"{len(r.tests)}\\n")]

                def pytest_iotops_register(plugin_manager):
                    plugin_manager.register(Count())
                """
            )
        },
    )
    result = pytester.runpytest("--iotops", NO_COV)
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["iotops count report: iotops-reports/count.txt"])
    count = (pytester.path / "iotops-reports" / "count.txt").read_text()
    assert int(count) == len(run_report(pytester.path)["tests"])


def test_a_format_defined_twice_is_refused() -> None:
    class Again:
        @hookimpl
        def iotops_report_formats(self) -> list[ReportFormat]:
            return [ReportFormat("html", "mine.html", lambda r: "")]

    pm = plugin_manager(load_entrypoints=False)
    assert list(report_formats(pm)) == ["json", "html", "junit", "sarif", "md", "openmetrics", "otlp"]
    pm.register(Again())
    with pytest.raises(ConfigError, match="report format 'html' is defined twice"):
        report_formats(pm)


def test_an_installed_package_adds_an_evidence_kind(pytester: pytest.Pytester, tmp_path: Path) -> None:
    env = _install(tmp_path / "site", "iotops_todo", TODO_PLUGIN)
    notes = [{"file": "app/x.py", "line": 3, "text": "TODO: retry"}, {"file": "app/y.py", "line": 9, "text": "TODO"}]
    (pytester.path / "todo.json").write_text(json.dumps(notes))
    evidence = '[[tool.iotops.evidence]]\nkind = "todo-list"\npath = "todo.json"\nmax_findings = {}\n'
    make_project(pytester, evidence.format(1))

    def pytest_run() -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "pytest", "--iotops", NO_COV, "-p", "no:cacheprovider"]
        return subprocess.run(argv, cwd=pytester.path, env=env, capture_output=True, text=True, check=False)

    over = pytest_run()
    assert over.returncode == 6, over.stdout[-2000:] + over.stderr[-2000:]  # 2 findings > max 1
    report = run_report(pytester.path)
    assert [f["message"] for f in report["findings"]] == ["TODO: retry", "TODO"]
    assert [e["status"] for e in report["evidence"]] == ["ok"]
    # its family's keys apply, others are refused naming the kinds they belong to
    (pytester.path / "pyproject.toml").write_text(
        (pytester.path / "pyproject.toml").read_text().replace("max_findings = 1", "fail_under = 80")
    )
    wrong = pytest_run()
    assert wrong.returncode == 4
    assert "fail_under applies to kind cobertura, tarpaulin, lcov, coveragepy-json, not to 'todo-list'" in wrong.stderr
    # fail closed like any kind: a file that is not what the parser expects is an error gate (exit 7)
    (pytester.path / "pyproject.toml").write_text(
        (pytester.path / "pyproject.toml").read_text().replace("fail_under = 80", "max_findings = 5")
    )
    (pytester.path / "todo.json").write_text("{}")
    broken = pytest_run()
    assert broken.returncode == 7, broken.stdout[-2000:]
    assert "expected a list of notes" in run_report(pytester.path)["evidence"][0]["error"]
    # iotops gate reads the same kind from the same entry point
    gate = [sys.executable, "-m", "pytest_iotops.cli", "gate", "--rootdir", str(pytester.path)]
    (pytester.path / "todo.json").write_text(json.dumps(notes))
    done = subprocess.run(gate, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_without_the_package_the_kind_is_unknown(pytester: pytest.Pytester) -> None:
    make_project(pytester, '[[tool.iotops.evidence]]\nkind = "todo-list"\npath = "todo.json"\n')
    result = pytester.runpytest("--iotops", NO_COV)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*kind = 'todo-list': expected one of cobertura, tarpaulin, lcov, *, junit"])


LICENSES_PLUGIN = '''
"""A third party's gate with its own configuration table: [tool.iotops.licenses] allowed = [...]."""
from pytest_iotops.api import ConfigError, ConfigTable, GateResult, hookimpl


def parse(raw, where):
    if not isinstance(raw, dict) or set(raw) - {"allowed"}:
        raise ConfigError(f"{where}: expected a table with the one key 'allowed', got {raw!r}")
    allowed = raw.get("allowed", [])
    if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
        raise ConfigError(f"{where}: allowed = {allowed!r}: expected a list of license names")
    return tuple(allowed)


@hookimpl
def iotops_config_tables():
    return [ConfigTable("licenses", parse)]


@hookimpl
def iotops_gates(settings, report):
    allowed = settings.plugin_tables.get("licenses")
    if allowed is None:
        return []
    ok = "MIT" in allowed
    return [GateResult("licenses.mit", "licenses", "passed" if ok else "failed", float(len(allowed)), 1.0, ">=",
                       "licenses", f"allowed: {', '.join(allowed)}")]
'''


def test_an_installed_package_owns_a_configuration_table(pytester: pytest.Pytester, tmp_path: Path) -> None:
    env = _install(tmp_path / "site", "iotops_licenses", LICENSES_PLUGIN)
    make_project(pytester, '[tool.iotops.licenses]\nallowed = ["MIT", "Apache-2.0"]\n')

    def pytest_run() -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "pytest", "--iotops", NO_COV, "-p", "no:cacheprovider"]
        return subprocess.run(argv, cwd=pytester.path, env=env, capture_output=True, text=True, check=False)

    done = pytest_run()
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    gates = {g["id"]: g for g in run_report(pytester.path)["gates"]}
    assert gates["licenses.mit"]["message"] == "allowed: MIT, Apache-2.0"
    # the plugin's own schema names what is wrong
    pyproject = pytester.path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('allowed = ["MIT", "Apache-2.0"]', "allowed = 3"))
    bad = pytest_run()
    assert bad.returncode == 4
    assert "[tool.iotops.licenses]: allowed = 3: expected a list of license names" in bad.stderr


def test_without_the_package_its_table_is_an_unknown_key(pytester: pytest.Pytester) -> None:
    make_project(pytester, '[tool.iotops.licenses]\nallowed = ["MIT"]\n')
    result = pytester.runpytest("--iotops", NO_COV)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown key 'licenses' in [[]tool.iotops[]]*"])


def test_one_manager_per_session_with_entry_points_loaded_once() -> None:
    """The manager read before conftests load (evidence kinds, tables) is the session's, completed by the
    conftest registrations once: entry points are not loaded twice, conftests not registered twice."""
    from types import SimpleNamespace

    from pytest_iotops.registry import installed_manager, session_manager

    class Config:  # weakly referenced, as pytest's Config is
        hook = SimpleNamespace(pytest_iotops_register=lambda plugin_manager: calls.append(1))

    calls: list[int] = []
    config = Config()
    early = installed_manager(config)
    assert session_manager(config) is early
    assert session_manager(config) is early
    assert calls == [1]
