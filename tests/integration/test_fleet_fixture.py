"""Fleet rollouts as tests, through pytester: the iotops_fleet fixture as a user writes it, configured from
[tool.iotops.fleet] with a marker and per-call overrides, its rollouts in the run report (also from xdist
workers), the terminal, Markdown, explain and HTML; bad settings are usage errors naming the key."""

from __future__ import annotations

import pytest
from conftest import make_project, run_iotops, run_report

FLEET = """
[tool.iotops.fleet]
devices = 120
seed = 3
firmware_size = 4096
[tool.iotops.fleet.policy]
waves = [25, 100]
max_failure_rate = 0.05
min_executed = 10
[tool.iotops.fleet.faults]
power_loss_share = 0.1
power_loss_states = ["downloading", "installing", "rebooting", "verifying"]
"""

TESTS = """
import pytest

@pytest.mark.e2e
def test_good_firmware_is_promoted(iotops_fleet):
    result = iotops_fleet.rollout("2.0.0")
    assert result.promoted, result.explain()
    assert result.on_version("2.0.0") == 120
    assert result.invariant_problems() == []

@pytest.mark.e2e
@pytest.mark.iotops_fleet(devices=80)
def test_corrupt_firmware_is_stopped_and_the_fleet_rolled_back(iotops_fleet):
    result = iotops_fleet.rollout(iotops_fleet.firmware("2.0.1", corrupt=True), seed=4)
    assert result.aborted and result.aborted_in_wave == 1, result.explain()
    assert result.on_version("1.0.0") == 80
"""


@pytest.mark.parametrize(
    "workers",
    [[], ["-n", "2"], ["-W", "error", "-p", "no:cacheprovider", "--import-mode=importlib"]],
    ids=["serial", "xdist", "strict"],
)
def test_fleet_fixture_end_to_end(pytester: pytest.Pytester, workers: list[str]) -> None:
    make_project(pytester, FLEET, files={"tests/e2e/test_fleet.py": TESTS})
    result = pytester.runpytest_subprocess("--iotops", "--iotops-no-cov", "-p", "no:randomly", *workers)
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(
        [
            "*2 fleet rollouts: 1 promoted, 1 not*",
            # in the tests' order (node ids within a phase), serial or whichever xdist worker finished first
            "*1.0.0 -> 2.0.1 to 80 devices on embedded: aborted in wave 1*",
            "*1.0.0 -> 2.0.0 to 120 devices on embedded: promoted*",
        ]
    )
    if "-n" not in workers:  # live progress: each decision as it is taken (xdist workers have no terminal)
        result.stdout.fnmatch_lines(["*fleet t=0.00h wave 1: start (30 released*", "*wave 2: continue*"])
    report = run_report(pytester.path)
    assert report["schema_version"] == "2.6"
    rollouts = {r["test"].rsplit("::", 1)[1]: r for r in report["fleet_rollouts"]}
    good = rollouts["test_good_firmware_is_promoted"]
    assert (good["outcome"], good["devices"], good["versions"], good["problems"]) == (
        "promoted",
        120,
        {"2.0.0": 120},
        [],
    )
    assert set(good["states"]) == {"S"}
    assert len(good["states"]) == 120
    bad = rollouts["test_corrupt_firmware_is_stopped_and_the_fleet_rolled_back"]
    assert (bad["outcome"], bad["aborted_in_wave"], bad["seed"]) == ("aborted", 1, 4)
    assert bad["decisions"][-1]["action"] == "rolled_back"
    assert "[tool.iotops.fleet].policy" in bad["policy"]
    html = (pytester.path / "iotops-reports" / "run-report.html").read_text()
    assert html.count('class="heatmap"') == 2
    assert "Fleet rollouts (2)" in html
    explained = run_iotops(pytester.path, "explain", "iotops-reports/run-report.json")
    assert "was aborted in wave 1" in explained.stdout, explained.stdout + explained.stderr


@pytest.mark.parametrize(
    ("toml", "marker", "message"),
    [
        ("devices = 0", "", "devices = 0: expected an integer in [1, 1e+06]"),
        ("brokr = 'x'", "", "unknown key 'brokr'"),
        ("[tool.iotops.fleet.policy]\nwaves = [50]", "", "the last wave must reach 100"),
        ("[tool.iotops.fleet.faults]\npower_loss = { flying = 0.1 }", "", "power loss at 'flying'"),
        ("", "@pytest.mark.iotops_fleet(clock='sundial')", "clock = 'sundial'"),
    ],
)
def test_bad_fleet_settings_are_usage_errors_naming_the_key(
    pytester: pytest.Pytester, toml: str, marker: str, message: str
) -> None:
    test = f"import pytest\n\n{marker}\ndef test_x(iotops_fleet):\n    pass\n"
    make_project(pytester, f"[tool.iotops.fleet]\n{toml}\n", files={"tests/e2e/test_fleet.py": test})
    result = pytester.runpytest_subprocess("--iotops", "--iotops-no-cov", "tests/e2e")
    assert message in result.stdout.str() + result.stderr.str()
    assert result.ret != 0
