"""End to end through pytester: phases, order, blocking, classification, usage errors, config errors."""

from __future__ import annotations

import pytest
from conftest import make_project, run_iotops, run_report

NO_COV = "--iotops-no-cov"


@pytest.mark.autoload
def test_without_iotops_nothing_changes(pytester: pytest.Pytester) -> None:
    make_project(pytester, files={"tests/e2e/test_first.py": "def test_zzz():\n    assert True\n"})
    plain = pytester.runpytest_subprocess("-v", "-p", "no:iotops")
    ours = pytester.runpytest_subprocess("-v")
    assert ours.ret == plain.ret == 0
    order = [line for line in ours.outlines if "::" in line and "PASSED" in line]
    assert order == [line for line in plain.outlines if "::" in line and "PASSED" in line]
    assert not [line for line in ours.outlines if line.startswith("iotops") or "iotops pipeline" in line]
    assert not (pytester.path / "iotops-reports").exists()


def test_phases_run_in_pyramid_order_with_separators(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    # collection order is e2e, integration, unit (alphabetical): the pipeline must reverse it
    result = pytester.runpytest("--iotops", NO_COV, "-v")
    result.stdout.fnmatch_lines(
        [
            "*- unit phase: 2 tests -*",
            "*test_unit.py::test_add PASSED*",
            "*test_unit.py::test_grade_a PASSED*",
            "*- integration phase: 1 test -*",
            "*test_integration.py::test_div PASSED*",
            "*- e2e phase: 1 test -*",
            "*test_e2e.py::test_grade_c PASSED*",
        ]
    )
    assert result.ret == 0


def test_order_is_stable_within_a_phase(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    pytester.makeconftest(
        """
        import pytest

        @pytest.hookimpl(tryfirst=True)
        def pytest_collection_modifyitems(items):
            items.reverse()  # another ordering plugin, e.g. a randomiser
        """
    )
    result = pytester.runpytest("--iotops", NO_COV, "-v")
    result.stdout.fnmatch_lines(["*test_grade_a PASSED*", "*test_add PASSED*", "*test_div PASSED*"])


def test_failed_phase_blocks_later_phases(pytester: pytest.Pytester) -> None:
    make_project(pytester, files={"tests/unit/test_broken.py": "def test_broken():\n    assert 1 == 2\n"})
    result = pytester.runpytest("--iotops", NO_COV, "-rs")
    result.stdout.fnmatch_lines(
        [
            "*integration phase: 1 test (blocked by failed unit phase)*",
            "SKIPPED [[]1[]] tests/e2e/test_e2e.py*: blocked by failed unit phase",
        ]
    )
    result.assert_outcomes(passed=2, failed=1, skipped=2)
    assert result.ret == 1
    report = run_report(pytester.path)
    phases = {p["name"]: p for p in report["phases"]}
    assert phases["unit"]["status"] == "failed"
    assert phases["integration"]["status"] == phases["e2e"]["status"] == "blocked"
    assert phases["e2e"]["blocked"] == 1
    assert report["verdict"]["exit_code"] == 1


def test_blocking_can_be_turned_off(pytester: pytest.Pytester) -> None:
    make_project(pytester, files={"tests/unit/test_broken.py": "def test_broken():\n    assert 1 == 2\n"})
    result = pytester.runpytest("--iotops", NO_COV, "--iotops-no-block")
    result.assert_outcomes(passed=4, failed=1)
    make_project(pytester, "[tool.iotops]\nblock_on_failure = false\n")
    pytester.runpytest("--iotops", NO_COV).assert_outcomes(passed=4, failed=1)


def test_classification_marker_then_path_then_default(pytester: pytest.Pytester) -> None:
    make_project(
        pytester,
        """
        [tool.iotops]
        default_phase = "integration"
        marker_aliases = { smoke = "e2e" }
        """,
        files={
            "tests/unit/test_marked.py": "import pytest\n\n@pytest.mark.e2e\ndef test_marked():\n    pass\n",
            "tests/test_loose.py": "def test_loose():\n    pass\n",
            "tests/unit/test_smoke.py": "import pytest\n\n@pytest.mark.smoke\ndef test_smoke():\n    pass\n",
        },
    )
    result = pytester.runpytest("--iotops", NO_COV, "--strict-markers")
    assert result.ret == 0
    phase_of = {t["nodeid"].split("::")[1]: t["phase"] for t in run_report(pytester.path)["tests"]}
    assert phase_of["test_marked"] == "e2e"
    assert phase_of["test_smoke"] == "e2e"
    assert phase_of["test_loose"] == "integration"
    assert phase_of["test_add"] == "unit"


def test_module_level_marker_classifies_every_test(pytester: pytest.Pytester) -> None:
    make_project(
        pytester,
        files={"tests/test_mod.py": "import pytest\npytestmark = pytest.mark.e2e\n\ndef test_a():\n    pass\n"},
    )
    assert pytester.runpytest("--iotops", NO_COV).ret == 0
    assert {t["phase"] for t in run_report(pytester.path)["tests"] if "test_mod" in t["nodeid"]} == {"e2e"}


def test_two_phase_markers_are_a_usage_error_naming_the_test(pytester: pytest.Pytester) -> None:
    make_project(
        pytester,
        "[tool.iotops.coverage]\nfail_under = 80\n",
        files={
            "tests/test_both.py": "import pytest\n\n@pytest.mark.unit\n@pytest.mark.e2e\ndef test_both():\n    pass\n"
        },
    )
    result = pytester.runpytest("--iotops")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*tests/test_both.py::test_both: markers of different phases*"])
    # the usage error is the whole story: no gate table of a run that never ran, no report
    assert "iotops pipeline" not in result.stdout.str()
    assert "coverage.total" not in result.stdout.str()
    assert not (pytester.path / "iotops-reports").exists()


def test_custom_phase_set_and_order(pytester: pytest.Pytester) -> None:
    make_project(
        pytester,
        """
        [tool.iotops]
        phases = ["unit", "integration", "system", "e2e"]
        """,
        files={
            "tests/system/test_sys.py": "import pytest\n\ndef test_sys():\n    pass\n",
            "tests/test_marked.py": "import pytest\n\n@pytest.mark.system\ndef test_m():\n    pass\n",
        },
    )
    result = pytester.runpytest("--iotops", NO_COV, "--strict-markers", "-v")
    result.stdout.fnmatch_lines(["*integration phase*", "*system phase: 2 tests*", "*e2e phase*"])
    assert result.ret == 0


def test_strict_markers_without_iotops_and_user_registered_markers(pytester: pytest.Pytester) -> None:
    make_project(pytester, files={"tests/test_m.py": "import pytest\n\n@pytest.mark.unit\ndef test_m():\n    pass\n"})
    assert pytester.runpytest("--strict-markers").ret == 0
    make_project(pytester, ini='markers = ["unit: my own unit marker", "e2e: mine too"]\n')
    assert pytester.runpytest("--strict-markers", "--iotops", NO_COV).ret == 0


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[tool.iotops]\nspeed = 3\n", "*unknown key 'speed' in [[]tool.iotops[]]*"),
        ("[tool.iotops.coverage]\nfail_under = 'high'\n", "*coverage.fail_under = 'high': expected a number*"),
    ],
)
def test_config_errors_are_usage_errors(pytester: pytest.Pytester, toml: str, expected: str) -> None:
    make_project(pytester, toml)
    result = pytester.runpytest("--iotops")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([expected])


def test_broken_table_does_not_break_runs_without_iotops(pytester: pytest.Pytester) -> None:
    make_project(pytester, "[tool.iotops]\nspeed = 3\n")
    assert pytester.runpytest().ret == 0


def test_a_run_without_iotops_imports_only_the_plugin_entry_point(pytester: pytest.Pytester) -> None:
    """Installed, not enabled: the entry point, the option table and the fixtures load; the settings schema,
    the pipeline and the report machinery do not (the settings module alone cost about 50 ms of each run)."""
    make_project(pytester, "[tool.iotops]\nenabled = false\n")
    pytester.makeconftest(
        """
        import sys

        def pytest_sessionfinish(session):
            loaded = sorted(m for m in sys.modules if m.startswith("pytest_iotops"))
            session.config.rootpath.joinpath("loaded.txt").write_text("\\n".join(loaded))
        """
    )
    assert pytester.runpytest_subprocess("-p", "no:cacheprovider").ret == 0
    loaded = set((pytester.path / "loaded.txt").read_text().split())
    assert "pytest_iotops.plugin" in loaded  # the run really had the plugin
    heavy = {"pytest_iotops.config", "pytest_iotops.pipeline", "pytest_iotops.render", "pytest_iotops.model"}
    assert not loaded & heavy, sorted(loaded)


def test_an_xdist_worker_does_not_load_the_report_machinery(pytester: pytest.Pytester) -> None:
    """A worker classifies, orders, blocks and tags its reports; it writes no report, so the report model, the
    gates, git, the formats and the verdict are loaded by the controller only (the model alone cost a worker
    about 7 M instructions)."""
    make_project(pytester)
    pytester.makeconftest(
        """
        import os, sys

        def pytest_unconfigure(config):
            role = getattr(config, "workerinput", {}).get("workerid", "controller")  # (the outer run may be xdist's)
            loaded = sorted(m for m in sys.modules if m.startswith("pytest_iotops"))
            config.rootpath.joinpath(f"loaded-{role}.txt").write_text("\\n".join(loaded))
        """
    )
    assert pytester.runpytest_subprocess("--iotops", NO_COV, "-p", "no:cacheprovider", "-n", "2").ret == 0
    report_only = {
        "pytest_iotops.model",
        "pytest_iotops.codec",
        "pytest_iotops.gates",
        "pytest_iotops.gitinfo",
        "pytest_iotops.render.formats",
        "pytest_iotops.verdict",
        "pytest_iotops.redact",
    }
    controller = set((pytester.path / "loaded-controller.txt").read_text().split())
    assert report_only <= controller
    for worker in ("gw0", "gw1"):
        loaded = set((pytester.path / f"loaded-{worker}.txt").read_text().split())
        assert "pytest_iotops.plugin.session" in loaded  # the worker had the session plugin
        assert not loaded & report_only, sorted(loaded & report_only)


def test_xdist_workers_take_the_controllers_entry_point_answer(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the controller reads every installed package's entry point list; its workers (same Python, same
    path entries) take its answer from the environment, which the controller does not keep."""
    from pytest_iotops.registry import ENTRY_POINTS_ENV

    monkeypatch.delenv(ENTRY_POINTS_ENV, raising=False)  # (this suite's own xdist workers inherit one)
    make_project(pytester)
    pytester.makepyfile(
        scan_probe="""
        import os
        from pytest_iotops import registry

        real = registry.may_declare
        SCANS = []

        def counting(group):
            SCANS.append(group)
            return real(group)

        registry.may_declare = counting

        def pytest_unconfigure(config):
            role = getattr(config, "workerinput", {}).get("workerid", "controller")  # (the outer run may be xdist's)
            left = os.environ.get(registry.ENTRY_POINTS_ENV, "")
            config.rootpath.joinpath(f"scans-{role}.txt").write_text(f"{len(SCANS)} {bool(left)}")
        """
    )
    args = ("-p", "scan_probe", "--iotops", NO_COV, "-p", "no:cacheprovider", "-n", "2")
    assert pytester.runpytest_subprocess(*args).ret == 0
    assert (pytester.path / "scans-controller.txt").read_text() == "1 False"
    for worker in ("gw0", "gw1"):
        assert (pytester.path / f"scans-{worker}.txt").read_text() == "0 True"


def test_enabled_from_config_and_ini(pytester: pytest.Pytester) -> None:
    make_project(pytester, "[tool.iotops]\nenabled = true\n")
    pytester.runpytest(NO_COV).stdout.fnmatch_lines(["*iotops verdict: PASSED*"])
    make_project(pytester, ini="iotops = true\n")
    pytester.runpytest(NO_COV).stdout.fnmatch_lines(["*iotops verdict: PASSED*"])


def test_header_says_defaults_when_pyproject_has_no_table(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    result = pytester.runpytest("--iotops", NO_COV)
    where = "defaults (pyproject.toml has no [[]tool.iotops[]] table)"
    result.stdout.fnmatch_lines([f"iotops: phases unit > integration > e2e; settings from {where}"])


def test_header_names_settings_sources(pytester: pytest.Pytester) -> None:
    make_project(pytester, "[tool.iotops.coverage]\nfail_under = 10\n")
    result = pytester.runpytest("--iotops", "--iotops-cov-fail-under", "20", NO_COV)
    result.stdout.fnmatch_lines(
        [
            "iotops: phases unit > integration > e2e; settings from pyproject.toml [[]tool.iotops[]]",
            "iotops: overridden: coverage.enabled (--iotops-no-cov), coverage.fail_under (--iotops-cov-fail-under)",
        ]
    )


@pytest.mark.parametrize("extra", [["-p", "no:cacheprovider"], ["--import-mode=importlib"]])
def test_works_with_common_pytest_modes(pytester: pytest.Pytester, extra: list[str]) -> None:
    make_project(pytester, "[tool.iotops.coverage]\nfail_under = 50\n")
    result = pytester.runpytest_subprocess("--iotops", *extra)
    assert result.ret == 0, result.stdout.str()
    assert run_report(pytester.path)["verdict"]["status"] == "passed"


def test_outcomes_of_every_kind_are_recorded(pytester: pytest.Pytester) -> None:
    make_project(
        pytester,
        files={
            "tests/unit/test_kinds.py": """
                import pytest

                @pytest.fixture
                def broken():
                    raise RuntimeError("fixture")

                def test_error(broken):
                    pass

                @pytest.mark.skip(reason="not today")
                def test_skip():
                    pass

                @pytest.mark.xfail(reason="known", strict=False)
                def test_xfail():
                    assert False

                @pytest.mark.xfail(reason="fixed", strict=False)
                def test_xpass():
                    pass
                """,
        },
    )
    result = pytester.runpytest("--iotops", NO_COV, "--iotops-no-block")
    assert result.ret == 1
    outcome = {t["nodeid"].split("::")[1]: t for t in run_report(pytester.path)["tests"]}
    assert outcome["test_error"]["outcome"] == "error"
    assert "RuntimeError: fixture" in outcome["test_error"]["longrepr"]
    assert (outcome["test_skip"]["outcome"], outcome["test_skip"]["message"]) == ("skipped", "Skipped: not today")
    assert outcome["test_xfail"]["outcome"] == "xfailed"
    assert outcome["test_xpass"]["outcome"] == "xpassed"
    unit = run_report(pytester.path)["phases"][0]
    assert (unit["errors"], unit["skipped"], unit["xfailed"], unit["xpassed"], unit["status"]) == (1, 1, 1, 1, "failed")
    # the pyramid's columns are pytest's own: xfailed and xpassed are not folded into skipped and passed
    result.stdout.fnmatch_lines(
        [
            "phase * tests * passed * failed * error * skipped * xfailed * xpassed * blocked * time * coverage",
            "unit * 6 * 2 * 0 * 1 * 1 * 1 * 1 * 0 *",
        ]
    )


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_failure_message_is_the_headline_everywhere(pytester: pytest.Pytester, workers: list[str]) -> None:
    """The exception's type and first line, not the test's name: in the report, Markdown and iotops explain; the
    same whether the report was made in this process (the headline comes after it) or on an xdist worker."""
    make_project(
        pytester,
        files={
            "tests/unit/test_head.py": """
                import pytest

                @pytest.fixture
                def broker():
                    raise ConnectionError("no broker on 127.0.0.1:1883")

                @pytest.fixture
                def leaky():
                    yield
                    raise OSError("port still open")

                def test_is_none():
                    assert bool is None

                def test_value_error():
                    raise ValueError("bad reading: -40\\nsecond line")

                def test_setup_error(broker):
                    pass

                def test_fails_then_teardown_errors(leaky):
                    raise KeyError("sensor")

                def test_teardown_error_only(leaky):
                    pass
                """,
        },
    )
    result = pytester.runpytest_subprocess("--iotops", NO_COV, *workers, "--iotops-format", "md")
    assert result.ret == 1
    outcomes = {t["nodeid"].split("::")[1]: (t["outcome"], t["message"]) for t in run_report(pytester.path)["tests"]}
    assert outcomes["test_is_none"] == ("failed", "AssertionError: assert bool is None")
    assert outcomes["test_value_error"] == ("failed", "ValueError: bad reading: -40")
    assert outcomes["test_setup_error"] == ("error", "ConnectionError: no broker on 127.0.0.1:1883")
    assert outcomes["test_fails_then_teardown_errors"] == ("error", "OSError: port still open")
    assert outcomes["test_teardown_error_only"] == ("error", "OSError: port still open")
    markdown = (pytester.path / "iotops-reports" / "summary.md").read_text()
    assert "- `tests/unit/test_head.py::test_is_none` (unit): AssertionError: assert bool is None" in markdown
    explained = run_iotops(pytester.path, "explain", "iotops-reports/run-report.json")
    assert (
        "- tests/unit/test_head.py::test_is_none (unit, failed): AssertionError: assert bool is None"
        in explained.stdout
    )


def test_quiet_run_puts_each_phase_separator_on_its_own_line(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    result = pytester.runpytest_subprocess("--iotops", NO_COV, "-q", "-p", "no:cacheprovider")
    assert result.ret == 0
    lines = result.stdout.lines
    separators = [i for i, line in enumerate(lines) if " phase: " in line]
    assert len(separators) == 3, lines
    for i in separators:
        assert lines[i].startswith("-"), lines[i]  # not glued to the previous phase's progress letters
    assert lines[separators[0] + 1].startswith("..")


def test_a_conftest_adds_its_own_gate_through_the_hook(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    pytester.makeconftest(
        """
        from pytest_iotops import hookimpl
        from pytest_iotops.model import GateResult

        class LicenseGate:
            @hookimpl
            def iotops_gates(self, settings, report):
                ok = len(report.tests) >= 10
                return [GateResult("custom.min_tests", "custom", "passed" if ok else "failed",
                                   float(len(report.tests)), 10.0, ">=", "tests", "at least 10 tests")]

        def pytest_iotops_register(plugin_manager):
            plugin_manager.register(LicenseGate())
        """
    )
    result = pytester.runpytest("--iotops", NO_COV)
    assert result.ret == 6
    result.stdout.fnmatch_lines(["custom.min_tests * 4 tests * ≥ 10 tests * FAILED"])
    assert run_report(pytester.path)["gates"][0]["id"] == "custom.min_tests"


def test_every_report_format_is_written_and_named(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    default = pytester.runpytest("--iotops", NO_COV)
    default.stdout.fnmatch_lines(["iotops run report: *", "iotops HTML report: *", "iotops md report: *"])
    written = sorted(p.name for p in (pytester.path / "iotops-reports").iterdir())
    assert written == ["run-report.html", "run-report.json", "summary.md"]
    every = [x for f in ("html", "junit", "sarif", "md", "openmetrics") for x in ("--iotops-format", f)]
    result = pytester.runpytest("--iotops", NO_COV, *every)
    result.stdout.fnmatch_lines(
        [
            "iotops run report: iotops-reports/run-report.json",
            "iotops HTML report: iotops-reports/run-report.html",
            "iotops junit report: iotops-reports/junit.xml",
            "iotops sarif report: iotops-reports/findings.sarif",
            "iotops md report: iotops-reports/summary.md",
            "iotops OpenMetrics report: iotops-reports/metrics.txt",
        ]
    )
    only_md = pytester.runpytest("--iotops", NO_COV, "--iotops-format", "md", "--iotops-reports-dir", "other")
    assert sorted(p.name for p in (pytester.path / "other").iterdir()) == ["run-report.json", "summary.md"]
    assert only_md.ret == 0
    bad = pytester.runpytest("--iotops", NO_COV, "--iotops-format", "pdf")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(
        ["*formats has unknown [[]'pdf'[]]; known: json, html, junit, sarif, md, openmetrics, otlp"]
    )


def test_github_step_summary_is_appended(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = pytester.path / "step-summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    make_project(pytester)
    assert pytester.runpytest("--iotops", NO_COV).ret == 0
    text = summary.read_text()
    assert text.startswith("earlier step\n## ✅ pytest-iotops: PASSED (exit 0)")


def test_an_internal_error_fails_the_run_visibly(pytester: pytest.Pytester) -> None:
    """A bug in a third-party gate (or ours) must not pass the run, nor crash pytest with a traceback."""
    make_project(pytester)
    pytester.makeconftest(
        """
        from pytest_iotops import hookimpl

        class Broken:
            @hookimpl
            def iotops_gates(self, settings, report):
                raise RuntimeError("gate plugin bug")

        def pytest_iotops_register(plugin_manager):
            plugin_manager.register(Broken())
        """
    )
    result = pytester.runpytest("--iotops", NO_COV)
    assert result.ret == 7
    result.stdout.fnmatch_lines(["iotops: internal error, no verdict (exit 7): RuntimeError: gate plugin bug"])
    assert "INTERNALERROR" not in result.stdout.str()


@pytest.mark.parametrize("value", ['"yes"', "1", '"true"', "[true]"])
def test_enabled_with_a_wrong_type_is_a_usage_error(pytester: pytest.Pytester, value: str) -> None:
    make_project(pytester, f"[tool.iotops]\nenabled = {value}\n")
    result = pytester.runpytest(NO_COV)
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*[[]tool.iotops[]] enabled = *: expected true or false"])


def test_each_report_of_a_test_is_folded_into_its_one_record(pytester: pytest.Pytester) -> None:
    """A serial run folds plain passes by identity with the running test: set-up and teardown time still count,
    a failing subtest (its own report, of the same test) still fails the test, an xfail and an xpass still read
    as such, and a teardown error after a passed call is an error."""
    make_project(
        pytester,
        files={
            "tests/unit/test_folding.py": """
import time
import pytest

@pytest.fixture
def slow():
    time.sleep(0.05)
    yield
    time.sleep(0.05)

@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown broke")

def test_timed(slow):
    pass

def test_subtests(subtests):
    for i in range(3):
        with subtests.test(i=i):
            assert i != 1

def test_subtests_pass(subtests):
    for i in range(3):
        with subtests.test(i=i):
            assert i < 3

@pytest.mark.xfail(reason="known")
def test_xfail():
    assert False

@pytest.mark.xfail(reason="fixed meanwhile")
def test_xpass():
    pass

def test_teardown_error(broken_teardown):
    pass
"""
        },
    )
    result = pytester.runpytest("--iotops", NO_COV, "-p", "no:randomly")
    assert result.ret == 1
    tests = {t["nodeid"].split("::")[1]: t for t in run_report(pytester.path)["tests"]}
    assert tests["test_timed"]["outcome"] == "passed"
    assert tests["test_timed"]["duration"] >= 0.1  # set-up and teardown each slept 0.05 s
    assert tests["test_subtests"]["outcome"] == "failed"
    assert tests["test_subtests_pass"]["outcome"] == "passed"
    assert (tests["test_xfail"]["outcome"], tests["test_xfail"]["message"]) == ("xfailed", "known")
    assert tests["test_xpass"]["outcome"] == "xpassed"
    assert tests["test_teardown_error"]["outcome"] == "error"
    assert "teardown broke" in tests["test_teardown_error"]["message"]
