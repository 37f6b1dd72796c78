"""Monitoring signals through a real Prometheus (Debian's, started by the monitor on 127.0.0.1): a project's
monitoring table and its record, alert rules, an Argo AnalysisTemplate, logs, a step's power against a real
error rate through the router, and the server's lifetime. The misbehaving-service scenarios judged by the
service's own metrics only are in tests/soak/test_deploy_scenarios.py (and benchmarks/, 20 seeds)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from conftest import ROOT, make_project, require_binary, run_report
from deploy_service import ENV, SIGNALS, alive, open_target, version

from pytest_iotops.deploy.canary import CanaryLimits, canary
from pytest_iotops.deploy.judge import MetricSpec
from pytest_iotops.deploy.load import Load
from pytest_iotops.deploy.process import start_version
from pytest_iotops.deploy.result import DeployResult
from pytest_iotops.errors import ConfigError
from pytest_iotops.monitoring.alerts import check_rules
from pytest_iotops.monitoring.config import parse_monitoring
from pytest_iotops.monitoring.monitor import Monitor


@pytest.fixture(autouse=True)
def _prometheus() -> None:
    require_binary("prometheus")


def _toml(value: object) -> str:
    return json.dumps(value)


def test_the_monitoring_table_in_a_project_and_its_record_in_the_run_report(pytester: pytest.Pytester) -> None:
    signals = "\n".join(
        "[[tool.iotops.deploy.monitoring.metrics]]\n" + "\n".join(f"{k} = {_toml(x)}" for k, x in m.items())
        for m in SIGNALS["metrics"]
    )
    versions = {"v1": version("v1"), "broken": version("broken", error_rate=0.2, seed=3)}
    make_project(
        pytester,
        f"""
[tool.iotops.deploy]
stable = "v1"
steps = [20, 100]
env = {{ PYTHONPATH = {_toml(ENV["PYTHONPATH"])} }}
load = {{ rate = 200, concurrency = 16, paths = ["/sensors/boiler"] }}

[tool.iotops.deploy.versions]
{chr(10).join(f"{k} = {_toml(x)}" for k, x in versions.items())}

[tool.iotops.deploy.monitoring]
builtin = false
prometheus = {{ scrape_interval = 0.25 }}

{signals}
""",
        files={
            "tests/e2e/test_deploy.py": """
import pytest

@pytest.mark.e2e
def test_broken_canary_rolls_back(iotops_canary):
    result = iotops_canary.rollout("broken")
    assert not result.promoted
    assert "errors" in result.reason, result.explain()
"""
        },
    )
    result = pytester.runpytest_subprocess("--iotops", "--iotops-no-cov", "-p", "no:randomly")
    result.assert_outcomes(passed=5)
    (deployment,) = run_report(pytester.path)["deployments"]
    metrics = {m["name"]: m for m in deployment["steps"][0]["metrics"]}
    assert set(metrics) == {"errors", "latency_p99"}
    assert metrics["errors"]["verdict"] == "fail"
    # the signal's reading spans the step (from a scrape before it to one after it), so it counts at least about
    # the requests the router sent the canary in it (how many that is depends on the machine's load: 34 under
    # stress --cpu 4 on two cores, where a fixed 50 failed)
    canary_requests = deployment["steps"][0]["canary_requests"]
    assert canary_requests > 0
    assert metrics["errors"]["samples"] >= canary_requests // 2, (metrics["errors"], canary_requests)


@pytest.mark.parametrize(("bake", "need", "verdict"), [(0.5, 20, "inconclusive"), (6.0, 400, "fail")])
def test_a_real_rise_is_underpowered_on_a_short_step_and_fails_on_a_long_one(
    bake: float, need: int, verdict: str
) -> None:
    """5 % errors against 0.5 %: a half-second step (about 50 requests each) cannot show it, and says how many
    requests it needs instead of passing; a step with 400 of each fails it."""
    # the canary's errors are drawn by request from its seed: seed 1's first 48 requests hold 6 errors (12.5 %),
    # which a short step rightly fails whenever the canary gets that many; seed 2's hold 2-3 in the first 30-60
    # (the 5 % a short step cannot tell from 0.5 %) and 16 in the first 400 (4 %, which a long step fails)
    commands = {
        "stable": version("stable", error_rate=0.005, seed=5),
        "canary": version("canary", error_rate=0.05, seed=2),
    }
    spec = MetricSpec("error_rate", max_value=0.2, max_increase=0.005, min_samples=need, effect=0.05)
    target = open_target("local", commands, seed=5)
    try:
        target.start("stable")
        target.set_weights({"stable": 100})
        with Load(target.url, rate=200, concurrency=8, paths=["/sensors/boiler"], observe=target.observe):
            result = canary(
                target,
                "stable",
                "canary",
                steps=[50, 100],
                bake=bake,
                bake_max=bake if verdict == "inconclusive" else 30.0,
                specs=[spec],
                limits=CanaryLimits(inconclusive_limit=0),
            )
    finally:
        target.close()
    step = result.steps[0]
    assert step.verdict == verdict, result.explain()
    assert not result.promoted
    if verdict == "inconclusive":
        assert "underpowered" in step.reason, result.explain()
    else:
        assert "error rate" in step.reason, result.explain()


def _rollout(monitor: Monitor, commands: dict[str, list[str]], seed: int, bake: float) -> DeployResult:
    """stable -> canary in steps of 20 and 100 % under 200 requests/s on the local target, judged by ``monitor``
    (opened before any version starts, closed after)."""
    target = open_target("local", commands, seed=seed)
    try:
        monitor.open(target.reserve_ports())
        target.start("stable")
        target.set_weights({"stable": 100})
        with Load(target.url, rate=200, concurrency=8, paths=["/sensors/boiler"], observe=target.observe):
            return canary(target, "stable", "canary", steps=[20, 100], bake=bake, monitor=monitor)
    finally:
        monitor.close()
        target.close()


def _imported(
    entry: dict[str, Any], root: Path, canary_options: dict[str, float], seed: int, bake: float
) -> DeployResult:
    """A rollout judged by an imported analysis alone (the file in ``root``, beside a pyproject.toml)."""
    (root / "pyproject.toml").touch()
    monitoring = {"builtin": False, "prometheus": {"scrape_interval": 0.25}, "imports": [entry]}
    settings = parse_monitoring(monitoring, str(root / "pyproject.toml"))
    commands = {"stable": version("stable"), "canary": version("canary", seed=seed, **canary_options)}
    return _rollout(settings.monitor(), commands, seed=seed, bake=bake)


RULES = """groups:
  - name: sensorapi
    rules:
      - alert: SensorApiErrors
        expr: >
          sum by (version) (increase(sensorapi_requests_total{code="500"}[2s]))
          / sum by (version) (increase(sensorapi_requests_arrived_total[2s])) > 0.1
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.version }} answers 500 to {{ $value | humanizePercentage }} of its requests"
"""


class _Webhook(BaseHTTPRequestHandler):
    """Alertmanager's webhook receiver: every notification body, kept."""

    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[tuple[str, type[_Webhook]]]:
    """Debian's Alertmanager on 127.0.0.1 (clustering off: it would listen on every interface), routing every
    alert at once to a webhook receiver of the test's."""
    require_binary("prometheus-alertmanager")
    webhook = type("Webhook", (_Webhook,), {"received": []})
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), webhook)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    config = {
        "route": {"receiver": "test", "group_wait": "0s", "group_interval": "1s", "repeat_interval": "1h"},
        "receivers": [
            {"name": "test", "webhook_configs": [{"url": f"http://127.0.0.1:{receiver.server_address[1]}/"}]}
        ],
    }
    (tmp_path / "alertmanager.yml").write_text(json.dumps(config))
    argv = [
        shutil.which("prometheus-alertmanager") or "prometheus-alertmanager",
        f"--config.file={tmp_path / 'alertmanager.yml'}",
        f"--storage.path={tmp_path / 'am-data'}",
        "--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    process = start_version("alertmanager", argv, cwd=tmp_path, health_path="/-/ready")
    try:
        yield process.url, webhook
    finally:
        process.stop()
        receiver.shutdown()
        receiver.server_close()


def _fired(url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{url}/api/v2/alerts", timeout=5) as answer:
        alerts: list[dict[str, Any]] = json.loads(answer.read())
    return alerts


@pytest.mark.parametrize(("canary_options", "promoted"), [({}, True), ({"error_rate": 0.3}, False)])
def test_an_alert_rule_firing_for_the_canary_fails_its_step(
    tmp_path: Path, canary_options: dict[str, float], promoted: bool, alertmanager: tuple[str, type[_Webhook]]
) -> None:
    """Alerts are the only judge here (no signal metrics, no router measurements): the user's rule fires for a
    canary answering 500 to 30 % of requests, and its labels and annotation are in the step's reason; the
    monitor's Prometheus sends it to a real Alertmanager, which routes it to a receiver."""
    url, webhook = alertmanager
    (tmp_path / "alerts.yml").write_text(RULES)
    prometheus = {"scrape_interval": 0.25, "alertmanager": url}
    settings = parse_monitoring({"builtin": False, "alert_rules": ["alerts.yml"], "prometheus": prometheus}, "test")
    commands = {"stable": version("stable"), "canary": version("canary", seed=4, **canary_options)}
    result = _rollout(settings.monitor(root=tmp_path), commands, seed=4, bake=2.0)
    assert result.promoted is promoted, result.explain()
    alerts = [m for step in result.steps for m in step.metrics if m.name == "alerts"]
    assert alerts, result.explain()
    received = [a for a in _fired(url) if a["labels"].get("alertname") == "SensorApiErrors"]
    if promoted:
        assert not received
        return
    assert "SensorApiErrors" in result.reason, result.explain()
    assert "severity=page" in result.reason
    assert "canary answers 500 to" in result.reason
    assert [a["labels"]["version"] for a in received] == ["canary"]
    deadline = time.monotonic() + 15  # group_wait 0s: the receiver hears of it within a second or two
    while not webhook.received and time.monotonic() < deadline:
        time.sleep(0.1)
    notified = [a["labels"] for n in webhook.received for a in n["alerts"]]
    assert {"alertname": "SensorApiErrors", "severity": "page", "version": "canary"}.items() <= notified[0].items()


@pytest.mark.parametrize(
    ("sample", "message"),
    [
        ("promtool-bad-rules-syntax.yml", "could not parse expression"),
        ("rulefmt-bad-field.bad.yaml", "field annotation not found"),
    ],
)
def test_a_broken_rule_file_is_a_configuration_error_naming_it(sample: str, message: str) -> None:
    """Real broken rule files from Prometheus' own test data (tests/data/samples/SOURCES.md)."""
    settings = parse_monitoring({"alert_rules": [f"tests/data/samples/alerts/{sample}"]}, "pyproject.toml")
    monitor = settings.monitor(root=ROOT)
    with pytest.raises(ConfigError) as err:
        monitor.open({})
    assert sample in str(err.value)
    assert message in str(err.value)
    assert "promtool check rules failed" in str(err.value)
    assert not monitor.providers, "nothing may start after a bad rule file"


def test_real_rule_files_pass_the_check() -> None:
    rules = [ROOT / "tests/data/samples/alerts" / n for n in ("promtool-rules.yml", "awesome-blackbox-exporter.yml")]
    check_rules(rules, "test")


def test_prometheus_does_not_outlive_a_run_killed_without_cleanup(tmp_path: Path) -> None:
    """SIGKILL leaves no chance to stop anything: the server dies with the thread that started it."""
    script = (
        "from pytest_iotops.monitoring.prometheus import PrometheusServer\n"
        "import time\n"
        "server = PrometheusServer()\n"
        "server.start()\n"
        "print(server.process.proc.pid, server.home, server.process.log, sep='\\n', flush=True)\n"
        "time.sleep(60)\n"
    )
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) as runner:
        try:
            assert runner.stdout is not None
            pid = int(runner.stdout.readline())
            home = Path(runner.stdout.readline().strip())
            log = Path(runner.stdout.readline().strip())
            assert alive(pid)
        finally:
            runner.kill()
    deadline = time.monotonic() + 15
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid), f"prometheus {pid} outlived the killed run"
    shutil.rmtree(home, ignore_errors=True)  # what the killed run could not remove
    log.unlink(missing_ok=True)


LOG_SIGNALS = {
    "builtin": False,
    "metrics": [
        {
            "name": "error_lines",
            "type": "ratio",
            "provider": "logs",
            "events": "version={{ version }} level=error",
            "total": "version={{ version }}",
            "max_value": 0.01,
            "max_increase": 0.005,
        }
    ],
}


@pytest.mark.parametrize(("canary_options", "promoted"), [({}, True), ({"error_rate": 0.2}, False)])
def test_a_canary_judged_by_its_own_json_logs(canary_options: dict[str, float], promoted: bool) -> None:
    """The service's JSON access log (one line per request) read as records: the share of error lines of the
    canary against the stable version's, by the exact tests; the reason shows the canary's last error lines."""
    commands = {
        "stable": [*version("stable"), "--log-json"],
        "canary": [*version("canary", seed=6, **canary_options), "--log-json"],
    }
    result = _rollout(parse_monitoring(LOG_SIGNALS, "test").monitor(), commands, seed=6, bake=1.0)
    assert result.promoted is promoted, result.explain()
    lines = [m for step in result.steps for m in step.metrics if m.name == "error_lines"]
    assert lines, result.explain()
    if promoted:  # a pass needs min_samples lines; a failure proven on fewer stops at once
        assert all(m.samples >= 50 for m in lines), result.explain()
    else:
        assert "last lines of canary: GET /sensors/boiler 500" in result.reason, result.explain()
    first = {log.version: log for log in result.steps[0].logs}  # each version's output in the step, by level
    assert set(first) == {"stable", "canary"}, result.steps[0]
    canary = first["canary"]
    assert canary.lines == sum(canary.levels.values()) >= 10, canary
    assert (canary.levels.get("error", 0) > 0) is not promoted, canary.levels
    assert 0 < len(canary.last) <= 5
    assert all("/sensors/boiler" in json.loads(line)["msg"] for line in canary.last), canary


TEMPLATE = """apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: success-rate
spec:
  args:
    - name: service-version
    - name: window
      value: 5m
  metrics:
    - name: success-rate
      interval: 1m
      successCondition: result[0] >= 0.95
      provider:
        prometheus:
          address: http://prometheus.monitoring:9090
          query: |
            sum(increase(sensorapi_requests_total{version="{{args.service-version}}",code="200"}[{{args.window}}]))
            / sum(increase(sensorapi_requests_total{version="{{args.service-version}}"}[{{args.window}}]))
"""


@pytest.mark.parametrize(("canary_options", "promoted"), [({}, True), ({"error_rate": 0.2}, False)])
def test_an_argo_analysis_template_judges_the_canary(
    tmp_path: Path, canary_options: dict[str, float], promoted: bool
) -> None:
    """An AnalysisTemplate as a team writes it for Argo, imported: its query against the monitor's Prometheus
    with the arguments mapped to the version and the step's length, its successCondition deciding."""
    (tmp_path / "analysis.yaml").write_text(TEMPLATE)
    args = {"service-version": "{{ version }}", "window": "{{ interval }}"}
    result = _imported({"format": "argo", "path": "analysis.yaml", "args": args}, tmp_path, canary_options, 8, 1.5)
    assert result.promoted is promoted, result.explain()
    judged = [m for step in result.steps for m in step.metrics if m.name == "success-rate"]
    assert judged, result.explain()
    if not promoted:
        assert "successCondition 'result[0] >= 0.95' is false" in result.reason, result.explain()


KAYENTA = {
    "name": "sensorapi",
    "judge": {"name": "NetflixACAJudge-v1.0", "judgeConfigurations": {}},
    "metrics": [
        {
            "name": "Error ratio",
            "query": {
                "type": "prometheus",
                "customInlineTemplate": "PromQL:(sum(rate(sensorapi_requests_total"
                '{version="${scope}",code!="200"}[1s])) or vector(0))'
                ' / sum(rate(sensorapi_requests_total{version="${scope}"}[1s]))',
            },
            "groups": ["errors"],
            "analysisConfigurations": {"canary": {"direction": "increase", "critical": True, "nanStrategy": "replace"}},
            "scopeName": "default",
        },
        {
            "name": "p99 latency",
            "query": {
                "type": "prometheus",
                "customInlineTemplate": "PromQL:histogram_quantile(0.99, sum by (le) "
                '(rate(sensorapi_request_duration_seconds_bucket{version="${scope}"}[1s])))',
            },
            "groups": ["latency"],
            "analysisConfigurations": {"canary": {"direction": "increase", "nanStrategy": "remove"}},
            "scopeName": "default",
        },
    ],
    "classifier": {"groupWeights": {"errors": 70, "latency": 30}, "scoreThresholds": {"marginal": 50, "pass": 70}},
}


@pytest.mark.parametrize(("canary_options", "promoted"), [({}, True), ({"error_rate": 0.3}, False)])
def test_a_kayenta_canary_config_judges_series_with_weighted_scoring(
    tmp_path: Path, canary_options: dict[str, float], promoted: bool
) -> None:
    """A Kayenta config as a team writes it, imported: each metric sampled over the step for both versions
    from the monitor's Prometheus and compared by Mann-Whitney; the critical error metric fails the step on its
    own, the latency group only costs its weight (a noisy latency cannot roll back a healthy build)."""
    (tmp_path / "canary-config.json").write_text(json.dumps(KAYENTA))
    result = _imported({"format": "kayenta", "path": "canary-config.json"}, tmp_path, canary_options, 9, 2.5)
    assert result.promoted is promoted, result.explain()
    judged = [m for step in result.steps for m in step.metrics if m.name == "error-ratio"]
    assert judged, result.explain()
    assert all(m.samples >= 8 for m in judged), result.explain()
    if not promoted:
        assert "critical signal error-ratio failed" in result.reason, result.explain()
        assert "Mann-Whitney p=" in result.reason


SLO = """---
spec_version: "1.0"
comparison:
  compare_with: "single_result"
  aggregate_function: "avg"
objectives:
  - sli: error_rate
    key_sli: true
    pass:
      - criteria:
          - "<=2"
  - sli: response_time_p90
    pass:
      - criteria:
          - "<=+100%"
          - "<800"
    warning:
      - criteria:
          - "<=1500"
  - sli: throughput
total_score:
  pass: "90%"
  warning: "50%"
"""
SLI_FILE = """---
spec_version: "1.0"
indicators:
  error_rate: >-
    100 * (sum(increase(sensorapi_requests_total{version="$DEPLOYMENT",code!="200"}[$DURATION_SECONDS])) or vector(0))
    / sum(increase(sensorapi_requests_total{version="$DEPLOYMENT"}[$DURATION_SECONDS]))
  response_time_p90: >-
    1000 * histogram_quantile(0.9, sum by (le)
    (rate(sensorapi_request_duration_seconds_bucket{version="$DEPLOYMENT"}[$DURATION_SECONDS])))
  throughput: sum(rate(sensorapi_requests_total{version="$DEPLOYMENT"}[$DURATION_SECONDS]))
"""


@pytest.mark.parametrize(("canary_options", "promoted"), [({}, True), ({"error_rate": 0.2}, False)])
def test_a_keptn_quality_gate_judges_the_canary(
    tmp_path: Path, canary_options: dict[str, float], promoted: bool
) -> None:
    """A Keptn slo.yaml and sli.yaml, imported: the key SLI (error rate in percent) fails the step on its own;
    the relative latency criterion compares with the stable version in the same step."""
    (tmp_path / "slo.yaml").write_text(SLO)
    (tmp_path / "sli.yaml").write_text(SLI_FILE)
    result = _imported({"format": "keptn", "path": "slo.yaml", "sli": "sli.yaml"}, tmp_path, canary_options, 10, 1.5)
    assert result.promoted is promoted, result.explain()
    first = {m.name: m for m in result.steps[0].metrics}
    assert set(first) == {"error_rate", "response_time_p90", "throughput"}
    assert first["throughput"].reason.startswith("dry run"), first["throughput"]
    assert first["response_time_p90"].baseline is not None  # the stable version's value, for <=+100%
    if not promoted:
        assert "critical signal error_rate failed" in result.reason, result.explain()
        assert "pass criteria <=2 not met" in result.reason
