"""Response checks (status, JSON path, body regex, header) and the clients' view of availability: what they
accept and refuse, how a bad check is named, and that a failed check through a real target is an error of the
version that answered — the splitter's own log, which sees a 200, cannot tell."""

from __future__ import annotations

import time

import pytest
from deploy_service import TARGETS, open_target, version

from pytest_iotops.deploy.canary import CanaryLimits, canary
from pytest_iotops.deploy.checks import ResponseCheck, failures, json_path, parse_checks
from pytest_iotops.deploy.config import parse_deploy
from pytest_iotops.deploy.judge import MetricSpec, Samples, judge
from pytest_iotops.deploy.load import Load
from pytest_iotops.deploy.process import probe
from pytest_iotops.errors import ConfigError

JSON = {"Content-Type": "application/json"}
BODY = b'{"sensor": "boiler", "celsius": 21.5, "tags": ["a", {"b c": 1}]}'


@pytest.mark.parametrize(
    ("path", "steps"),
    [
        ("$", ()),
        ("$.celsius", ("celsius",)),
        ("$.tags[1]", ("tags", 1)),
        ('$.tags[1]["b c"]', ("tags", 1, "b c")),
        ("$.a['x y'].b-c", ("a", "x y", "b-c")),
    ],
)
def test_json_paths_are_read(path: str, steps: tuple) -> None:
    assert json_path(path) == steps


@pytest.mark.parametrize(
    ("check", "status", "headers", "body", "reason"),
    [
        (ResponseCheck(status=(200,)), 200, JSON, BODY, ""),
        (ResponseCheck(status=(200,)), 201, JSON, BODY, "status 201, expected 200"),
        (ResponseCheck(status=(200, 204)), 404, JSON, BODY, "status 404, expected 200 or 204"),
        (ResponseCheck(json_path="$.celsius"), 200, JSON, BODY, ""),
        (ResponseCheck(json_path="$.celsius"), 200, JSON, BODY[:20], "body is not JSON (20 bytes)"),
        (ResponseCheck(json_path="$.kelvin"), 200, JSON, BODY, "no $.kelvin in the body"),
        (ResponseCheck(json_path="$.tags[5]"), 200, JSON, BODY, "no $.tags[5] in the body"),
        (ResponseCheck(json_path='$.tags[1]["b c"]', equals=1), 200, JSON, BODY, ""),
        (ResponseCheck(json_path="$.celsius", equals=20), 200, JSON, BODY, "$.celsius = 21.5, expected 20"),
        (ResponseCheck(body_regex=r'"celsius": \d'), 200, JSON, BODY, ""),
        (ResponseCheck(body_regex="kelvin"), 200, JSON, BODY, "body does not match 'kelvin'"),
        (ResponseCheck(headers={"content-type": "^application/json"}), 200, JSON, BODY, ""),
        (ResponseCheck(headers={"Content-Type": "json"}), 200, {}, BODY, "no Content-Type header"),
        (
            ResponseCheck(headers={"Content-Type": "json$"}),
            200,
            {"content-type": "text/html"},
            BODY,
            "header Content-Type: 'text/html' does not match 'json$'",
        ),
        # hostile bodies are named, never an exception that would lose the request
        (
            ResponseCheck(json_path="$.a"),
            200,
            JSON,
            b"[" * 100_000 + b"]" * 100_000,
            "body is JSON nested too deep to read (200000 bytes)",
        ),
        (ResponseCheck(json_path="$.a"), 200, JSON, b"\xff\xfe{", "body is not JSON (3 bytes)"),
        (ResponseCheck(json_path="$.a"), 200, JSON, b"", "body is not JSON (0 bytes)"),
        (ResponseCheck(json_path="$.a"), 200, JSON, b'{"a": NaN}', ""),
        # without a status list, a 5xx still fails the check; a 404 does not (the load counts it by status)
        (ResponseCheck(body_regex="."), 503, JSON, BODY, "status 503"),
        (ResponseCheck(body_regex="."), 404, JSON, BODY, ""),
    ],
)
def test_a_check_names_what_failed(check, status, headers, body, reason) -> None:
    assert failures([check], "/sensors/boiler", status, headers, body) == (
        f"/sensors/boiler: {reason}" if reason else ""
    )


def test_a_check_applies_to_its_path_or_prefix_only() -> None:
    exact, prefix, every = ResponseCheck("/health", (200,)), ResponseCheck("/sensors/*", (200,)), ResponseCheck()
    assert exact.applies("/health")
    assert exact.applies("/health?x=1")
    assert not exact.applies("/healthz")
    assert prefix.applies("/sensors/boiler")
    assert not prefix.applies("/health")
    assert every.applies("/anything")
    assert failures([exact], "/sensors/x", 500, {}, b"") == ""


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({"checks": {"status": 200}}, "deploy.checks must be an array of tables"),
        ({"checks": [{"path": "/x"}]}, "deploy.checks #1: give at least one of"),
        ({"checks": [{"status": 200, "colour": "red"}]}, "unknown key 'deploy.checks #1: colour'"),
        ({"checks": [{"status": 700}]}, "deploy.checks #1: status = 700"),
        ({"checks": [{"status": True}]}, "deploy.checks #1: status = True"),
        ({"checks": [{"path": "sensors", "status": 200}]}, "deploy.checks #1: path = 'sensors'"),
        ({"checks": [{"status": 200}, {"body_regex": "(unclosed"}]}, "deploy.checks #2: body_regex = '(unclosed'"),
        ({"checks": [{"json_path": "celsius"}]}, "deploy.checks #1: json_path = 'celsius'"),
        ({"checks": [{"json_path": "$.a..b"}]}, "cannot read the JSON path from '..b'"),
        ({"checks": [{"status": 200, "equals": 3}]}, "equals needs a json_path"),
        ({"checks": [{"headers": {"X-A": "[z-a]"}}]}, "deploy.checks #1: headers"),
        ({"analysis": {"availability_min": 101}}, "deploy.analysis.availability_min = 101"),
    ],
)
def test_bad_checks_are_configuration_errors_naming_the_key(raw: dict, named: str) -> None:
    base = {"versions": {"v1": ["svc", "{port}"]}, "stable": "v1"}
    with pytest.raises(ConfigError) as caught:
        parse_deploy({**base, **raw}, "pyproject.toml")
    assert named in str(caught.value)
    assert "pyproject.toml" in str(caught.value)


def test_checks_and_availability_are_read_from_the_table() -> None:
    d = parse_deploy(
        {
            "versions": {"v1": ["svc", "{port}"]},
            "checks": [{"path": "/sensors/*", "status": [200], "json_path": "$.celsius", "equals": 1.5}],
            "analysis": {"availability_min": 99.5},
        },
        "p",
    )
    assert d.checks == parse_checks([{"path": "/sensors/*", "status": [200], "json_path": "$.celsius"}], "p")
    assert d.checks[0].equals == 1.5
    assert [m.min_value for m in d.metrics if m.name == "availability"] == [0.995]


AVAILABILITY = [MetricSpec("availability", min_value=0.99, min_samples=50)]


def test_availability_fails_only_when_significantly_below_its_limit() -> None:
    ok = judge(Samples(), Samples(), AVAILABILITY, client=Samples((1.0,) * 1000, errors=12))
    assert ok.verdict == "pass", ok.reason  # 1.2 % failed of 1000: not significantly over 1 %
    bad = judge(Samples(), Samples(), AVAILABILITY, client=Samples((1.0,) * 1000, errors=30))
    assert bad.verdict == "fail"
    assert "availability 97.00% (30 of 1000 requests failed) < 99.00%" in bad.reason
    few = judge(Samples(), Samples(), AVAILABILITY, client=Samples((1.0,) * 20))
    assert few.verdict == "inconclusive"
    assert "only 20 requests" in few.reason
    # no load reported to the target: the metric is left out, not passed
    assert judge(Samples(), Samples(), AVAILABILITY).reason == "no metrics configured"


@pytest.mark.parametrize("target_name", TARGETS)
def test_a_failed_check_is_an_error_of_the_version_that_answered(target_name: str) -> None:
    """good answers every request well, corrupt cuts every body short with a 200: the target's own log sees
    two healthy versions; the load's check and the X-Iotops-Version header put the failures on corrupt."""
    commands = {"good": version("good"), "corrupt": [*version("corrupt"), "--corrupt-rate", "1.0"]}
    check = ResponseCheck("/sensors/*", (200,), json_path="$.celsius")
    target = open_target(target_name, commands)
    try:
        target.start("good")
        target.start("corrupt")
        target.set_weights({"good": 50, "corrupt": 50})
        target.window()
        with Load(
            target.url, rate=100, concurrency=4, paths=["/sensors/boiler"], checks=[check], observe=target.observe
        ) as load:
            deadline = time.monotonic() + 20
            while load.result.requests < 60 and time.monotonic() < deadline:
                time.sleep(0.05)
        window = target.window()
        checks, client = target.observed()
    finally:
        target.close()
    assert window["corrupt"].errors == 0
    assert window["good"].errors == 0
    assert checks.get("good", 0) == 0
    assert checks["corrupt"] == load.result.check_failures > 0
    assert client.requests == load.result.requests
    assert client.errors == load.result.failures
    half = len(b'{"sensor": "boiler", "celsius": 9.6, "version": "corrupt"}') // 2
    assert set(load.result.by_check) == {f"/sensors/boiler: body is not JSON ({half} bytes)"}


def test_a_probe_failing_a_check_is_a_failed_probe() -> None:
    target = open_target("local", {"v1": version("v1")})
    try:
        process = target.start("v1")
        url = process.url + "/health"
        assert probe(url, checks=[ResponseCheck("/health", json_path="$.status", equals="ok")]) == (200, "200")
        status, seen = probe(url, checks=[ResponseCheck("/health", json_path="$.status", equals="down")])
    finally:
        target.close()
    assert status is None
    assert seen == '200 /health: $.status = "ok", expected "down"'


def test_a_canary_failing_a_health_check_is_rolled_back() -> None:
    """The health endpoint answers 200 {"status": "ok"}; a check demanding the version's own name there fails
    every probe of v2, which the status alone would pass."""
    target = open_target("local", {"v1": version("v1"), "v2": version("v2")})
    target.checks = (ResponseCheck("/health", json_path="$.version", equals="v1"),)
    try:
        target.start("v1")
        target.set_weights({"v1": 100})
        with Load(target.url, rate=100, concurrency=4, paths=["/sensors/boiler"], observe=target.observe):
            result = canary(
                target,
                "v1",
                "v2",
                steps=[50, 100],
                bake=0.3,
                bake_max=5,
                specs=[MetricSpec("error_rate", max_value=0.05, min_samples=5)],
                limits=CanaryLimits(),
            )
    finally:
        target.close()
    assert result.outcome == "rolled_back", result.explain()
    assert "health check failed" in result.reason
    assert '$.version = "v2", expected "v1"' in result.reason


def test_broken_answers_are_failed_requests_not_lost(tmp_path: object) -> None:
    """A service that cuts its body short or garbles its status line: each request is counted as failed."""
    import socket
    import threading

    answers = [
        b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"cut":',  # body cut short, then closed
        b"HTTQ/9 banana\r\n\r\n",  # not HTTP at all
    ]
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    port = server.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        n = 0
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(answers[n % len(answers)])
            n += 1

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with Load(f"http://127.0.0.1:{port}", rate=50, concurrency=2, timeout=2) as load:
            deadline = time.monotonic() + 10
            while load.result.requests < 10 and time.monotonic() < deadline:
                time.sleep(0.05)
        # a health probe of such a service is a failed probe, not an exception out of the canary's bake
        health = [ResponseCheck("/health", json_path="$.status")]  # a check reads the body, which is cut short
        probes = [probe(f"http://127.0.0.1:{port}/health", timeout=2, checks=health) for _ in range(2)]
    finally:
        stop.set()
        thread.join(5)
        server.close()
    assert load.result.requests >= 10
    assert load.result.failures == load.result.requests
    assert {"IncompleteRead", "BadStatusLine"} <= set(load.result.by_status), load.result.by_status
    assert [status for status, _ in probes] == [None, None]
    assert {seen for _, seen in probes} == {"IncompleteRead", "BadStatusLine"}
