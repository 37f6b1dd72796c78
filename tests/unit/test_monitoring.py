"""Monitoring signals without a server: templates, configuration errors, the judge of each signal type on
counts, histogram quantiles as PromQL computes them, counter resets, the power of a step, and the Prometheus
API client against a small HTTP server that answers as Prometheus does (and as it does when things go wrong)."""

from __future__ import annotations

import json
import re
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from conftest import DATA, ROOT
from deploy_service import SIGNALS

from pytest_iotops.deploy.judge import MetricSpec, Samples, judge
from pytest_iotops.deploy.power import needed_absolute, needed_relative
from pytest_iotops.errors import ConfigError
from pytest_iotops.monitoring.argo import argo_metrics
from pytest_iotops.monitoring.config import parse_monitoring
from pytest_iotops.monitoring.logs import LogsProvider, parse_query, read_record
from pytest_iotops.monitoring.promql import MonitoringError, PrometheusAPI, render
from pytest_iotops.monitoring.providers import CommandProvider, WebProvider
from pytest_iotops.monitoring.signals import Reading, SignalMetric, histogram_quantile, judge_signal

SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0)


def test_templates_fill_known_placeholders_and_refuse_unknown_ones() -> None:
    query = 'rate(x{version="{{ version }}",port="{{port}}"}[{{ interval }}])'
    assert render(query, {"version": "v2", "port": "8080", "interval": "1500ms"}) == (
        'rate(x{version="v2",port="8080"}[1500ms])'
    )
    with pytest.raises(MonitoringError, match="unknown placeholder"):
        render("x{a='{{ nope }}'}", {"version": "v2"})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": "gauge"}, "type = 'gauge'"),
        ({"events": None}, "needs 'events'"),
        ({"events": ""}, "events = '': expected a non-empty string"),
        ({"query": "up"}, "'query' is not used by a ratio signal"),
        ({"max_value": None, "max_increase": None}, "no limit"),
        ({"events": "sum(x)", "total": "sum(y)"}, "never name {{ version }}"),
        ({"total": 'sum(y{v="{{ versoin }}"})'}, "unknown placeholder(s) ['versoin']"),
        ({"provider": "graphite"}, "unknown metric provider 'graphite'"),
        ({"provider": "web"}, "the web provider cannot measure a ratio"),
        ({"alpha": 2}, "alpha = 2"),
        ({"colour": "red"}, "unknown key 'colour'"),
    ],
)
def test_bad_signal_tables_are_errors_naming_the_table_and_key(change: dict[str, Any], message: str) -> None:
    entry = {**SIGNALS["metrics"][0], **change}
    entry = {k: x for k, x in entry.items() if x is not None}
    with pytest.raises(ConfigError) as err:
        parse_monitoring({"metrics": [entry]}, "pyproject.toml")
    assert message in str(err.value)
    assert "pyproject.toml" in str(err.value)


def test_provider_tables_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['scrape'\] in deploy.monitoring.prometheus"):
        parse_monitoring({**SIGNALS, "prometheus": {"scrape": 1}}, "p")
    with pytest.raises(ConfigError, match="needs"):
        parse_monitoring({"builtin": False}, "p")
    settings = parse_monitoring(SIGNALS, "p")
    assert not settings.builtin
    assert [m.kind for m in settings.metrics] == ["ratio", "histogram"]


def _ratio(**limits: Any) -> SignalMetric:
    spec = MetricSpec("error_rate", min_samples=50, **limits)
    return SignalMetric("errors", "ratio", events="e{{ version }}", total="t{{ version }}", limits=spec)


def _counts(events: float, total: float) -> dict[str, dict[str, float]]:
    return {"events": {"": events}, "total": {"": total}}


def test_a_ratio_is_judged_by_exact_tests_on_counts() -> None:
    metric = _ratio(max_value=0.01, max_increase=0.005)
    failed = judge_signal(metric, _counts(20, 200), _counts(1, 1000))
    assert failed.verdict == "fail"
    assert "binomial" in failed.reason
    assert judge_signal(metric, _counts(1, 400), _counts(2, 1000)).verdict == "pass"
    # too few to pass; and no requests at all is the no-data verdict
    assert judge_signal(metric, _counts(0, 20), _counts(0, 1000)).verdict == "inconclusive"
    assert judge_signal(metric, _counts(0, 0), _counts(0, 1000)).reason.startswith("no requests")
    # events beyond the total (two series scraped a moment apart) are capped, never a rate above 100 %
    assert judge_signal(metric, _counts(210, 200), _counts(0, 1000)).value == 1.0


def _buckets(latencies_s: list[float]) -> dict[str, float]:
    out = {str(b): float(sum(1 for x in latencies_s if x <= b)) for b in SECONDS_BUCKETS}
    out["+Inf"] = float(len(latencies_s))
    return out


def test_histogram_quantile_interpolates_like_promql() -> None:
    # 100 observations: 90 in (0, 0.01], 10 in (0.1, 0.25]: q0.5 = 0.01 * 50/90, q0.99 = 0.1 + 0.15 * 9/10
    buckets = [(0.005, 0), (0.01, 90), (0.1, 90), (0.25, 100), (float("inf"), 100)]
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.005 + 0.005 * 50 / 90)
    assert histogram_quantile(0.99, buckets) == pytest.approx(0.1 + 0.15 * 9 / 10)
    assert histogram_quantile(0.99, [(0.1, 0), (float("inf"), 0)]) is None


def test_a_histogram_tail_fails_on_bucket_counts_and_a_shared_tail_does_not() -> None:
    limits = MetricSpec("latency_p99", max_increase=50, min_samples=50)
    metric = SignalMetric("latency_p99", "histogram", buckets="b{{ version }}", limits=limits)
    stable = {"buckets": _buckets([0.004] * 500)}
    slow = judge_signal(metric, {"buckets": _buckets([0.004] * 95 + [0.3] * 5)}, stable)
    assert slow.verdict == "fail"
    assert "above 75 ms" in slow.reason
    both = {"buckets": _buckets([0.004] * 475 + [0.3] * 25)}
    assert judge_signal(metric, {"buckets": _buckets([0.004] * 95 + [0.3] * 5)}, both).verdict != "fail"
    assert judge_signal(metric, {"buckets": _buckets([0.004] * 100)}, stable).verdict == "pass"
    # a limit beyond every finite bound cannot be counted: inconclusive, never a pass
    far = SignalMetric(
        "latency_p99", "histogram", buckets="b{{ version }}", limits=MetricSpec("latency_p99", max_value=5000)
    )
    assert judge_signal(far, {"buckets": _buckets([0.004] * 100)}, stable).verdict == "inconclusive"


def test_a_value_is_compared_with_its_limits() -> None:
    metric = SignalMetric("cpu", "value", query="q", limits=MetricSpec("error_rate", max_value=0.8, max_increase=0.2))
    assert judge_signal(metric, {"value": {"": 0.9}}, {"value": {"": 0.5}}).verdict == "fail"
    assert judge_signal(metric, {"value": {"": 0.75}}, {"value": {"": 0.5}}).verdict == "fail"
    assert judge_signal(metric, {"value": {"": 0.6}}, {"value": {"": 0.5}}).verdict == "pass"
    assert judge_signal(metric, {"value": {"": 0.6}}, {}).verdict == "inconclusive"
    assert judge_signal(metric, {}, {"value": {"": 0.5}}).verdict == "inconclusive"


def test_a_counter_that_went_down_was_reset() -> None:
    start = Reading({"total": {"": 500.0}})
    assert Reading({"total": {"": 530.0}}).since(start) == {"total": {"": 30.0}}
    assert Reading({"total": {"": 12.0}}).since(start) == {"total": {"": 12.0}}  # a new process counts from 0


def test_power_figures_match_their_definition() -> None:
    # more baseline data and a larger effect both need fewer canary requests
    assert needed_relative(0.0, 2000, 0.05, 0.005, 0.005) < needed_relative(0.0, 200, 0.05, 0.005, 0.005)
    assert needed_relative(0.0, 2000, 0.10, 0.005, 0.005) < needed_relative(0.0, 2000, 0.05, 0.005, 0.005)
    assert needed_relative(0.0, 20, 0.05, 0.005, 0.005) is None  # no canary data makes up for 20 baseline
    assert needed_absolute(0.01, 0.005, 0.005) is None
    n = needed_absolute(0.01, 0.06, 0.005)
    assert n is not None
    assert 50 < n < 400


def test_a_real_five_point_rise_on_too_few_requests_is_underpowered_not_a_pass() -> None:
    """The acceptance scenario at the judge: 5 % errors against a baseline of 0.5 %. On 60 requests the exact
    test cannot fail it (Fisher p = 0.012), and without an effect the step would pass; with one it is
    inconclusive and says how many requests it needs; on that many requests the same rate fails."""
    spec = MetricSpec("error_rate", max_value=0.05, max_increase=0.005, min_samples=20, effect=0.05)
    baseline = Samples((1.0,) * 600, 3)
    few = judge(Samples((1.0,) * 60, 3), baseline, [spec])
    assert (
        judge(
            Samples((1.0,) * 60, 3),
            baseline,
            [MetricSpec("error_rate", max_value=0.05, max_increase=0.005, min_samples=20)],
        ).verdict
        == "pass"
    )
    assert few.verdict == "inconclusive"
    assert "underpowered" in few.reason
    needed = int(few.reason.split("needs \u2248 ")[1].split()[0])
    assert needed > 60
    enough = judge(Samples((1.0,) * needed, round(needed * 0.05)), baseline, [spec])
    assert enough.verdict == "fail", enough.reason


class _FakePrometheus(BaseHTTPRequestHandler):
    answers: ClassVar[dict[str, tuple[int, bytes]]] = {}

    def do_GET(self) -> None:
        query = self.path.split("query=")[1].split("&")[0] if "query=" in self.path else ""
        status, body = self.answers.get(query, (200, b""))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_prometheus() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakePrometheus)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _answer(data: Any, status: str = "success") -> bytes:
    return json.dumps({"status": status, "data": data, "error": "parse error at char 3"}).encode()


def test_the_api_client_reads_vectors_and_names_every_failure(fake_prometheus: str) -> None:
    _FakePrometheus.answers = {
        "vec": (200, _answer({"resultType": "vector", "result": [{"metric": {"le": "0.1"}, "value": [1, "7"]}]})),
        "scalar": (200, _answer({"resultType": "scalar", "result": [1, "NaN"]})),
        "two": (200, _answer({"resultType": "vector", "result": [{"metric": {}, "value": [1, "1"]}] * 2})),
        "matrix": (200, _answer({"resultType": "matrix", "result": []})),
        "bad": (400, _answer(None, "error")),
        "html": (200, b"<html>proxy login</html>"),
        "word": (200, _answer({"resultType": "vector", "result": [{"metric": {}, "value": [1, "many"]}]})),
    }
    api = PrometheusAPI(fake_prometheus)
    assert api.query("vec") == [({"le": "0.1"}, 7.0)]
    assert api.value("scalar") is None  # NaN is no data
    for query, message in [
        ("two", "gave 2 series"),
        ("matrix", "expected an instant vector"),
        ("bad", "parse error at char 3"),
        ("html", "not JSON"),
        ("word", "not a number"),
    ]:
        with pytest.raises(MonitoringError, match=message):
            api.value(query)
    with pytest.raises(MonitoringError, match="did not answer"):
        PrometheusAPI("http://127.0.0.1:9", timeout=1).query("up")


def test_the_web_provider_reads_a_number_from_a_body_or_a_json_path(fake_prometheus: str) -> None:
    _FakePrometheus.answers = {"": (200, b'{"load": {"avg": [0.25, 0.5]}}')}
    assert WebProvider({"json_path": "$.load.avg[1]"}).read(fake_prometheus + "/x") == [({}, 0.5)]
    with pytest.raises(MonitoringError, match=r"no number at \$.load.max"):
        WebProvider({"json_path": "$.load.max"}).read(fake_prometheus + "/x")
    with pytest.raises(MonitoringError, match="no number at the body"):
        WebProvider({}).read(fake_prometheus + "/x")
    with pytest.raises(MonitoringError, match="no answer"):
        WebProvider({"timeout": 1}).read("http://127.0.0.1:9/")


def test_the_command_provider_runs_an_argument_list_and_reads_one_number() -> None:
    python = sys.executable
    assert CommandProvider({}).read(f"{python} -c 'print(0.75)'") == [({}, 0.75)]
    with pytest.raises(MonitoringError, match="exited with code 3"):
        CommandProvider({}).read(f"{python} -c 'import sys; sys.exit(3)'")
    with pytest.raises(MonitoringError, match="not a number"):
        CommandProvider({}).read(f"{python} -c 'print(\"high\")'")
    # no shell: a metacharacter is an argument, not a pipe
    with pytest.raises(MonitoringError, match="not a number"):
        CommandProvider({}).read(f"{python} -c 'import sys; print(sys.argv[1:])' '|' true")


def test_logs_queries_and_records_are_read_or_refused() -> None:
    assert parse_query("version=v2 level=error|critical") == ("v2", frozenset({"error", "critical"}))
    assert parse_query("version=v2") == ("v2", None)
    with pytest.raises(MonitoringError, match="expected 'version=<name>'"):
        parse_query("level=error")
    assert read_record('{"level": "ERROR", "msg": "boom"}', None, "level", "msg") == ("error", "boom")
    assert read_record("[1, 2]", None, "level", "msg") == ("unparsed", "[1, 2]")
    assert read_record("not json", None, "level", "msg") == ("unparsed", "not json")
    pattern = re.compile(r"^(?P<level>[A-Z]+) (?P<message>.*)$")
    assert read_record("WARN disk 91%", pattern, "", "") == ("warn", "disk 91%")


def test_the_logs_provider_follows_a_growing_file_line_by_line(tmp_path: Path) -> None:
    log = tmp_path / "v2.log"
    log.write_bytes(b'{"level": "info", "msg": "a"}\n{"level": "error", "msg": "b"}\n{"level": "err')
    provider = LogsProvider({})
    provider.follow({"v2": log})
    assert provider.read("version=v2") == [({}, 2.0)]  # the half-written line waits for its end
    with log.open("ab") as out:
        out.write(b'or", "msg": "c"}\nplain text\n')
    assert provider.read("version=v2 level=error") == [({}, 2.0)]
    assert provider.read("version=v2") == [({}, 4.0)]  # the unparsed line is counted, never dropped
    assert provider.last_lines("v2", frozenset({"error"})) == ["b", "c"]
    log.unlink()  # the process stopped and its log is gone: its counts stay
    assert provider.read("version=v2") == [({}, 4.0)]
    assert provider.read("version=v3") == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"format": "xml"}, "expected json or regex"),
        ({"format": "regex", "pattern": "(unclosed"}, "not a regular expression"),
        ({"format": "regex", "pattern": "(?P<msg>.*)"}, "named group (?P<level>"),
    ],
)
def test_bad_logs_options_are_configuration_errors(options: dict[str, str], message: str) -> None:
    metric = {"name": "errlines", "type": "ratio", "provider": "logs", "max_increase": 0.01}
    metric |= {"events": "version={{ version }} level=error", "total": "version={{ version }}"}
    with pytest.raises(ConfigError) as err:
        parse_monitoring({"logs": options, "metrics": [metric]}, "pyproject.toml")
    assert "deploy.monitoring.logs" in str(err.value)
    assert message in str(err.value)


ANALYSIS = DATA / "samples" / "analysis"


def test_a_real_argo_analysis_template_becomes_value_signals() -> None:
    """The App Mesh example's template (followed by a Rollout in the same file): its query with the argument
    filled, its successCondition, Argo's rules."""
    (table,) = argo_metrics(
        ANALYSIS / "argo-rollouts-appmesh-prometheus-analysistemplate.yaml", {"envoy_cluster_name": "{{ version }}"}
    )
    assert table["name"] == "success-rate"
    assert table["success_condition"] == "result[0] >= 0.99"
    assert 'envoy_cluster_name="{{ version }}"' in table["query"]
    assert "args." not in table["query"]
    settings = parse_monitoring(
        {
            "argo_template": "tests/data/samples/analysis/argo-rollouts-appmesh-prometheus-analysistemplate.yaml",
            "argo_args": {"envoy_cluster_name": "{{ version }}"},
        },
        str(ROOT / "pyproject.toml"),
    )
    (metric,) = settings.metrics
    assert judge_signal(metric, {"value": {"": 0.995}}, {}).verdict == "pass"
    failed = judge_signal(metric, {"value": {"": 0.97}}, {})
    assert failed.verdict == "fail"
    assert "successCondition 'result[0] >= 0.99' is false" in failed.reason


@pytest.mark.parametrize(
    ("sample", "args", "message"),
    [
        ("argo-rollouts-appmesh-prometheus-analysistemplate.yaml", {}, "{{args.envoy_cluster_name}} has no value"),
        ("argo-rollouts-appmesh-prometheus-analysistemplate.yaml", {"nope": "x"}, "['nope'] are not arguments"),
        ("argo-rollouts-web-inconclusive-analysistemplate.yaml", {}, "only the prometheus provider"),
        ("argo-rollouts-experiment-dry-run-analysis.yaml", {}, "only the prometheus provider"),
    ],
)
def test_argo_templates_that_cannot_mean_the_same_here_are_refused_by_name(
    sample: str, args: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        argo_metrics(ANALYSIS / sample, args)
    assert sample in str(err.value)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind: Rollout\n", "found kinds ['Rollout']"),
        ("kind: AnalysisTemplate\nspec: {metrics: []}\n", "non-empty list"),
        (
            "kind: AnalysisTemplate\nspec: {metrics: [{name: m, provider: {prometheus: {query: up}}, "
            "successCondition: 'len(result) == 0 || result[0] > 1'}]}\n",
            "cannot read the condition",
        ),
        ("kind: AnalysisTemplate\n  - broken: [\n", "not YAML"),
    ],
)
def test_hostile_templates_are_named_errors(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "t.yaml").write_text(text)
    (tmp_path / "pyproject.toml").touch()  # the template's path is relative to it
    with pytest.raises(ConfigError) as err:
        parse_monitoring({"argo_template": "t.yaml"}, str(tmp_path / "pyproject.toml"))
    assert message in str(err.value)


def test_argo_rules_for_conditions() -> None:
    both = SignalMetric("m", "value", query="q", success="result[0] > 10", failure="result < 0")
    assert judge_signal(both, {"value": {"": 11}}, {}).verdict == "pass"
    assert judge_signal(both, {"value": {"": -1}}, {}).verdict == "fail"
    assert judge_signal(both, {"value": {"": 5}}, {}).verdict == "inconclusive"
    only_failure = SignalMetric("m", "value", query="q", failure="result[0] >= 0.05")
    assert judge_signal(only_failure, {"value": {"": 0.01}}, {}).verdict == "pass"
    assert judge_signal(only_failure, {"value": {"": 0.05}}, {}).verdict == "fail"
