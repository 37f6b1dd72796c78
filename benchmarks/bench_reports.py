"""HTML report vs pytest-html (--self-contained-html) on the same generated suites of 1,000 and 10,000 tests.

For each size: report generation time (ours: rendering from the run report; both: extra wall clock of the
pytest run over plain pytest), file size, and time to first render in headless Chromium (first contentful
paint and the load event, fresh page each round). Targets at 10,000 tests: generation <= 1 s, file <= 3 MB,
first render <= 2 s, each better than pytest-html.

Usage: .venv/bin/python benchmarks/bench_reports.py [--sizes 1000 10000] [--rounds 3]
(needs pytest-html and playwright, and Debian's chromium: pip install -e ".[bench,test]")
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_core import generate

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def add_failures(root: Path, every: int = 100) -> None:
    """One failing test in every ``every``: reports must carry failure text, not only green rows."""
    for i, path in enumerate(sorted((root / "tests").rglob("test_*.py"))):
        if i % max(1, every // 50) == 0:
            path.write_text(path.read_text() + "\n\ndef test_fails_here():\n    assert {'a': 1} == {'a': 2}\n")


def run(cmd: list[str], cwd: Path) -> float:
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=False)
    return time.perf_counter() - start


def first_render(browser: object, path: Path) -> tuple[float, float]:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function("performance.getEntriesByName('first-contentful-paint').length > 0", timeout=30_000)
    fcp = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0].startTime")
    load = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
    page.close()
    return float(fcp) / 1000, float(load) / 1000


def bench(size: int, rounds: int, browser: object) -> None:
    from pytest_iotops.model import load_report
    from pytest_iotops.render.html import render_html

    with tempfile.TemporaryDirectory(prefix="iotops-rep-") as tmp:
        root = Path(tmp)
        generate(root, size)
        add_failures(root)
        base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        ours_cmd = [*base, "-p", "pytest_iotops.plugin", "--iotops", "--iotops-no-cov", "--iotops-format", "html"]
        theirs_cmd = [
            *base,
            "-p",
            "pytest_metadata.plugin",
            "-p",
            "pytest_html.plugin",
            "--html",
            str(root / "pytest-html.html"),
            "--self-contained-html",
        ]
        walls: dict[str, list[float]] = {"plain": [], "iotops": [], "pytest-html": []}
        for _ in range(rounds):
            walls["plain"].append(run(base, root))
            walls["iotops"].append(run(ours_cmd, root))
            walls["pytest-html"].append(run(theirs_cmd, root))
        report = load_report(root / "iotops-reports" / "run-report.json")
        renders = []
        for _ in range(rounds):
            start = time.perf_counter()
            render_html(report)
            renders.append(time.perf_counter() - start)
        ours_html = root / "iotops-reports" / "run-report.html"
        theirs_html = root / "pytest-html.html"
        paints = {
            "iotops": [first_render(browser, ours_html) for _ in range(rounds)],
            "pytest-html": [first_render(browser, theirs_html) for _ in range(rounds)],
        }
        plain = statistics.median(walls["plain"])
        print(
            f"\n{len(report.tests)} tests ({sum(t.outcome == 'failed' for t in report.tests)} failing), "
            f"{rounds} rounds, medians:"
        )
        print(f"  {'':12} {'run overhead':>13} {'render':>8} {'file':>9} {'first paint':>12} {'load event':>11}")
        for name, path in (("iotops", ours_html), ("pytest-html", theirs_html)):
            overhead = statistics.median(walls[name]) - plain
            render = f"{statistics.median(renders):.3f}s" if name == "iotops" else "-"
            fcp = statistics.median(p[0] for p in paints[name])
            load = statistics.median(p[1] for p in paints[name])
            size_mb = path.stat().st_size / 1024 / 1024
            print(f"  {name:12} {overhead:12.3f}s {render:>8} {size_mb:7.2f}MB {fcp:11.3f}s {load:10.3f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            for size in args.sizes:
                bench(size, args.rounds, browser)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
