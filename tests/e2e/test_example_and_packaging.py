"""The README's main job and the package as users install it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, require_binary


def _run_example(name: str, reports: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``pytest --iotops`` in ``examples/<name>`` as the main job runs it, reports in ``reports``; must pass."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--iotops", "--iotops-reports-dir", str(reports), *args],
        cwd=ROOT / "examples" / name,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return done


def test_example_pipeline_passes_and_writes_its_report(tmp_path: Path) -> None:
    require_binary("cargo")  # the example gates a Rust crate with clippy
    reports = tmp_path / "reports"
    done = _run_example("python-app", reports, "-p", "no:cacheprovider")
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


def test_deploy_example_releases_v2_and_rolls_back_every_broken_build(tmp_path: Path) -> None:
    """The main job's second example, under xdist: its deployments come back from the workers into one report."""
    for server in ("nginx", "haproxy"):
        require_binary(server)
    reports = tmp_path / "reports"
    _run_example("deploy-service", reports, "-n", "2")
    report = json.loads((reports / "run-report.json").read_text())
    outcomes = {(d["strategy"], d["candidate"], d["target"]): d["outcome"] for d in report["deployments"]}
    assert outcomes == {
        ("canary", "v2", "local"): "promoted",
        ("canary", "v2-errors", "local"): "rolled_back",
        ("canary", "v2-slow", "local"): "rolled_back",
        ("canary", "v2-flapping", "local"): "rolled_back",
        ("canary", "v2-crash", "local"): "rolled_back",
        ("canary", "v2-corrupt", "local"): "rolled_back",
        ("canary", "v2-hangs", "local"): "rolled_back",
        ("blue-green", "v2", "local"): "promoted",
        ("blue-green", "v2", "nginx"): "promoted",
        ("blue-green", "v2", "haproxy"): "promoted",
    }
    assert all(d["availability"] == 1.0 for d in report["deployments"] if d["strategy"] == "blue-green")
    html = (reports / "run-report.html").read_text()
    assert "10 deployments: 4 promoted, 6 rolled back" in html


def test_fleet_example_promotes_the_release_and_stops_the_broken_builds(tmp_path: Path) -> None:
    """The main job's third example, under xdist: 1,000 simulated thermostats over the embedded MQTT broker."""
    reports = tmp_path / "reports"
    _run_example("fleet-firmware", reports, "-n", "2", timeout=600)
    report = json.loads((reports / "run-report.json").read_text())
    outcomes = sorted((r["new"], r["devices"], r["outcome"], r["aborted_in_wave"]) for r in report["fleet_rollouts"])
    assert outcomes == sorted(
        [
            ("2.1.0", 1000, "promoted", None),
            ("2.1.1", 1000, "aborted", 1),
            ("2.1.2", 1000, "aborted", 1),
            ("2.1.3", 1000, "aborted", 1),
        ]
        + [("2.1.0", 200, "promoted", None)] * 6
    )
    assert all(r["problems"] == [] and r["bricked"] == 0 for r in report["fleet_rollouts"])


def test_cli_reports_its_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest_iotops.cli", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert done.stdout.strip().startswith("iotops 0.")
