"""Evidence parsing and diff coverage at scale.

0. ``--big``: 1 GiB of each streamed format (LCOV, coverage.py JSON, JUnit, SARIF, Cobertura), generated in the
   shapes real tools write (see the ``write_*`` functions), parsed in a fresh process: seconds, MB/s, peak RSS
   and what was read. Target: peak RSS <= 200 MB each. ``--baseline-tree DIR`` runs the same parse with another
   checkout of the package first on PYTHONPATH (e.g. ``git archive <commit> | tar -x -C DIR``) for the
   throughput comparison.

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


CHILD_PARSE = """
import resource, sys, time
from pathlib import Path
from pytest_iotops.evidence.config import EvidenceSource
from pytest_iotops.evidence.run import PARSERS
path, kind, root = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
start = time.perf_counter()
parsed = PARSERS[kind](path, EvidenceSource(name="b", kind=kind, path=path.name, max_bytes=4 << 30), root)
elapsed = time.perf_counter() - start
what = (f"{sum(f.statements for f in parsed.files)} lines in {len(parsed.files)} files" if parsed.files is not None
        else f"{len(parsed.tests)} tests" if parsed.tests else f"{len(parsed.findings)} findings")
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, what)
"""


def _runs(rng: random.Random, count: int, hit_mean: float = 12.0, miss_mean: float = 4.0) -> list[bool]:
    """Hit/miss per line in runs, as real coverage clusters (a whole function or branch arm runs or not)."""
    out: list[bool] = []
    hit = True
    while len(out) < count:
        out.extend([hit] * max(1, int(rng.expovariate(1 / (hit_mean if hit else miss_mean)))))
        hit = not hit
    return out[:count]


def _fill_to(path: Path, target: int, head: str, tail: str, pieces: list[str], unit: str) -> int:
    """``head``, then ``pieces`` cycled with ``{n}`` formatted to a running number (``{f}``: one of 5,000), to
    ``target`` bytes."""
    count = 0
    with path.open("w", encoding="utf-8") as fh:
        fh.write(head)
        while fh.tell() < target:
            piece = pieces[count % len(pieces)].replace("{n}", str(count))
            fh.write(piece.replace("{f}", str(count * 7919 % 5000)))  # one of 5,000 files
            count += 1
        fh.write(tail.replace("{n}", str(count)))
    print(f"  wrote {path.name}: {path.stat().st_size / 1024 / 1024:.0f} MB, {count} {unit}")
    return count


def write_lcov(path: Path, target: int) -> None:
    """lcov 2.x / cargo-llvm-cov shape: functions, 2,000-line records, clustered hits, a BRDA pair every 8 lines."""
    rng = random.Random(3)
    pieces = []
    for _ in range(20):
        hits = _runs(rng, 2000)
        body = ["TN:\nSF:/build/project/src/unit_{n}/file_{n}.c\n"]
        body += [f"FN:{n},fn_{n}\nFNDA:{int(hits[n])},fn_{n}\n" for n in range(1, 2000, 40)]
        body.append("FNF:50\nFNH:40\n")
        for n in range(1, 2000):
            if n % 3:
                body.append(f"DA:{n},{rng.randint(1, 40) if hits[n] else 0}\n")
            if n % 8 == 0:
                taken = rng.randint(1, 9) if hits[n] else 0
                body.append(f"BRDA:{n},0,0,{taken}\nBRDA:{n},0,1,{'-' if not hits[n] else rng.randint(0, 3)}\n")
        body.append("BRF:500\nBRH:300\nLF:1333\nLH:900\nend_of_record\n")
        pieces.append("".join(body))
    _fill_to(path, target, "", "", pieces, "records")


def write_coverage_json(path: Path, target: int) -> None:
    """``coverage json`` 7.6 shape with branches: executed/missing/excluded lines, branch arcs, and the same per
    function and class (format 3)."""
    rng = random.Random(5)
    pieces = []
    for _ in range(20):
        hits = _runs(rng, 1500)
        executed = [n for n in range(1, 1500) if n % 4 and hits[n]]
        missing = [n for n in range(1, 1500) if n % 4 and not hits[n]]
        entry = {
            "executed_lines": executed,
            "summary": {
                "covered_lines": len(executed),
                "num_statements": len(executed) + len(missing),
                "percent_covered": 0.0,
                "missing_lines": len(missing),
                "excluded_lines": 0,
                "num_branches": 200,
                "num_partial_branches": 10,
                "covered_branches": 150,
                "missing_branches": 50,
            },
            "missing_lines": missing,
            "excluded_lines": [],
            "executed_branches": [[n, n + 1] for n in executed[::8]],
            "missing_branches": [[n, -1] for n in missing[::8]],
        }
        # coverage.py >= 7.5 repeats each function's and class's lines and summary (format 3)
        for region in ("functions", "classes"):
            entry[region] = {
                f"Thing.part_{k}": {
                    "executed_lines": [n for n in executed if k * 100 <= n < (k + 1) * 100],
                    "summary": {"covered_lines": 0, "num_statements": 0, "percent_covered": 0.0},
                    "missing_lines": [n for n in missing if k * 100 <= n < (k + 1) * 100],
                    "excluded_lines": [],
                }
                for k in range(15)
            }
        pieces.append('"pkg/sub_{n}/mod_{n}.py": ' + json.dumps(entry) + ",\n")
    meta = {"format": 3, "version": "7.6.1", "timestamp": "2026-01-01T00:00:00", "branch_coverage": True}
    head = '{"meta": ' + json.dumps(meta) + ',\n"files": {\n'
    last = {"executed_lines": [1], "summary": {"num_branches": 0, "covered_branches": 0}, "missing_lines": []}
    tail = '"pkg/last.py": ' + json.dumps(last) + '},\n"totals": {"covered_lines": 0}}\n'
    _fill_to(path, target, head, tail, pieces, "files")


def write_junit(path: Path, target: int) -> None:
    """Surefire/pytest shape: suites of 200 cases, logs in system-out (0-30 KB), 5 % failures with tracebacks."""
    rng = random.Random(9)
    pieces = []
    log = "".join(
        f"2026-01-01 12:00:{i % 60:02d} INFO worker-{i % 7} step {i} done in {i * 3 % 97} ms\n" for i in range(600)
    )
    trace = "Traceback (most recent call last):\n" + "".join(
        f'  File "/build/project/tests/test_x.py", line {i}, in step_{i}\n    assert value == {i}\n' for i in range(40)
    )
    for _ in range(10):
        cases, failed = [], 0
        for i in range(200):
            out = f"<system-out><![CDATA[{log[: rng.randint(0, 30_000)]}]]></system-out>"
            roll = rng.random()
            if roll < 0.05:
                failed += 1
                inner = f'<failure message="assert 1 == 2" type="AssertionError"><![CDATA[{trace}]]></failure>{out}'
            elif roll < 0.10:
                inner = '<skipped message="needs hardware" type="pytest.skip"/>'
            else:
                inner = out
            cases.append(
                f'<testcase classname="tests.suite_{{n}}.TestThing" name="test_case_{i}" time="0.{i:03d}">'
                f"{inner}</testcase>\n"
            )
        pieces.append(
            f'<testsuite name="suite_{{n}}" tests="200" failures="{failed}" errors="0" skipped="0" '
            f'time="12.5">\n{"".join(cases)}</testsuite>\n'
        )
    _fill_to(
        path,
        target,
        '<?xml version="1.0" encoding="utf-8"?>\n<testsuites name="all">\n',
        "</testsuites>\n",
        pieces,
        "suites",
    )


def write_sarif(path: Path, target: int) -> None:
    """CodeQL path-problem shape: 200 rules with help text, results in 5,000 files with 10-20-step code flows;
    ``originalUriBaseIds`` after the results, as trivy writes it (the parser's slow path: two passes)."""
    rng = random.Random(13)
    rules = [
        {
            "id": f"py/rule-{r}",
            "name": f"Rule{r}",
            "shortDescription": {"text": f"rule {r}"},
            "fullDescription": {"text": "x " * 200},
            "help": {"text": "help " * 150, "markdown": "help " * 150},
            "defaultConfiguration": {"level": "warning"},
            "properties": {"security-severity": f"{rng.uniform(1, 10):.1f}", "tags": ["security", "external/cwe"]},
        }
        for r in range(200)
    ]
    head = (
        '{"version": "2.1.0", "$schema": "https://json.schemastore.org/sarif-2.1.0.json", "runs": [{"tool": '
        + json.dumps({"driver": {"name": "CodeQL", "semanticVersion": "2.19.0", "rules": rules}})
        + ', "results": [\n'
    )
    pieces = []
    for _ in range(30):
        rule = rng.randrange(200)

        def loc(i: int) -> dict[str, object]:
            return {
                "location": {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f"src/pkg_{i % 50}/module_{i}.py", "uriBaseId": "%SRCROOT%"},
                        "region": {
                            "startLine": i * 3 + 1,
                            "startColumn": 5,
                            "endColumn": 40,
                            "snippet": {"text": f"value_{i} = request.args.get('q{i}')"},
                        },
                    },
                    "message": {"text": f"step {i}: taint flows here"},
                }
            }

        flows = [{"threadFlows": [{"locations": [loc(i) for i in range(rng.randint(10, 20))]}]}]
        result = {
            "ruleId": f"py/rule-{rule}",
            "ruleIndex": rule,
            "level": "error",
            "message": {"text": "Untrusted data flows to a sink {n}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": "src/app/views_{f}.py", "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": 42, "startColumn": 9},
                    }
                }
            ],
            "partialFingerprints": {"primaryLocationLineHash": "{n}:1"},
            "codeFlows": flows,
        }
        pieces.append(json.dumps(result) + ",\n")
    tail = (
        '{"ruleId": "py/rule-0", "message": {"text": "last"}}], "originalUriBaseIds": {"%SRCROOT%": '
        '{"uri": "file:///build/project/"}}, "columnKind": "utf16CodeUnits"}]}\n'
    )
    _fill_to(path, target, head, tail, pieces, "results")


WRITERS = {
    "lcov": write_lcov,
    "coveragepy-json": write_coverage_json,
    "junit": write_junit,
    "sarif": write_sarif,
    "cobertura": lambda path, target: write_cobertura(path, target // (1024 * 1024)),
}
SUFFIX = {"lcov": "info", "coveragepy-json": "json", "junit": "xml", "sarif": "sarif", "cobertura": "xml"}


def bench_big(kinds: list[str], mb: int, data_dir: Path, baseline: Path | None) -> bool:
    """Each format at ``mb`` MB: our parser (and the baseline tree's), fresh processes; True if all <= 200 MB."""
    data_dir.mkdir(parents=True, exist_ok=True)
    ok = True
    print(f"\nStreamed formats at {mb} MB (peak RSS target <= 200 MB):")
    for kind in kinds:
        path = data_dir / f"big-{mb}.{kind}.{SUFFIX[kind]}"
        if not path.exists():
            WRITERS[kind](path, mb * 1024 * 1024)
        size_mb = path.stat().st_size / 1024 / 1024
        trees = [("iotops", None)] + ([("baseline", baseline)] if baseline else [])
        for label, tree in trees:
            env = {**os.environ, "PYTHONPATH": str(tree)} if tree else None
            done = subprocess.run(
                [sys.executable, "-c", CHILD_PARSE, str(path), kind, str(data_dir)],
                capture_output=True,
                text=True,
                check=False,
                env=env,
                cwd=data_dir,
            )
            if done.returncode != 0:
                print(f"  {kind:16} {label:8} FAILED: {done.stderr.strip().splitlines()[-1][:200]}")
                ok = False if label == "iotops" else ok
                continue
            seconds, rss_kb, *what = done.stdout.split()
            rss = int(rss_kb) / 1024
            verdict = "" if label != "iotops" else ("met" if rss <= 200 else "NOT met")
            ok = ok and (label != "iotops" or rss <= 200)
            print(
                f"  {kind:16} {label:8} {size_mb:6.0f} MB {float(seconds):7.1f}s {size_mb / float(seconds):6.1f} MB/s"
                f"  peak RSS {rss:7.1f} MB {verdict:8} {' '.join(what)}"
            )
    return ok


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
    parser.add_argument("--big", default="", help="comma-separated kinds, or 'all': " + ",".join(WRITERS))
    parser.add_argument("--big-mb", type=int, default=1024)
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "iotops-bench-evidence")
    parser.add_argument("--baseline-tree", type=Path, default=None)
    args = parser.parse_args()
    if args.big:
        kinds = list(WRITERS) if args.big == "all" else args.big.split(",")
        raise SystemExit(0 if bench_big(kinds, args.big_mb, args.data_dir, args.baseline_tree) else 1)
    bench_cobertura(args.mb, args.rounds)
    bench_diff(args.files, args.rounds)


if __name__ == "__main__":
    main()
