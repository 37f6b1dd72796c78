"""The HTML report in a real browser (Debian's Chromium driven by Playwright), and from an installed wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, ROOT, require_binary

from pytest_iotops.model import load_report
from pytest_iotops.render import render

RICH = DATA / "report-rich.json"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = require_binary("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("playwright is required in CI (pip install -e '.[test]')")
        pytest.skip("playwright is not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Any, tmp_path: Path) -> Iterator[Any]:
    html = tmp_path / "report.html"
    html.write_text(render(load_report(RICH), "html"), encoding="utf-8")
    page = _open(browser, html)
    yield page
    page.close()


def _open(browser: Any, html: Path) -> Any:
    """A page on ``html`` that keeps its console errors and any dialog (a script that ran) for the asserts."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.console_errors = []
    page.dialogs = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(html.as_uri())
    return page


def test_renders_without_errors_and_filters(page: Any) -> None:
    assert page.console_errors == []
    assert page.locator("#t-count").text_content() == "8 of 8 tests"
    page.select_option("#f-outcome", "failed")
    assert page.locator("#t-count").text_content() == "2 of 8 tests"
    page.select_option("#f-outcome", "")
    page.select_option("#f-phase", "integration")
    assert page.locator("#t-count").text_content() == "3 of 8 tests"
    page.select_option("#f-phase", "")
    page.fill("#f-text", "quote")
    assert page.locator("#t-count").text_content() == "1 of 8 tests"
    ARTIFACTS.mkdir(exist_ok=True)
    page.fill("#f-text", "")
    page.screenshot(path=str(ARTIFACTS / "html-report.png"), full_page=True)


def test_xss_payloads_show_as_text_and_run_nothing(page: Any) -> None:
    page.fill("#f-text", "script")
    cell = page.locator("#t-body td").first
    assert cell.text_content() == 'tests/unit/test_names.py::test_odd_names[<script>alert("x")</script>]'
    page.fill("#f-text", "markup")
    page.locator("#t-body tr").first.click()
    detail = page.locator("pre.longrepr").text_content()
    assert "<img src=x onerror=alert(1)>" in detail
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.dialogs == []
    assert page.console_errors == []


def test_deployments_show_timeline_steps_and_decision_log_with_payloads_as_text(page: Any) -> None:
    section = page.locator("#deployments")
    assert "2 deployments: 1 promoted, 1 rolled back" in section.text_content()
    heading = section.locator("article h3").first.text_content()
    assert heading == "canary v1 → v2-<img src=x onerror=alert(2)> on local: rolled back at 10 %"
    assert section.locator("article").first.locator("svg.chart rect.bar-bad").count() == 1
    assert "10 % fail" in section.locator("article svg.chart").first.text_content()
    charts = section.locator("article").first.locator("details.metric-charts")
    charts.locator("summary").click()
    assert charts.locator("svg.metric-chart").count() == 2  # error_rate and latency_p99 of the one step
    error_rate = charts.locator("svg.metric-chart").first.text_content()
    assert "error_rate: v2-<img src=x onerror=alert(2)> (coloured by verdict)" in error_rate  # the name as text
    assert "0.25" in error_rate  # the canary's value and the baseline's, written out
    assert "1 · 10 %" in error_rate
    assert charts.locator("svg.metric-chart").first.locator("rect.bar-bad").count() == 1  # the failing canary bar
    section.locator("article").first.locator("details:not(.metric-charts) summary").click()
    log = section.locator("article").first.locator("details:not(.metric-charts) table").text_content()
    assert "<svg onload=alert(3)>" in log
    assert "aborted" in log
    assert page.evaluate("document.querySelectorAll('#deployments img, #deployments b').length") == 0
    assert page.evaluate("document.querySelectorAll('#deployments svg').length") == 4  # 2 timelines, 2 metrics
    assert page.dialogs == []
    assert page.console_errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    section.screenshot(path=str(ARTIFACTS / "html-deployments.png"))


def test_sorting_a_static_table(page: Any) -> None:
    rows = page.locator("#findings table.sortable tbody tr")
    page.locator("#findings table.sortable th", has_text="rule").click()
    rules = [rows.nth(i).locator("td").nth(2).text_content() for i in range(rows.count())]
    assert rules == sorted(rules, key=str.casefold) or rules == sorted(rules)


@pytest.mark.slow
def test_an_installed_wheel_renders_html(tmp_path: Path) -> None:
    """The wheel carries the templates, the schema, py.typed and both entry points; a fresh venv with only
    the wheel (and jinja2 and orjson: the renderer's and the JSON encoder's) renders the report."""
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    (wheel,) = wheels.glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = next(zf.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    assert {
        "pytest_iotops/py.typed",
        "pytest_iotops/schema/run-report-2.schema.json",
        "pytest_iotops/templates/report.html.j2",
        "pytest_iotops/templates/report.js",
    } <= names
    assert "[pytest11]\niotops = pytest_iotops.plugin" in entry_points
    assert "iotops = pytest_iotops.cli:main" in entry_points
    install = subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", str(wheel), "jinja2", "markupsafe", "pluggy", "orjson"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    out = tmp_path / "out.html"
    done = subprocess.run(
        [python, "-m", "pytest_iotops.cli", "report", str(RICH), "-f", "html", "-o", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    html = out.read_text()
    assert "<title>FAILED · project · pytest-iotops</title>" in html
    assert "Test pyramid" in html


def test_a_fleet_of_ten_thousand_devices_draws_fast_with_payloads_as_text(browser: Any, tmp_path: Path) -> None:
    """The worst case for the heatmap: no two neighbours alike, so every device is its own rectangle."""
    import time

    from pytest_iotops.model import FleetDecision, FleetRollout, FleetWave

    report = load_report(RICH)
    states = "".join("SFTRCN."[i % 7] for i in range(10_000))
    report.fleet_rollouts.append(
        FleetRollout(
            test="tests/e2e/test_fleet.py::test_<script>alert(4)</script>",
            name="x",
            broker="mosquitto",
            old="1.0.0",
            new="2.0.0<img src=x onerror=alert(5)>",
            devices=10_000,
            outcome="aborted",
            rule="failure_rate: <b>bold</b>",
            policy="p",
            seed=1,
            aborted_in_wave=1,
            waves=[FleetWave(1, 10_000, 5000, 3000, 1000, 500, 500)],
            decisions=[FleetDecision(0.0, 1, "start", "waves", "<svg onload=alert(6)>", 100)],
            versions={"1.0.0": 10_000},
            states=states,
        )
    )
    html = tmp_path / "fleet.html"
    html.write_text(render(report, "html"), encoding="utf-8")
    started = time.monotonic()
    page = _open(browser, html)
    loaded = time.monotonic() - started
    section = page.locator("#fleet")
    assert section.locator("svg.heatmap rect").count() == 10_000
    assert "2.0.0<img src=x onerror=alert(5)>" in section.locator("article h3").text_content()
    assert page.evaluate("document.querySelectorAll('#fleet img, #fleet b').length") == 0
    assert page.dialogs == []
    assert page.console_errors == []
    print(f"report with a 10,000-device heatmap (10,000 rectangles) loaded in {loaded:.2f} s")
    page.close()
