"""Unit tests of the engine's pure functions: phases, config layers, numbers, verdict, model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA
from hypothesis import given
from hypothesis import strategies as st

from pytest_iotops.config import OPTIONS, load_settings
from pytest_iotops.errors import ConfigError
from pytest_iotops.gates.base import threshold_gate
from pytest_iotops.model import (
    SCHEMA_VERSION,
    GateResult,
    ReportFormatError,
    RunReport,
    expand_ranges,
    from_dict,
    line_ranges,
    load_report,
    to_dict,
)
from pytest_iotops.numbers import fmt_measured, fmt_threshold
from pytest_iotops.phases import PhaseConflict, PhaseRules, blocking_phase, classify, glob_to_regex, order_indices
from pytest_iotops.verdict import EXIT_GATE_ERROR, EXIT_GATE_FAILED, decide

RULES = PhaseRules(
    phases=("unit", "integration", "e2e"),
    default_phase="unit",
    paths={"unit": ("tests/unit/**",), "integration": ("tests/integration/**",), "e2e": ("tests/e2e/**",)},
    marker_aliases={"smoke": "e2e"},
)


def test_engine_imports_without_pytest() -> None:
    code = (
        "import sys; sys.modules['pytest'] = None\n"
        "import pytest_iotops, pytest_iotops.pipeline, pytest_iotops.cli, pytest_iotops.schema\n"
        "import pytest_iotops.render.terminal, pytest_iotops.gates.coverage, pytest_iotops.gates.pyramid\n"
        "import pytest_iotops.merge, pytest_iotops.standalone, pytest_iotops.deploy.judge, pytest_iotops.render.html\n"
        "print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("tests/unit/**", "tests/unit/test_a.py", True),
        ("tests/unit/**", "tests/unit/deep/er/test_a.py", True),
        ("tests/unit/**", "tests/unitx/test_a.py", False),
        ("tests/unit/**", "other/tests/unit/test_a.py", False),
        ("**/unit/**", "pkg/tests/unit/test_a.py", True),
        ("**/unit/**", "unit/test_a.py", True),
        ("tests/*.py", "tests/test_a.py", True),
        ("tests/*.py", "tests/sub/test_a.py", False),
        ("tests/test_?.py", "tests/test_a.py", True),
        ("tests/test_[ab].py", "tests/test_c.py", False),
        ("tests/test_[!ab].py", "tests/test_c.py", True),
    ],
)
def test_glob(pattern: str, path: str, matches: bool) -> None:
    assert bool(glob_to_regex(pattern).match(path)) is matches


def test_classify_precedence_marker_path_default() -> None:
    assert classify("t::a", "tests/unit/test_a.py", ["e2e"], RULES).phase == "e2e"
    assert classify("t::a", "tests/unit/test_a.py", ["smoke"], RULES).reason == "marker smoke (alias of e2e)"
    assert classify("t::a", "tests/integration/test_a.py", ["parametrize"], RULES).phase == "integration"
    fallback = classify("t::a", "tests/test_a.py", [], RULES)
    assert (fallback.phase, fallback.reason) == ("unit", "default")


def test_two_phase_markers_name_the_test() -> None:
    with pytest.raises(PhaseConflict, match=r"tests/x.py::test_a: markers of different phases"):
        classify("tests/x.py::test_a", "tests/x.py", ["unit", "smoke"], RULES)
    # the same phase twice (module mark + function mark) is fine
    assert classify("t::a", "x.py", ["e2e", "smoke"], RULES).phase == "e2e"


@given(st.lists(st.sampled_from(RULES.phases), max_size=60))
def test_order_is_pyramid_order_and_stable(phases: list[str]) -> None:
    order = order_indices(phases, RULES.phases)
    assert sorted(order) == list(range(len(phases)))
    ranks = [RULES.phases.index(phases[i]) for i in order]
    assert ranks == sorted(ranks)
    for phase in RULES.phases:  # within a phase the original order is kept
        within = [i for i in order if phases[i] == phase]
        assert within == sorted(within)


def test_blocking_phase() -> None:
    assert blocking_phase("e2e", {"integration", "unit"}, RULES.phases) == "unit"
    assert blocking_phase("unit", {"unit"}, RULES.phases) is None
    assert blocking_phase("integration", set(), RULES.phases) is None


def _pyproject(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_settings_layers_and_sources(tmp_path: Path) -> None:
    path = _pyproject(tmp_path, "[tool.iotops.coverage]\nfail_under = 70\nbranch_fail_under = 50\n")
    s = load_settings(path, {"iotops_cov_fail_under": 90.0}, environ={"IOTOPS_COVERAGE_BRANCH_FAIL_UNDER": "60"})
    assert s.coverage.fail_under == 90.0
    assert s.source_of("coverage.fail_under") == "--iotops-cov-fail-under"
    assert s.coverage.branch_fail_under == 60.0
    assert s.source_of("coverage.branch_fail_under") == "env IOTOPS_COVERAGE_BRANCH_FAIL_UNDER"
    assert s.source_of("phases") == "default"


def test_custom_phases_get_convention_paths(tmp_path: Path) -> None:
    path = _pyproject(tmp_path, '[tool.iotops]\nphases = ["unit", "system"]\npaths = { unit = ["spec/**"] }\n')
    s = load_settings(path, environ={})
    assert s.paths == {"unit": ("spec/**",), "system": ("tests/system/**",)}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[tool.iotops]\ncolour = 1\n", r"unknown key 'colour'"),
        ("[tool.iotops.coverage]\nfail_undr = 1\n", r"unknown key 'coverage.fail_undr'"),
        ("[tool.iotops.coverage]\nfail_under = '80'\n", r"coverage.fail_under = '80': expected a number from 0 to 100"),
        ("[tool.iotops.coverage]\nfail_under = 101\n", r"coverage.fail_under = 101: expected a number"),
        ("[tool.iotops.coverage]\nbranch = 'yes'\n", r"coverage.branch = 'yes': expected true or false"),
        ("[tool.iotops]\ncoverage = 3\n", r"\[tool.iotops.coverage\] must be a table"),
        ("[tool.iotops]\ndefault_phase = 'smoke'\n", r"default_phase names unknown phase\(s\) \['smoke'\]"),
        ("[tool.iotops.coverage]\nphase_fail_under = { system = 3 }\n", r"unknown phase\(s\) \['system'\]"),
        ("[tool.iotops]\nmarker_aliases = { unit = 'e2e' }\n", r"cannot redefine phase marker"),
        ("[tool.iotops]\nphases = ['unit', 'unit']\n", r"distinct"),
        ("[tool.iotops\n", r"invalid TOML"),
    ],
)
def test_config_errors_name_file_key_and_value(tmp_path: Path, body: str, message: str) -> None:
    path = _pyproject(tmp_path, body)
    with pytest.raises(ConfigError, match=message) as info:
        load_settings(path, environ={})
    assert str(path) in str(info.value)


def test_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"env IOTOPS_COVERAGE_FAIL_UNDER: coverage.fail_under = 'high'"):
        load_settings(None, environ={"IOTOPS_COVERAGE_FAIL_UNDER": "high"})


def test_every_option_has_help_and_a_valid_default() -> None:
    for option in OPTIONS:
        assert option.help
        if option.default is not None and option.default != {}:
            option.check(list(option.default) if isinstance(option.default, tuple) else option.default)


thresholds = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False).map(float)


@given(
    covered=st.integers(min_value=0, max_value=5000),
    extra=st.integers(min_value=0, max_value=5000),
    threshold=thresholds,
    comparison=st.sampled_from([">=", "<="]),
    unit=st.sampled_from(["%", "findings"]),
)
def test_printed_numbers_agree_with_the_decision(
    covered: int, extra: int, threshold: float, comparison: str, unit: str
) -> None:
    """pytest-cov #728: printed FAIL at 74.79 < 75 yet exited 0. Reading our printed numbers gives our status."""
    total = covered + extra
    if total == 0:
        return
    measured = 100.0 * covered / total
    result = threshold_gate("g", "coverage", "x", measured, threshold, comparison, unit)
    printed = float(fmt_measured(measured, threshold, comparison, unit))
    printed_threshold = float(fmt_threshold(threshold))
    printed_ok = printed >= printed_threshold if comparison == ">=" else printed <= printed_threshold
    assert printed_ok == (result.status == "passed")
    verdict = decide(0, [result])
    assert (verdict.exit_code == 0) == (result.status == "passed")
    assert verdict.summary.startswith("PASSED") == (verdict.exit_code == 0)


def test_the_pytest_cov_728_case() -> None:
    result = threshold_gate("coverage.total", "coverage", "total", 74.79, 75.0)
    assert result.status == "failed"
    assert "74.79 % < 75 %" in result.message
    assert decide(0, [result]).exit_code == EXIT_GATE_FAILED


def _gate(status: str) -> GateResult:
    return GateResult("g." + status, "x", status, None, 1.0, ">=", "%", status)  # type: ignore[arg-type]


def test_exit_codes() -> None:
    assert decide(0, [_gate("passed"), _gate("skipped")]).exit_code == 0
    assert decide(0, [_gate("failed")]).exit_code == EXIT_GATE_FAILED
    assert decide(0, [_gate("failed"), _gate("error")]).exit_code == EXIT_GATE_ERROR
    assert decide(1, [_gate("error")]).exit_code == 1
    assert decide(5, []).status == "failed"


@given(st.sets(st.integers(min_value=0, max_value=5000), max_size=300))
def test_line_ranges_round_trip(lines: set[int]) -> None:
    text = line_ranges(lines)
    assert expand_ranges(text) == sorted(lines)
    assert all(part and part[0].isdigit() for part in text.split(",")) if lines else text == ""


@pytest.mark.parametrize("bad", ["x", "3-1", "1,,2", "-4", "1-2-3"])
def test_expand_ranges_refuses_malformed(bad: str) -> None:
    with pytest.raises(ValueError, match="not a line range"):
        expand_ranges(bad)


def test_a_1x_report_is_read_as_2x_with_missing_lines_as_ranges(tmp_path: Path) -> None:
    """Schema 2.0 changed files[].missing_lines (a list) to files[].missing (ranges); 1.x files still load."""
    data = json.loads((DATA / "run-report-sample.json").read_text())
    data["coverage"]["files"][0]["missing_lines"] = [6, 7, 8, 12]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data))
    report = load_report(old)
    assert report.schema_version == SCHEMA_VERSION
    assert report.coverage is not None
    assert report.coverage.files[0].missing == "6-8,12"


def test_model_round_trip_and_errors(tmp_path: Path) -> None:
    sample = DATA / "run-report-sample.json"
    report = load_report(sample)
    assert isinstance(report, RunReport)
    assert from_dict(RunReport, json.loads(report.to_json())) == report
    assert next(iter(to_dict(report))) == "schema_version"

    data = json.loads(sample.read_text())
    data["tests"][0]["duration"] = "slow"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(ReportFormatError, match=r"bad.json: \$.tests\[0\].duration: expected a number"):
        load_report(bad)
    data["schema_version"] = "3.0"
    bad.write_text(json.dumps(data))
    with pytest.raises(ReportFormatError, match=r"'3.0' is not readable by this version \(reads 1.x, 2.x\)"):
        load_report(bad)
    bad.write_text("{")
    with pytest.raises(ReportFormatError, match="not a readable JSON run report"):
        load_report(bad)
    with pytest.raises(ReportFormatError, match="not found"):
        load_report(tmp_path / "missing.json")


@given(st.lists(st.floats(min_value=0, max_value=1e5, allow_nan=False), min_size=1, max_size=20))
def test_test_durations_are_rounded_to_the_microsecond(durations: list[float]) -> None:
    """The recorder rounds in C (``round(x * 1e6) / 1e6``): the same figures as ``round(x, 6)``, to the microsecond."""
    from pytest_iotops.recorder import Recorder

    rec = Recorder(("unit",))
    for i, seconds in enumerate(durations):
        rec.add_report(f"t.py::test_{i}", "unit", "call", "passed", seconds)
    _, tests = rec.results()
    by_id = {t.nodeid: t.duration for t in tests}
    for i, seconds in enumerate(durations):
        assert abs(by_id[f"t.py::test_{i}"] - seconds) <= 5e-7 + 1e-12 * seconds
        assert by_id[f"t.py::test_{i}"] == pytest.approx(round(seconds, 6), abs=1e-6, rel=0)
