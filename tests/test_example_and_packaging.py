"""The README's main job and the package as users install it."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import require_binary

ROOT = Path(__file__).resolve().parents[1]


def test_example_pipeline_passes_and_writes_its_report(tmp_path: Path) -> None:
    require_binary("cargo")  # the example gates a Rust crate with clippy
    reports = tmp_path / "reports"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--iotops", "--iotops-reports-dir", str(reports), "-p", "no:cacheprovider"],
        cwd=ROOT / "examples" / "python-app",
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "iotops verdict: PASSED" in done.stdout
    report = json.loads((reports / "run-report.json").read_text())
    assert {p["name"]: p["tests"] for p in report["phases"]} == {"unit": 10, "integration": 2, "e2e": 2}
    assert report["coverage"]["measured_by"] == "iotops"
    assert all(g["status"] == "passed" for g in report["gates"])
    assert {g["id"] for g in report["gates"]} >= {
        "coverage.total",
        "coverage.phase.unit",
        "evidence.bandit.findings",
        "evidence.firmware-clippy.warnings",
        "pyramid.max_share.e2e",
    }
    assert [e["status"] for e in report["evidence"]] == ["ok", "ok"]


def test_cli_reports_its_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest_iotops.cli", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert done.stdout.strip().startswith("iotops 0.")


@pytest.mark.slow
def test_wheel_contains_typed_package_schema_and_entry_points(tmp_path: Path) -> None:
    pytest.importorskip("hatchling")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = tmp_path.glob("pytest_iotops-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = next(zf.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    assert "pytest_iotops/py.typed" in names
    assert "pytest_iotops/schema/run-report-1.schema.json" in names
    assert "[pytest11]\niotops = pytest_iotops.plugin" in entry_points
    assert "iotops = pytest_iotops.cli:main" in entry_points
