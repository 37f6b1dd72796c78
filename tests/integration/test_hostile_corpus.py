"""The hostile corpus (tests/data/hostile): every case through ``iotops gate`` and ``pytest --iotops``.

Each case is one evidence source of one generated project; both front doors run once over all of them and each
case checks its own source: an expected error must end as an ``error`` gate with the expected reason (never a
pass: that would be a silent pass), a valid edge case must give its exact figures. The conftest prints
"hostile corpus: N cases, M silent passes" at the end of the run.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HOSTILE = DATA / "hostile"
CASES: list[dict[str, Any]] = json.loads((HOSTILE / "cases.json").read_text(encoding="utf-8"))
#: cases that need the file system rather than a committed file, made at run time
RUNTIME_CASES = [
    {"name": "fifo.info", "kind": "lcov", "file": "runtime/fifo.info", "expect": "error:unreadable", "figures": {}},
    {"name": "dir.xml", "kind": "junit", "file": "runtime/dir.xml", "expect": "error:unreadable", "figures": {}},
    {
        "name": "dangling.json",
        "kind": "sarif",
        "file": "runtime/dangling.json",
        "expect": "error:unreadable",
        "figures": {},
    },
    {
        "name": "link-to-good.info",
        "kind": "lcov",
        "file": "runtime/link-to-good.info",
        "expect": "ok",
        "figures": {"lines": [2, 3]},
    },
]
ALL = CASES + RUNTIME_CASES
SILENT = "SILENT PASS"


def _source_name(index: int) -> str:
    return f"h{index:03d}"


def _project(root: Path) -> Path:
    shutil.copytree(HOSTILE / "files", root / "files")
    runtime = root / "files" / "runtime"
    runtime.mkdir()
    os.mkfifo(runtime / "fifo.info")
    (runtime / "dir.xml").mkdir()
    (runtime / "dangling.json").symlink_to(runtime / "does-not-exist.json")
    (runtime / "link-to-good.info").symlink_to(root / "files" / "lcov" / "good.info")
    lines = ["[project]", 'name = "hostile"', 'version = "0"', "", "[tool.iotops]", 'formats = ["md"]', ""]
    for index, case in enumerate(ALL):
        lines += [
            "[[tool.iotops.evidence]]",
            f'name = "{_source_name(index)}"',
            f'kind = "{case["kind"]}"',
            f'path = "files/{case["file"]}"',
            "",
        ]
    (root / "pyproject.toml").write_text("\n".join(lines), encoding="utf-8")
    (root / "test_nothing.py").write_text("def test_ok():\n    pass\n", encoding="utf-8")
    return root


def _run(root: Path, argv: list[str], reports: str, name: str = "run-report.json") -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    done = subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=600, env=env, check=False)
    assert "Traceback" not in done.stdout + done.stderr, done.stdout[-3000:] + done.stderr[-3000:]
    report_file = root / "iotops-reports" / name
    assert report_file.is_file(), f"{argv}: no run report\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    data: dict[str, Any] = json.loads(report_file.read_text(encoding="utf-8"))
    data["_exit"] = done.returncode
    shutil.move(str(root / "iotops-reports"), str(root / reports))
    return data


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    root = _project(tmp_path_factory.mktemp("hostile"))
    gate = _run(root, [sys.executable, "-m", "pytest_iotops.cli", "gate"], "gate-reports", "gate-report.json")
    pytest_run = _run(
        root,
        [sys.executable, "-m", "pytest", "-p", "pytest_iotops.plugin", "--iotops", "--iotops-no-cov", "-q"],
        "pytest-reports",
    )
    return {"iotops gate": gate, "pytest --iotops": pytest_run}


def _check(report: dict[str, Any], index: int, case: dict[str, Any]) -> None:
    name = _source_name(index)
    (evidence,) = [e for e in report["evidence"] if e["name"] == name]
    gates = [g for g in report["gates"] if g["id"] == f"evidence.{name}" or g["id"].startswith(f"evidence.{name}.")]
    assert gates, f"no gate for {name}"
    where = f"{case['file']} ({case['kind']}): {evidence['status']} {evidence.get('reason', '')} {evidence['error']}"
    expect = case["expect"]
    if expect.startswith("error:"):
        assert evidence["status"] == "error", f"{SILENT}: {where}"
        assert all(g["status"] == "error" for g in gates), f"{SILENT}: {where}: gates {gates}"
        assert evidence["reason"] == expect.split(":", 1)[1], where
        assert case["file"].split("/")[-1] in evidence["error"], f"the message does not name the file: {where}"
        return
    assert evidence["status"] == "ok", where
    figures = case["figures"]
    if "lines" in figures:
        totals = evidence["totals"]
        assert [totals["covered_lines"], totals["statements"]] == figures["lines"], where
    if "branches" in figures:
        assert [evidence["totals"]["covered_branches"], evidence["totals"]["branches"]] == figures["branches"], where
    if "findings" in figures:
        open_ = [f for f in report["findings"] if f["source"] == name and f["status"] == "open"]
        assert dict(Counter(f["severity"] for f in open_)) == figures["findings"], where
    if "paths" in figures:
        assert [f["path"] for f in report["findings"] if f["source"] == name] == figures["paths"], where
    tests = [t for t in report["tests"] if t["origin"] == name]
    if "tests" in figures:
        assert dict(Counter(t["outcome"] for t in tests)) == figures["tests"], where
    if "flaky" in figures:
        assert sum(t["flaky"] for t in tests) == figures["flaky"], where


@pytest.mark.parametrize("index", range(len(ALL)), ids=[f"{c['kind']}/{c['name']}" for c in ALL])
def test_hostile_case(reports: dict[str, dict[str, Any]], index: int) -> None:
    for front_door, report in reports.items():
        try:
            _check(report, index, ALL[index])
        except AssertionError as exc:
            raise AssertionError(f"{front_door}: {exc}") from None


def test_corpus_is_large_and_current() -> None:
    """At least 150 committed cases, and the committed files are what make_corpus.py writes."""
    assert len(CASES) >= 150
    sys.path.insert(0, str(HOSTILE))
    try:
        import make_corpus
    finally:
        sys.path.remove(str(HOSTILE))
    for case in make_corpus.build():
        assert (HOSTILE / "files" / case["file"]).read_bytes() == case["data"], f"{case['file']}: run make_corpus.py"


def test_every_run_with_an_error_case_fails(reports: dict[str, dict[str, Any]]) -> None:
    """Both front doors end with exit 7 (a gate could not be evaluated) or 1 (JUnit tests failed), never 0."""
    assert reports["iotops gate"]["_exit"] in (1, 7)
    assert reports["pytest --iotops"]["_exit"] in (1, 7)
    assert reports["iotops gate"]["verdict"]["status"] == "failed"
    assert reports["pytest --iotops"]["verdict"]["status"] == "failed"


THRESHOLD_KEY = {"junit": "max_flaky", "lcov": "fail_under", "cobertura": "fail_under", "coveragepy-json": "fail_under"}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    picks=st.lists(st.sampled_from(range(len(CASES))), min_size=1, max_size=4, unique=True),
    command=st.sampled_from(["gate", "baseline"]),
    limit=st.one_of(st.none(), st.integers(min_value=0, max_value=2)),
)
def test_printed_verdict_is_the_exit_code(
    tmp_path_factory: pytest.TempPathFactory, picks: list[int], command: str, limit: int | None
) -> None:
    """For any mix of corpus sources and thresholds, iotops gate and iotops baseline exit with the code their
    printed verdict names (one decision, printed and returned)."""
    from pytest_iotops.cli import main

    root = tmp_path_factory.mktemp("verdict")
    lines = ["[tool.iotops]", 'baseline = "baseline.json"', ""]
    for n, index in enumerate(picks):
        case = CASES[index]
        target = root / case["file"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(HOSTILE / "files" / case["file"], target)
        lines += ["[[tool.iotops.evidence]]", f'name = "s{n}"', f'kind = "{case["kind"]}"', f'path = "{case["file"]}"']
        key = THRESHOLD_KEY.get(case["kind"], "max_findings")
        if limit is not None:  # a coverage threshold of 0/40/80 %, or at most 0-2 findings / flaky tests
            lines.append(f"{key} = {limit * 40 if key == 'fail_under' else limit}")
        lines.append("")
    (root / "pyproject.toml").write_text("\n".join(lines), encoding="utf-8")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main([command, "--config", str(root / "pyproject.toml")])
    printed = [line for line in out.getvalue().splitlines() if line.startswith("iotops verdict: ")]
    assert len(printed) == 1, out.getvalue()
    if code == 0:
        assert printed[0].startswith("iotops verdict: PASSED"), printed
    else:
        assert printed[0].startswith(f"iotops verdict: FAILED (exit {code})"), (code, printed)
