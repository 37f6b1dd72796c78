"""What `pytest --iotops` costs, against plain pytest and against the pipeline it replaces, on generated suites.

A generated project (20 modules of small branchy functions, 70/20/10 unit/integration/e2e tests, a git history
with a change for diff coverage) is run in every variant below, at each size, in interleaved rounds: every
round runs every variant once, in a rotating order, so machine noise hits every variant alike. Each comparison
is the median over rounds of the per-round ratio A/B, in CPU time (user + system of the process tree, which
holds on a shared machine) and in wall time. The cost per test is a line fitted through the sizes.

Comparisons (the goals of the performance issue):

- installed, not enabled / plain pytest                          <= 1.00
- --iotops --iotops-no-cov / plain pytest                          <= 1.03
- --iotops coverage + gates + JSON / pytest-cov same settings    <= 1.00 (coverage.py), <= 0.50 (SlipCover)
- full pipeline / anchor pipeline                                 <= 0.65 (coverage.py), <= 0.50 (SlipCover)
  (coverage.py figures also with trace = "tests": its tracer off for pytest's own work between tests)
  full: coverage + gates + JUnit + HTML + Markdown + diff coverage, one process;
  anchor: pytest-cov (xml, branch, fail-under) + pytest-html + --junitxml, then diff-cover
- -n 2 --iotops --iotops-no-cov / -n 2                            <= 1.05
- speed-up of -n 2 over serial with iotops, against plain xdist's  equal

Usage:
    .venv/bin/python benchmarks/bench_core.py                          # 1,000 / 5,000 / 20,000 tests
    .venv/bin/python benchmarks/bench_core.py --sizes 2000,5000 --rounds 5
    .venv/bin/python benchmarks/bench_core.py --json out.json          # the figures, for the docs
    .venv/bin/python benchmarks/bench_core.py --variants installed-off,iotops-no-cov   # some, against plain
    .venv/bin/python benchmarks/bench_core.py --sizes 2000 --instructions --rounds 3   # instructions, 3 seeds
Real projects' suites (both engines, same figures, time ratios): benchmarks/conformance.py --engines
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

MODULE = """
def f{i}(x):
    if x % 3 == 0:
        return x * 2
    elif x % 3 == 1:
        return x + {i}
    return -x
"""

CHANGE = """

def changed_{m}(x):
    if x > 0:
        return x
    return 0
"""

MODULES = 20


def _git(root: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@example.invalid"}
    env.update(GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="b@example.invalid")
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def generate(root: Path, tests: int, per_file: int = 50) -> None:
    """The project at ``root``: a ``main`` commit, then a ``change`` commit that adds a half-tested function to
    five modules (the lines diff coverage judges)."""
    pkg = root / "benchpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for m in range(MODULES):
        (pkg / f"mod{m}.py").write_text("".join(MODULE.format(i=i) for i in range(10)))
    shares = {"unit": 0.7, "integration": 0.2, "e2e": 0.1}
    counter = 0
    for phase, share in shares.items():
        count = round(tests * share)
        for start in range(0, count, per_file):
            n = min(per_file, count - start)
            body = [f"import benchpkg.mod{counter % MODULES} as m\n"]
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

            [tool.iotops]
            formats = []

            [tool.iotops.coverage]
            source = ["benchpkg"]
            fail_under = 50
            branch_fail_under = 30
            file_fail_under = 10
            phase_fail_under = { unit = 30 }
            """
        )
    )
    (root / f"{NULL_PLUGIN[1]}.py").write_text('"""An empty pytest plugin: see NULL_PLUGIN."""\n')
    (root / ".gitignore").write_text("iotops-reports/\n*.xml\n*.html\n.coverage*\nassets/\n__pycache__/\n")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "base")
    _git(root, "checkout", "-q", "-b", "change")
    for m in range(5):
        with (pkg / f"mod{m}.py").open("a") as fh:
            fh.write(CHANGE.format(m=m))
    (root / "tests" / "unit" / "test_change.py").write_text(
        "".join(f"from benchpkg.mod{m} import changed_{m}\n" for m in range(5))
        + "".join(f"\ndef test_changed_{m}():\n    assert changed_{m}(1) == 1\n" for m in range(5))
    )
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "change")


PLUGIN = ("-p", "pytest_iotops.plugin")
#: the plain baselines load this empty plugin the way the others load theirs. ``-p NAME`` makes pytest scan every
#: installed package's entry points for a plugin of that name (about 23 M instructions in this venv); a real
#: install pays that scan once, with or without pytest-iotops (autoload), so a plain run without any ``-p`` would
#: charge the scan to the plugin
NULL_PLUGIN = ("-p", "iotops_bench_null")
FULL = ("--iotops", "--iotops-format", "html", "--iotops-format", "md", "--iotops-format", "junit")
PYTEST_COV = ("-p", "pytest_cov.plugin", "--cov=benchpkg", "--cov-branch", "--cov-report=xml", "--cov-fail-under=50")
XDIST = ("-p", "xdist.plugin", "-n", "2")


def variants() -> dict[str, list[list[str]]]:
    """Each variant: the commands it runs, one after the other (the anchor pipeline is two)."""
    base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    slip = ("--iotops-cov-engine", "slipcover")
    tests = ("--iotops-cov-trace", "tests")  # coverage.py's tracer off between tests
    html = ("-p", "pytest_metadata.plugin", "-p", "pytest_html.plugin", "--html=report.html", "--self-contained-html")
    diff_cover = [sys.executable, "-m", "diff_cover.diff_cover_tool", "coverage.xml", "--compare-branch=main"]
    return {
        "plain": [[*base, *NULL_PLUGIN]],
        "installed-off": [[*base, *PLUGIN]],
        "iotops-no-cov": [[*base, *PLUGIN, "--iotops", "--iotops-no-cov"]],
        "iotops-cov": [[*base, *PLUGIN, "--iotops"]],
        "iotops-cov-slipcover": [[*base, *PLUGIN, "--iotops", *slip]],
        "iotops-cov-tests": [[*base, *PLUGIN, "--iotops", *tests]],
        "pytest-cov": [[*base, *PYTEST_COV]],
        "full": [[*base, *PLUGIN, *FULL]],
        "full-slipcover": [[*base, *PLUGIN, *FULL, *slip]],
        "full-tests": [[*base, *PLUGIN, *FULL, *tests]],
        "anchor": [[*base, *PYTEST_COV, *html, "--junitxml=junit.xml"], [*diff_cover, "--fail-under=40"]],
        "plain-n2": [[*base, *XDIST, *NULL_PLUGIN]],
        "iotops-no-cov-n2": [[*base, *PLUGIN, *XDIST, "--iotops", "--iotops-no-cov"]],
    }


#: (label, numerator, denominator, goal): ratio <= goal; None: printed only
COMPARISONS: list[tuple[str, str, str, float | None]] = [
    ("installed, not enabled / plain", "installed-off", "plain", 1.00),
    ("--iotops --iotops-no-cov / plain", "iotops-no-cov", "plain", 1.03),
    ("--iotops coverage+gates (coverage.py) / pytest-cov", "iotops-cov", "pytest-cov", 1.00),
    ("--iotops coverage+gates (SlipCover) / pytest-cov", "iotops-cov-slipcover", "pytest-cov", 0.50),
    ("--iotops coverage+gates (coverage.py, trace = tests) / pytest-cov", "iotops-cov-tests", "pytest-cov", 1.00),
    ("full pipeline (coverage.py) / anchor pipeline", "full", "anchor", 0.65),
    ("full pipeline (SlipCover) / anchor pipeline", "full-slipcover", "anchor", 0.50),
    ("full pipeline (coverage.py, trace = tests) / anchor pipeline", "full-tests", "anchor", 0.65),
    ("-n 2 --iotops --iotops-no-cov / -n 2", "iotops-no-cov-n2", "plain-n2", 1.05),
    ("serial / -n 2, plain (xdist's speed-up)", "plain", "plain-n2", None),
    ("serial / -n 2, --iotops --iotops-no-cov", "iotops-no-cov", "iotops-no-cov-n2", None),
]


@dataclass
class Sample:
    cpu: float
    wall: float


#: --instructions: each command under valgrind's callgrind, every child process included (xdist workers, git,
#: diff-cover); a sample's "cpu" is then the instructions executed, in billions. Exact and repeatable where CPU
#: time is not (a shared machine's CPU time varied by 20-30 % between identical runs), at 20-50x the run time.
#: Round ``r`` runs every variant with ``PYTHONHASHSEED=r``: string hashing moves a run's count by up to 0.4 %, so
#: the pairs compare the same hashing and more rounds give the median over several seeds.
VALGRIND = ["valgrind", "--tool=callgrind", "--trace-children=yes", "--callgrind-out-file=/dev/null"]
COLLECTED = re.compile(r"^==\d+== Collected : (\d+)$", re.MULTILINE)


def run(commands: list[list[str]], cwd: Path, instructions: bool = False, seed: int = 0) -> Sample:
    """Run the commands in turn; CPU time of every process they started (xdist workers included), or with
    ``instructions`` the instructions they executed (billions), string hashing seeded with ``seed``."""
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": ""}
    if instructions:
        env["PYTHONHASHSEED"] = str(seed)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    counted = 0
    for cmd in commands:
        argv = [*VALGRIND, *cmd] if instructions else cmd
        done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=36000)
        if done.returncode != 0:
            shown = " ".join(cmd[2:8])
            raise SystemExit(f"{shown} ... failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
        counted += sum(int(n) for n in COLLECTED.findall(done.stderr))
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Sample(counted / 1e9 if instructions else cpu, wall)


DIFF_GATE = """
[tool.iotops.diff]
base = "main"
fail_under = 40
"""


def measure(
    tests: int, rounds: int, only: frozenset[str] = frozenset(), instructions: bool = False
) -> dict[str, list[Sample]]:
    with tempfile.TemporaryDirectory(prefix="iotops-bench-") as tmp:
        root = Path(tmp) / "project"
        root.mkdir()
        generate(root, tests)
        # the full pipeline's copy gates diff coverage (a diff gate without coverage is an error, as it must be)
        full_root = Path(tmp) / "project-full"
        shutil.copytree(root, full_root)
        with (full_root / "pyproject.toml").open("a") as fh:
            fh.write(DIFF_GATE)
        cmds = {name: cmd for name, cmd in variants().items() if not only or name in only}
        where = {name: full_root if name.startswith("full") else root for name in cmds}
        samples: dict[str, list[Sample]] = {name: [] for name in cmds}
        for name, cmd in cmds.items():  # warm-up: imports, .pyc files, Jinja's template cache
            run(cmd, where[name])
        names = list(cmds)
        unit = "G instructions" if instructions else "CPU s"
        for r in range(rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            for name in order:
                samples[name].append(run(cmds[name], where[name], instructions, seed=r))
            shown = ", ".join(f"{n} {samples[n][-1].cpu:.3f}" for n in names)
            print(f"  {tests} tests, round {r + 1}/{rounds} ({unit}): {shown}", file=sys.stderr, flush=True)
    return samples


def ratio(samples: dict[str, list[Sample]], a: str, b: str, what: str) -> float:
    pairs = zip(samples[a], samples[b], strict=True)
    return statistics.median(getattr(x, what) / getattr(y, what) for x, y in pairs)


def fit(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least squares ``seconds = fixed + per_test * tests``."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0
    return my - slope * mx, slope


def report(results: dict[int, dict[str, list[Sample]]], unit: str = "CPU s") -> dict[str, object]:
    out: dict[str, object] = {"python": sys.version.split()[0], "sizes": {}}
    for tests, samples in results.items():
        rows = []
        print(f"\n{tests} tests, {len(samples['plain'])} interleaved rounds: median {unit} / wall s")
        for name, values in samples.items():
            cpu = statistics.median(s.cpu for s in values)
            wall = statistics.median(s.wall for s in values)
            print(f"  {name:22} {cpu:8.2f} {wall:8.2f}")
        print(f"  ratio (median of per-round ratios)           {unit:>16}    wall   goal")
        for label, a, b, goal in COMPARISONS:
            if a not in samples or b not in samples:
                continue
            cpu, wall = ratio(samples, a, b, "cpu"), ratio(samples, a, b, "wall")
            verdict = "" if goal is None else f"<= {goal:.2f} {'met' if cpu <= goal else 'NOT met'} ({unit})"
            print(f"  {label:54} {cpu:6.3f} {wall:6.3f}   {verdict}")
            rows.append({"comparison": label, "cpu": round(cpu, 3), "wall": round(wall, 3), "goal": goal})
        medians = {n: statistics.median(s.cpu for s in v) for n, v in samples.items()}
        out["sizes"][str(tests)] = {"ratios": rows, "cpu_median": medians}  # type: ignore[index]
    if len(results) > 1:
        print(f"\ncost per test ({unit}, line fitted through the sizes): fixed + per 1,000 tests")
        fits = {}
        for name in next(iter(results.values())):
            points = [(t, statistics.median(s.cpu for s in r[name])) for t, r in results.items()]
            fixed, per_test = fit(points)
            fits[name] = {"fixed_s": round(fixed, 3), "per_test_ms": round(per_test * 1000, 4)}
            print(f"  {name:22} {fixed:7.3f} + {per_test * 1000:7.4f} per 1,000 tests")
        plain = fits["plain"]["per_test_ms"]
        for name in [n for n in ("installed-off", "iotops-no-cov", "iotops-cov", "iotops-cov-slipcover") if n in fits]:
            extra = fits[name]["per_test_ms"] - plain
            each = f"{extra * 1e6:,.0f} instructions" if unit.startswith("G") else f"{extra * 1000:.1f} us"
            print(f"  {name} adds {each} per test over plain pytest")
        out["fits"] = fits
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,5000,20000", help="test counts, comma-separated")
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="interleaved rounds per size (default 5, 20,000 tests at most 3; with --instructions 1, each round "
        "its own hash seed)",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--variants", default="", help="only these variants, comma-separated (plain is always run)")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions (valgrind callgrind) instead of CPU time: exact on a noisy machine",
    )
    args = parser.parse_args()
    only = frozenset(filter(None, args.variants.split(","))) | ({"plain"} if args.variants else set())
    if args.instructions and shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (Debian: apt-get install valgrind)")
    results = {}
    for tests in (int(s) for s in args.sizes.split(",")):
        rounds = args.rounds or (1 if args.instructions else 5)
        if tests >= 20000 and not args.instructions:
            rounds = min(rounds, 3)
        results[tests] = measure(tests, rounds, only, args.instructions)
    figures = report(results, "G instructions" if args.instructions else "CPU s")
    figures["measure"] = "instructions" if args.instructions else "cpu"
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
