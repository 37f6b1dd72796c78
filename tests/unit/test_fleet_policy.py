"""Policies in the anchors' own shapes: a real AWS IoT Jobs configuration (tests/data/samples/fleet, from a
Greengrass CloudFormation contract test), the camelCase create-job shape, hawkBit rollout bodies and the
pyproject table — and a hostile corpus where every error names the file and the key. Device messages are
fuzzed: a malformed one is a named problem, never an exception."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA
from hypothesis import given
from hypothesis import strategies as st

from pytest_iotops.errors import ConfigError
from pytest_iotops.fleet.policy import Policy, Rate, policy_from_table
from pytest_iotops.fleet.policy_files import load_policy, policy_from_aws, policy_from_hawkbit
from pytest_iotops.fleet.protocol import parse_ack, parse_command, parse_report, parse_tick

SAMPLES = DATA / "samples" / "fleet"


def test_the_greengrass_sample_reads_as_its_job_configuration_says() -> None:
    policy = load_policy(SAMPLES / "aws-greengrassv2-deployment-iot-job-config.json")
    assert policy.rate == Rate(1, 2.0, 1, "notified", 1)
    assert policy.waves == ()
    assert [(c.failure_type, c.min_executed, c.threshold_percentage) for c in policy.abort] == [("ALL", 1, 100.0)]
    assert policy.in_progress_timeout == 60.0
    assert "IotJobConfiguration" in policy.source


def test_the_camel_case_create_job_shape_with_retries() -> None:
    doc = {
        "jobId": "fw-2",
        "jobExecutionsRolloutConfig": {
            "maximumPerMinute": 50,
            "exponentialRate": {
                "baseRatePerMinute": 5,
                "incrementFactor": 1.5,
                "rateIncreaseCriteria": {"numberOfSucceededThings": 20},
            },
        },
        "abortConfig": {
            "criteriaList": [
                {
                    "failureType": "TIMED_OUT",
                    "action": "CANCEL",
                    "minNumberOfExecutedThings": 10,
                    "thresholdPercentage": 20,
                }
            ]
        },
        "timeoutConfig": {"inProgressTimeoutInMinutes": 120},
        "jobExecutionsRetryConfig": {"criteriaList": [{"failureType": "TIMED_OUT", "numberOfRetries": 2}]},
    }
    policy = policy_from_aws(doc, "job.json")
    assert policy.rate == Rate(5, 1.5, 20, "succeeded", 50)
    assert policy.retries == {"TIMED_OUT": 2}
    assert policy.in_progress_timeout == 7200.0


def test_hawkbit_groups_take_a_share_of_the_remaining_targets() -> None:
    body = {
        "name": "fw",
        "distributionSetId": 7,
        "amountGroups": 3,
        "successCondition": {"condition": "THRESHOLD", "expression": "90"},
        "successAction": {"action": "NEXTGROUP", "expression": ""},
        "errorCondition": {"condition": "THRESHOLD", "expression": "20"},
        "errorAction": {"action": "PAUSE", "expression": ""},
        "groups": [
            {"name": "canary", "targetPercentage": 10},
            {"name": "half", "targetPercentage": 50},
            {"name": "rest", "targetPercentage": 100},
        ],
    }
    policy = policy_from_hawkbit(body, "rollout.json")
    assert policy.waves == (10.0, 55.0, 100.0)
    assert (policy.wave_success_percentage, policy.wave_error_percentage) == (90.0, 20.0)
    assert policy_from_hawkbit({"amountGroups": 4}, "r").waves == (25.0, 50.0, 75.0, 100.0)


def test_the_pyproject_table() -> None:
    policy = policy_from_table(
        {
            "waves": [1, 10, 100],
            "max_failure_rate": 0.01,
            "confidence": 0.99,
            "retries": {"failed": 1},
            "abort": [{"failure_type": "ALL", "min_executed": 5, "threshold_percentage": 50}],
        },
        "t",
    )
    assert policy.waves == (1.0, 10.0, 100.0)
    assert policy.retries == {"FAILED": 1}
    assert policy.abort[0].threshold_percentage == 50.0


HOSTILE: list[tuple[str, Any, str]] = [
    ("aws", {"jobExecutionsRolloutConfig": {"maximumPerMinute": 0}}, "maximumPerMinute: 0 is outside"),
    ("aws", {"jobExecutionsRolloutConfig": {"maximumPerMinute": "10"}}, "maximumPerMinute: expected an integer"),
    (
        "aws",
        {
            "jobExecutionsRolloutConfig": {
                "exponentialRate": {
                    "baseRatePerMinute": 1,
                    "incrementFactor": 9,
                    "rateIncreaseCriteria": {"numberOfNotifiedThings": 1},
                }
            }
        },
        "incrementFactor: 9 is outside",
    ),
    (
        "aws",
        {
            "jobExecutionsRolloutConfig": {
                "exponentialRate": {"baseRatePerMinute": 1, "incrementFactor": 2, "rateIncreaseCriteria": {}}
            }
        },
        "exactly one of numberOfNotifiedThings",
    ),
    (
        "aws",
        {
            "abortConfig": {
                "criteriaList": [
                    {
                        "failureType": "BROKEN",
                        "action": "CANCEL",
                        "minNumberOfExecutedThings": 1,
                        "thresholdPercentage": 1,
                    }
                ]
            }
        },
        "failureType: 'BROKEN' is not one of",
    ),
    (
        "aws",
        {
            "abortConfig": {
                "criteriaList": [
                    {"failureType": "ALL", "action": "PAUSE", "minNumberOfExecutedThings": 1, "thresholdPercentage": 1}
                ]
            }
        },
        "action: only CANCEL exists",
    ),
    (
        "aws",
        {"abortConfig": {"criteriaList": [{"failureType": "ALL", "minNumberOfExecutedThings": 1}]}},
        "missing 'thresholdPercentage'",
    ),
    ("aws", {"abortConfig": {"criteriaList": {"failureType": "ALL"}}}, "criteriaList: expected list"),
    ("aws", {"timeoutConfig": {"inProgressTimeoutInMinutes": True}}, "expected a number, got True"),
    (
        "aws",
        {"jobExecutionsRetryConfig": {"criteriaList": [{"failureType": "REJECTED", "numberOfRetries": 1}]}},
        "failureType: FAILED, TIMED_OUT or ALL",
    ),
    ("aws", {"jobExecutionsRolloutConfig": {}, "bogus": 1}, "unknown key 'bogus'"),
    ("aws", {"IotJobConfiguration": []}, "IotJobConfiguration: expected dict"),
    ("hawkbit", {"groups": []}, "groups: empty"),
    ("hawkbit", {"groups": [{"targetPercentage": 0}]}, "targetPercentage: 0 is outside"),
    ("hawkbit", {"successCondition": {"condition": "THRESHOLD", "expression": "ninety"}}, "a percentage, not"),
    ("hawkbit", {"errorAction": {"action": "DELETE"}}, "errorAction.action: PAUSE"),
    ("hawkbit", {"amountGroups": 0}, "amountGroups: 0 is outside"),
    ("table", {"waves": [50, 10, 100]}, "waves must be increasing"),
    ("table", {"waves": [10, 50]}, "the last wave must reach 100"),
    ("table", {"confidence": 1.0}, "confidence: 1.0 is outside"),
    ("table", {"retries": {"never": 1}}, "retries: NEVER"),
    ("table", {"wave": [100]}, "unknown key 'wave'"),
    (
        "table",
        {"rate": {"base_per_minute": 1, "increment_factor": 2, "increase_after": 1, "increase_on": "x"}},
        "increase_on: 'notified' or 'succeeded'",
    ),
]


@pytest.mark.parametrize(("shape", "doc", "message"), HOSTILE, ids=[m for _, _, m in HOSTILE])
def test_a_bad_policy_is_an_error_naming_the_key(shape: str, doc: Any, message: str) -> None:
    reader = {"aws": policy_from_aws, "hawkbit": policy_from_hawkbit, "table": policy_from_table}[shape]
    with pytest.raises(ConfigError, match=r"policy\.json") as info:
        reader(doc, "policy.json")
    assert message in str(info.value)


@pytest.mark.parametrize("text", ["", "[]", "{", '"x"', "[" * 100_000])
def test_an_unreadable_policy_file_names_the_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "policy.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=str(path)):
        load_policy(path)


def test_policy_defaults_are_valid() -> None:
    assert Policy().waves[-1] == 100


@given(st.binary(max_size=300))
def test_any_bytes_are_a_message_or_a_named_problem(payload: bytes) -> None:
    for parse in (parse_report, parse_command, parse_ack, parse_tick):
        result = parse(payload)
        assert isinstance(result, (dict, str))


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "device",
                "seq",
                "status",
                "job",
                "running",
                "boot_id",
                "kind",
                "version",
                "attempt",
                "host",
                "tick",
                "reports",
                "received",
                "next",
            ]
        ),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(),
            st.text(max_size=5),
            st.lists(st.integers(), max_size=2),
        ),
        max_size=14,
    )
)
def test_any_json_object_is_a_message_or_a_named_problem(doc: dict[str, Any]) -> None:
    payload = json.dumps(doc).encode()
    for parse in (parse_report, parse_command, parse_ack, parse_tick):
        result = parse(payload)
        if isinstance(result, dict):
            assert result == doc
        else:
            assert result


def test_a_report_with_the_wrong_types_is_named() -> None:
    assert (
        parse_report(b'{"device": "d", "seq": true, "status": "failed", "job": "j", "running": "1", "boot_id": 1}')
        == "'seq' is bool, expected int"
    )
    assert (
        parse_report(b'{"device": "d", "seq": 1, "status": "exploded", "job": "j", "running": "1", "boot_id": 1}')
        == "unknown status 'exploded'"
    )


def test_hostile_messages_on_the_controllers_topics_are_named_not_raised() -> None:
    """Anyone on the broker can publish under the run's topics: a report for a device the fleet does not have,
    one that names another device, garbage, an ack from a host that does not exist."""
    from pytest_iotops.fleet.controller import Rollout
    from pytest_iotops.fleet.driver import Driver
    from pytest_iotops.fleet.protocol import Topics

    driver = Driver(Rollout(Policy(), [("d0", "A", 0)], "1", "2"), Topics("r"), ("127.0.0.1", 1), 1, "r")
    good = {"device": "d0", "seq": 1, "status": "status", "job": "", "running": "1", "boot_id": 1}
    driver._on_message("iotops/r/d/evil/rep", json.dumps({**good, "device": "evil"}).encode())
    driver._on_message("iotops/r/d/d0/rep", json.dumps({**good, "device": "d1"}).encode())
    driver._on_message("iotops/r/d/d0/rep", b"\xff{")
    driver._on_message("iotops/r/h/7/ack", b'{"host": 7, "tick": 0, "reports": 0, "received": 0}')
    driver._on_message("iotops/r/d/d0/rep", json.dumps(good).encode())
    problems = driver.stats.malformed
    assert [p.split(": ", 1)[1][:20] for p in problems] == [
        "no such device in th",
        "names device 'd1'",
        "not JSON (UnicodeDec",
        "unknown host",
    ]
    assert driver.received == [3]  # d0's three messages, counted for the barrier
    assert [r["device"] for r in driver.pending] == ["d0"]


def test_a_tick_must_carry_numbers() -> None:
    assert parse_tick(b'{"tick": 1, "t": 2.5, "sent": {"0": 3}}') == {"tick": 1, "t": 2.5, "sent": {"0": 3}}
    assert str(parse_tick(b'{"tick": 1, "t": "soon", "sent": {}}')).startswith("'t' is str")
    assert parse_tick(b'{"tick": 1, "t": 1, "sent": {"0": "3"}}') == "'sent' holds a count that is not an integer"
