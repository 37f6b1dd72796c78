"""Evidence parsing and diff coverage at scale.

1. A generated 200 MB Cobertura file: our streaming parser vs ``lxml.etree.parse`` of the same file (the
   reference a hand-written parser would use): seconds, MB/s and peak RSS, each in a fresh process.
   Target: streaming, peak RSS under 150 MB.
2. Diff coverage on a generated 2,000-file project (git repo, coverage.xml, every file changed) vs
   ``diff-cover``: seconds (fresh processes, median of rounds) and the numbers, which must be the same.

Usage: .venv/bin/python benchmarks/bench_evidence.py [--mb 200] [--files 2000] [--rounds 3]
(needs diff-cover: pip install -e ".[bench]")
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD_OURS = """
import resource, sys, time
from pathlib import Path
from pytest_iotops.evidence.config import EvidenceSource
from pytest_iotops.evidence.cobertura import parse
start = time.perf_counter()
parsed = parse(Path(sys.argv[1]), EvidenceSource(name="b", kind="cobertura", path="x"), Path(sys.argv[2]))
elapsed = time.perf_counter() - start
lines = sum(f.statements for f in parsed.files)
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, lines)
"""

CHILD_LXML = """
import resource, sys, time
from lxml import etree
start = time.perf_counter()
tree = etree.parse(sys.argv[1], etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
lines = sum(1 for _ in tree.iter("line"))
elapsed = time.perf_counter() - start
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, lines)
"""

CHILD_DIFF = """
import json, sys, time
from pathlib import Path
start = time.perf_counter()
from pytest_iotops.diffcov import changed_lines, diff_coverage
from pytest_iotops.evidence.config import EvidenceSource
from pytest_iotops.evidence.cobertura import parse
root = Path(sys.argv[1])
parsed = parse(root / "coverage.xml", EvidenceSource(name="py", kind="cobertura", path="coverage.xml"), root)
merge_base, changed = changed_lines(root, "main")
result = diff_coverage("main", merge_base, changed, {"py": parsed.lines}, [("pkg", frozenset({".py"}))],
                       ("**/*.py",), ())
print(json.dumps({"seconds": time.perf_counter() - start, "covered": result.covered,
                  "coverable": result.coverable, "percent": result.percent, "files": len(result.files)}))
"""


def write_cobertura(path: Path, target_mb: int) -> tuple[int, int]:
    """coverage.py-shaped Cobertura: ~target_mb MB, written streaming."""
    rng = random.Random(7)
    lines_per_class = 4000
    classes = 0
    total_lines = 0
    with path.open("w", encoding="utf-8") as fh:
        fh.write(
            '<?xml version="1.0" ?>\n<coverage version="7.17.5" timestamp="0" lines-valid="0" '
            'lines-covered="0" line-rate="0" branches-covered="0" branches-valid="0" branch-rate="0" '
            'complexity="0">\n<sources><source>/src</source></sources>\n<packages><package name="pkg" '
            'line-rate="0" branch-rate="0" complexity="0"><classes>\n'
        )
        while fh.tell() < target_mb * 1024 * 1024:
            fh.write(
                f'<class name="m{classes}.py" filename="pkg/m{classes}.py" complexity="0" line-rate="0" '
                'branch-rate="0"><methods/><lines>\n'
            )
            for n in range(1, lines_per_class + 1):
                if n % 10 == 0:
                    fh.write(
                        f'<line number="{n}" hits="{rng.randint(0, 3)}" branch="true" '
                        f'condition-coverage="50% (1/2)" missing-branches="{n + 2}"/>\n'
                    )
                else:
                    fh.write(f'<line number="{n}" hits="{rng.randint(0, 3)}"/>\n')
            fh.write("</lines></class>\n")
            classes += 1
            total_lines += lines_per_class
        fh.write("</classes></package></packages></coverage>\n")
    return classes, total_lines


def child(code: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return done.stdout.strip()


def bench_cobertura(mb: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="iotops-cob-") as tmp:
        path = Path(tmp) / "coverage.xml"
        classes, lines = write_cobertura(path, mb)
        size_mb = path.stat().st_size / 1024 / 1024
        print(f"\nCobertura: {size_mb:.0f} MB, {classes} classes, {lines} lines")
        results: dict[str, list[tuple[float, float]]] = {"iotops streaming": [], "lxml.etree.parse": []}
        for _ in range(rounds):
            for name, code in (("iotops streaming", CHILD_OURS), ("lxml.etree.parse", CHILD_LXML)):
                seconds, rss_kb, counted = child(code, str(path), tmp).split()
                assert int(counted) == lines, (name, counted, lines)
                results[name].append((float(seconds), int(rss_kb) / 1024))
        for name, runs in results.items():
            seconds = statistics.median(r[0] for r in runs)
            rss = max(r[1] for r in runs)
            print(f"  {name:18} {seconds:6.2f}s  {size_mb / seconds:6.1f} MB/s  peak RSS {rss:7.1f} MB")
        ours, ref = (statistics.median(r[0] for r in results[k]) for k in results)
        peak = max(r[1] for r in results["iotops streaming"])
        print(
            f"  time ratio iotops/lxml.parse {ours / ref:.2f}; peak RSS {peak:.0f} MB "
            f"(target < 150 MB: {'met' if peak < 150 else 'NOT met'})"
        )


def make_repo(root: Path, files: int) -> None:
    rng = random.Random(11)
    pkg = root / "pkg"
    pkg.mkdir()
    git = ["git", "-c", "user.email=b@example.invalid", "-c", "user.name=b"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    for i in range(files):
        (pkg / f"m{i}.py").write_text("".join(f"def f{j}(x):\n    return x + {j}\n\n" for j in range(15)))
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=root, check=True)
    subprocess.run(["git", "checkout", "-qb", "change"], cwd=root, check=True)
    with (root / "coverage.xml").open("w") as fh:
        fh.write(
            f'<?xml version="1.0" ?>\n<coverage version="7.17.5" timestamp="0" line-rate="0" branch-rate="0" '
            f'complexity="0"><sources><source>{root}</source></sources><packages><package name="pkg" '
            'line-rate="0" branch-rate="0" complexity="0"><classes>\n'
        )
        for i in range(files):
            body = "".join(f"def f{j}(x):\n    return x + {j}\n\n" for j in range(15))
            body += "".join(f"def g{j}(x):\n    y = x * {j}\n    return y\n\n" for j in range(5))
            (pkg / f"m{i}.py").write_text(body)
            statements = [n + 1 for n, line in enumerate(body.splitlines()) if line.strip()]
            fh.write(
                f'<class name="m{i}.py" filename="pkg/m{i}.py" complexity="0" line-rate="0" branch-rate="0">'
                "<methods/><lines>"
            )
            fh.write("".join(f'<line number="{n}" hits="{rng.choice([0, 1, 1])}"/>' for n in statements))
            fh.write("</lines></class>\n")
        fh.write("</classes></package></packages></coverage>\n")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "change"], cwd=root, check=True)


def bench_diff(files: int, rounds: int) -> None:
    diff_cover = Path(sys.executable).with_name("diff-cover")
    if not diff_cover.exists():
        raise SystemExit("diff-cover is not installed: pip install -e '.[bench]'")
    with tempfile.TemporaryDirectory(prefix="iotops-diff-") as tmp:
        root = Path(tmp)
        make_repo(root, files)
        ours_t, theirs_t = [], []
        ours: dict[str, float] = {}
        theirs: dict[str, float] = {}
        for _ in range(rounds):
            start = time.perf_counter()
            ours = json.loads(child(CHILD_DIFF, str(root)))
            ours_t.append(time.perf_counter() - start)
            start = time.perf_counter()
            subprocess.run(
                [str(diff_cover), "coverage.xml", "--compare-branch=main", "--format", f"json:{root / 'dc.json'}"],
                cwd=root,
                capture_output=True,
                check=True,
                env={**os.environ, "PYTHONWARNINGS": "ignore"},
            )
            theirs_t.append(time.perf_counter() - start)
            theirs = json.loads((root / "dc.json").read_text())
        print(f"\nDiff coverage, {files} changed files, {rounds} rounds (median wall clock, fresh processes):")
        print(
            f"  iotops      {statistics.median(ours_t):6.2f}s  {ours['covered']}/{ours['coverable']} lines "
            f"= {ours['percent']:.4f} %  in {ours['files']} files"
        )
        total = theirs["total_num_lines"]
        print(
            f"  diff-cover  {statistics.median(theirs_t):6.2f}s  "
            f"{total - theirs['total_num_violations']}/{total} lines = {theirs['total_percent_covered']} %  "
            f"in {len(theirs['src_stats'])} files"
        )
        same = ours["coverable"] == total and ours["covered"] == total - theirs["total_num_violations"]
        print(f"  speed-up {statistics.median(theirs_t) / statistics.median(ours_t):.1f}x; same numbers: {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    bench_cobertura(args.mb, args.rounds)
    bench_diff(args.files, args.rounds)


if __name__ == "__main__":
    main()
