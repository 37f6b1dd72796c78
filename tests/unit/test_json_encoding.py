"""The run report's JSON (orjson, straight from the dataclasses) is the document json.dumps(to_dict(...)) wrote:
the same keys in the same order with the same values, for real reports and for arbitrary test records."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_iotops.codec import converted_once, to_dict, to_json
from pytest_iotops.model import (
    OUTCOMES,
    FleetDecision,
    FleetRollout,
    FleetWave,
    HistoryView,
    RunPoint,
    RunReport,
    TestResult,
    load_report,
)

DATA = Path(__file__).parent.parent / "data"
RICH = load_report(DATA / "report-rich.json")


def _same_document(a: Any, b: Any, where: str = "$") -> None:
    """Equal values and, in every object, the same key order (what a streaming reader sees first)."""
    if isinstance(a, dict):
        assert isinstance(b, dict), where
        assert list(a) == list(b), where
        for key in a:
            _same_document(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same_document(x, y, f"{where}[{i}]")
    else:
        assert type(a) is type(b), f"{where}: {a!r} != {b!r}"
        assert a == b, f"{where}: {a!r} != {b!r}"


def _check(report: RunReport) -> None:
    text = to_json(report)
    _same_document(json.loads(text), json.loads(json.dumps(to_dict(report), separators=(",", ":"))))
    assert text.startswith('{"schema_version":')
    with converted_once(report):  # flattened once for the renderers: the JSON is made from that, the same
        to_dict(report)
        _same_document(json.loads(to_json(report)), json.loads(text))


def test_sample_reports_encode_as_before() -> None:
    for name in ("report-rich.json", "run-report-sample.json"):
        _check(load_report(DATA / name))


def test_a_report_with_every_section_encodes_as_before() -> None:
    report = copy.deepcopy(RICH)
    wave = FleetWave(wave=1, devices=2, succeeded=2, failed=0, timed_out=0, rejected=0, canceled=0)
    decision = FleetDecision(t=3.25, wave=1, action="promoted", rule="success_condition", detail="ok", released=2)
    report.fleet_rollouts = [
        FleetRollout(
            "tests/e2e/test_fleet.py::test_rollout",
            "fw",
            "mqtt://127.0.0.1:1883",
            "1.0",
            "1.1",
            2,
            "promoted",
            "success_condition",
            "waves",
            7,
            None,
            waves=[wave],
            decisions=[decision],
            versions={"1.1": 2},
            told_all_seconds=1.5e-05,
        )
    ]
    point = RunPoint("r1", "2026-12-04T08:00:00+00:00", "main", "abc", "passed", 10, 0, 91.5, 2.25)
    report.history = HistoryView("sqlite:///h.db", "main", runs=[point], base="main", base_run=point)
    report.tests[0].nodeid = 'tests/unit/test_ünïcode.py::test_名前["quote"\n]'
    report.tests[0].duration = 1e-05
    report.tests[1].duration = 12345678.123456
    report.run.settings_sources = {"coverage.fail_under": "pyproject.toml", "phases": "default"}
    _check(report)


_text = st.text(max_size=30)  # any code point, lone surrogates included (a file name not in UTF-8)
_tests = st.builds(
    TestResult,
    nodeid=_text,
    phase=st.sampled_from(["unit", "integration", "e2e"]),
    outcome=st.sampled_from(OUTCOMES),
    duration=st.floats(min_value=0, allow_nan=False, allow_infinity=False),
    message=_text,
    longrepr=_text,
    worker=_text,
    origin=_text,
    attempts=st.lists(st.sampled_from(OUTCOMES), max_size=3),
    flaky=st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_tests, max_size=20))
def test_any_test_records_encode_as_before(tests: list[TestResult]) -> None:
    report = copy.copy(RICH)
    report.tests = tests
    _check(report)


def test_a_non_finite_float_is_written_as_null() -> None:
    """json.dumps wrote NaN/Infinity, which JSON does not have (a strict reader rejects the whole file)."""
    report = copy.deepcopy(RICH)
    report.phases[0].duration = math.inf
    data = json.loads(to_json(report), parse_constant=_no_constant)
    assert data["phases"][0]["duration"] is None


def _no_constant(name: str) -> None:
    raise AssertionError(f"{name} in the JSON")
