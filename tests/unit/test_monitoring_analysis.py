"""The anchors' shapes of analysis without a server: Keptn criteria bands, Kayenta's series comparison and
weighted scoring (groups, weights, critical and muted metrics, NaN strategy, direction, effect size), and the
imports of real Flagger, Kayenta and Keptn files (tests/data/samples/analysis, SOURCES.md) with every refusal
naming the file and key."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA

from pytest_iotops.deploy.judge import MetricResult, MetricSpec
from pytest_iotops.errors import ConfigError
from pytest_iotops.monitoring.analysis import judge_criteria, judge_series, parse_criterion
from pytest_iotops.monitoring.config import parse_monitoring
from pytest_iotops.monitoring.scoring import Scoring
from pytest_iotops.monitoring.signals import SignalMetric, judge_signal

ANALYSIS = DATA / "samples" / "analysis"


@pytest.mark.parametrize(
    ("text", "value", "base", "holds"),
    [
        ("<600", 599.0, None, True),
        ("<600", 600.0, None, False),
        ("<=+10%", 110.0, 100.0, True),
        ("<=+10%", 110.5, 100.0, False),
        (">=-5%", 95.0, 100.0, True),
        (">=-5%", 94.0, 100.0, False),
        ("<=+100", 250.0, 150.0, True),  # a signed number without % is an amount over the comparison value
        ("<=+100", 251.0, 150.0, False),
        ("=0", 0.0, None, True),
        ("=0", 1e-3, None, False),
        ("<=1%", 1.0, None, True),  # unsigned: the value itself, written in percent
        (">4000", 4000.0, None, False),
        ("<=+10%", 1.0, None, None),  # relative without a comparison value: unknown
    ],
)
def test_keptn_criteria_read_as_keptn_documents_them(text: str, value: float, base: float | None, holds: bool) -> None:
    assert parse_criterion(text).holds(value, base) is holds


@pytest.mark.parametrize("text", ["600", "<=10%%", "<< 3", "<=+", "≤5", "<=+10 %x"])
def test_a_criterion_that_is_not_one_is_refused_with_the_forms_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="expected <op><number>"):
        parse_criterion(text)


@pytest.mark.parametrize(
    ("value", "base", "verdict"),
    [
        (500.0, 480.0, "pass"),  # under 1000 and within +10 % of the stable version
        (700.0, 500.0, "marginal"),  # +40 %: not a pass, but under the warning's 1200
        (1300.0, 1250.0, "fail"),  # within +10 % but over every absolute bound
        (500.0, None, "marginal"),  # the relative criterion cannot hold without a stable value
        (None, 500.0, "inconclusive"),  # no value: the signal's no-data verdict
    ],
)
def test_keptn_bands_give_pass_warning_or_fail(value: float | None, base: float | None, verdict: str) -> None:
    result = judge_criteria("p90", value, base, [["<=+10%", "<1000"]], [["<=1200"]], "inconclusive")
    assert result.verdict == verdict, result.reason


def test_or_ed_criteria_blocks_pass_when_any_block_holds() -> None:
    result = judge_criteria("p90", 1500.0, 1400.0, [["<1000"], ["<=+10%"]], [], "fail")
    assert result.verdict == "pass"
    result = judge_criteria("p90", 1600.0, 1400.0, [["<1000"], ["<=+10%"]], [], "fail")
    assert result.verdict == "fail"
    assert "<1000" in result.reason
    assert "<=+10%" in result.reason


def _series(mean: float, n: int = 40, seed: int = 1, spread: float = 1.0) -> list[float]:
    rng = random.Random(seed)
    return [mean + rng.gauss(0, spread) for _ in range(n)]


def _compare(c: list[float], s: list[float], **kw: Any) -> MetricResult:
    options: dict[str, Any] = {
        "direction": "increase",
        "allowed_increase": 1.0,
        "allowed_decrease": 1.0,
        "alpha": 0.01,
        "min_samples": 10,
        "no_data": "inconclusive",
    }
    return judge_series("cpu", c, s, **{**options, **kw})


def test_a_series_that_rises_fails_only_the_direction_that_forbids_it() -> None:
    high, base = _series(12.0, seed=1), _series(10.0, seed=2)
    assert _compare(high, base).verdict == "fail"
    assert _compare(high, base, direction="either").verdict == "fail"
    assert _compare(high, base, direction="decrease").verdict == "pass"
    assert _compare(base, high, direction="decrease").verdict == "fail"
    assert _compare(base, high).verdict == "pass"


def test_a_series_with_equal_distributions_passes_in_every_direction() -> None:
    failures = sum(
        _compare(_series(10.0, seed=2 * i), _series(10.0, seed=2 * i + 1), direction="either").verdict == "fail"
        for i in range(100)
    )
    assert failures <= 4  # alpha 0.01: about one in a hundred by chance


def test_a_significant_rise_within_the_allowed_effect_size_passes() -> None:
    rise, base = _series(10.5, seed=3, spread=0.1), _series(10.0, seed=4, spread=0.1)
    failed = _compare(rise, base)
    assert failed.verdict == "fail"
    assert "ratio 1.05" in failed.reason
    assert _compare(rise, base, allowed_increase=1.1).verdict == "pass"
    assert _compare(rise, base, allowed_increase=1.02).verdict == "fail"


def test_a_series_too_short_is_inconclusive_and_an_empty_one_is_no_data() -> None:
    assert _compare(_series(12.0, n=5), _series(10.0)).verdict == "inconclusive"
    assert _compare([], _series(10.0), no_data="fail").verdict == "fail"


def test_nan_samples_are_removed_or_counted_as_zero() -> None:
    nan = float("nan")
    canary = [nan] * 30 + [10.0] * 30
    metric = SignalMetric("cpu", "series", query="q", limits=MetricSpec("error_rate", min_samples=10, alpha=0.01))
    from pytest_iotops.monitoring.signals import judge_series as judge_metric

    removed = judge_metric(metric, canary, [10.0] * 30)
    assert removed.samples == 30
    assert removed.verdict == "pass"
    replaced = judge_metric(
        SignalMetric("cpu", "series", query="q", nan="replace", direction="decrease", limits=metric.limits),
        canary,
        [10.0] * 30,
    )
    assert replaced.samples == 60
    assert replaced.verdict == "fail"  # half of its samples are now 0: a fall


def test_a_value_signal_with_nan_replace_reads_zero_and_a_decrease_direction_fails_a_drop() -> None:
    spec = MetricSpec("error_rate", max_increase=5.0)
    drop = SignalMetric("throughput", "value", query="q", direction="decrease", limits=spec)
    assert judge_signal(drop, {"value": {"": 90.0}}, {"value": {"": 100.0}}).verdict == "fail"
    assert judge_signal(drop, {"value": {"": 110.0}}, {"value": {"": 100.0}}).verdict == "pass"
    nan = SignalMetric("errors", "value", query="q", nan="replace", limits=MetricSpec("error_rate", max_value=1.0))
    zero = judge_signal(nan, {"value": {"": math.nan}}, {})
    assert (zero.verdict, zero.value) == ("pass", 0.0)
    kept = judge_signal(SignalMetric("errors", "value", query="q", limits=nan.limits), {"value": {"": math.nan}}, {})
    assert kept.verdict == "inconclusive"  # removed: no data


def _result(name: str, verdict: str) -> MetricResult:
    return MetricResult(name, verdict, 1.0, 1.0, 100, f"{name} {verdict}")  # type: ignore[arg-type]


def _signal(name: str, group: str = "", critical: bool = False) -> SignalMetric:
    return SignalMetric(name, "value", query="q", group=group, critical=critical)


def test_weighted_scoring_is_the_weighted_mean_of_group_shares() -> None:
    """Group a (weight 3): 1 of 2 pass = 50; group b (weight 1): marginal = 50 % ... so 3*50+1*50 / 4 = 50;
    then with b passing: (3*50 + 100) / 4 = 62.5."""
    scoring = Scoring("weighted", pass_score=90, marginal_score=60, weights={"a": 3, "b": 1})
    signals = [
        (_result("x", "pass"), _signal("x", "a")),
        (_result("y", "fail"), _signal("y", "a")),
        (_result("z", "marginal"), _signal("z", "b")),
    ]
    judged = scoring.score([], signals)
    assert judged.score == pytest.approx(50.0)
    assert judged.verdict == "fail"
    assert "y (a): y fail" in judged.reason
    signals[2] = (_result("z", "pass"), _signal("z", "b"))
    judged = scoring.score([], signals)
    assert judged.score == pytest.approx(62.5)
    assert judged.verdict == "marginal"
    assert scoring.score([], [(_result("x", "pass"), _signal("x", "a"))]).verdict == "pass"


def test_a_critical_failure_or_a_router_failure_fails_whatever_the_score() -> None:
    scoring = Scoring("weighted", pass_score=50, marginal_score=10)
    many = [(_result(f"m{i}", "pass"), _signal(f"m{i}")) for i in range(9)]
    critical = scoring.score([], [*many, (_result("key", "fail"), _signal("key", critical=True))])
    assert (critical.verdict, critical.score) == ("fail", 0.0)
    assert "critical signal key failed" in critical.reason
    assert scoring.score([], [*many, (_result("key", "fail"), _signal("key"))]).verdict == "pass"  # 90 %
    router = scoring.score([_result("error_rate", "fail")], many)
    assert router.verdict == "fail"
    assert scoring.score([], [*many, (_result("slow", "inconclusive"), _signal("slow"))]).verdict == "inconclusive"


def test_gate_scoring_fails_on_any_failing_signal_as_before() -> None:
    many = [(_result(f"m{i}", "pass"), _signal(f"m{i}")) for i in range(9)]
    assert Scoring().score([], [*many, (_result("one", "fail"), _signal("one"))]).verdict == "fail"


def _where(tmp_path: Path) -> str:
    (tmp_path / "pyproject.toml").touch()
    return str(tmp_path / "pyproject.toml")


def _copy(tmp_path: Path, *names: str) -> None:
    for name in names:
        (tmp_path / name).write_bytes((ANALYSIS / name).read_bytes())


def test_a_real_kayenta_config_becomes_series_signals_with_weighted_scoring(tmp_path: Path) -> None:
    _copy(tmp_path, "kayenta-canary-config-prometheus-muted.json")
    settings = parse_monitoring(
        {
            "imports": [
                {
                    "format": "kayenta",
                    "path": "kayenta-canary-config-prometheus-muted.json",
                    "args": {"namespace": "shop"},
                }
            ]
        },
        _where(tmp_path),
    )
    failing, successful = settings.metrics
    assert failing.kind == "series"
    assert failing.query == "sum(integration_failing_metric{namespace='shop', scope='{{ version }}'})"
    assert (failing.critical, failing.dry_run, failing.group) == (True, True, "pod-group")  # muted: never decides
    assert (successful.critical, successful.dry_run, successful.direction) == (True, False, "increase")
    scoring = settings.scoring
    assert (scoring.mode, scoring.pass_score, scoring.marginal_score) == ("weighted", 75.0, 50.0)
    assert scoring.weights == {"pod-group": 100.0}


def test_a_kayenta_config_of_another_metric_store_is_refused_by_name(tmp_path: Path) -> None:
    _copy(tmp_path, "kayenta-canary-config-signalfx.json")
    with pytest.raises(ConfigError, match=r"metrics\[0\] \(Cpu Usage Percentage\)\.query\.type = 'signalfx'"):
        parse_monitoring(
            {"imports": [{"format": "kayenta", "path": "kayenta-canary-config-signalfx.json"}]}, _where(tmp_path)
        )


SLI = """---
spec_version: "1.0"
indicators:
  response_time_p90: >-
    histogram_quantile(0.9, sum by (le)
    (rate(sensorapi_request_duration_seconds_bucket{version="$DEPLOYMENT"}[$DURATION_SECONDS]))) * 1000
  problem_open: sum(ALERTS{alertstate="firing",service="$SERVICE"}) or vector(0)
  response_time_p95: histogram_quantile(0.95, sum by (le) (rate(x_bucket{version="$DEPLOYMENT"}[$DURATION_SECONDS])))
  throughput: sum(rate(x_total{version="$DEPLOYMENT"}[$DURATION_SECONDS]))
  error_rate: sum(rate(x_total{version="$DEPLOYMENT",code="500"}[$DURATION_SECONDS]))
  response_time_p50: histogram_quantile(0.5, sum by (le) (rate(x_bucket{version="$DEPLOYMENT"}[$DURATION_SECONDS])))
"""


def test_a_real_keptn_slo_becomes_criteria_signals_with_its_total_score(tmp_path: Path) -> None:
    _copy(tmp_path, "keptn-slo-1.0-key-sli.yaml")
    (tmp_path / "sli.yaml").write_text(SLI)
    settings = parse_monitoring(
        {
            "imports": [
                {
                    "format": "keptn",
                    "path": "keptn-slo-1.0-key-sli.yaml",
                    "sli": "sli.yaml",
                    "args": {"SERVICE": "carts"},
                }
            ]
        },
        _where(tmp_path),
    )
    p90, problem = settings.metrics
    assert p90.pass_criteria == (("<=+10%", "<1000"),)
    assert p90.warning_criteria == (("<=1200",),)
    assert 'version="{{ version }}"' in p90.query
    assert "[{{ interval }}]" in p90.query
    assert (problem.critical, problem.pass_criteria) == (True, (("=0",),))
    assert 'service="carts"' in problem.query
    assert (settings.scoring.mode, settings.scoring.pass_score, settings.scoring.marginal_score) == (
        "weighted",
        90.0,
        40.0,
    )
    assert judge_signal(p90, {"value": {"": 1100.0}}, {"value": {"": 1050.0}}).verdict == "marginal"


def test_an_older_keptn_slo_keeps_weights_and_informational_objectives(tmp_path: Path) -> None:
    _copy(tmp_path, "keptn-slo-0.1.0-informational-objectives.yaml")
    (tmp_path / "sli.yaml").write_text(SLI)
    settings = parse_monitoring(
        {"imports": [{"format": "keptn", "path": "keptn-slo-0.1.0-informational-objectives.yaml", "sli": "sli.yaml"}]},
        _where(tmp_path),
    )
    by_name = {m.name: m for m in settings.metrics}
    assert by_name["response_time_p50"].dry_run  # no criteria: measured, never scored
    assert not by_name["error_rate"].dry_run
    assert settings.scoring.weights["error_rate"] == 2.0
    assert settings.scoring.marginal_score == 75.0


def test_keptn_import_errors_name_the_file_and_key(tmp_path: Path) -> None:
    _copy(tmp_path, "keptn-slo-1.0-key-sli.yaml")
    where = _where(tmp_path)
    entry = {"format": "keptn", "path": "keptn-slo-1.0-key-sli.yaml"}
    with pytest.raises(ConfigError, match=r'needs sli = "<sli\.yaml>"'):
        parse_monitoring({"imports": [entry]}, where)
    (tmp_path / "sli.yaml").write_text(SLI)
    with pytest.raises(ConfigError, match=r"objectives\[1\] \(problem_open\): \$SERVICE has no value"):
        parse_monitoring({"imports": [{**entry, "sli": "sli.yaml"}]}, where)
    (tmp_path / "sli.yaml").write_text('indicators:\n  problem_open: "1"\n')
    with pytest.raises(ConfigError, match=r"the SLI 'response_time_p90' is not in"):
        parse_monitoring({"imports": [{**entry, "sli": "sli.yaml"}]}, where)
    (tmp_path / "slo.yaml").write_text("objectives:\n  - sli: problem_open\n    pass:\n      - criteria: ['about 3']\n")
    with pytest.raises(ConfigError, match=r"objectives\[0\] \(problem_open\)\.pass\[0\]\.criteria: cannot read"):
        parse_monitoring({"imports": [{"format": "keptn", "path": "slo.yaml", "sli": "sli.yaml"}]}, where)


def test_a_real_flagger_canary_with_its_metric_templates_becomes_value_signals(tmp_path: Path) -> None:
    _copy(tmp_path, "flagger-canary-templateref.yaml", "flagger-metrictemplates-istio.yaml")
    settings = parse_monitoring(
        {
            "imports": [
                {
                    "format": "flagger",
                    "path": "flagger-canary-templateref.yaml",
                    "templates": "flagger-metrictemplates-istio.yaml",
                }
            ]
        },
        _where(tmp_path),
    )
    errors, latency = settings.metrics
    assert (errors.name, errors.limits.max_value, latency.limits.max_value) == ("error-rate", 1, 500)
    assert 'destination_workload=~"{{ version }}"' in errors.query
    assert 'destination_workload_namespace="prod"' in errors.query  # the Canary's namespace
    assert "[{{ interval }}]" in latency.query
    assert settings.scoring.mode == "gate"


def test_flagger_built_in_metrics_and_missing_templates_are_refused_with_what_to_do(tmp_path: Path) -> None:
    _copy(tmp_path, "flagger-canary-istio-builtin-metrics.yaml", "flagger-canary-templateref.yaml")
    where = _where(tmp_path)
    with pytest.raises(ConfigError, match=r"request-success-rate\): a built-in Flagger metric .* error_rate_max"):
        parse_monitoring(
            {"imports": [{"format": "flagger", "path": "flagger-canary-istio-builtin-metrics.yaml"}]}, where
        )
    with pytest.raises(ConfigError, match="MetricTemplate istio-system/error-rate not found"):
        parse_monitoring({"imports": [{"format": "flagger", "path": "flagger-canary-templateref.yaml"}]}, where)


@pytest.mark.parametrize(
    ("monitoring", "message"),
    [
        ({"imports": [{"format": "spinnaker", "path": "x"}]}, "format = 'spinnaker': expected one of argo"),
        ({"imports": [{"format": "keptn", "path": "x", "templates": "y"}]}, r"unknown key\(s\) \['templates'\]"),
        ({"imports": {"format": "argo"}}, "imports must be an array of tables"),
        ({"scoring": "majority"}, "scoring = 'majority'"),
        ({"pass_score": 120}, "expected a score from 0 to 100"),
        ({"pass_score": 60, "marginal_score": 70}, "marginal_score is above pass_score"),
        ({"groups": {"nobody": 1}}, r"groups \['nobody'\]: no signal scores in them"),
        ({"groups": {"q": -1}}, "groups.q"),
    ],
)
def test_scoring_and_import_errors_name_the_key(tmp_path: Path, monitoring: dict[str, Any], message: str) -> None:
    value = {"name": "q", "type": "value", "query": "up", "max_value": 1}
    with pytest.raises(ConfigError, match=message):
        parse_monitoring({"metrics": [value], **monitoring}, _where(tmp_path))


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        ({"type": "value", "query": "up", "pass_criteria": [["<1", "about"]]}, "cannot read the criterion 'about'"),
        (
            {"type": "ratio", "events": "{{ version }}", "total": "{{ version }}", "pass_criteria": ["<1"]},
            "pass_criteria apply to a value",
        ),
        ({"type": "value", "query": "up", "warning_criteria": ["<1"]}, "warning_criteria only beside them"),
        ({"type": "series", "query": "up"}, "never name {{ version }}"),
        ({"type": "value", "query": "up", "direction": "sideways", "max_value": 1}, "direction = 'sideways'"),
        ({"type": "value", "query": "up", "nan": "keep", "max_value": 1}, "nan = 'keep'"),
    ],
)
def test_a_signal_in_the_anchors_shape_is_checked_key_by_key(
    tmp_path: Path, metric: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_monitoring({"metrics": [{"name": "q", **metric}]}, _where(tmp_path))


def test_written_criteria_and_groups_make_a_weighted_analysis(tmp_path: Path) -> None:
    settings = parse_monitoring(
        {
            "scoring": "weighted",
            "pass_score": 80,
            "groups": {"latency": 2},
            "metrics": [
                {
                    "name": "p90",
                    "type": "value",
                    "query": "up",
                    "group": "latency",
                    "pass_criteria": ["<=+10%", "<1000"],
                },
                {"name": "cpu", "type": "series", "query": 'x{version="{{ version }}"}', "allowed_increase": 1.2},
            ],
        },
        _where(tmp_path),
    )
    p90, cpu = settings.metrics
    assert p90.pass_criteria == (("<=+10%", "<1000"),)
    assert (cpu.kind, cpu.allowed_increase, cpu.scored_in) == ("series", 1.2, "cpu")
    assert settings.scoring == Scoring("weighted", 80.0, 75.0, {"latency": 2.0})
    assert json.dumps(p90.pass_criteria)  # plain data: it goes into the run report's settings


def test_argo_failure_limit_tolerates_that_many_failed_steps_of_a_signal(tmp_path: Path) -> None:
    """The App Mesh template's failureLimit: 3 (a real file): three failed steps of the signal are tolerated
    and shown, the fourth decides; inconclusive_limit the same for inconclusive steps; a new deployment starts
    from zero."""
    from pytest_iotops.monitoring.monitor import Monitor

    settings = parse_monitoring(
        {
            "imports": [
                {
                    "format": "argo",
                    "path": str(ANALYSIS / "argo-rollouts-appmesh-prometheus-analysistemplate.yaml"),
                    "args": {"envoy_cluster_name": "{{ version }}"},
                }
            ]
        },
        _where(tmp_path),
    )
    (metric,) = settings.metrics
    assert (metric.failure_limit, metric.inconclusive_limit) == (3, 0)
    monitor = Monitor(settings.metrics, {})

    def step(verdict: str) -> MetricResult:
        result = _result(metric.name, verdict)
        ((settled, _, _),) = monitor.settle([(result, metric.spec(), False)])
        return settled

    monitor.begin()
    assert [step("fail").verdict for _ in range(3)] == ["pass"] * 3
    fourth = step("fail")
    assert fourth.verdict == "fail"
    assert "fail 4, more than failureLimit 3" in fourth.reason
    assert step("inconclusive").verdict == "inconclusive"  # inconclusiveLimit 0: no tolerance
    monitor.begin()
    tolerated = step("fail")
    assert (tolerated.verdict, tolerated.reason) == (
        "pass",
        f"tolerated (fail 1 of failureLimit 3): {metric.name} fail",
    )


def test_a_written_inconclusive_limit_tolerates_inconclusive_steps_and_never_touches_dry_runs(tmp_path: Path) -> None:
    from pytest_iotops.monitoring.monitor import Monitor

    settings = parse_monitoring(
        {"metrics": [{"name": "q", "type": "value", "query": "up", "max_value": 1, "inconclusive_limit": 1}]},
        _where(tmp_path),
    )
    (metric,) = settings.metrics
    monitor = Monitor(settings.metrics, {})
    first = _result("q", "inconclusive")
    second = _result("q", "inconclusive")
    dry = _result("q", "fail")
    monitor.settle([(first, metric.spec(), False), (dry, metric.spec(), True)])
    monitor.settle([(second, metric.spec(), False)])
    assert (first.verdict, second.verdict, dry.verdict) == ("pass", "inconclusive", "fail")
    with pytest.raises(ConfigError, match="failure_limit = -1"):
        parse_monitoring(
            {"metrics": [{"name": "q", "type": "value", "query": "up", "max_value": 1, "failure_limit": -1}]},
            _where(tmp_path),
        )


def test_keptn_relative_criteria_compare_with_earlier_runs_when_a_history_is_configured(tmp_path: Path) -> None:
    """The SLO's comparison block (single_result, include pass, avg) makes its criteria compare with earlier
    runs: the monitor asks the history once per deployment for the mean of the last promoted values; without a
    history the stable version is the comparison; an earlier value that is missing fails the relative criterion."""
    from pytest_iotops.monitoring.monitor import Monitor

    _copy(tmp_path, "keptn-slo-1.0-key-sli.yaml")
    (tmp_path / "sli.yaml").write_text(SLI)
    settings = parse_monitoring(
        {
            "imports": [
                {"format": "keptn", "path": "keptn-slo-1.0-key-sli.yaml", "sli": "sli.yaml", "args": {"SERVICE": "c"}}
            ]
        },
        _where(tmp_path),
    )
    p90 = settings.metrics[0]
    assert (p90.compare_with, p90.history_runs, p90.history_include) == ("history", 1, "pass")
    asked: list[tuple[list[str], int, bool]] = []

    def lookup(names: list[str], runs: int, promoted_only: bool) -> dict[str, list[float]]:
        asked.append((names, runs, promoted_only))
        return {"response_time_p90": [400.0, 900.0]}

    monitor = Monitor(settings.metrics, {}, history=lookup)
    assert monitor._read_history() == {"response_time_p90": 400.0, "problem_open": None}  # once per deployment
    assert asked == [(["response_time_p90", "problem_open"], 1, True)]
    # 430 is within +10 % of the earlier run's 400 (the stable version's 300 would not allow it)
    ok = judge_signal(p90, {"value": {"": 430.0}}, {"value": {"": 300.0}, "history": {"": 400.0}})
    assert ok.verdict == "pass", ok.reason
    assert "(earlier runs' 400)" in ok.reason
    missing = judge_signal(p90, {"value": {"": 430.0}}, {"value": {"": 300.0}, "history": {}})
    assert missing.verdict == "marginal"  # <1200 warning holds; <=+10% cannot without an earlier run
    assert "<=+10% (no earlier runs' value)" in missing.reason
    assert Monitor(settings.metrics, {})._read_history() == {}  # no history: the stable version


def test_keptn_comparison_blocks_are_read_or_refused_by_name(tmp_path: Path) -> None:
    where = _where(tmp_path)
    (tmp_path / "sli.yaml").write_text(SLI)
    objective = "objectives:\n  - sli: throughput\n    pass:\n      - criteria: ['<=+10%']\n"
    for comparison, expected in [
        ("compare_with: several_results\n  number_of_comparison_results: 3\n", (3, "all")),
        ("include_result_with_score: pass_or_warn\n", (1, "pass")),
    ]:
        (tmp_path / "slo.yaml").write_text(f"comparison:\n  {comparison}{objective}")
        (m,) = parse_monitoring(
            {"imports": [{"format": "keptn", "path": "slo.yaml", "sli": "sli.yaml"}]}, where
        ).metrics
        assert (m.history_runs, m.history_include) == expected
    (tmp_path / "slo.yaml").write_text(f"comparison:\n  aggregate_function: p90\n{objective}")
    with pytest.raises(ConfigError, match=r"comparison\.aggregate_function = 'p90': only avg"):
        parse_monitoring({"imports": [{"format": "keptn", "path": "slo.yaml", "sli": "sli.yaml"}]}, where)
