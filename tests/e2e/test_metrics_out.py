"""The run's metrics out: ``iotops push`` to Debian's Pushgateway, scraped by Debian's Prometheus, read back with
PromQL — every figure equal to the run report's — and the Pushgateway's refusal named."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from conftest import DATA, require_binary, run_iotops

from pytest_iotops.deploy.process import VersionProcess, start_version
from pytest_iotops.model import load_report
from pytest_iotops.monitoring.prometheus import PrometheusServer
from pytest_iotops.monitoring.promql import PrometheusAPI
from pytest_iotops.monitoring.push import push_url


@pytest.fixture
def pushgateway() -> Iterator[VersionProcess]:
    binary = require_binary("prometheus-pushgateway")
    process = start_version(
        "pushgateway", [binary, "--web.listen-address=127.0.0.1:{port}"], health_path="/-/ready", tied=True
    )
    yield process
    process.stop()


def test_pushed_figures_read_back_from_prometheus_equal_the_report(pushgateway: VersionProcess) -> None:
    require_binary("prometheus")
    report_path = DATA / "report-rich.json"
    report = load_report(report_path)
    done = run_iotops(DATA, "push", str(report_path), "--url", pushgateway.url, "--label", "branch=feature/x")
    assert done.returncode == 0, done.stderr
    assert push_url(pushgateway.url, "iotops", {"branch": "feature/x"}) in done.stdout
    server = PrometheusServer(scrape_interval=0.25)
    try:
        api = PrometheusAPI(server.start())
        server.set_targets({"pushgateway": pushgateway.port})
        deadline = time.monotonic() + 30  # file discovery applies new targets within 5 s
        while not api.query("iotops_tests") and time.monotonic() < deadline:
            time.sleep(0.2)
        for phase in report.phases:
            for outcome in ("passed", "failed", "skipped"):
                query = f'iotops_tests{{phase="{phase.name}",outcome="{outcome}",branch="feature/x"}}'
                assert api.value(query) == getattr(phase, outcome), query
        assert report.coverage is not None
        assert api.value('iotops_coverage_ratio{scope="lines"}') == pytest.approx(report.coverage.totals.percent / 100)
        failed_gates = api.value('count(iotops_gate_passed{status!="passed"})') or 0
        assert failed_gates == sum(1 for g in report.gates if g.status != "passed")
        assert api.value("sum(iotops_findings)") == len(report.findings)
        assert api.value("sum(iotops_deployments)") == len(report.deployments)
    finally:
        server.stop()


def test_a_refused_or_unreachable_push_is_a_named_error(pushgateway: VersionProcess) -> None:
    done = run_iotops(DATA, "push", str(DATA / "report-rich.json"), "--url", "http://127.0.0.1:9")
    assert done.returncode != 0
    assert "did not answer" in done.stderr
    done = run_iotops(DATA, "push", str(DATA / "report-rich.json"), "--url", pushgateway.url, "--label", "no")
    assert "expected NAME=VALUE" in done.stderr
    # a pushed group must not carry the grouping label in its samples with another value: the gateway refuses
    done = run_iotops(DATA, "push", str(DATA / "report-rich.json"), "--url", pushgateway.url, "--label", "phase=x")
    assert done.returncode != 0
    assert "refused the data: HTTP 400" in done.stderr
