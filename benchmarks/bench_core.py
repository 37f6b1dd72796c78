"""Overhead of `pytest --iotops` on a generated 5,000-test project (70/20/10 unit/integration/e2e).

Prints median wall-clock times and ratios, measured side by side (runs interleaved, so machine noise hits
every variant alike):

- plain pytest with the plugin installed but not enabled  vs  pytest without the plugin   (target 1.00)
- pytest --iotops --iotops-no-cov                           vs  plain pytest               (target <= 1.03)
- pytest --iotops with coverage and gates                   vs  pytest --cov --cov-branch --cov-report=xml
                                                                --cov-fail-under             (target <= 1.0)

Usage: .venv/bin/python benchmarks/bench_core.py [--tests 5000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

MODULE = """
def f{i}(x):
    if x % 3 == 0:
        return x * 2
    elif x % 3 == 1:
        return x + {i}
    return -x
"""


def generate(root: Path, tests: int, per_file: int = 50) -> None:
    pkg = root / "benchpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    modules = 20
    for m in range(modules):
        (pkg / f"mod{m}.py").write_text("".join(MODULE.format(i=i) for i in range(10)))
    shares = {"unit": 0.7, "integration": 0.2, "e2e": 0.1}
    counter = 0
    for phase, share in shares.items():
        count = round(tests * share)
        for start in range(0, count, per_file):
            n = min(per_file, count - start)
            body = [f"import benchpkg.mod{counter % modules} as m\n"]
            for t in range(n):
                body.append(f"\ndef test_{phase}_{start + t}():\n    assert m.f{t % 10}({t}) is not None\n")
            path = root / "tests" / phase / f"test_{phase}_{start // per_file}.py"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(body))
            counter += 1
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [project]
            name = "benchpkg"
            version = "0"

            [tool.pytest.ini_options]
            pythonpath = ["."]

            [tool.iotops.coverage]
            fail_under = 50
            branch_fail_under = 30
            file_fail_under = 10
            phase_fail_under = { unit = 30 }
            """
        )
    )


def variants(python: str) -> dict[str, list[str]]:
    base = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    return {
        "plain": base,
        "installed-off": [*base, "-p", "pytest_iotops.plugin"],
        "iotops-no-cov": [*base, "-p", "pytest_iotops.plugin", "--iotops", "--iotops-no-cov"],
        "iotops-cov-gates": [*base, "-p", "pytest_iotops.plugin", "--iotops"],
        "pytest-cov": [
            *base,
            "-p",
            "pytest_cov.plugin",
            "--cov=benchpkg",
            "--cov-branch",
            "--cov-report=xml",
            "--cov-fail-under=50",
        ],
    }


def run(cmd: list[str], cwd: Path) -> float:
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tests", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="iotops-bench-") as tmp:
        root = Path(tmp)
        generate(root, args.tests)
        cmds = variants(sys.executable)
        times: dict[str, list[float]] = {name: [] for name in cmds}
        for cmd in cmds.values():  # warm-up: imports, .pyc files
            run(cmd, root)
        for r in range(args.rounds):
            for name, cmd in cmds.items():
                times[name].append(run(cmd, root))
            print(
                f"round {r + 1}/{args.rounds}: " + ", ".join(f"{n} {t[-1]:.2f}s" for n, t in times.items()), flush=True
            )
    med = {name: statistics.median(t) for name, t in times.items()}
    print(f"\n{args.tests} tests, {args.rounds} interleaved rounds, median wall-clock seconds:")
    for name, value in med.items():
        print(f"  {name:18} {value:7.3f}s")
    print("\nratios (median):")
    rows = [
        ("installed, not enabled / plain pytest", med["installed-off"] / med["plain"], 1.0),
        ("--iotops without coverage / plain pytest", med["iotops-no-cov"] / med["plain"], 1.03),
        (
            "--iotops coverage+gates / pytest-cov --cov-branch xml fail-under",
            med["iotops-cov-gates"] / med["pytest-cov"],
            1.0,
        ),
    ]
    for label, ratio, target in rows:
        print(f"  {label:66} {ratio:6.3f}  (target <= {target:.2f}: {'met' if ratio <= target else 'NOT met'})")


if __name__ == "__main__":
    main()
