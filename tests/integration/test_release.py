"""After pytest's session the plugin keeps no test's record: the run is written and shown by then, and pytest's own
unconfigure collects garbage (each collection walks every live object), and a process that runs pytest more than
once (pytester's in-process runs, an IDE) would otherwise keep every run's records."""

from __future__ import annotations

import pytest
from conftest import make_project, run_report

from pytest_iotops.plugin import PLUGIN_NAME

FILES = {
    "tests/unit/test_u.py": "def test_u1():\n    pass\n\ndef test_u2():\n    pass\n",
    "tests/integration/test_i.py": "def test_i1():\n    pass\n",
}


def test_the_records_go_at_unconfigure_after_the_report_is_written(pytester: pytest.Pytester) -> None:
    make_project(pytester, files=FILES)
    seen: dict[str, int] = {}

    class Probe:
        @pytest.hookimpl(trylast=True)
        def pytest_terminal_summary(self, config: pytest.Config) -> None:
            plugin = config.pluginmanager.get_plugin(PLUGIN_NAME)
            seen["at summary"] = len(plugin.pipeline.report.tests)
            self.plugin = plugin

    probe = Probe()
    result = pytester.inline_run("--iotops", "--iotops-no-cov", "-p", "no:cacheprovider", plugins=[probe])
    ran = len(result.getreports("pytest_runtest_logreport")) // 3
    assert ran > 3
    assert seen["at summary"] == ran
    plugin = probe.plugin
    assert plugin.pipeline.report is None
    assert plugin.pipeline.recorder.tests == {}
    assert plugin.items == []
    assert plugin.phase_by_id == {}
    assert len(run_report(pytester.path)["tests"]) == ran  # what was written stays written
